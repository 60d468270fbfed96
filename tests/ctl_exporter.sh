#!/usr/bin/env bash
# wf4ctl exporter: its gauges follow the database (idle in transaction, lock waits, expired
# leases, old selections, the outbox) and Kafka (consumer lag), once and over HTTP.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CTL=$WF4_BIN/wf4ctl

# gauge NAME: its value in $TEST_TMP/metrics (empty when absent).
gauge() {
    awk -v n="$1" '$1 == n {print $2}' "$TEST_TMP/metrics"
}

# at_least NAME MIN: the gauge is present and >= MIN.
at_least() {
    awk -v v="$(gauge "$1")" -v min="$2" 'BEGIN {exit !(v != "" && v + 0 >= min)}'
}

# once: one collection into $TEST_TMP/metrics, exit status in $rc.
once() {
    rc=0
    "$CTL" exporter --once >"$TEST_TMP/metrics" 2>>"$TEST_TMP/once.err" || rc=$?
}

# session NAME: a psql session (as the admin role) fed from fd 7 or 8 through a fifo.
session() {
    mkfifo "$TEST_TMP/$1.fifo"
    svc_start "$1" env PGAPPNAME="wf4-test-$1" bash -c \
        'exec "$WF4_PG_BIN/psql" -X -q "$WF4_ADMIN_DATABASE_URL" <"$0"' "$TEST_TMP/$1.fifo"
}

db_reset

say "a quiet database"
# A broker just started may not serve the groups' offsets yet: the exporter says so (kafka 0).
kafka_read() {
    once
    [[ $(gauge 'wf4_exporter_collect_ok{part="kafka"}') == 1 ]]
}
wait_until 60 kafka_read || say "Kafka part still failing: $(tail -n 3 "$TEST_TMP/once.err")"
[[ ! -s $TEST_TMP/once.err ]] || say "while the broker warmed up: $(head -c 300 "$TEST_TMP/once.err")"
check_eq "$rc" 0 "exporter --once exits 0"
check_eq "$(gauge 'wf4_exporter_collect_ok{part="database"}')" 1 "the database part was read"
check_eq "$(gauge 'wf4_exporter_collect_ok{part="kafka"}')" 1 "the Kafka part was read"
check_eq "$(gauge wf4_pg_idle_in_transaction_sessions)" 0 "no session idle in a transaction"
check_eq "$(gauge wf4_domains_past_lease)" 0 "no expired lease"
check '[[ -n $(gauge "wf4_kafka_consumer_lag{group=\"wf4-scraper\",topic=\"wf4.domain.claims\"}") ]]' \
    "the scraper group's lag on the claims is exported"
check '(( $(gauge wf4_pg_connections_limit) > 0 ))' "the connection limit is read"

say "domains: an expired lease, an old pending one, an old outbox row"
"$CTL" select lease.example pending.example held.example >/dev/null
psql_admin -c "UPDATE domains SET status = 'processing', claim_id = gen_random_uuid(),
    claimed_at = now() - interval '10 minutes', lease_expires_at = now() - interval '5 minutes',
    selected_at = now() - interval '40 minutes' WHERE domain = 'lease.example'"
psql_admin -c "UPDATE domains SET next_attempt_at = now() - interval '20 minutes'
    WHERE domain = 'pending.example'"
psql_admin -c "INSERT INTO wf5_outbox (event_ids, domain_ids, claim_ids, tenant_ids, domains,
    completed_at, created_at) SELECT ARRAY[gen_random_uuid()], ARRAY[id], ARRAY[gen_random_uuid()],
    ARRAY[NULL::uuid], ARRAY[domain], now(), now() - interval '7 minutes'
    FROM domains WHERE domain = 'held.example'"

