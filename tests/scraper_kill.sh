#!/usr/bin/env bash
# A scraper killed with SIGKILL mid-run, then two scrapers in its group (one stopped by
# SIGTERM half-way, so its partitions move to the other): no claim is left without a
# result. Duplicates are allowed (the committer fences them); the count is printed.
source "$WF4_SRC/tests/scraper_lib.sh"
export WF4_KAFKA_PROPS=session.timeout.ms=10000,heartbeat.interval.ms=1000
N=${SCRAPER_TEST_CLAIMS:-1500}

scraper_topics
standin_start standin STANDIN_CONCURRENCY=200 STANDIN_LATENCY_MIN_MS=500 \
    STANDIN_LATENCY_MAX_MS=1500
scraper_start scraper_a WF4_SCRAPER_CONCURRENCY=100
"$WF4_BIN/wf4-claimgen" -n "$N" -t "$CLAIMS" -o "$TEST_TMP/claims.txt" -g "k$RUN_ID" ||
    fatal "wf4-claimgen failed"
wait_until 120 bash -c "(( \$(curl -sf http://127.0.0.1:$(scraper_port scraper_a)/metrics |
    awk '/^wf4_scraper_results_total/ {s += \$NF} END {print s + 0}') >= $N / 3 ))" ||
    fatal "scraper_a made no progress"
done_a=$(scraper_results scraper_a)
inflight_a=$(scraper_metric scraper_a wf4_scraper_in_flight)
svc_kill scraper_a KILL
say "measured: scraper_a SIGKILLed after $done_a acknowledged results, $inflight_a calls in flight"

# The killed member's session must expire before its partitions move (session.timeout.ms).
scraper_start scraper_b WF4_SCRAPER_CONCURRENCY=100
scraper_start scraper_c WF4_SCRAPER_CONCURRENCY=100 WF4_SCRAPER_GRACE_MS=5000
wait_until 60 grep -q '"msg":"[1-9][0-9]* partitions assigned' "$(svc_log scraper_c)" ||
    fail "scraper_c got no partitions"
sleep 3
svc_kill scraper_c TERM
check 'grep -q "revoked" "$(svc_log scraper_c)"' "scraper_c gave its partitions back on SIGTERM"
wait_until 240 bash -c "$WF4_BIN/wf4-resultcheck $RESULTS $TEST_TMP/claims.txt 1 >/dev/null 2>&1" ||
    fail "not every claim had a result within 240 s"
resultcheck "$RESULTS" "$TEST_TMP/claims.txt" 30
say "measured: duplicates after SIGKILL and a rebalance: ${RC_duplicates:-?} of $N claims"
check_eq "${RC_missing:-x}" 0 "no claim without a result after SIGKILL and restart"
check '[[ ${RC_duplicates:-999999} -le $N ]]' "duplicates bounded by the claims replayed"
check_eq "${RC_success:-x}" "$N" "every claim succeeded"
svc_kill scraper_b TERM
check 'grep -q "\"msg\":\"stopped\"" "$(svc_log scraper_b)"' "scraper_b stopped cleanly"
# Offsets: after a clean stop everything done is committed, so a new member replays nothing.
scraper_start scraper_d WF4_SCRAPER_CONCURRENCY=100
sleep 8
check_eq "$(scraper_metric scraper_d wf4_scraper_claims_total)" 0 \
    "a scraper started after the clean stop replays no claim (offsets committed)"
svc_kill scraper_d TERM
for s in scraper_b scraper_c scraper_d; do
    check '! grep -q "AddressSanitizer\|runtime error" "$(svc_log '$s')"' "no sanitizer report ($s)"
done
