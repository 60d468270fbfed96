#!/usr/bin/env bash
# Integration: the stack really answers (PostgreSQL as the app role, Kafka's topics, the stand-in, the registry).
# shellcheck disable=SC2016 # check() evaluates its condition itself: single quotes on purpose
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# PostgreSQL: the services' role logs in with its password and belongs to wf4_service.
check_eq "$(psql_app -c 'SELECT 1')" 1 "PostgreSQL answers as the app role"
check_eq "$(psql_app -c 'SELECT current_user')" wf4 "the app connects as wf4"
check_eq "$(psql_admin -c "SELECT pg_has_role('wf4', 'wf4_service', 'member')")" t "wf4 is a member of wf4_service"
check_eq "$(psql_admin -c "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'wf4_service'")" f "wf4_service cannot log in"
check_eq "$(psql_admin -c 'SHOW max_connections')" 200 "max_connections"
check '[[ $(psql_admin -c "SHOW shared_preload_libraries") == *pg_stat_statements* ]]' "pg_stat_statements is preloaded"
check '! "$WF4_PG_BIN/psql" -X -qAt "postgresql://wf4:wrong@127.0.0.1:$WF4_PG_PORT/wf4" -c "SELECT 1" 2>/dev/null' \
    "a wrong password is refused"
check '[[ -n $(psql_admin -c "SELECT 1 FROM pg_tables WHERE tablename = '"'$WF4_MIGRATIONS_TABLE'"'") ]]' \
    "migrations recorded in $WF4_MIGRATIONS_TABLE"

# Kafka: every topic of the catalogue exists with its partition count.
check 'kcat -b "$WF4_KAFKA_BROKERS" -L -m 5 >/dev/null 2>&1' "Kafka answers a metadata request"
catalogue=$WF4_SRC/schemas/topics.json
if [[ -f $catalogue ]]; then
    while read -r topic partitions; do
        check_eq "$(topic_partitions "$topic")" "$partitions" "topic $topic partitions"
    done < <(jq -r '.topics[] | "\(.name) \(.partitions)"' "$catalogue")
else
    say "no $catalogue: topic check skipped"
fi

# The lib's helpers work against the real parts.
check '[[ $(topic_end_offsets wf4.domain.claims.dlq) =~ ^[0-9]+$ ]]' "topic_end_offsets answers"
check_eq "$(topic_partitions wf4.no.such.topic)" 0 "a missing topic has 0 partitions"
on_exit say "on_exit hooks run"
svc_start sleeper sleep 300
check 'svc_alive sleeper' "svc_start runs a service"
svc_kill sleeper
check '! svc_alive sleeper' "svc_kill stops it"

# The ScraperAPI stand-in and the schema registry.
check 'curl -sf -o /dev/null --max-time 5 "${SCRAPERAPI_URL%/}/healthz"' "the stand-in answers /healthz"
if [[ -n ${WF4_SCHEMA_REGISTRY_URL:-} ]]; then
    check 'curl -sf -o /dev/null --max-time 5 "$WF4_SCHEMA_REGISTRY_URL/subjects"' "the registry answers"
    check_eq "$(curl -sf --max-time 5 "$WF4_SCHEMA_REGISTRY_URL/config" | jq -r '.compatibilityLevel // .compatibility')" \
        BACKWARD "registry compatibility"
else
    say "no registry in this stack: registry check skipped"
fi

say "versions the stack runs:"
sed 's/^/    /' "$WF4_STACK_DIR/versions"
