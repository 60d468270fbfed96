#!/usr/bin/env bash
# The secured compose stack (compose.yaml + compose.secure.yaml), built and run for real
# (CTest label "compose"): Kafka only on SASL_SSL (SCRAM-SHA-512) with one principal per
# service and the ACLs of `wf4ctl acls`, TLS from a CA the one-shot `certs` service makes,
# PostgreSQL only over TLS (sslmode=verify-full), every password a Docker secret
# (scripts/compose-secrets.sh, read through <VAR>_FILE). Checks, from outside the services:
#   - the demo domains (WF4_COMPOSE_SECURE_DOMAINS, 300) through 2 scrapers and 2 committers
#     to completed or error, one handoff per completed domain in the database and on
#     wf5.domain.handoffs (read as the administrator);
#   - the broker refuses a client without TLS and a client with a wrong password, the
#     scraper's principal may not write wf5.domain.handoffs, while the administrator with
#     the right password reads the metadata (the refusals are not a broken listener);
#   - PostgreSQL refuses a connection without TLS, and every service connection uses TLS;
#   - no secret (passwords, database URLs, the ScraperAPI key) in any container's log, the
#     services' /metrics or their --print-config (which shows them as ***).
# `docker-compose down -v` runs in a trap (tests/compose_lib.sh), and nothing of the project
# may be left. WF4_COMPOSE_SECURE_BUDGET_S (1080) is the whole test's deadline, below CTest's
# TIMEOUT; WF4_COMPOSE_KEEP=1 leaves the stack up on failure.
set -euo pipefail

# shellcheck source=tests/compose_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/compose_lib.sh"
N_DOMAINS=${WF4_COMPOSE_SECURE_DOMAINS:-300}
compose_setup wf4sec "${WF4_COMPOSE_SECURE_BUDGET_S:-1080}" compose.yaml compose.secure.yaml
TOOL_SVC=init # the administrator's principal and secrets

export COMPOSE_PROFILES=standin
export SCRAPERAPI_KEY=compose-secure-key-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
export SCRAPERAPI_URL=http://standin:8099/
export STANDIN_LATENCY_MIN_MS=200 STANDIN_LATENCY_MAX_MS=400
export STANDIN_CONCURRENCY=60 WF4_SCRAPER_CONCURRENCY=20 STANDIN_RATE_404=0.02
export WF4_SCRAPER_TIMEOUT_MS=15000 WF4_RETRY_BASE_S=1 WF4_RETRY_CAP_S=4
export WF4_SCRAPER_RETRY_BASE_MS=100 WF4_SCRAPER_RETRY_CAP_MS=1000
export WF4_LOG_LEVEL=${WF4_LOG_LEVEL:-info}
export WF4_SECRETS_DIR=$TMP/secrets
bash "$ROOT/scripts/compose-secrets.sh" "$WF4_SECRETS_DIR" || fail_now "compose-secrets.sh"
unset SCRAPERAPI_KEY # from here on only the secret has it

# ---------------------------------------------------------------------------------------------
compose_engine
compose_build postgres kafka certs registry init claimer scraper committer standin
# Healthy: postgres, kafka, registry, claimer, 2 scrapers, 2 committers, standin.
compose_up $((1 + 1 + 1 + 1 + 2 + 2 + 1)) --scale scraper=2 --scale committer=2
FIGURES+=("$(printf '%-34s %s' "ACLs set by init" "$("${DC[@]}" logs --no-color init | grep -o 'ACLs: [0-9]* of [0-9]*' | tail -n 1)")")

compose_domains "$N_DOMAINS" "$TMP/domains.txt"
compose_select "$TMP/domains.txt"
compose_wait_terminal
compose_check_handoffs

# ---------------------------------------------------------------------------------------------
# What the broker refuses, seen by kcat in a one-off container on the compose network.
say "Kafka: clients without TLS, with a wrong password, a principal beyond its ACLs"
sasl="-X security.protocol=SASL_SSL -X sasl.mechanisms=SCRAM-SHA-512 -X ssl.ca.location=/tls/ca.pem"
tool sh -c "timeout 30 kcat -b kafka:9092 -L -m 5" >"$TMP/plain.out" 2>&1 || true
if grep -q 'Disconnected while requesting ApiVersion' "$TMP/plain.out" && ! grep -q 'topic "wf' "$TMP/plain.out"; then
    ok "a client without TLS gets no metadata: $(grep -m1 -o 'Disconnected while requesting ApiVersion[^(]*' "$TMP/plain.out")"
else
    bad "a client without TLS: $(tail -n 3 "$TMP/plain.out")"
fi
tool sh -c "timeout 30 kcat -b kafka:9092 $sasl -X sasl.username=committer -X sasl.password=wrong-$$ -L -m 5" \
    >"$TMP/wrongpw.out" 2>&1 || true
