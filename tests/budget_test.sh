#!/usr/bin/env bash
# Issue 23: the credit budget. 300 domains against a stand-in account of 1,000 credits (a
# plain call costs 1), the claimer holding a daily budget of 100: 100 credits spent, 100
# domains completed, the other 200 pending and never claimed, none in error; the claimer,
# its metric, its log and wf4ctl status say "paused: credit budget". Then a floor of 850
# instead (900 left): 50 more, and it stops again at the floor (10 first, while 40 results
# look applied after its /account read: a lagging account has not counted them yet). Then
# 100 credits added and
# a scraper with its own floor of 900: the claimer resumes and hands out 100 claims, the
# scraper stops its calls at 900 left, mid-batch, overspending by no more than its calls in
# flight (0 for one scraper: it counts its running calls at their list price), and holds
# the other claims.
# Then credits are added: everything resumes by itself and all 300 complete, one credit each.
# Then the scrapers' own hold on the daily budget (the ceiling each claim carries): 150 more
# domains under a budget of 400 while someone else spends 50 credits directly; the scraper
# stops at the ceiling, holds the rest, and finishes them once the budget is raised to 500.
# A claimer's reservation: each domain in flight holds WF4_CREDITS_PER_CLAIM (1) credits.
source "$WF4_SRC/tests/credits_lib.sh"
N=${BUDGET_TEST_DOMAINS:-300}
# The stand-in's /account counts at once: a lag of 1 s (ScraperAPI's is 15 s) keeps the
# claimer's count of results applied since its last read in play without slowing the test.
export WF4_CREDITS_ACCOUNT_CACHE_MS=200 WF4_CREDITS_ACCOUNT_LAG_MS=1000 WF4_LEASE_SECONDS=600 \
    WF4_CREDITS_DAILY_BUDGET=100

credits_pipeline STANDIN_REQUEST_LIMIT=1000 STANDIN_CONCURRENCY=100 \
    STANDIN_LATENCY_MIN_MS=100 STANDIN_LATENCY_MAX_MS=300 -- \
    WF4_SCRAPER_CONCURRENCY=20 WF4_SCRAPER_ACCOUNT_POLL_MS=300
for i in $(seq 1 "$N"); do echo "budget-site-$i.com"; done >"$TEST_TMP/domains"
t0=$(now_ms)
credits_select "$TEST_TMP/domains"

used() { standin_get /account | jq .requestCount; }
claimer_paused() { [[ $(svc_metric "$CLAIMER" "wf4_credits_paused{reason=\"$1\"}") == 1 ]]; }
never_claimed() { psql_admin -c "SELECT count(*) FROM domains WHERE status = 'pending' AND attempts = 0"; }
figures() {
    say "measured: $1: $(used) credits used, $(status_count completed) completed, $(status_count pending) pending ($(never_claimed) never claimed), $(status_count processing) processing, $(status_count error) error; $(($(now_ms) - t0)) ms"
}

# 1. The daily budget.
CLAIMER=claimer
wait_until 60 claimer_paused "daily budget" || fatal "the claimer did not pause on its daily budget: $(status_counts)"
sleep 2 # several /account reads while paused: nothing may move
figures "daily budget 100"
check_eq "$(used)" 100 "the daily budget is spent, not exceeded"
check_eq "$(status_count completed)" 100 "100 domains completed"
check_eq "$(status_count error)" 0 "no domain in error"
check_eq "$(never_claimed)" $((N - 100)) "the other $((N - 100)) are pending and were never claimed"
check_eq "$(psql_admin -c 'SELECT count(*) FROM domain_attempts')" 100 "100 claims made in all"
check_eq "$(psql_admin -c "SELECT request_count_at_start FROM credits_days WHERE day = (now() AT TIME ZONE 'UTC')::date")" 0 \
    "credits_days holds the count at the start of today"
check_eq "$(svc_metric claimer wf4_credits_spent_today)" 100 "wf4_credits_spent_today"
check_eq "$(svc_metric claimer wf4_credits_remaining)" 900 "wf4_credits_remaining (from /account)"
check 'grep -q "paused: credit budget (daily budget: 100 of 100 credits spent today)" "$(svc_log claimer)"' \
    "the claimer logs 'paused: credit budget'"
