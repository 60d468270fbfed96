#!/usr/bin/env bash
# Benchmark 1: one scraper against Little's law, its CPU time per domain, its memory at 1,000
# calls in flight. The stand-in answers after exactly L = 2.5 s and allows C calls at once;
# the best any client can do is C/L results per second, measured here as the bound.
source "$(dirname "$0")/lib.sh"

L_MS=2500
C=256
WAVES=$((BENCH_QUICK == 1 ? 6 : 10)) # N = C x WAVES claims
N=$((C * WAVES))
C2=1000
N2=$((C2 * 3))

# run_scraper TAG C N: stand-in limited to C, one scraper at concurrency C, N claims.
# Leaves the timestamps of the results in $BENCH_TMP/TAG.ts, the scraper's CPU seconds at
# its start and end in CPU0 and CPU1, its peak RSS in HWM_KB, the most calls seen in flight in MAX_IN_FLIGHT.
run_scraper() {
    local tag=$1 c=$2 n=$3 pid t0 done_ maxin=0 inflight rss maxrss=0
    topics "scraper$tag"
    standin "standin$tag" STANDIN_CONCURRENCY="$c" STANDIN_LATENCY_MIN_MS=$L_MS \
        STANDIN_LATENCY_MAX_MS=$L_MS STANDIN_MAX_CONNECTIONS=$((c + 1000))
    "$WF4_BIN/wf4-claimgen" -n "$n" -t "$WF4_CLAIMS_TOPIC" -o "$BENCH_TMP/claims$tag.txt" \
        -g "b$tag$RUN_ID" >"$BENCH_TMP/claimgen.log" 2>&1 || die "wf4-claimgen: $(cat "$BENCH_TMP/claimgen.log")"
    service "scraper$tag" scraper WF4_SCRAPER_CONCURRENCY="$c" WF4_SCRAPER_BACKLOG_FACTOR=2
    pid=$(svc_pid "scraper$tag")
    CPU0=$(proc_cpu "$pid")
    wait_metrics "scraper$tag"
    t0=$SECONDS
    while :; do
        done_=$(metric "scraper$tag" wf4_scraper_results_total)
        inflight=$(metric "scraper$tag" wf4_scraper_in_flight)
        rss=$(proc_rss "$pid")
        ((inflight > maxin)) && maxin=$inflight
        ((rss > maxrss)) && maxrss=$rss
        ((done_ >= n)) && break
        ((SECONDS - t0 < 240)) || die "scraper$tag: $done_ of $n results after 240 s"
        svc_alive "scraper$tag" || die "scraper$tag died: $(tail -5 "$BENCH_TMP/scraper$tag.log")"
        sleep 0.2
    done
    CPU1=$(proc_cpu "$pid")
    HWM_KB=$(proc_hwm "$pid")
    MAX_IN_FLIGHT=$maxin
    RSS_MAX_KB=$maxrss
    S429=$(curl -sf --max-time 5 "${STANDIN_URL}stats" | jq -r '.status429 // 0')
    RETRIES=$(metric "scraper$tag" wf4_scraper_retries_total)
    FAILED=$(metric "scraper$tag" 'wf4_scraper_results_total\{outcome="failure"')
    "$WF4_BIN/wf4-inspect" -o beginning "$WF4_RESULTS_TOPIC" 2>/dev/null |
        jq -r '[.timestamp, (.value.api_ms // 0)] | @tsv' | sort -n >"$BENCH_TMP/$tag.ts"
    svc_kill "scraper$tag"
    svc_kill "standin$tag"
}

# api_mean TSFILE FROM TO: mean API time (ms) the results FROM..TO report.
api_mean() {
    awk -v a="$2" -v b="$3" 'NR >= a && NR <= b {s += $2; n++} END {printf "%.0f\n", n ? s / n : 0}' "$1"
}

# steady TSFILE FROM TO: results per second between the FROM-th and the TO-th result.
steady() {
    awk -v a="$2" -v b="$3" 'NR == a {ta = $1} NR == b {tb = $1} END {
        if (tb > ta) printf "%.2f\n", (b - a) / ((tb - ta) / 1000); else print "nan" }' "$1"
}

say "run 1: C = $C, L = $L_MS ms, $N claims"
run_scraper 1 $C $N
got=$(wc -l <"$BENCH_TMP/1.ts")
((got >= N)) || die "only $got results on the topic"
# Steady state: from the middle of the 2nd wave of C calls to the middle of the last but one
# (the first wave includes the group join and the start of every call at once; the last is
# the tail). Kafka's timestamps of the results, one per result.
from=$((C * 3 / 2))
to=$((N - C * 3 / 2))
rate=$(steady "$BENCH_TMP/1.ts" $from $to)
api1=$(api_mean "$BENCH_TMP/1.ts" $from $to)
figures scraper1 c="$C" l_ms="$L_MS" rate="$rate" n="$N" cpu0="$CPU0" cpu1="$CPU1" hwm_kb="$HWM_KB" api="$api1"
row throughput "Scraper throughput, C=$C, L=2.5 s (results $from..$to of $N)" "$rate" "results/s" \
    "$F_bound" "C/L (Little's law)" "ratio >= 0.95" "$F_pass"
row cpu_per_domain "Scraper CPU time per domain (utime+stime, whole run)" "$F_cpu_ms" "ms" "" "" "" "-"
row rss_256 "Scraper peak RSS (VmHWM), C=$C" "$F_rss_mb" "MB" "" "" "" "-"
note "run 1: mean API time in the window $api1 ms (nominal $L_MS ms); C/(mean API time) = $F_api_bound/s, so the scraper kept $F_busy_pct% of its $C slots busy"
note "run 1: stand-in answered $S429 x 429, scraper retried $RETRIES calls, $FAILED results were failures, at most $MAX_IN_FLIGHT calls seen in flight"

say "run 2: C = $C2, L = $L_MS ms, $N2 claims"
run_scraper 2 $C2 $N2
rate2=$(steady "$BENCH_TMP/2.ts" $((C2 / 2)) $((N2 - C2 / 2)))
api2=$(api_mean "$BENCH_TMP/2.ts" $((C2 / 2)) $((N2 - C2 / 2)))
figures scraper2 c="$C2" l_ms="$L_MS" n="$N2" cpu0="$CPU0" cpu1="$CPU1" hwm_kb="$HWM_KB" \
    max_in_flight="$MAX_IN_FLIGHT"
row rss_1000 "Scraper peak RSS (VmHWM) at $MAX_IN_FLIGHT calls in flight (C=$C2)" "$F_rss_mb" "MB" \
    64 "target" "< 64 MB" "$F_pass"
row cpu_per_domain_1000 "Scraper CPU time per domain, C=$C2" "$F_cpu_ms" "ms" "" "" "" "-"
row throughput_1000 "Scraper throughput, C=$C2 (results $((C2 / 2))..$((N2 - C2 / 2)) of $N2)" "$rate2" "results/s" \
    "$F_bound" "C/L" "info" "-"
note "run 2: mean API time $api2 ms at $C2 in flight (nominal $L_MS ms)"
note "run 2: stand-in answered $S429 x 429, scraper retried $RETRIES calls, $FAILED failures"
