#!/usr/bin/env bash
# Issue 23: an account whose credits run out pauses the scraper instead of failing domains.
# 300 domains against a stand-in account of 100 credits (a plain call costs 1): at most 100
# credits are spent, no domain ends in error, the rest wait (pending or processing: the
# scraper keeps its claims); the scraper's log and metrics say "paused: credits exhausted"
# and it starts no call while paused. Then the account's credits are raised (the stand-in's
# /control/credits) and every domain completes on its own, for exactly one credit each.
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

standin_get "/control/credits?limit=1000" >/dev/null || fatal "cannot raise the credits"
t1=$(now_ms)
say "credits raised to 1000"
all_done() { [[ $(status_count completed) -ge $N ]]; }
wait_until 180 all_done || fail "not every domain completed 180 s after the credits were raised: $(psql_admin -c "SELECT status, count(*) FROM domains GROUP BY 1" | tr '\n' ' ')"
say "measured: all $N completed $(($(now_ms) - t1)) ms after the credits were raised"
used=$(standin_get /account | jq .requestCount)
check_eq "$(status_count error)" 0 "no domain in error"
check_eq "$used" "$N" "exactly one credit per domain ($N)"
check_eq "$(scraper_metric 'wf4_scraper_credits_total{outcome="success"}')" "$N" \
    "wf4_scraper_credits_total{outcome=\"success\"} = $N"
check_eq "$(scraper_metric 'wf4_scraper_paused{reason="credits exhausted"}')" 0 "no longer paused"
check 'grep -q "resumed: the account has" "$(svc_log scraper)"' "the scraper logs that it resumed"
check '! grep -q "ERROR: AddressSanitizer\|runtime error" "$(svc_log scraper)"' "no sanitizer report"
