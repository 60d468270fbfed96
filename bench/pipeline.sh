#!/usr/bin/env bash
# Benchmarks 2 and 4: the whole pipeline (claimer, scraper, committer) on this run's own
# topics.
#   A. N domains selected at once, the API at benchmark 1's latency (2-3 s), the services
#      already running and warmed by a first burst of W (not measured): database time per
#      domain from the services' own wf4_db_transaction_seconds, cross-checked with
#      PostgreSQL's accounting (pg_stat_database active + idle-in-transaction time,
#      pg_stat_statements); p99 transaction duration from the histogram buckets.
#   S. The same against an API answering in 50-150 ms (information): six to seven times the rate, the
#      two cores saturated by the scraper, the stand-in and the broker.
#   B. M domains selected one by one at a steady rate: selection-to-claim latency (the
#      claim's Kafka timestamp minus selected_at) and claim-to-handoff latency minus the API
#      time the result reports (handed_off_at - claimed_at - api_ms).
source "$(dirname "$0")/lib.sh"

N=$((BENCH_QUICK == 1 ? 2000 : 5000))   # the burst of S
NA=$((BENCH_QUICK == 1 ? 4000 : 10000)) # the burst of A: ~360 transactions, so that one percent
                                         # is more than the one or two slow ones of its start
W=$((BENCH_QUICK == 1 ? 500 : 1000)) # warm-up burst before A and S, not measured
M=$((BENCH_QUICK == 1 ? 100 : 300))
RATE=50 # selections per second in part B
SCRAPER_NICE=${BENCH_SCRAPER_NICE:-10}

stat_db() { # active_time + idle_in_transaction_time (ms) and idle_in_transaction_time of wf4
    psql_pg -F' ' -c "SELECT active_time + idle_in_transaction_time, idle_in_transaction_time
                        FROM pg_stat_database WHERE datname = 'wf4'"
}

services() {
    service claimer claimer
    # The scraper at a lower CPU priority, as compose.yaml gives it a lower CPU weight: a
    # latency-tolerant worker that should not preempt the database and the services
    # holding transactions on a shared host (BENCH_SCRAPER_NICE=0 measures without).
    SVC_NICE=$SCRAPER_NICE service scraper scraper WF4_SCRAPER_CONCURRENCY=500
    service committer committer
    for s in claimer scraper committer; do wait_metrics $s; done
}

terminal() { # N: the committer has applied N results (completed or error)
    local c
    c=$(metric committer 'wf4_committer_results_total\{outcome="(completed|error)"')
    ((c >= $1))
}

select_bulk() { # PREFIX COUNT: COUNT domains selected in one statement
    psql_admin -c "INSERT INTO domains (domain, sitemap_curation_status)
                   SELECT '$1' || g || '.example-shop.com', 'Selected' FROM generate_series(1, $2) g" >/dev/null
}

