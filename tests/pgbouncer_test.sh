#!/usr/bin/env bash
# The end-to-end test with every service connected through PgBouncer (Debian's package) in
# transaction pooling mode: pgbouncer on a free port (scram-sha-256, a userlist with the wf4
# role's password, run as the postgres user), tests/e2e_test.sh with WF4_DATABASE_URL
# pointing at it, then PgBouncer's admin console shows the traffic went through it.
# PGB_E2E_DOMAINS sizes the run (default: the demo set, ~300, which the e2e checks expect).
#
# LISTEN through transaction pooling: the claimer's LISTEN runs on whichever server
# connection serves that statement, which then goes back to the pool, so a NOTIFY reaches an
# unlinked server connection (pgbouncer logs "got packet 'A' from server when not linked" and
# drops that connection) and never the claimer. The claimer does not depend on it: its
# fallback timer (WF4_CLAIM_INTERVAL_MS, 1 s) claims the selection. The test counts these.
. "$WF4_SRC/tests/lib.sh"

command -v pgbouncer >/dev/null || fatal "pgbouncer is not installed (Debian package pgbouncer)"
pw=$(sed -E 's|^postgresql://wf4:([^@]*)@.*|\1|' <<<"$WF4_DATABASE_URL")
[[ -n $pw && $pw != "$WF4_DATABASE_URL" ]] || fatal "no wf4 password in WF4_DATABASE_URL"
admin_pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
port=$(free_port)

# PgBouncer refuses to run as root: its files belong to the postgres user.
PGB=$(postgres_dir pgbouncer) || fatal "no directory for the postgres user"
on_exit rm -rf "$PGB"
cat >"$PGB/userlist.txt" <<EOF
"wf4" "$pw"
"pgb_admin" "$admin_pw"
EOF
cat >"$PGB/pgbouncer.ini" <<EOF
[databases]
wf4 = host=127.0.0.1 port=$WF4_PG_PORT dbname=wf4

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $PGB/userlist.txt
admin_users = pgb_admin
pool_mode = transaction
default_pool_size = 10
max_client_conn = 200
ignore_startup_parameters = extra_float_digits,options
logfile = $PGB/pgbouncer.log
pidfile = $PGB/pgbouncer.pid
EOF
chown -R postgres:postgres "$PGB"
chmod 600 "$PGB/userlist.txt"
svc_start pgbouncer setpriv --reuid=postgres --regid=postgres --clear-groups pgbouncer "$PGB/pgbouncer.ini"
on_exit svc_kill pgbouncer TERM
ADMIN_URL="postgresql://pgb_admin:$admin_pw@127.0.0.1:$port/pgbouncer"
pgb_admin() { "$WF4_PG_BIN/psql" -X -qAt -F' ' "$ADMIN_URL" -c "$1"; }
pgb_up() { pgb_admin 'SHOW VERSION' >/dev/null 2>&1; }
wait_until 20 pgb_up || fatal "pgbouncer did not answer on port $port: $(tail -5 "$PGB/pgbouncer.log")"
say "pgbouncer $(pgb_admin 'SHOW VERSION' | head -1) on port $port, pool_mode $(pgb_admin 'SHOW CONFIG' | awk '$1 == "pool_mode" {print $2}')"

PGB_URL="postgresql://wf4:$pw@127.0.0.1:$port/wf4"
check_eq "$("$WF4_PG_BIN/psql" -X -qAt "$PGB_URL" -c 'SELECT current_user')" wf4 "the wf4 role logs in through pgbouncer"

# The e2e test reads its stack's env file: give it one that points the services at pgbouncer.
mkdir -p "$TEST_TMP/stack"
# LISTEN cannot work through transaction pooling: the claimer listens on a direct connection
# (WF4_LISTEN_DATABASE_URL) while every transaction goes through pgbouncer.
{ cat "$WF4_STACK_DIR/env"; printf 'export WF4_DATABASE_URL=%q\n' "$PGB_URL"
  printf 'export WF4_LISTEN_DATABASE_URL=%q\n' "$WF4_DATABASE_URL"; } >"$TEST_TMP/stack/env"

# Who connects through pgbouncer while the e2e test runs.
(while [[ ! -f $TEST_TMP/watch.stop ]]; do
    "$WF4_PG_BIN/psql" -X -qAt -F' ' "$ADMIN_URL" -c 'SHOW CLIENTS' >>"$TEST_TMP/clients" 2>/dev/null || true
    sleep 1
done) &
watcher=$!
on_exit touch "$TEST_TMP/watch.stop"

before=$(pgb_admin 'SHOW STATS' | awk '$1 == "wf4" {print $2}')
say "running tests/e2e_test.sh through pgbouncer (E2E_DOMAINS=${PGB_E2E_DOMAINS:-0}, 0 = the demo set)"
rc=0
WF4_STACK_DIR="$TEST_TMP/stack" TEST_NAME=e2e_via_pgbouncer E2E_DOMAINS=${PGB_E2E_DOMAINS:-0} \
    bash "$WF4_SRC/tests/e2e_test.sh" >"$TEST_TMP/e2e.log" 2>&1 || rc=$?
touch "$TEST_TMP/watch.stop"
wait "$watcher" || true
grep -E 'ok:|FAIL|checks,|domains in' "$TEST_TMP/e2e.log" | sed 's/^/    /'
check_eq "$rc" 0 "tests/e2e_test.sh passes with the services behind pgbouncer (transaction pooling)"

# The traffic went through pgbouncer: transactions counted, pools used, service clients seen.
pgb_admin 'SHOW STATS' >"$TEST_TMP/stats"
"$WF4_PG_BIN/psql" -X -q -A -F' ' -P footer=off "$ADMIN_URL" -c 'SHOW POOLS' >"$TEST_TMP/pools"
xacts=$(awk '$1 == "wf4" {print $2}' "$TEST_TMP/stats")
queries=$(awk '$1 == "wf4" {print $3}' "$TEST_TMP/stats")
selected=$(psql_admin -c "SELECT count(*) FROM domains WHERE status IS NOT NULL")
say "SHOW STATS wf4: $((xacts - before)) transactions, $queries queries for $selected domains"
say "SHOW POOLS: $(head -1 "$TEST_TMP/pools")"
say "            $(grep '^wf4 ' "$TEST_TMP/pools")"
# At least: the selection, one claim transaction, one result batch, the outbox sweep.
check "[ $((xacts - before)) -ge 4 ]" "pgbouncer carried the run's transactions ($((xacts - before)))"
check "grep -q '^wf4 wf4 .* transaction\$' '$TEST_TMP/pools'" "the wf4 pool is in transaction mode"
notifies=$(grep -c "got packet 'A' from server when not linked" "$PGB/pgbouncer.log" || true)
check "[ $notifies = 0 ]" "no NOTIFY reached a pooled server connection: the claimer LISTENs directly ($notifies)"
for app in claimer committer; do
    n=$(grep -c "wf4-$app/" "$TEST_TMP/clients" || true)
    check "[ $n -gt 0 ]" "the $app was a pgbouncer client ($n samples)"
done
say "pgbouncer log: $(grep -c 'LOG' "$PGB/pgbouncer.log" || true) lines, $(grep -ci 'error\|WARNING' "$PGB/pgbouncer.log" || true) errors/warnings"
grep -i 'error\|WARNING' "$PGB/pgbouncer.log" | sed -E 's/^[0-9-]+ [0-9:.]+ [A-Z]+ [0-9]+ //' | sed -E 's/0x[0-9a-f]+/P/g' | sort | uniq -c | sort -rn | head -5 | sed 's/^/    /' || true