say "a session idle in a transaction holding a row lock, an UPDATE waiting for it"
session holder
exec 7>"$TEST_TMP/holder.fifo"
echo "BEGIN; UPDATE domains SET updated_at = now() WHERE domain = 'held.example';" >&7
holding() {
    [[ $(psql_admin -c "SELECT count(*) FROM pg_stat_activity
        WHERE application_name = 'wf4-test-holder' AND state = 'idle in transaction'") == 1 ]]
}
wait_until 10 holding || fatal "the holder did not become idle in a transaction"
session waiter 7>&- # the holder must see EOF when the test closes fd 7
exec 8>"$TEST_TMP/waiter.fifo"
echo "UPDATE domains SET updated_at = now() WHERE domain = 'held.example';" >&8
waiting() {
    [[ $(psql_admin -c "SELECT count(*) FROM pg_stat_activity
        WHERE application_name = 'wf4-test-waiter' AND wait_event_type = 'Lock'") == 1 ]]
}
wait_until 10 waiting || fatal "the waiter is not waiting for the lock"
sleep 2
once
check_eq "$rc" 0 "exporter --once exits 0"
check_eq "$(gauge wf4_pg_idle_in_transaction_sessions)" 1 "one session idle in a transaction"
check 'at_least wf4_pg_idle_in_transaction_max_seconds 2' \
    "idle for at least 2 s ($(gauge wf4_pg_idle_in_transaction_max_seconds) s)"
check 'at_least wf4_pg_lock_wait_max_seconds 2' \
    "a lock wait of at least 2 s ($(gauge wf4_pg_lock_wait_max_seconds) s)"
check 'at_least wf4_pg_update_max_seconds 2' \
    "an UPDATE running for at least 2 s ($(gauge wf4_pg_update_max_seconds) s)"
check 'at_least wf4_pg_transaction_max_seconds 2' \
    "a transaction open for at least 2 s ($(gauge wf4_pg_transaction_max_seconds) s)"
check_eq "$(gauge wf4_domains_processing)" 1 "one domain in processing"
check_eq "$(gauge wf4_domains_past_lease)" 1 "one domain past its lease"
check_eq "$(gauge wf4_domains_pending_due)" 2 "two pending domains due"
check 'at_least wf4_domains_oldest_pending_seconds 1200' \
    "the oldest pending domain waited 20 minutes ($(gauge wf4_domains_oldest_pending_seconds) s)"
check 'at_least wf4_domains_oldest_selection_seconds 2400' \
    "the oldest selection is 40 minutes old ($(gauge wf4_domains_oldest_selection_seconds) s)"
check_eq "$(gauge wf4_outbox_events)" 1 "one outbox event"
check 'at_least wf4_outbox_oldest_seconds 420' \
    "the outbox row is 7 minutes old ($(gauge wf4_outbox_oldest_seconds) s)"

say "the sessions end: the database gauges go back to zero"
exec 7>&- 8>&-
ended() {
    [[ $(psql_admin -c "SELECT count(*) FROM pg_stat_activity
        WHERE application_name LIKE 'wf4-test-%'") == 0 ]]
}
wait_until 10 ended || fail "the sessions did not end"
once
check_eq "$(gauge wf4_pg_idle_in_transaction_sessions)" 0 "no session idle in a transaction"
check_eq "$(gauge wf4_pg_lock_wait_max_seconds)" 0 "no lock wait"

say "over HTTP: /metrics, /readyz, and a clean stop on SIGTERM"
port=$(free_port)
svc_start exporter "$CTL" exporter --port "$port" --interval 1
ready() { curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; }
wait_until 20 ready || fail "/readyz did not answer 200"
curl -sf "http://127.0.0.1:$port/metrics" >"$TEST_TMP/metrics" || fail "/metrics failed"
check_eq "$(gauge wf4_domains_past_lease)" 1 "/metrics serves the gauges"
psql_admin -c "UPDATE domains SET status = 'pending', lease_expires_at = NULL
    WHERE domain = 'lease.example'"
released() {
    curl -sf "http://127.0.0.1:$port/metrics" >"$TEST_TMP/metrics" &&
        [[ $(gauge wf4_domains_past_lease) == 0 ]]
}
wait_until 10 released || fail "the gauge did not follow the released lease"
kill -TERM "$(svc_pid exporter)"
rc=0
svc_wait exporter 10 || rc=$?
check_eq "$rc" 0 "the exporter exits 0 on SIGTERM"
check '[[ $("$CTL" exporter --port x 2>/dev/null; echo $?) == 2 ]]' "a bad --port is a usage error"
db_reset