SCRAPERAPI_URL=$STANDIN_URL/ SCRAPERAPI_KEY=$KEY "$WF4_BIN/wf4ctl" status >"$TEST_TMP/status" 2>&1
sed -n '/^CREDITS/,$p' "$TEST_TMP/status"
check 'grep -q "paused: credit budget (daily budget" "$TEST_TMP/status"' "wf4ctl status says 'paused: credit budget'"
check 'grep -Eq "left +900 of 1000" "$TEST_TMP/status"' "wf4ctl status shows what /account says is left"

# 2. A floor instead: 900 left, floor 850: 50 more, then paused again.
svc_kill claimer TERM
CLAIMER=claimer2
# First 40 results are made to look applied after the claimer's /account read (applied_at
# moved an hour ahead: what a lagging /account misses): they hold 40 of the 50 credits, so
# only 10 domains are claimed; put back, the other 40 follow.
psql_admin -c "UPDATE domain_attempts SET applied_at = now() + interval '1 hour' WHERE claim_id IN (SELECT claim_id FROM domain_attempts ORDER BY claimed_at LIMIT 40)" >/dev/null
svc_start claimer2 env WF4_INSTANCE_ID=claimer2 WF4_CREDITS_DAILY_BUDGET=0 WF4_CREDITS_FLOOR=850 "$WF4_BIN/claimer"
ten_done() { [[ $(status_count completed) -ge 110 ]]; }
wait_until 60 ten_done || fatal "claimer2 claimed nothing: $(status_counts)"
sleep 2
figures "floor 850, 40 results applied after the last /account read"
check_eq "$(used)" 110 "results not yet counted by /account hold their credits: 10 claims, not 50"
check_eq "$(svc_metric claimer2 'wf4_credits_paused{reason="floor"}')" 0 "not paused: the room is held"
psql_admin -c "UPDATE domain_attempts SET applied_at = now() - interval '1 hour' WHERE applied_at > now()" >/dev/null
wait_until 60 claimer_paused floor || fatal "the claimer did not pause at its floor: $(status_counts)"
sleep 2
figures "floor 850"
check_eq "$(used)" 150 "stopped at the floor: 50 more credits"
check_eq "$(status_count completed)" 150 "150 domains completed"
check_eq "$(status_count error)" 0 "no domain in error"
check_eq "$(never_claimed)" $((N - 150)) "the rest pending, never claimed"
check_eq "$(svc_metric claimer2 'wf4_credits_paused{reason="daily budget"}')" 0 "the reason is the floor, not the budget"

# 3. Mid-batch: a scraper with a floor of its own (900) above the claimer's (850), paused at
# start (850 left); 100
# credits added (950 left): the claimer resumes by itself and hands out 100 claims, the
# scraper stops its calls at 900 left and holds the other 50 (processing, not error).
svc_kill scraper TERM
svc_start scraper2 env WF4_INSTANCE_ID=scraper2 WF4_SCRAPER_CONCURRENCY=20 \
    WF4_SCRAPER_ACCOUNT_POLL_MS=300 WF4_CREDITS_FLOOR=900 "$WF4_BIN/scraper"
