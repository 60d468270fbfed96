#!/usr/bin/env bash
# wf4ctl select (file with duplicates and comments, names, stdin, tenant) and requeue --errors.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CTL=$WF4_BIN/wf4ctl

# ctl ARGS...: runs wf4ctl, output in $out, status in $rc.
ctl() {
    rc=0
    out=$("$CTL" "$@" 2>"$TEST_TMP/ctl.err") || rc=$?
    say "wf4ctl $*: $out"
}
q() { psql_admin -c "$1"; }

db_reset
cat >"$TEST_TMP/list" <<'LIST'
# domains selected by hand
alpha.example
Beta.Example   # upper case: the same domain as beta.example

beta.example
  gamma.example
alpha.example
# the end
LIST
ctl select --file "$TEST_TMP/list"
check_eq "$rc" 0 "select --file exits 0"
check 'grep -q "3 distinct domain(s): inserted 3, newly selected 0, already selected 0" <<<"$out"' \
    "duplicates, comments and blank lines are ignored"
check_eq "$(q "SELECT string_agg(domain || ':' || status || ':' || sitemap_curation_status, ','
    ORDER BY domain) FROM domains")" \
    "alpha.example:pending:Selected,beta.example:pending:Selected,gamma.example:pending:Selected" \
    "the domains are Selected and pending"

say "a second selection: new, known, in flight, completed, in error, not yet selected"
q "INSERT INTO domains (domain) VALUES ('delta.example'), ('epsilon.example')" >/dev/null
q "UPDATE domains SET status = 'processing', claim_id = gen_random_uuid(),
   lease_expires_at = now() + interval '5 minutes' WHERE domain = 'beta.example'" >/dev/null
q "UPDATE domains SET status = 'completed', completed_at = now() WHERE domain = 'gamma.example'" >/dev/null
q "UPDATE domains SET sitemap_curation_status = 'Selected' WHERE domain = 'epsilon.example';
   UPDATE domains SET status = 'error', error_message = 'boom', attempts = 5
   WHERE domain = 'epsilon.example'" >/dev/null
ctl select alpha.example beta.example gamma.example delta.example epsilon.example zeta.example
check_eq "$rc" 0 "select NAME... exits 0"
check_eq "$out" "select: 6 distinct domain(s): inserted 1, newly selected 1, already selected 1, in flight 1, completed 1, in error 1 (wf4ctl requeue --errors re-drives those)" \
    "every name counted once, in its own category"
check_eq "$(q "SELECT status FROM domains WHERE domain = 'delta.example'")" pending \
    "a known, unselected domain becomes pending"
check_eq "$(q "SELECT status FROM domains WHERE domain = 'beta.example'")" processing \
    "a domain in flight is left alone"

tenant=6f1c1d3e-1111-4222-8333-944445555666
echo "eta.example" | "$CTL" select --file - --tenant "$tenant" >/dev/null
check_eq "$(q "SELECT tenant_id FROM domains WHERE domain = 'eta.example'")" "$tenant" \
    "stdin and --tenant"
ctl select "bad name.example"
check_eq "$rc" 2 "an invalid name stops the command"
ctl select
check_eq "$rc" 2 "no names is a usage error"
ctl select --tenant not-a-uuid theta.example
check_eq "$rc" 1 "a failed batch exits 1"
check_eq "$(q "SELECT count(*) FROM domains WHERE domain = 'theta.example'")" 0 \
    "a failed batch writes nothing"

say "a selection bigger than one batch"
seq -f 'bulk%g.example' 1 2500 >"$TEST_TMP/bulk"
ctl select --file "$TEST_TMP/bulk"
check 'grep -q "2500 distinct domain(s): inserted 2500" <<<"$out"' "2,500 names in three batches"

say "requeue --errors"
q "UPDATE domains SET status = 'error', error_message = 'boom', attempts = 5,
   sitemap_curation_status = 'Maybe' WHERE domain IN ('alpha.example', 'delta.example')" >/dev/null
ctl requeue --errors --domain ALPHA.example
check_eq "$rc" 0 "requeue --errors --domain exits 0"
check 'grep -q "1 error domain(s) back to pending" <<<"$out"' "only the named domain is requeued"
check_eq "$(q "SELECT status || ':' || attempts || ':' || coalesce(error_message, '-') || ':' ||
    sitemap_curation_status || ':' || (next_attempt_at <= now())
    FROM domains WHERE domain = 'alpha.example'")" "pending:0:-:Selected:true" \
    "pending, attempts 0, error cleared, Selected, due now"
ctl requeue --errors
check 'grep -q "2 error domain(s) back to pending" <<<"$out"' "the other error domains are requeued"
check_eq "$(q "SELECT count(*) FROM domains WHERE status = 'error'")" 0 "no error domain left"
ctl requeue --errors
check 'grep -q "0 error domain(s)" <<<"$out"' "nothing left to requeue"
ctl requeue
check_eq "$rc" 2 "requeue needs --errors or --dlq"
ctl requeue --errors --dlq wf4.domain.claims.dlq
check_eq "$rc" 2 "--errors and --dlq exclude each other"
