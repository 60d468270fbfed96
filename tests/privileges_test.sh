#!/usr/bin/env bash
# Least privilege: the services' role (wf4, a member of wf4_service from the migrations) is
# no superuser and cannot create, drop, truncate, alter or delete; the running services'
# sessions in pg_stat_activity use that role.
. "$WF4_SRC/tests/lib.sh"

app_user=$(psql_app -c 'SELECT current_user')
check_eq "$app_user" wf4 "WF4_DATABASE_URL logs in as wf4"
read -r super createdb createrole bypass <<<"$(psql_app -F' ' -c "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user")"
check "[ $super = f ] && [ $createdb = f ] && [ $createrole = f ] && [ $bypass = f ]" \
    "wf4 is no superuser and cannot create databases or roles or bypass RLS ($super $createdb $createrole $bypass)"
member=$(psql_admin -c "SELECT string_agg(b.rolname, ',') FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = 'wf4'")
check_eq "$member" wf4_service "wf4's privileges come from wf4_service only (the migration's role)"
owner=$(psql_admin -c "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname IN ('wf4', 'wf4_service')")
check_eq "$owner" 0 "wf4 owns no table (so it cannot ALTER or DROP them)"

# Each statement must be refused with insufficient_privilege (42501) or must-be-owner.
refused=0
while IFS= read -r sql; do
    [[ -n $sql ]] || continue
    out=$("$WF4_PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 "$WF4_DATABASE_URL" -c "BEGIN; $sql; ROLLBACK" 2>&1) && {
        fail "wf4 was allowed: $sql"
        continue
    }
    if grep -q -E 'permission denied|must be owner|must be superuser' <<<"$out"; then
        refused=$((refused + 1))
        say "refused: $sql -> $(head -1 <<<"$out" | cut -c1-90)"
    else
        fail "$sql failed for another reason: $out"
    fi
done <<'SQL'
CREATE TABLE wf4_priv_probe (i int)
CREATE TABLE public.wf4_priv_probe2 AS SELECT 1 AS i
DROP TABLE domains
DROP TABLE wf5_outbox
TRUNCATE domains
TRUNCATE wf5_outbox
DELETE FROM domains
ALTER TABLE domains ADD COLUMN wf4_priv_probe int
ALTER TABLE domains DISABLE TRIGGER ALL
CREATE INDEX wf4_priv_probe_idx ON domains (updated_at)
CREATE SCHEMA wf4_priv_probe
CREATE ROLE wf4_priv_probe
CREATE FUNCTION wf4_priv_probe() RETURNS int LANGUAGE sql AS 'SELECT 1'
INSERT INTO schema_migrations SELECT * FROM schema_migrations LIMIT 0
UPDATE schema_migrations SET name = name
SQL
check_eq "$refused" 15 "every DDL and destructive statement is refused to wf4"
# What it needs works (in a transaction rolled back).
check "psql_app -c 'BEGIN; SELECT count(*) FROM domains; UPDATE domains SET updated_at = updated_at WHERE false; SELECT count(*) FROM wf5_outbox; ROLLBACK' >/dev/null" \
    "wf4 can read and update domains and read the outbox"

# The running services' sessions use the role wf4.
RUN_ID="$(date +%s)$$"
export WF4_COMMITTER_GROUP="g.$RUN_ID.committer" WF4_METRICS_PORT=0
private_topics "$TEST_TMP/schemas" "t.priv.$RUN_ID.claims" "t.priv.$RUN_ID.results" "t.priv.$RUN_ID.handoffs" \
    "$TEST_TMP/topics.log" || fatal "cannot create topics: $(cat "$TEST_TMP/topics.log")"
svc_start claimer env WF4_INSTANCE_ID="priv$RUN_ID" "$WF4_BIN/claimer"
svc_start committer env WF4_INSTANCE_ID="priv$RUN_ID" "$WF4_BIN/committer"
sessions() { psql_admin -F' ' -c "SELECT application_name, usename FROM pg_stat_activity WHERE application_name LIKE 'wf4-%/priv$RUN_ID'" >"$TEST_TMP/sessions"; [[ $(wc -l <"$TEST_TMP/sessions") -ge 2 ]]; }
wait_until 60 sessions || fail "the services' sessions did not show up: $(cat "$TEST_TMP/sessions")"
sed 's/^/    /' "$TEST_TMP/sessions"
n=$(wc -l <"$TEST_TMP/sessions")
others=$(awk '$2 != "wf4"' "$TEST_TMP/sessions" | wc -l)
check "[ $n -ge 2 ] && [ $others = 0 ]" "the running claimer and committer connect as wf4 ($n sessions, $others as another role)"
