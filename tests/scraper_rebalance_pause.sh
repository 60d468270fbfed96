#!/usr/bin/env bash
# Regression test of 720d861: librdkafka keeps a partition's pause across revocation and
# re-assignment (its issue #1849). A scraper whose intake is full pauses its partitions while
# claims wait in Kafka; an eager rebalance (a second scraper joins the group) revokes them
# all; the claims in hand are abandoned after the grace period, so the loop resumes intake on
# the assignment of that moment, which is empty; then the partitions are assigned back. They
# must be fetched from again: before the fix they stayed paused for good and no claim on them
# ever got a result. The second scraper then leaves (SIGTERM) and the first one gets every
# partition back: every claim must have a result within a bounded time.
#
# Deterministic by construction, not by timing:
# - the stand-in is frozen (SIGSTOP) until the rebalances are over, so no call completes:
#   the intake is full, hence paused, at each revocation, and the claims in hand are
#   abandoned after WF4_SCRAPER_GRACE_MS whatever the machine's speed;
# - the eager protocol (range) revokes the whole assignment (cooperative-sticky, the default,
#   revokes only the partitions that move, and the intake would be full again by then);
# - scrape_intake decides pause/resume before it polls; the revocation and the next
#   assignment may be served by one poll or by two, so the loop resumes either on the empty
#   assignment between them or on the partitions assigned back: both orders are accepted,
#   the one taken is printed, and the results below are what proves the fix.
source "$WF4_SRC/tests/scraper_lib.sh"
N=${SCRAPER_TEST_CLAIMS:-240}
CONC=8                                            # calls in flight; in hand at most CONC x 2
WAIT_S=${SCRAPER_REBALANCE_WAIT_S:-60}            # all results after the partitions are back
GROUP_PROPS=partition.assignment.strategy=range,session.timeout.ms=10000,heartbeat.interval.ms=1000

# The messages of a service's JSON log, one a line.
msgs() { jq -Rr 'fromjson? | .msg // empty' "$(svc_log "$1")"; }

# in_order NAME ERE...: NAME's log has messages matching each ERE, in this order.
in_order() {
    local name=$1
    shift
    msgs "$name" | awk -v pats="$(printf '%s\n' "$@")" '
        BEGIN { n = split(pats, p, "\n"); i = 1 }
        i <= n && $0 ~ p[i] { i++ }
        END { exit !(i > n) }'
}

# story NAME: NAME's intake and group lines, in order (what a failed sequence check saw).
story() {
    say "---- $1's intake and group lines"
    msgs "$1" | grep -E 'intake|partitions|rebalance' | sed 's/^/    /' >&2
}

results_published() { (($(topic_end_offsets "$RESULTS") >= N)); }

# Both scrapers: debug log level for the "paused/resumed intake" lines, the eager protocol.
scraper_in_group() {
    local name=$1
    shift
    scraper_start "$name" WF4_LOG_LEVEL=debug WF4_KAFKA_PROPS="$GROUP_PROPS" \
        WF4_SCRAPER_CONCURRENCY="$CONC" WF4_SCRAPER_BACKLOG_FACTOR=2 "$@"
}

scraper_topics
P=$(topic_partitions "$CLAIMS")
"$WF4_BIN/wf4-claimgen" -n "$N" -t "$CLAIMS" -o "$TEST_TMP/claims.txt" -g "rp$RUN_ID" ||
    fatal "wf4-claimgen failed"
standin_start standin STANDIN_CONCURRENCY=200 STANDIN_LATENCY_MIN_MS=10 STANDIN_LATENCY_MAX_MS=50
svc_kill standin STOP
on_exit svc_kill standin CONT # a stopped stand-in would ignore the SIGTERM at exit
say "stand-in frozen (SIGSTOP): no call completes until the rebalances are over"

# 1. One scraper: intake full, its partitions paused, claims waiting in Kafka.
scraper_in_group scraper_a WF4_SCRAPER_GRACE_MS=2000
wait_until 30 in_order scraper_a "^paused intake [(]$P partitions" ||
    fatal "scraper_a did not pause its $P partitions within 30 s"
taken_a=$(scraper_metric scraper_a wf4_scraper_claims_total)
say "measured: scraper_a paused its $P partitions with $taken_a claims taken, $((N - taken_a)) waiting in Kafka"
check '[[ $taken_a -lt $N ]]' "claims wait in Kafka while scraper_a's intake is paused"