SCRAPER=scraper2
wait_until 30 grep -q 'serving /metrics' "$(svc_log scraper2)" || fatal "scraper2 has no /metrics"
scraper_paused() { [[ $(scraper_metric 'wf4_scraper_paused{reason="credit budget"}') == 1 ]]; }
# 850 left, under its floor: it pauses at once, before any claim arrives.
wait_until 30 scraper_paused || fatal "scraper2, started under its floor, did not pause"
standin_get "/control/credits?add=100" >/dev/null || fatal "cannot add credits"
spent_200() { [[ $(used) -ge 200 ]]; }
wait_until 60 spent_200 || fatal "the scraper did not resume with credits above its floor: $(status_counts)"
wait_until 30 scraper_paused || fatal "the scraper did not pause at its floor: $(status_counts)"
sleep 2
figures "100 credits added, claimer floor 850, scraper floor 900"
check 'grep -q "resumed: credit budget" "$(svc_log claimer2)"' "the claimer logs that it resumed"
check_eq "$(never_claimed)" $((N - 250)) "the claimer handed out 100 claims, no more"
check_eq "$(used)" 200 "the scraper stopped its calls at its floor: 50 more, no overspend (bound: its calls in flight, 20)"
check_eq "$(status_count processing)" 50 "the other 50 claims are held by the paused scraper"
check_eq "$(status_count error)" 0 "no domain in error"
check 'grep -q "paused: credit budget (floor" "$(svc_log scraper2)"' "the scraper logs 'paused: credit budget'"
# The claimer is not paused (50 credits above its floor) but has no room for new claims:
# the 50 domains in flight hold them.
check_eq "$(svc_metric claimer2 wf4_credits_budget_room)" 50 "the claimer's budget has room for 50 credits"
check_eq "$(svc_metric claimer2 'wf4_credits_paused{reason="floor"}')" 0 "... held by the domains in flight: not paused"
requests0=$(standin_get /stats | jq .requests)
sleep 2
check_eq "$(standin_get /stats | jq .requests)" "$requests0" "no call started while paused (2 s)"
check_eq "$(never_claimed)" $((N - 250)) "no claim while the domains in flight hold the room"

# 4. Credits added: everything resumes by itself.
standin_get "/control/credits?add=1000" >/dev/null || fatal "cannot add credits"
t1=$(now_ms)
all_done() { [[ $(status_count completed) -ge $N ]]; }
wait_until 120 all_done || fail "not every domain completed 120 s after credits were added: $(status_counts)"
say "measured: all $N completed $(($(now_ms) - t1)) ms after the credits were added"
figures "credits added"
check_eq "$(used)" "$N" "one credit per domain, $N in all"
check_eq "$(status_count error)" 0 "no domain in error"
check_eq "$(scraper_metric 'wf4_scraper_paused{reason="credit budget"}')" 0 "the scraper is no longer paused"
check 'grep -q "resumed: the account has" "$(svc_log scraper2)"' "the scraper logs that it resumed"

# 5. The scrapers hold to the daily budget too: each claim carries the day's ceiling
# (credits_days' start + WF4_CREDITS_DAILY_BUDGET). A budget of 400 with 300 spent today:
# room for 100 of 150 new domains. While a scraper (2 calls in flight) works through its
# claims, someone else spends 50 credits directly on the account: the scraper stops its
# calls at the ceiling, within its calls in flight, holds the rest and takes no call for
# 2 s; none turns error. The budget raised to 500: the new claims carry the raised
# ceiling, the scraper resumes by itself and all complete.
M=150 SPEND=50 CONC=2 CEIL=400
svc_kill claimer2 TERM
svc_kill scraper2 TERM
for i in $(seq 1 "$M"); do echo "ceiling-site-$i.com"; done >"$TEST_TMP/ceiling"
svc_start scraper3 env WF4_INSTANCE_ID=scraper3 WF4_SCRAPER_CONCURRENCY=$CONC \
    WF4_SCRAPER_ACCOUNT_POLL_MS=300 "$WF4_BIN/scraper"
SCRAPER=scraper3
wait_until 30 grep -q 'serving /metrics' "$(svc_log scraper3)" || fatal "scraper3 has no /metrics"
t2=$(now_ms)
svc_start claimer3 env WF4_INSTANCE_ID=claimer3 WF4_CREDITS_DAILY_BUDGET=$CEIL "$WF4_BIN/claimer"
credits_select "$TEST_TMP/ceiling"
calling() { [[ $(used) -gt $N ]]; }
wait_until 30 calling || fatal "scraper3 made no call: $(status_counts)"
# Someone else's calls on the same account: the API itself, with the key.
direct=$(seq 1 "$SPEND" | xargs -P 25 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 \
    "$STANDIN_URL/?api_key=$KEY&url=https%3A%2F%2Fdirect-{}.example%2F" | grep -c '^200$' || true)
