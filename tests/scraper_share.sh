#!/usr/bin/env bash
# Issue 23: the account's concurrency shared by the scrapers of one group. Claims wait on
# Kafka; three scrapers start at once against a stand-in whose plan allows 30 calls in flight
# (its /account says so; 1.8-2.2 s a call); a third of the way through, one scraper stops
# (SIGTERM) and the group rebalances. Each scraper takes its share of the 30 by the claim
# partitions it holds, so the stand-in sees almost no 429 at the start or at the rebalance
# (under 1 % of calls), throughput stays at 0.95 x 30 / 2 s or better, outside the rebalance
# and across it (the stopping scraper hands back the claims it has not started and finishes
# only its calls in flight), and no scraper sits
# under half its share for long while claims wait. Every claim gets a result (a second one
# only after a logged partition loss or abandonment).
source "$WF4_SRC/tests/scraper_lib.sh"
N=${SCRAPER_SHARE_CLAIMS:-900}
LIMIT=30
LAT_MIN=1800 LAT_MAX=2200
SAMPLE_S=0.5
SCRAPERS=(share_a share_b share_c)

scraper_topics
P=$(topic_partitions "$CLAIMS")
"$WF4_BIN/wf4-claimgen" -n "$N" -t "$CLAIMS" -o "$TEST_TMP/claims.txt" -g "sh$RUN_ID" ||
    fatal "wf4-claimgen failed"
standin_start standin STANDIN_CONCURRENCY=$LIMIT STANDIN_LATENCY_MIN_MS=$LAT_MIN \
    STANDIN_LATENCY_MAX_MS=$LAT_MAX
say "$N claims wait on $P partitions; the stand-in's plan allows $LIMIT calls in flight"

t0=$(now_ms)
for s in "${SCRAPERS[@]}"; do scraper_start "$s"; done

# sample: one line every SAMPLE_S: the time (epoch ms), the stand-in's calls in flight and
# 429s, then each live scraper's calls in flight and share ("- -" once stopped).
sample() {
    local line s
    line="$(date +%s%3N) $(standin_stat '"\(.inFlight) \(.status429)"')"
    for s in "${SCRAPERS[@]}"; do
        if svc_alive "$s"; then
            line+=" $(scraper_metric "$s" wf4_scraper_in_flight) $(scraper_metric "$s" wf4_scraper_concurrency_share)"
        else
            line+=" - -"
        fi
    done
    echo "$line"
}
sampler() { while :; do sample; sleep "$SAMPLE_S"; done >"$TEST_TMP/samples.txt" 2>/dev/null; }
sampler &
sampler_pid=$!

results() { topic_end_offsets "$RESULTS"; }
results_at_least() { (($(results) >= $1)); }
wait_until 120 results_at_least $((N / 3)) ||
    fatal "not a third of the results within 120 s"
s429_start=$(standin_stat .status429)
t_rebalance=$(($(now_ms) - t0))
t_stop=$(date +%s%3N)
svc_kill share_c TERM
say "share_c stopped at $((t_rebalance / 1000)) s, $(results) results in: the group rebalances"
both_back() { grep -q '(6 of 12 partitions)' "$(svc_log share_a)" && grep -q '(6 of 12 partitions)' "$(svc_log share_b)"; }
wait_until 60 both_back || fail "share_a and share_b did not take share_c's partitions within 60 s"
t_back=$(date +%s%3N)
say "measured: the group took $(((t_back - t_stop) / 100))00 ms from share_c's SIGTERM to share_a and share_b at 15 each (its calls in flight finished first)"
stop_line=$(jq -Rr 'fromjson? | .msg // empty' "$(svc_log share_c)" | grep -m1 '^stopping: ')
say "share_c: $stop_line"
check '[[ $stop_line =~ ([0-9]+)\ not\ started\ handed\ back ]] && ((BASH_REMATCH[1] > 0))' \
    "share_c handed back claims it had not started"
wait_until 180 results_at_least "$N" ||
    fail "only $(results) of $N results within 180 s of the rebalance"
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true

requests=$(standin_stat .requests)
s429=$(standin_stat .status429)
maxin=$(standin_stat .maxInFlight)
say "measured: 429s at the start $s429_start, after the rebalance $((s429 - s429_start)), of $requests calls; the stand-in's most in flight $maxin (limit $LIMIT)"
for s in share_a share_b share_c; do
    say "    $s: $(jq -Rr 'fromjson? | .msg // empty' "$(svc_log "$s")" | grep '^share of' | sed 's/^/    /' | paste -sd';')"
