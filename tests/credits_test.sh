#!/usr/bin/env bash
# Issue 23: an account whose credits run out pauses the scraper instead of failing domains.
# 300 domains against a stand-in account of 100 credits (a plain call costs 1): at most 100
# credits are spent, no domain ends in error, the rest wait (pending or processing: the
# scraper keeps its claims); the scraper's log and metrics say "paused: credits exhausted"
# and it starts no call while paused. Stopped while paused, it abandons its parked claims at
# once; a second scraper replays them and pauses too. Then the account's credits are raised
# (the stand-in's /control/credits) and every domain completes on its own, for one credit
# each plus one per claim fetched again after the restart (counted and bounded).
source "$WF4_SRC/tests/credits_lib.sh"
N=${CREDITS_TEST_DOMAINS:-300}
CREDITS=100

credits_pipeline STANDIN_REQUEST_LIMIT=$CREDITS STANDIN_CONCURRENCY=100 \
    STANDIN_LATENCY_MIN_MS=100 STANDIN_LATENCY_MAX_MS=300 -- \
    WF4_SCRAPER_CONCURRENCY=20 WF4_SCRAPER_ACCOUNT_POLL_MS=500 WF4_LEASE_SECONDS=600
for i in $(seq 1 "$N"); do echo "credit-site-$i.com"; done >"$TEST_TMP/domains"
credits_select "$TEST_TMP/domains"
t0=$(now_ms)

paused() { [[ $(scraper_metric 'wf4_scraper_paused{reason="credits exhausted"}') == 1 ]]; }
wait_until 120 paused || fatal "the scraper did not pause within 120 s: $(standin_get /account)"
say "measured: paused $(($(now_ms) - t0)) ms after the selection"
sleep 3 # several /account reads while paused: nothing may move
requests0=$(standin_get /stats | jq .requests)
completed0=$(status_count completed)
sleep 3
used=$(standin_get /account | jq .requestCount)
requests1=$(standin_get /stats | jq .requests)
completed=$(status_count completed)
err=$(status_count error)
waiting=$(psql_admin -c "SELECT count(*) FROM domains WHERE status IN ('pending', 'processing')")
say "measured: paused with $used credits used, $completed completed, $err error, $waiting waiting; stand-in: $(standin_get /stats | jq -c '{requests, status, exhausted}')"
check '[[ $used -le $CREDITS ]]' "at most $CREDITS credits spent ($used)"
check_eq "$completed" "$used" "one completed domain per credit spent"
check_eq "$err" 0 "no domain in error while the credits are exhausted"
check_eq "$((completed + waiting))" "$N" "every other domain waits (pending or processing)"
check_eq "$requests1" "$requests0" "no call started while paused (3 s)"
check_eq "$completed" "$completed0" "nothing completed while paused"
check 'grep -q "paused: credits exhausted" "$(svc_log scraper)"' "the scraper logs 'paused: credits exhausted'"
check '! grep -q "refused the API key\|rejects the API key" "$(svc_log scraper)"' \
    "an out-of-credits 403 is not taken for a refused key"
check_eq "$(scraper_metric 'wf4_scraper_credits_total')" "$used" \
    "wf4_scraper_credits_total counts what the stand-in charged"

# Stopped while paused: the parked calls are abandoned at once (not after the grace period),
# their claims uncommitted; the next scraper replays them and pauses too, nothing fails.
paused_used=$used
t_stop=$(now_ms)
svc_kill scraper TERM
stop_ms=$(($(now_ms) - t_stop))
say "measured: the paused scraper stopped in $stop_ms ms"
check '[[ $stop_ms -lt 8000 ]]' "a paused scraper stops without waiting out its 10 s grace period ($stop_ms ms)"
check 'grep -q "abandoned [0-9]* claims in flight" "$(svc_log scraper)"' "it abandons the parked claims (replayed later)"
svc_start scraper2 env WF4_INSTANCE_ID=scraper2 WF4_SCRAPER_CONCURRENCY=20 \
    WF4_SCRAPER_ACCOUNT_POLL_MS=500 "$WF4_BIN/scraper"
wait_until 30 grep -q 'serving /metrics' "$(svc_log scraper2)" || fatal "scraper2 has no /metrics"
SCRAPER=scraper2
wait_until 60 paused || fail "scraper2 did not pause on the replayed claims within 60 s"
check_eq "$(status_count error)" 0 "no domain in error after the replay"
check_eq "$(standin_get /account | jq .requestCount)" "$used" "no credit spent by the replay"

standin_get "/control/credits?limit=1000" >/dev/null || fatal "cannot raise the credits"
t1=$(now_ms)
say "credits raised to 1000"
all_done() { [[ $(status_count completed) -ge $N ]]; }
wait_until 180 all_done || fail "not every domain completed 180 s after the credits were raised: $(psql_admin -c "SELECT status, count(*) FROM domains GROUP BY 1" | tr '\n' ' ')"
say "measured: all $N completed $(($(now_ms) - t1)) ms after the credits were raised"
used=$(standin_get /account | jq .requestCount)
# A claim completed behind a parked one in the same partition had its offset held back by
# it: scraper2 replays and fetches it again (at least once; the committer fences the result).
again=$(standin_calls | awk '$2 == 200 {n[$1]++} END {for (h in n) if (n[h] > 1) a++; print a + 0}')
say "measured: $used credits for $N domains: $again fetched again after the restart"
check_eq "$(status_count error)" 0 "no domain in error"
check_eq "$used" "$((N + again))" "one credit per domain, plus one per domain fetched again"
check '[[ $again -le 40 ]]' "at most the stopped scraper's claims in hand (40) fetched again ($again)"
check_eq "$(scraper_metric 'wf4_scraper_credits_total{outcome="success"}')" "$((N - paused_used + again))" \
    "scraper2's wf4_scraper_credits_total{outcome=\"success\"} counts its calls"
check_eq "$(scraper_metric 'wf4_scraper_paused{reason="credits exhausted"}')" 0 "no longer paused"
check 'grep -q "resumed: the account has" "$(svc_log scraper2)"' "the scraper logs that it resumed"
for s in scraper scraper2; do
    check '! grep -q "ERROR: AddressSanitizer\|runtime error" "$(svc_log '$s')"' "no sanitizer report ($s)"
done