check_eq "$direct" "$SPEND" "someone else spent $SPEND credits directly while the scraper held claims"
wait_until 60 scraper_paused || fatal "scraper3 did not pause at the ceiling: $(status_counts)"
sleep 2
figures "daily budget $CEIL, $SPEND spent directly"
at=$(used) mine=$(($(used) - N - SPEND)) held=$(status_count processing) claimed=$((M - $(never_claimed)))
say "measured: the account stopped at $at credits used, ceiling $CEIL ($((at - CEIL)) over; bound: the scraper's $CONC calls in flight); the scraper made $mine calls of the $((CEIL - N - SPEND)) the ceiling left it, holds $held of the claimer's $claimed claims"
check '((at <= CEIL + CONC && at >= CEIL - CONC))' "the scraper stopped its calls within its $CONC calls in flight of the ceiling ($at of $CEIL)"
check_eq "$(status_count completed)" $((N + mine)) "one domain completed per call the scraper made"
check_eq "$(status_count error)" 0 "no domain in error"
check_eq "$held" $((claimed - mine)) "the claimer's other claims are held, processing"
check '((claimed <= CEIL - N))' "the claimer handed out no more claims than its room ($claimed of $((CEIL - N)); results applied within WF4_CREDITS_ACCOUNT_LAG_MS hold some)"
check_eq "$(scraper_metric wf4_scraper_claims_in_hand)" "$held" \
    "the scraper holds them all, past its cap of $((CONC * 2)) (a raised ceiling can only come in a claim)"
check 'grep -q "paused: credit budget (daily budget" "$(svc_log scraper3)"' "the scraper logs 'paused: credit budget (daily budget ...)'"
check_eq "$(svc_metric claimer3 'wf4_credits_paused{reason="daily budget"}')" 1 "the claimer is paused on its daily budget too"
requests0=$(standin_get /stats | jq .requests)
sleep 2
check_eq "$(standin_get /stats | jq .requests)" "$requests0" "no call started while paused (2 s)"
check_eq "$(used)" "$at" "nothing more spent"

# The budget raised to 500: 50 new claims carry the new ceiling; the scraper resumes.
svc_kill claimer3 TERM
svc_start claimer4 env WF4_INSTANCE_ID=claimer4 WF4_CREDITS_DAILY_BUDGET=$((CEIL + 100)) "$WF4_BIN/claimer"
t3=$(now_ms)
all_done2() { [[ $(status_count completed) -ge $((N + M)) ]]; }
wait_until 60 all_done2 || fail "not every domain completed 60 s after the budget was raised: $(status_counts)"
say "measured: all $M completed $(($(now_ms) - t3)) ms after the budget was raised; phase 5 took $(($(now_ms) - t2)) ms"
figures "daily budget raised to $((CEIL + 100))"
check_eq "$(used)" $((N + M + SPEND)) "one credit per domain: the ceiling of 500 is reached, not passed"
check_eq "$(status_count error)" 0 "no domain in error"
check 'grep -q "resumed: credit budget: today.s ceiling is now $((CEIL + 100))" "$(svc_log scraper3)"' \
    "the scraper logs that it resumed on the raised ceiling"
wait_until 10 scraper_paused || fail "scraper3 did not pause at the raised ceiling, spent: $(used)"
check_eq "$(scraper_metric 'wf4_scraper_paused{reason="credit budget"}')" 1 \
    "the raised ceiling is spent too: the scraper is paused again, with nothing left to call"
midnight=$((($(date -u -d "$(date -u +%F) + 1 day" +%s)) * 1000))
"$WF4_BIN/wf4-inspect" -o beginning "$WF4_CLAIMS_TOPIC" >"$TEST_TMP/claims.jsonl" 2>/dev/null || true
ceilings=$(jq -r 'select(.value.domain | startswith("ceiling-site-")) | "\(.value.credits_ceiling) \(.value.credits_ceiling_until)"' \
    "$TEST_TMP/claims.jsonl" | sort | uniq -c | awk '{print $1 "x" $2 "@" $3}' | paste -sd' ')
say "measured: claims by credits_ceiling: $ceilings (the end of today: $midnight)"
check_eq "$ceilings" "${claimed}x$CEIL@$midnight $((M - claimed))x$((CEIL + 100))@$midnight" \
    "the claims carry today's ceiling (start 0 + budget) until the next UTC midnight"

for s in claimer claimer2 claimer3 claimer4 scraper scraper2 scraper3 committer; do
    check '! grep -q "ERROR: AddressSanitizer\|runtime error" "$(svc_log '$s')"' "no sanitizer report ($s)"
done