# delta TAG SERIES: the sum of SERIES over the services' pages after TAG minus before it.
delta() { stats delta "$2" "$BENCH_TMP"/*."$1"0 -- "$BENCH_TMP"/*."$1"1; }

psi_cpu() { awk '/^some/ {sub("total=", "", $5); print $5}' /proc/pressure/cpu 2>/dev/null || echo ''; }

# burst TAG N LAT_MIN_MS LAT_MAX_MS JUDGED: a stand-in at that latency; the services started
# as in production and warmed by a first burst of W domains (their connections, PostgreSQL's
# caches and plans, the broker's consumer-group and transaction paths still JIT-compiling),
# then N domains selected at once, measured from the deltas of the services' own counters.
# JUDGED 1: the target rows; 0: the same figures as information, keys prefixed TAG_.
# Credits the stand-in has charged so far (its /account requestCount; 0 when it does not answer).
standin_charged() { curl -sf --max-time 5 "${SCRAPERAPI_URL%/}/account" | jq '.requestCount // 0' 2>/dev/null || echo 0; }

burst() {
    local tag=$1 N=$2 lmin=$3 lmax=$4 judged=$5 k='' t0 psi0 psi1 db0 idle0 db1 idle1 done_
    local tx_sum tx_n p99 p50 pss pss_ms pss_calls what s t1 hist charged0 charged1 cr cr_sum cr_done
    ((judged)) || k=${tag}_
    what="stand-in $lmin-$lmax ms, WF4_SCRAPER_CONCURRENCY=500, scraper at nice $SCRAPER_NICE"
    standin "standin.$tag" STANDIN_CONCURRENCY=2000 STANDIN_LATENCY_MIN_MS="$lmin" \
        STANDIN_LATENCY_MAX_MS="$lmax" STANDIN_MAX_CONNECTIONS=3000
    db_reset
    say "$tag: warm-up, $W domains selected at once (not measured; $what)"
    services
    select_bulk "warm$tag" "$W"
    wait_until 300 terminal "$W" || die "$tag: not all $W warm-up results applied after 300 s"
    for s in claimer committer; do scrape $s "$BENCH_TMP/$s.${tag}0"; done
    psql_admin -c "SELECT pg_stat_statements_reset()" >/dev/null
    sleep 1 # let the backends flush their statistics
    read -r db0 idle0 <<<"$(stat_db)"
    charged0=$(standin_charged)

    say "$tag: $N domains selected at once ($what)"
    # The machine's own stalls over the same interval: a transaction in progress when the CPU
    # is taken away is that much longer whatever it does (bench/stallprobe/stallprobe.c).
    svc_start "stallprobe.$tag" "$WF4_BIN/stallprobe" 900
    psi0=$(psi_cpu)
    t0=$(now)
    select_bulk "bulk$tag" "$N"
    wait_until 600 terminal "$((W + N))" || die "$tag: not all $N results applied after 600 s"
    t1=$(now)
    psi1=$(psi_cpu)
    svc_kill "stallprobe.$tag"
    for s in claimer committer; do scrape $s "$BENCH_TMP/$s.${tag}1"; done
    for s in claimer scraper committer; do svc_kill $s; done
    charged1=$(standin_charged)
    svc_kill "standin.$tag"
    sleep 1.5
    read -r db1 idle1 <<<"$(stat_db)"
    done_=$(psql_admin -c "SELECT count(*) FROM domains
                           WHERE status IN ('completed', 'error') AND domain LIKE 'bulk$tag%'")
    ((done_ == N)) || die "$tag: $done_ of $N domains ended"
    # ScraperAPI credits (issue 23): the database's credits_spent of this burst's domains per
    # completed one, beside what the stand-in charged over the same interval.
    cr=$(psql_admin -F' ' -c "SELECT coalesce(sum(credits_spent), 0), count(*) FILTER (WHERE status = 'completed')
                              FROM domains WHERE domain LIKE 'bulk$tag%'")
    read -r cr_sum cr_done <<<"$cr"
    row "${k}credits_per_domain" "ScraperAPI credits per completed domain (database credits_spent / completed; stand-in charged $((charged1 - charged0)), database $cr_sum)" \
        "$(awk -v s="$cr_sum" -v n="$cr_done" 'BEGIN {printf "%.3f", n ? s / n : 0}')" "credits" \
        "$(awk -v s="$((charged1 - charged0))" -v n="$cr_done" 'BEGIN {printf "%.3f", n ? s / n : 0}')" \
        "stand-in's charge / completed" "info" "-"
    tx_sum=$(delta "$tag" wf4_db_transaction_seconds_sum)
    tx_n=$(delta "$tag" wf4_db_transaction_seconds_count)
    hist=$(stats hist "$BENCH_TMP/hist.$tag" "$BENCH_TMP"/*."${tag}0" -- "$BENCH_TMP"/*."${tag}1") ||
        die "$tag: no transaction histogram"
    read -r p50 p99 <<<"$hist"
    pss=$(psql_admin -F' ' -c "SELECT coalesce(sum(total_exec_time), 0), coalesce(sum(calls), 0)
            FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid WHERE r.rolname = 'wf4'")
    read -r pss_ms pss_calls <<<"$pss"
    figures burst done="$done_" t0="$t0" t1="$t1" tx_sum="$tx_sum" tx_n="$tx_n" db0="$db0" db1="$db1" \
        idle0="$idle0" idle1="$idle1" pss_ms="$pss_ms" p99="$p99" psi0="$psi0" psi1="$psi1"
    if ((judged)); then
        row db_per_domain "Database time per domain (services' wf4_db_transaction_seconds_sum / domains; $what)" \
            "$F_per" "ms" 1 "target" "<= 1 ms" "$F_per_pass"
    else
        row "${k}db_per_domain" "Database time per domain, $what" "$F_per" "ms" 1 "target" "info (<= 1 ms)" "-"
    fi
    row "${k}db_per_domain_pg" "  cross-check: PostgreSQL active + idle-in-tx time (pg_stat_database) / domains" \
        "$F_pg_per" "ms" "$F_per" "services' figure" "" "-"
    row "${k}db_per_domain_pss" "  cross-check: pg_stat_statements total_exec_time (role wf4) / domains" \
        "$F_pss_per" "ms" "$F_per" "services' figure" "" "-"
    if ((judged)); then
        row tx_p99 "p99 transaction duration (histogram bucket upper bound; p50 <= ${p50} s; $what)" \
            "$F_p99_ms" "ms" 50 "target" "<= 50 ms" "$F_p99_pass"
    else
        row "${k}tx_p99" "p99 transaction duration, $what (bucket bound; p50 <= ${p50} s)" \
            "$F_p99_ms" "ms" 50 "target" "info (<= 50 ms)" "-"
    fi
    row "${k}pipeline_rate" "Pipeline throughput, $N domains selected at once ($what)" \
        "$F_rate" "domains/s" "" "" "info" "-"
    note "$tag: the services were started before and warmed by a first burst of $W domains (not counted); the figures are the differences of their counters over $tag"
    note "$tag: $done_ domains in $F_secs s; $tx_n transactions ($F_per_tx domains each), $F_tx_ms ms inside them; PostgreSQL counted $F_db_ms ms active + idle in transaction (of which $F_idle_ms ms idle in transaction) and $pss_calls statements of role wf4 taking $F_pss_ms ms"
    note "$tag: transaction duration histogram (le seconds: cumulative count): $(tr '\n' ' ' <"$BENCH_TMP/hist.$tag")"
    stall() { jq -r "$1" "$BENCH_TMP/stallprobe.$tag.log"; }
    if stall .max_ms >/dev/null 2>&1; then
        row "${k}stall_max" "  machine stalls during $tag: longest wait of a pinned real-time thread for its CPU (stallprobe)" \
            "$(stall .max_ms)" "ms" "" "" "info" "-"
        note "$tag: stallprobe, one SCHED_FIFO thread per CPU waking every 1 ms (real-time: $(stall .realtime)): $(stall .samples) wake-ups, p99 $(stall .p99_ms) ms late, max $(stall .max_ms) ms; $(stall .over_30ms) over 30 ms, $(stall .over_50ms) over 50 ms, per CPU max $(stall '[.cpus[].max_ms] | map(tostring) | join(" / ")') ms. Lateness of a real-time thread is time the CPU itself was unavailable (an idle machine: under 3 ms); every transaction in progress then lasts that much longer."
    else
        note "$tag: stallprobe gave no figures: $(tail -2 "$BENCH_TMP/stallprobe.$tag.log")"
    fi
    if [[ -n $psi0 && -n $psi1 ]]; then
        row "${k}cpu_pressure" "  CPU pressure during $tag: share of the time a runnable task waited for a CPU (/proc/pressure/cpu some)" \
            "$F_cpu_pressure" "%" "" "" "info" "-"
    fi
}

topics pipeline
psql_admin -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
# A: the API at the latency of benchmark 1 (2.5 s on average): the pipeline as it runs.
burst A "$NA" 2000 3000 1
# S: the same burst against an API answering in 50-150 ms: six to seven times the rate on the same
# two cores, which the scraper, the stand-in and the broker then saturate (information).
burst S "$N" 50 150 0

say "B: $M domains selected one at a time, $RATE a second"
standin standin.B STANDIN_CONCURRENCY=2000 STANDIN_LATENCY_MIN_MS=50 STANDIN_LATENCY_MAX_MS=150 \
    STANDIN_MAX_CONNECTIONS=3000
services
scrape claimer "$BENCH_TMP/claimer.B0"
scrape committer "$BENCH_TMP/committer.B0"
sel_t0=$(now)
for ((i = 1; i <= M; i++)); do
    echo "INSERT INTO domains (domain, sitemap_curation_status) VALUES ('trickle$i.example-shop.com', 'Selected');"
    echo "SELECT pg_sleep(1.0 / $RATE);"
done | psql_admin >/dev/null
sel_secs=$(stats since "$sel_t0")
wait_until 120 terminal "$M" || die "B: not all $M results applied after 120 s"
scrape claimer "$BENCH_TMP/claimer.B1"
scrape committer "$BENCH_TMP/committer.B1"
for s in claimer scraper committer; do svc_kill $s; done
psql_admin -F' ' -c "SELECT id, (extract(epoch FROM selected_at) * 1000)::bigint,
        (extract(epoch FROM claimed_at) * 1000)::bigint,
        coalesce((extract(epoch FROM handed_off_at) * 1000)::bigint, 0), claim_id
        FROM domains WHERE domain LIKE 'trickle%'" >"$BENCH_TMP/rows.B"
"$WF4_BIN/wf4-inspect" -o beginning "$WF4_CLAIMS_TOPIC" 2>/dev/null |
    jq -r '[.key, .timestamp, .value.claim_id] | @tsv' >"$BENCH_TMP/claims.B"
"$WF4_BIN/wf4-inspect" -o beginning "$WF4_RESULTS_TOPIC" 2>/dev/null |
    jq -r '[.value.claim_id, .value.api_ms] | @tsv' >"$BENCH_TMP/results.B"
stats trickle "$BENCH_TMP" >"$BENCH_TMP/lat.B" || die "B: no latencies"
read -r n_s2c s2c50 s2c99 db50 db99 n_c2h c2h50 c2h99 api50 <"$BENCH_TMP/lat.B"
row sel_to_claim_p50 "Selection to claim on Kafka, p50 ($n_s2c of $M trickled)" "$s2c50" "ms" "" "" "info" "-"
row sel_to_claim_p99 "Selection to claim on Kafka, p99 (claimed_at - selected_at: p50 $db50, p99 $db99 ms)" "$s2c99" "ms" "" "" "info" "-"
row claim_to_handoff_p50 "Claim to handoff minus API time, p50 ($n_c2h; API p50 $api50 ms)" "$c2h50" "ms" "" "" "info" "-"
row claim_to_handoff_p99 "Claim to handoff minus API time, p99" "$c2h99" "ms" "" "" "info" "-"
b_sum=$(delta B wf4_db_transaction_seconds_sum)
b_n=$(delta B wf4_db_transaction_seconds_count)
figures trickle_db tx_sum="$b_sum" m="$M"
row db_per_domain_trickle "Database time per domain when selected one by one ($b_n transactions)" \
    "$F_per" "ms" 1 "target" "info (<= 1 ms)" "-"
note "B: $M selections over $sel_secs s; the committer lingers up to WF4_COMMIT_LINGER_MS (200 ms) to fill a batch, part of claim-to-handoff"