if grep -q 'invalid credentials' "$TMP/wrongpw.out" && ! grep -q 'topic "wf' "$TMP/wrongpw.out"; then
    ok "a client with a wrong password is refused: $(grep -m1 -o 'Authentication failed[^(]*' "$TMP/wrongpw.out")"
else
    bad "a client with a wrong password: $(tail -n 3 "$TMP/wrongpw.out")"
fi
tool sh -c "timeout 30 kcat -b kafka:9092 $sasl -X sasl.username=admin -X sasl.password=\$(cat /run/secrets/kafka_admin_password) -L -m 10" \
    >"$TMP/admin.out" 2>&1 || true
if grep -q 'topic "wf5.domain.handoffs"' "$TMP/admin.out"; then
    ok "the administrator with its password reads the metadata (the listener itself works)"
else
    bad "the administrator could not read the metadata: $(tail -n 3 "$TMP/admin.out")"
fi
echo x | bounded 60 "${DC[@]}" exec -T --index=1 scraper sh -c \
    "timeout 30 kcat -b kafka:9092 $sasl -X sasl.username=scraper -X sasl.password=\$(cat /run/secrets/kafka_scraper_password) -P -t wf5.domain.handoffs -k k" \
    >"$TMP/acl.out" 2>&1 || true
if grep -qi 'authorization failed' "$TMP/acl.out"; then
    ok "the scraper's principal may not produce to wf5.domain.handoffs: $(grep -m1 -io '[^%]*authorization failed[^%]*' "$TMP/acl.out" | cut -c1-160)"
else
    bad "the scraper's principal producing to wf5.domain.handoffs: $(tail -n 3 "$TMP/acl.out")"
fi

# ---------------------------------------------------------------------------------------------
say "PostgreSQL: TLS only"
out=$("${DC[@]}" exec -T postgres psql "postgresql://wf4:$(cat "$WF4_SECRETS_DIR/wf4_db_password")@postgres:5432/wf4?sslmode=disable" \
    -c 'SELECT 1' 2>&1 || true)
if grep -q 'no encryption' <<<"$out"; then
    ok "PostgreSQL refuses a connection without TLS: $(grep -o 'pg_hba.conf rejects[^,]*' <<<"$out" | head -n 1)"
else
    bad "PostgreSQL without TLS: $out"
fi
read -r tls_n all_n <<<"$(psql_q "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_activity a
                                 JOIN pg_stat_ssl s USING (pid) WHERE a.usename = 'wf4'")"
[ "$all_n" -ge 3 ] && [ "$tls_n" = "$all_n" ] && ok "every service connection to PostgreSQL uses TLS ($tls_n of $all_n)" ||
    bad "service connections over TLS: $tls_n of $all_n"

# ---------------------------------------------------------------------------------------------
# No secret anywhere it could be read: every container's log, the services' /metrics, their
# --print-config.
say "secrets: logs, /metrics, --print-config"
timeout 60 "${DC[@]}" logs --no-color >"$TMP/all.log" 2>&1
for svc_port in claimer:9101 scraper:9102 committer:9103; do
    svc=${svc_port%%:*} port=${svc_port##*:}
    "${DC[@]}" exec -T --index=1 "$svc" http-check "$port" /metrics -v >"$TMP/$svc.metrics" 2>&1 || bad "$svc: no /metrics"
    "${DC[@]}" exec -T --index=1 "$svc" "$svc" --print-config >"$TMP/$svc.config" 2>&1 || bad "$svc --print-config failed"
done
masked=$(cat "$TMP"/*.config | grep -c -E '^(WF4_DATABASE_URL|SCRAPERAPI_KEY)=\*\*\*$|^kafka: sasl.password=\*\*\*$' || true)
check_eq "$masked" 7 "--print-config masks the database URL (claimer, committer), the ScraperAPI key (claimer, scraper) and the three Kafka passwords"
pats=() n_secrets=0
for f in "$WF4_SECRETS_DIR"/*; do pats+=(-e "$(cat "$f")"); n_secrets=$((n_secrets + 1)); done
# The search itself: it finds every secret in its own file.
check_eq "$(grep -l -F "${pats[@]}" "$WF4_SECRETS_DIR"/* | wc -l)" "$n_secrets" "secret files the search finds a secret in"
leaks=$(cat "$TMP/all.log" "$TMP"/*.metrics "$TMP"/*.config | grep -c -F "${pats[@]}" || true)
check_eq "$leaks" 0 "lines with one of the $n_secrets secrets in $(wc -l <"$TMP/all.log") log lines, /metrics and --print-config"
FIGURES+=("$(printf '%-34s %d' "log lines searched for secrets" "$(wc -l <"$TMP/all.log")")")

compose_note_restarts
say "checks done"
[ "$FAILED" -eq 0 ]