done
check "(( s429 * 100 < requests ))" "429s under 1 % of calls ($s429 of $requests)"

# Throughput by the results' Kafka timestamps against Little's bound (LIMIT / the mean
# latency): between 10 % and 90 % of the results (the start and the drained tail are not
# steady), and in that window outside the rebalance (from share_c's SIGTERM until 2 s after
# the others took its partitions: a stopping scraper finishes the claims in hand first).
kcat -b "$WF4_KAFKA_BROKERS" -C -t "$RESULTS" -o beginning -e -q -f '%T\n' | sort -n >"$TEST_TMP/ts.txt"
t10=$(sed -n "$((N / 10))p" "$TEST_TMP/ts.txt")
t90=$(sed -n "$((N * 9 / 10))p" "$TEST_TMP/ts.txt")
bound=$(echo "scale=2; $LIMIT * 2000 / ($LAT_MIN + $LAT_MAX)" | bc)
ratio=$(echo "scale=3; ($N * 9 / 10 - $N / 10) * 1000 / ($t90 - $t10) / $bound" | bc)
read -r n_out ms_out <<<"$(awk -v a="$t10" -v b="$t90" -v s="$t_stop" -v e="$((t_back + 2000))" '
    $1 > a && $1 <= b && ($1 <= s || $1 > e) {n++}
    END {lo = s < a ? a : s; hi = e > b ? b : e; gap = hi > lo ? hi - lo : 0; print n + 0, b - a - gap}' "$TEST_TMP/ts.txt")"
steady=$(echo "scale=3; $n_out * 1000 / $ms_out / $bound" | bc)
say "measured: from 10 % to 90 % of the results $ratio of Little's bound ($bound/s) across the rebalance, $steady outside it"
check "(( \$(echo '$steady >= 0.95' | bc) ))" "throughput outside the rebalance at least 0.95 of $LIMIT calls / 2 s ($steady)"
check "(( \$(echo '$ratio >= 0.95' | bc) ))" "throughput across the rebalance at least 0.95 of it ($ratio)"

# In flight at the stand-in above the limit: refused at once, so it may only touch it.
over=$(awk -v l="$LIMIT" '$2 > l' "$TEST_TMP/samples.txt" | wc -l)
check_eq "$over" 0 "no sample with more than $LIMIT calls in flight at the stand-in"

# Under half its share in the same steady window: the longest such run per scraper (the
# samples' own times), and how many samples the window holds.
say "measured: $(awk -v a="$t10" -v b="$t90" '$1 >= a && $1 <= b' "$TEST_TMP/samples.txt" | wc -l) samples between 10 % and 90 % of the results"
for i in 0 1 2; do
    longest=$(awk -v c=$((4 + 2 * i)) -v a="$t10" -v b="$t90" '
        $1 < a || $1 > b || $c == "-" || $(c + 1) == 0 {since = 0; next}
        $c < $(c + 1) / 2 {if (!since) since = $1; if ($1 - since > max) max = $1 - since; next}
        {since = 0}
        END {printf "%.1f\n", max / 1000}' "$TEST_TMP/samples.txt")
    say "measured: ${SCRAPERS[i]} spent at most $longest s in a row under half its share"
    check "(( \$(echo '$longest <= 5' | bc) ))" "${SCRAPERS[i]} not under half its share for more than 5 s ($longest s)"
done

resultcheck "$RESULTS" "$TEST_TMP/claims.txt" 30
check_eq "${RC_missing:-x}" 0 "no claim without a result"
# A claim is scraped twice only when its partition moved before its offset was committed:
# librdkafka 2.0.2 sometimes fences a member whose group gains a member mid-rebalance
# ("partitions lost"), and claims of moved partitions not done in the grace are abandoned.
moved=$(cat "$(svc_log share_a)" "$(svc_log share_b)" "$(svc_log share_c)" |
    jq -Rr 'fromjson? | .msg // empty' 2>/dev/null | grep -cE '^[0-9]+ partitions lost|^abandoned' || true)
say "measured: ${RC_duplicates:-x} claims with two results; $moved partition losses or abandonments logged"
check '[[ ${RC_duplicates:-x} == 0 || $moved -gt 0 ]]' "a claim has two results only after a logged loss or abandonment"
check_eq "${RC_success:-x}" "$N" "every claim succeeded"
for s in share_a share_b; do svc_kill "$s" TERM; done
for s in "${SCRAPERS[@]}"; do
    check '! grep -q "ERROR: AddressSanitizer\|runtime error" "$(svc_log '$s')"' "no sanitizer report ($s)"
done
