#!/usr/bin/env bash
# Issue 23: a replayed claim whose result was already published is not fetched again where
# the scraper can know it. 200 claims get their results; the same 200 claims (same ids) are
# then published again, as a partition that moved before its offsets were committed replays
# them: the scraper makes no second call and publishes no second result, and commits their
# offsets (a scraper started afterwards in the same group finds nothing to do). A new
# process remembers nothing: a third replay after the restart is fetched again (the bound
# of "where the scraper can know it", printed).
source "$WF4_SRC/tests/scraper_lib.sh"
N=${SCRAPER_REPLAY_CLAIMS:-200}

scraper_topics
standin_start standin STANDIN_CONCURRENCY=100 STANDIN_LATENCY_MIN_MS=10 STANDIN_LATENCY_MAX_MS=50
scraper_start replay_a WF4_SCRAPER_CONCURRENCY=20 WF4_LOG_LEVEL=debug
"$WF4_BIN/wf4-claimgen" -n "$N" -t "$CLAIMS" -o "$TEST_TMP/claims.txt" -g "rl$RUN_ID" ||
    fatal "wf4-claimgen failed"
results_at_least() { (($(topic_end_offsets "$RESULTS") >= $1)); }
wait_until 60 results_at_least "$N" || fatal "not $N results within 60 s"
calls=$(standin_stat .requests)
say "measured: $N claims, $calls calls, $(topic_end_offsets "$RESULTS") results"

"$WF4_BIN/wf4-claimgen" --replay "$TEST_TMP/claims.txt" -t "$CLAIMS" -o "$TEST_TMP/replay.txt" ||
    fatal "wf4-claimgen --replay failed"
skipped() { (($(scraper_metric replay_a wf4_scraper_replays_skipped_total) >= $1)); }
wait_until 30 skipped "$N" || fail "the scraper skipped $(scraper_metric replay_a wf4_scraper_replays_skipped_total) of $N replayed claims"
sleep 1
check_eq "$(scraper_metric replay_a wf4_scraper_claims_total)" $((2 * N)) "the scraper took the $N claims and their $N replays"
check_eq "$(scraper_metric replay_a wf4_scraper_replays_skipped_total)" "$N" "every replay skipped (wf4_scraper_replays_skipped_total)"
check_eq "$(standin_stat .requests)" "$calls" "no call for a replayed claim"
check_eq "$(topic_end_offsets "$RESULTS")" "$N" "no second result"
check 'grep -q "\"msg\":\"replayed claim: its result was published already" "$(svc_log replay_a)"' \
    "the replay is logged (debug) with the domain's ids"
svc_kill replay_a TERM

# The offsets of the skipped claims were committed: the group's next member takes nothing.
scraper_start replay_b WF4_SCRAPER_CONCURRENCY=20
wait_until 30 grep -q '"msg":"[1-9][0-9]* partitions assigned' "$(svc_log replay_b)" ||
    fatal "replay_b got no partitions within 30 s"
sleep 3
check_eq "$(scraper_metric replay_b wf4_scraper_claims_total)" 0 "the group's next member finds no claim left (offsets committed)"

# A new process remembers nothing: the same claims replayed once more are fetched again.
"$WF4_BIN/wf4-claimgen" --replay "$TEST_TMP/claims.txt" -t "$CLAIMS" -o "$TEST_TMP/replay2.txt" ||
    fatal "wf4-claimgen --replay failed"
wait_until 60 results_at_least $((2 * N)) || fail "the replay after the restart got no results"
say "measured: after a restart the replayed claims were fetched again: $(($(standin_stat .requests) - calls)) calls, $(topic_end_offsets "$RESULTS") results in all"
check_eq "$(scraper_metric replay_b wf4_scraper_replays_skipped_total)" 0 "a new process skips nothing it did not publish"
svc_kill replay_b TERM
for s in replay_a replay_b; do
    check '! grep -q "ERROR: AddressSanitizer\|runtime error" "$(svc_log '$s')"' "no sanitizer report ($s)"
done