# resume_order: how scraper_a came back from the revocation ("empty": resumed on the empty
# assignment, then assigned; "assigned": assigned while paused, then resumed on it).
resume_order() {
    local head=("^paused intake [(]$P partitions" "^$P partitions revoked")
    if in_order scraper_a "${head[@]}" "^resumed intake [(]0 partitions" \
        "^[1-9][0-9]* partitions assigned [(]eager[)]"; then
        echo empty
    elif in_order scraper_a "${head[@]}" "^[1-9][0-9]* partitions assigned [(]eager[)]" \
        "^resumed intake [(][1-9][0-9]* partitions"; then
        echo assigned
    else
        return 1
    fi
}

# 2. A second member joins: eager rebalance, scraper_a's whole assignment revoked, its
#    claims abandoned after the grace period, half of the partitions assigned back to it and
#    intake resumed (on the empty assignment in between, or on the partitions assigned back).
scraper_in_group scraper_b WF4_SCRAPER_GRACE_MS=1000
if ! wait_until 40 resume_order >/dev/null; then
    story scraper_a
    fatal "scraper_a did not go through revoke, re-assign and resume within 40 s"
fi
order=$(resume_order)
say "measured: scraper_a resumed intake $([[ $order == empty ]] && echo "on the empty assignment, then was assigned" || echo "on the partitions assigned back (revocation and assignment in one poll)")"
wait_until 30 grep -q '"msg":"[1-9][0-9]* partitions assigned (eager)' "$(svc_log scraper_b)" ||
    fatal "scraper_b got no partitions within 30 s"
say "measured: after scraper_b joined: scraper_a $(msgs scraper_a | grep 'assigned (eager)' | tail -1), scraper_b $(msgs scraper_b | grep 'assigned (eager)' | tail -1)"

# 3. The second member leaves: scraper_a gets all partitions back.
svc_kill scraper_b TERM
wait_until 40 in_order scraper_a "^$P partitions revoked" "^[1-9][0-9]* partitions assigned" \
    "partitions revoked" "^$P partitions assigned [(]eager[)]" || {
    story scraper_a
    fatal "scraper_a did not get its $P partitions back within 40 s of scraper_b's stop"
}
check 'resume_order >/dev/null && in_order scraper_a "^$P partitions revoked" "partitions assigned" "partitions revoked" "^$P partitions assigned"' \
    "scraper_a went through: paused, all revoked, resumed and assigned back ($order), then all $P back"
before=$(scraper_metric scraper_a wf4_scraper_claims_total)
t_back=$(now_ms)
svc_kill standin CONT
say "stand-in resumed; scraper_a holds all $P partitions again ($before claims taken so far)"

# 4. Every claim must get its result: the partitions assigned back are fetched from.
if wait_until "$WAIT_S" results_published; then
    t_done=$(now_ms)
    say "measured: $N results on $RESULTS $(((t_done - t_back) / 1000)).$(((t_done - t_back) % 1000 / 100)) s after the partitions came back"
    resultcheck "$RESULTS" "$TEST_TMP/claims.txt" 10
else
    resultcheck "$RESULTS" "$TEST_TMP/claims.txt" 2
    after=$(scraper_metric scraper_a wf4_scraper_claims_total)
    fail "$((N - $(topic_end_offsets "$RESULTS"))) of $N claims without a result $WAIT_S s after scraper_a got its $P partitions back; it took $((after - before)) claims in that time: the re-assigned partitions stayed paused (librdkafka #1849, fixed by 720d861)"
fi
after=$(scraper_metric scraper_a wf4_scraper_claims_total)
pauses=$(msgs scraper_a | awk -v re="^$P partitions assigned" '$0 ~ re {n = 0} /^paused intake/ {n++} END {print n + 0}')
say "measured: scraper_a took $((after - before)) claims after getting its partitions back (intake paused $pauses times since)"
check_eq "${RC_missing:-x}" 0 "no claim without a result after the partitions were assigned back"
check_eq "${RC_success:-x}" "$N" "every claim succeeded"
svc_kill scraper_a TERM
check 'grep -q "\"msg\":\"stopped\"" "$(svc_log scraper_a)"' "scraper_a stopped cleanly"
for s in scraper_a scraper_b; do
    check '! grep -q "ERROR: AddressSanitizer\|runtime error" "$(svc_log '$s')"' "no sanitizer report ($s)"
done
