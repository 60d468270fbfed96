#!/usr/bin/env bash
# wf4ctl doctor: healthy, idle in transaction (own and another application's), expired leases, --fix.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CTL=$WF4_BIN/wf4ctl

# doctor ARGS...: runs wf4ctl doctor, output in $TEST_TMP/doctor.out, status in $rc.
doctor() {
    rc=0
    "$CTL" doctor "$@" >"$TEST_TMP/doctor.out" 2>"$TEST_TMP/doctor.err" || rc=$?
    sed 's/^/    | /' "$TEST_TMP/doctor.out"
}

# idle_session NAME APP: a psql session fed from a fifo, left idle in a transaction.
idle_session() {
    local fifo=$TEST_TMP/$1.fifo
    mkfifo "$fifo"
    # the URL comes from the environment, so that its password stays out of the test log
    svc_start "$1" env PGAPPNAME="$2" bash -c 'exec "$WF4_PG_BIN/psql" -X -q "$WF4_DATABASE_URL" <"$0"' \
        "$fifo"
}

app_sessions() {
    psql_admin -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1'"
}

db_reset

say "healthy"
doctor
check_eq "$rc" 0 "doctor exits 0 on a healthy database"
check 'grep -q "^HEALTHY" "$TEST_TMP/doctor.out"' "doctor says HEALTHY"
doctor --idle-threshold
check_eq "$rc" 2 "a missing option value is a usage error"
rc=0
WF4_ADMIN_DATABASE_URL=postgresql://nobody@127.0.0.1:1/none "$CTL" doctor >/dev/null 2>&1 || rc=$?
check_eq "$rc" 2 "no database is a connection error"

say "idle in transaction: this pipeline's and another application's"
idle_session own wf4-test-idle
exec 7>"$TEST_TMP/own.fifo"
idle_session other other-app
exec 8>"$TEST_TMP/other.fifo"
echo "BEGIN; SELECT 1;" >&7
echo "BEGIN; SELECT count(*) FROM domains;" >&8
both_idle() {
    [[ $(psql_admin -c "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'
        AND application_name IN ('wf4-test-idle', 'other-app')") == 2 ]]
}
wait_until 10 both_idle || fatal "the two sessions did not become idle in transaction"
sleep 2
doctor --idle-threshold 1
check_eq "$rc" 1 "doctor exits 1 with sessions idle in transaction"
check 'grep -q "idle in transaction: 2 connection" "$TEST_TMP/doctor.out"' "both sessions counted"
check 'grep -q "wf4-test-idle" "$TEST_TMP/doctor.out"' "the pipeline's session is reported"
check 'grep -q "other-app" "$TEST_TMP/doctor.out"' "the other application's session is reported"
check 'grep -q "what to do" "$TEST_TMP/doctor.out"' "the finding says what to do"
check_eq "$(app_sessions wf4-test-idle)" 1 "doctor without --fix terminates nothing"
doctor --idle-threshold 300
check_eq "$rc" 0 "below the threshold nothing is reported"

doctor --fix --idle-threshold 1
check_eq "$rc" 1 "doctor --fix still exits 1: the other application's session is left"
check 'grep -q "terminated pid" "$TEST_TMP/doctor.out"' "--fix says what it terminated"
check 'grep -q "left alone" "$TEST_TMP/doctor.out"' "--fix says what it left alone"
check_eq "$(app_sessions wf4-test-idle)" 0 "the wf4- session is gone"
check_eq "$(app_sessions other-app)" 1 "the other-app session is still there"
exec 8>&- # EOF: psql ends, its transaction rolls back
exec 7>&-
other_gone() { [[ $(app_sessions other-app) == 0 ]]; }
wait_until 10 other_gone || fail "other-app did not end"
doctor --idle-threshold 1
check_eq "$rc" 0 "healthy again once the other application let go"

say "expired leases"
"$CTL" select a.example b.example c.example >/dev/null
psql_admin -c "UPDATE domains SET status = 'processing', claim_id = gen_random_uuid(),
    claimed_at = now() - interval '10 minutes', lease_expires_at = now() - interval '5 minutes'
    WHERE domain IN ('a.example', 'b.example')"
doctor
check_eq "$rc" 1 "doctor exits 1 with expired leases"
check 'grep -q "2 domain(s) in processing past their lease" "$TEST_TMP/doctor.out"' \
    "the expired leases are counted"
check 'grep -q "a.example" "$TEST_TMP/doctor.out"' "the stuck domains are listed"
doctor --fix
check_eq "$rc" 0 "doctor --fix fixes every finding"
check 'grep -q "fixed: 2 expired claim" "$TEST_TMP/doctor.out"' "--fix says how many it released"
check_eq "$(psql_admin -c "SELECT string_agg(domain || '=' || status, ',' ORDER BY domain)
    FROM domains WHERE next_attempt_at <= now()")" \
    "a.example=pending,b.example=pending,c.example=pending" "the expired claims are pending, due now"
doctor
check_eq "$rc" 0 "healthy after --fix"

say "a stage without progress while work waits"
psql_admin -c "UPDATE domains SET next_attempt_at = now() - interval '2 minutes',
    claimed_at = now() - interval '3 minutes' WHERE domain = 'c.example'" >/dev/null
doctor --stall 60
check_eq "$rc" 1 "doctor exits 1 when domains wait with no claim for longer than --stall"
check 'grep -q "^\[FAIL\] claimer progress: no claim for 1[0-9][0-9] s while 1 domain(s) wait" "$TEST_TMP/doctor.out"' \
    "the claimer is named as making no progress"
psql_admin -c "UPDATE domains SET status = 'processing', claim_id = gen_random_uuid(),
    claimed_at = now() - interval '3 minutes', lease_expires_at = now() + interval '5 minutes'
    WHERE domain = 'c.example'" >/dev/null
doctor --stall 60
check 'grep -q "^\[FAIL\] committer progress: no domain completed" "$TEST_TMP/doctor.out"' \
    "the committer is named when claimed domains see no completion"
doctor --stall 600
check 'grep -q "^\[ OK \] committer progress" "$TEST_TMP/doctor.out"' "within --stall it is not a finding"
