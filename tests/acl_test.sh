#!/usr/bin/env bash
# The pipeline on a secured stack (its own: scripts/stack.sh up --secure): Kafka only on
# SASL_SSL (SCRAM-SHA-512) with one principal per service and ACLs for exactly what each
# does, PostgreSQL only over TLS (sslmode=verify-full). The pipeline works with only these
# ACLs; a client without TLS, a wrong password and the scraper's principal writing
# wf5.domain.handoffs are refused with an error log naming the cause; nothing is lost once
# the misconfigured process is fixed and restarted. ACL_DOMAINS (300) sizes the run.
set -euo pipefail
pws=()
WF4_SRC=${WF4_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
: "${WF4_STACK_DIR:?WF4_STACK_DIR: the stack directory of this test (set by tests/cluster.cmake)}"
STACK=$WF4_SRC/scripts/stack.sh
n_domains=${ACL_DOMAINS:-300}

trap '"$STACK" down >/dev/null 2>&1 || "$STACK" down' EXIT
t_up=$SECONDS
"$STACK" up --secure >/dev/null
. "$WF4_SRC/tests/lib.sh"
on_exit "$STACK" down
say "secured stack up in $((SECONDS - t_up)) s: Kafka SASL_SSL at $WF4_KAFKA_BROKERS"
read -r -a KCAT_ADMIN <<<"$WF4_KAFKA_KCAT"
kcat_as() { # kcat_as PROPS ARGS...: kcat with a client's librdkafka properties
    local props=$1 p args=()
    shift
    for p in ${props//,/ }; do args+=(-X "$p"); done
    kcat -b "$WF4_KAFKA_BROKERS" "${args[@]}" "$@"
}
# The services' properties without the password, which comes from a file (WF4_KAFKA_PASSWORD_FILE).
props() { sed 's/,sasl.password=[^,]*//' <<<"$1"; }
pwfile() { echo "$WF4_STACK_DIR/tls/kafka-$1.password"; }
export WF4_METRICS_PORT=0 WF4_RETRY_BASE_S=1 WF4_RETRY_CAP_S=4 WF4_LEASE_SECONDS=15

# ---- PostgreSQL: TLS verified by name for the services, plain TCP refused
check "[[ \$WF4_DATABASE_URL == *sslmode=verify-full* ]]" "the services' database URL says sslmode=verify-full"
out=$("$WF4_PG_BIN/psql" -X -qAt "${WF4_DATABASE_URL%%\?*}?sslmode=disable" -c 'SELECT 1' 2>&1 || true)
check "[[ \$out == *'no encryption'* || \$out == *reject* ]]" "PostgreSQL refuses a connection without TLS ($(head -c 120 <<<"$out" | tr '\n' ' '))"

# ---- Kafka: what the brokers refuse, seen by kcat
out=$(kcat -b "$WF4_KAFKA_BROKERS" -L -m 5 2>&1 || true)
check "[[ \$out == *'security.protocol'* && \$out != *'topic \"wf4'* ]]" "a client without TLS or SASL gets no metadata: $(grep -o 'Disconnected while requesting ApiVersion[^(]*([^)]*)' <<<"$out" | head -1)"
out=$(echo x | kcat_as "$WF4_KAFKA_PROPS_SCRAPER" -P -t wf5.domain.handoffs -k k 2>&1 || true)
check "[[ \$out == *'uthorization'* ]]" "the scraper's principal may not produce to wf5.domain.handoffs: $(grep -o '[^%]*uthorization[^%]*' <<<"$out" | head -1)"
out=$(kcat_as "$WF4_KAFKA_PROPS_CLAIMER" -C -t wf4.domain.claims -o beginning -e -q 2>&1 || true)
check "[[ \$out == *'uthorization'* ]]" "the claimer's principal may not read the claims"

# ---- the pipeline, one misconfigured process at a time
KEY=$(random_hex 12)
STANDIN_KEY=$KEY
standin_start standin STANDIN_LATENCY_MIN_MS=50 STANDIN_LATENCY_MAX_MS=150
port=$STANDIN_LISTEN_PORT
export SCRAPERAPI_URL="http://127.0.0.1:$port/" SCRAPERAPI_KEY="$KEY"
seq 1 "$n_domains" | sed 's/^/shop/; s/$/.wf4acl.com/' >"$TEST_TMP/domains"
"$WF4_BIN/wf4ctl" select --file "$TEST_TMP/domains" >"$TEST_TMP/select.log" 2>&1 || fatal "select: $(cat "$TEST_TMP/select.log")"

# expect_refused NAME PATTERN WHAT: the service NAME logged an error naming PATTERN (the cause)
# within 60 s.
expect_refused() {
    local re="\"level\":\"error\".*\"msg\":\"[^\"]*($2)"
    if wait_until 60 grep -q -E "$re" "$(svc_log "$1")"; then
        say "ok: $3: $(grep -m1 -o -E "$re[^\"]*" "$(svc_log "$1")" | grep -o '"msg":.*' | cut -c8-240)"
        WF4_CHECKS=$((WF4_CHECKS + 1))
    else
        fail "$3: no log line matching /$2/"
    fi
}

# 1. The claimer without TLS (SASL over plain TCP): refused at start, claims nothing.
plain=$(props "$WF4_KAFKA_PROPS_CLAIMER" | sed 's/security.protocol=SASL_SSL/security.protocol=SASL_PLAINTEXT/; s/,ssl.ca.location=[^,]*//')
svc_start claimer_bad env WF4_INSTANCE_ID=claimer-bad WF4_KAFKA_PROPS="$plain" \
    WF4_KAFKA_PASSWORD_FILE="$(pwfile claimer)" "$WF4_BIN/claimer"
expect_refused claimer_bad 'security.protocol|SSL' "the claimer without TLS is refused, its log names the cause"
svc_kill claimer_bad
svc_start claimer env WF4_INSTANCE_ID=claimer1 WF4_KAFKA_PROPS="$(props "$WF4_KAFKA_PROPS_CLAIMER")" \
    WF4_KAFKA_PASSWORD_FILE="$(pwfile claimer)" "$WF4_BIN/claimer"

# 2. The scraper writing its results to the WF5 topic: refused by the ACLs, nothing committed.
svc_start scraper_bad env WF4_INSTANCE_ID=scraper-bad WF4_RESULTS_TOPIC=wf5.domain.handoffs \
    WF4_KAFKA_PROPS="$(props "$WF4_KAFKA_PROPS_SCRAPER")" WF4_KAFKA_PASSWORD_FILE="$(pwfile scraper)" "$WF4_BIN/scraper"
expect_refused scraper_bad '[Aa]uthorization' "the scraper's principal producing to wf5.domain.handoffs is refused"
svc_kill scraper_bad
svc_start scraper env WF4_INSTANCE_ID=scraper1 WF4_KAFKA_PROPS="$(props "$WF4_KAFKA_PROPS_SCRAPER")" \
    WF4_KAFKA_PASSWORD_FILE="$(pwfile scraper)" "$WF4_BIN/scraper"

# 3. The committer with a wrong password.
echo wrong-password >"$TEST_TMP/wrong.password"
svc_start committer_bad env WF4_INSTANCE_ID=committer-bad WF4_KAFKA_PROPS="$(props "$WF4_KAFKA_PROPS_COMMITTER")" \
    WF4_KAFKA_PASSWORD_FILE="$TEST_TMP/wrong.password" "$WF4_BIN/committer"
expect_refused committer_bad '[Aa]uthentication|credentials' "the committer with a wrong password is refused"
svc_kill committer_bad
svc_start committer env WF4_INSTANCE_ID=committer1 WF4_KAFKA_PROPS="$(props "$WF4_KAFKA_PROPS_COMMITTER")" \
    WF4_KAFKA_PASSWORD_FILE="$(pwfile committer)" "$WF4_BIN/committer"

terminal() { [[ $(psql_admin -c "SELECT count(*) FROM domains WHERE status IN ('completed', 'error')") -ge $n_domains ]]; }
wait_until 300 terminal || fail "not every domain terminal after 300 s: $(psql_admin -c "SELECT status, count(*) FROM domains GROUP BY 1" | tr '\n' ' ')"
read -r done err <<<"$(psql_admin -F' ' -c "SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'error') FROM domains")"
check "[[ $done == $n_domains ]]" "nothing lost: every domain completed once the processes were fixed ($done completed, $err error)"
read -r handoffs distinct <<<"$(psql_admin -F' ' -c "SELECT count(handoff_event_id), count(DISTINCT handoff_event_id) FROM domains WHERE status = 'completed'")"
check "[[ $handoffs == $done && $distinct == $done ]]" "one handoff per completed domain ($handoffs)"
wait_until 60 bash -c "[[ \$(\"$WF4_PG_BIN/psql\" -X -qAt \"$WF4_ADMIN_DATABASE_URL\" -c 'SELECT count(*) FROM wf5_outbox') == 0 ]]" ||
    fail "outbox not drained"
on_topic=$(kcat -b "$WF4_KAFKA_BROKERS" "${KCAT_ADMIN[@]}" -C -t wf5.domain.handoffs -o beginning -e -q -f '%k\n' | sort -u | wc -l)
check "[[ $on_topic == $done ]]" "wf5.domain.handoffs holds a handoff for each completed domain ($on_topic, read as the administrator)"
results_on_handoffs=$(kcat -b "$WF4_KAFKA_BROKERS" "${KCAT_ADMIN[@]}" -C -t wf5.domain.handoffs -o beginning -e -q -f '%k\n' | wc -l)
say "messages on wf5.domain.handoffs: $results_on_handoffs (none from the misconfigured scraper)"
tls=$(psql_admin -c "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = 'wf4'")
check "[[ ${tls%%|*} -ge 1 && ${tls%%|*} == ${tls##*|} ]]" "every service connection to PostgreSQL uses TLS ($tls)"
# The passwords reach the services only through files: in no log line, metric or --print-config.
for name in claimer scraper committer; do
    mport=$(grep -o 'serving /metrics[^0-9]*[0-9]*' "$(svc_log "$name")" | grep -o '[0-9]*$' | head -1)
    curl -sf --max-time 5 "http://127.0.0.1:$mport/metrics" >"$TEST_TMP/$name.metrics" || true
done
WF4_KAFKA_PROPS="$(props "$WF4_KAFKA_PROPS_SCRAPER")" WF4_KAFKA_PASSWORD_FILE="$(pwfile scraper)" \
    "$WF4_BIN/scraper" --print-config >"$TEST_TMP/print-config.txt" 2>&1 || true
check "grep -q '^kafka: sasl.password=\*\*\*$' '$TEST_TMP/print-config.txt'" "--print-config shows the Kafka password from the file as ***"
for f in "$WF4_STACK_DIR"/tls/kafka-{claimer,scraper,committer}.password; do pws+=(-e "$(cat "$f")"); done
leaks=$(cat "$TEST_TMP"/*.log "$TEST_TMP"/*.metrics "$TEST_TMP/print-config.txt" | grep -c -F "${pws[@]}" || true)
check "[[ $leaks == 0 ]]" "no Kafka password in any service log, metric or --print-config ($leaks)"
for name in claimer scraper committer; do svc_kill "$name"; done
