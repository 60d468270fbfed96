#!/usr/bin/env bash
# The local stack of the tests: PostgreSQL, Kafka (KRaft), the ScraperAPI stand-in, optionally Apicurio.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
WF4_LOG_TAG=stack

usage() {
    cat <<'EOF'
Usage: scripts/stack.sh COMMAND [--registry] [--brokers N] [--secure]

Runs a private stack for tests and development; several stacks run side by side when
their state directories differ (every port is chosen free at start).

Commands:
  up [--registry]     start PostgreSQL, Kafka, the ScraperAPI stand-in (and Apicurio with
                      --registry or WF4_STACK_REGISTRY=1); wait until each answers; write
                      $WF4_STACK_DIR/env (export lines, also printed) and .../versions.
                      A stack already recorded in the state dir is stopped first.
      --brokers N     N KRaft nodes (broker+controller each, an N-voter quorum) on local
                      ports instead of one (or WF4_STACK_BROKERS=N); with 3 or more the
                      internal topics get replication 3 and min.insync.replicas 2, as the
                      catalogue's topics (wf4ctl topics fits them to the cluster).
      --secure        Kafka only on SASL_SSL (SCRAM-SHA-512, credentials stored at format
                      time), ACLs (StandardAuthorizer): one principal per service (claimer,
                      scraper, committer) allowed exactly its topics and group, admin a
                      super user; PostgreSQL only over TLS. A CA is made at start
                      ($WF4_STACK_DIR/tls). Or WF4_STACK_SECURE=1.
  down                stop everything recorded in the state dir, check that no recorded pid
                      lives and no recorded port listens, remove the data dirs (logs and
                      the versions file stay). Idempotent.
                      PostgreSQL runs as the user postgres, which may not enter the state
                      dir: its data and socket are in /var/tmp/wf4-pg.XXXXXX (WF4_PG_DATA).
  status              each part: pid, port, alive or not.
  restart-pg [--immediate]   stop PostgreSQL (-m fast, or -m immediate) and start it again
                             on the same port and data.
  restart-kafka [--kill] [--node I]
                             stop the broker (SIGTERM, or SIGKILL) and start it again on the
                             same ports and data; every node, or node I (1..N) of a cluster.
  stop-pg [--immediate] | start-pg | stop-kafka [--kill] [--node I]... | start-kafka [--node I]...
                      the halves of the restarts, for outage tests (start-kafka returns
                      once the node answers; --no-wait returns at once).
  env                 print the env file of a running stack.

Environment:
  WF4_STACK_DIR       state directory (default <repo>/build/stack)
  WF4_BIN             where wf4ctl and scraperapi-standin live (default <repo>/build/bin)
  WF4_STACK_REGISTRY  1 = start Apicurio as with --registry
  WF4_STACK_KAFKA_WAIT_S, WF4_STACK_REGISTRY_WAIT_S
                      how long up waits for the broker (60) and the registry (90) to answer
  WF4_STACK_PG_CONF   extra postgresql.conf lines (diagnostics), appended last
  WF4_STACK_KAFKA_JAVA_OPTS
                      extra JVM options of the broker (diagnostics, e.g.
                      -XX:+PrintCompilation: its output goes to logs/kafka.stdout)
  STANDIN_*           passed through to the stand-in (STANDIN_PORT and STANDIN_API_KEY are
                      chosen by this script)

Source the env file to use the stack:  . "$WF4_STACK_DIR/env"
It exports WF4_DATABASE_URL (login role wf4, member of wf4_service), WF4_ADMIN_DATABASE_URL
(superuser postgres), WF4_PG_PORT, WF4_PG_BIN, WF4_PG_DATA, WF4_KAFKA_BROKERS,
WF4_KAFKA_JARS, SCRAPERAPI_URL, SCRAPERAPI_KEY, STANDIN_PORT, WF4_SCHEMA_REGISTRY_URL
(with the registry) and WF4_STACK_DIR; WF4_KAFKA_BROKERS lists every node of a cluster.
With --secure also: WF4_KAFKA_PROPS (the administrator's SASL_SSL properties, for wf4ctl
and tools), WF4_KAFKA_PROPS_CLAIMER, _SCRAPER, _COMMITTER (each service's own), WF4_TLS_CA,
WF4_KAFKA_KCAT (kcat options as the administrator); both database URLs carry
sslmode=verify-full. Without --secure, each broker has a second listener for a fault-injecting
proxy: node 1 listens on WF4_STACK_KAFKA_FAULT_PORT and advertises 127.0.0.1 at
WF4_STACK_KAFKA_FAULT_ADVERTISED, where such a proxy must listen.
EOF
}

# Physical path: process working directories (how pids are recognised) are physical too.
D=$(realpath -m "${WF4_STACK_DIR:-$WF4_ROOT/build/stack}")
WF4_BIN=${WF4_BIN:-$WF4_ROOT/build/bin}
STATE=$D/state
LOGS=$D/logs

# ---------------------------------------------------------------- state file
# $D/state holds NAME=value lines (ports, pids) written as each part starts, so that `down`
# can stop exactly what `up` started, even after a failure half-way.

state_set() {
    local key=$1 val=$2 tmp=$STATE.tmp
    touch "$STATE"
    grep -v "^$key=" "$STATE" >"$tmp" || true
    printf '%s=%q\n' "$key" "$val" >>"$tmp"
    mv "$tmp" "$STATE"
}

state_load() {
    PG_PORT='' PG_PID='' PG_BIN='' PG_DIR='' KAFKA_PORT='' KAFKA_CTRL_PORT='' KAFKA_PID=''
    STANDIN_PID='' STANDIN_PORT_='' REGISTRY_PID='' REGISTRY_PORT='' APP_PASSWORD='' STANDIN_KEY=''
    KAFKA_NODES=1 KAFKA_SECURE=0
    unset "${!KAFKA_PORT_@}" "${!KAFKA_CTRL_PORT_@}" "${!KAFKA_PID_@}"
    # shellcheck source=/dev/null
    [[ -f $STATE ]] && source "$STATE"
    PG_DATA=${PG_DIR:+$PG_DIR/data}
    pg_psql_vars
    return 0
}

# ---------------------------------------------------------------- PostgreSQL

pg_bin_dir() {
    local d
    d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1)
    [[ -n $d && -x $d/postgres ]] || die "no PostgreSQL server under /usr/lib/postgresql/*/bin (run scripts/install.sh)"
    echo "$d"
}

admin_url() { echo "postgresql://postgres@127.0.0.1:$PG_PORT/${1:-wf4}$(pg_url_tls)"; }
app_url() { echo "postgresql://wf4:$APP_PASSWORD@127.0.0.1:$PG_PORT/wf4$(pg_url_tls)"; }
# What common.sh's psql_admin and psql_pg connect with: this stack's server.
pg_psql_vars() { WF4_PG_BIN=$PG_BIN WF4_ADMIN_DATABASE_URL=$(admin_url); }

# The server runs as the postgres user, which may not enter the state dir (a clone in a
# 0700 home directory): its data and socket live in a directory of its own under /var/tmp,
# recorded in the state and removed by down.
pg_as_postgres() {
    (cd "$PG_DIR" && runuser -u postgres -- "$@")
}

pg_init() {
    PG_BIN=$(pg_bin_dir)
    PG_PORT=$(free_port)
    state_set PG_BIN "$PG_BIN"
    state_set PG_PORT "$PG_PORT"
    pg_psql_vars
    PG_DIR=$(postgres_dir pg) || part_failed postgresql "$LOGS/postgres.log" "no directory for the postgres user"
    state_set PG_DIR "$PG_DIR"
    PG_DATA=$PG_DIR/data
    mkdir "$PG_DIR/sock"
    chown postgres:postgres "$PG_DIR/sock"
    : >"$LOGS/postgres.log"
    pg_as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >>"$LOGS/postgres.log" 2>&1 || part_failed postgresql "$LOGS/postgres.log" "initdb failed"
    cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- wf4 test stack (scripts/stack.sh)
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DIR/sock'
max_connections = 200
shared_preload_libraries = 'pg_stat_statements'
fsync = off
full_page_writes = off
log_min_messages = warning
log_line_prefix = '%m [%p] %q%a '
EOF
    # Extra lines for diagnostics (e.g. log_min_duration_statement): later lines win.
    [[ -z ${WF4_STACK_PG_CONF:-} ]] || printf '%s\n' "$WF4_STACK_PG_CONF" >>"$PG_DATA/postgresql.conf"
    # The superuser connects without a password; every other role must give its own.
    cat >"$PG_DATA/pg_hba.conf" <<EOF
local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
EOF
}

pg_start() {
    # No -l: the server writes to pg_ctl's output, opened here, where postgres may not reach.
    pg_as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -w -t 30 start >>"$LOGS/postgres.log" 2>&1 ||
        part_failed postgresql "$LOGS/postgres.log" "pg_ctl start failed"
    PG_PID=$(head -n1 "$PG_DATA/postmaster.pid")
    state_set PG_PID "$PG_PID"
    wait_for postgresql "$LOGS/postgres.log" 30 "$PG_PID" pg_answers
}

pg_answers() {
    [[ $(psql_pg -c 'SELECT 1' 2>/dev/null) == 1 ]]
}

pg_stop() {
    local mode=${1:-fast}
    [[ -n $PG_PID && -f $PG_DATA/postmaster.pid ]] || return 0
    if pid_is_ours "$PG_PID" "$PG_DATA"; then
        pg_as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "$mode" -w -t 30 stop >/dev/null 2>&1 ||
            stop_pid postgresql "$PG_PID" "$PG_DATA" 10 || true
    fi
}

pg_migrate() {
    WF4_ADMIN_DATABASE_URL=$(admin_url) WF4_DATABASE_URL=$(admin_url) "$WF4_BIN/wf4ctl" migrate >>"$LOGS/migrate.log" 2>&1 ||
        part_failed postgresql "$LOGS/migrate.log" "wf4ctl migrate failed"
    log "postgresql: migrated with $WF4_BIN/wf4ctl migrate"
}

# The services' login role: a member of the NOLOGIN role wf4_service that the migrations
# create with exactly the privileges the services need.
pg_app_role() {
    psql_admin -v pw="$APP_PASSWORD" >>"$LOGS/migrate.log" 2>&1 <<'SQL' || part_failed postgresql "$LOGS/migrate.log" "creating role wf4 failed"
SELECT format('CREATE ROLE wf4 LOGIN PASSWORD %L', :'pw')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'wf4') \gexec
SELECT format('ALTER ROLE wf4 LOGIN PASSWORD %L', :'pw') \gexec
SELECT 'GRANT wf4_service TO wf4' WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'wf4_service') \gexec
SQL
    if [[ $(psql_admin -c "SELECT count(*) FROM pg_roles WHERE rolname = 'wf4_service'") != 1 ]]; then
        log "postgresql: WARNING role wf4_service does not exist (no migrations yet?): wf4 has no privileges"
    fi
    [[ $(wf4_psql "$(app_url)" -c 'SELECT 1' 2>>"$LOGS/migrate.log") == 1 ]] ||
        part_failed postgresql "$LOGS/migrate.log" "role wf4 cannot log in"
}

up_pg() {
    local t0
    t0=$(now_ms)
    pg_init
    [[ $KAFKA_SECURE != 1 ]] || pg_tls
    pg_start
    psql_pg -c 'CREATE DATABASE wf4' >/dev/null 2>>"$LOGS/postgres.log" ||
        part_failed postgresql "$LOGS/postgres.log" "CREATE DATABASE wf4 failed"
    psql_admin -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null 2>>"$LOGS/postgres.log" || true
    pg_migrate
    APP_PASSWORD=$(random_hex 16)
    state_set APP_PASSWORD "$APP_PASSWORD"
    pg_app_role
    log "postgresql: up on port $PG_PORT (pid $PG_PID) in $(($(now_ms) - t0)) ms"
}

# ---------------------------------------------------------------- Kafka

# shellcheck source=scripts/lib/stack-kafka.sh
source "$WF4_ROOT/scripts/lib/stack-kafka.sh"

# ---------------------------------------------------------------- ScraperAPI stand-in

standin_launch() {
    local bin=$WF4_BIN/scraperapi-standin
    STANDIN_PORT_=$(free_port)
    STANDIN_KEY=$(random_hex 16)
    state_set STANDIN_PORT_ "$STANDIN_PORT_"
    state_set STANDIN_KEY "$STANDIN_KEY"
    mkdir -p "$D/standin"
    : >"$LOGS/standin.log"
    local passed
    passed=$(env | sed -n 's/^\(STANDIN_[A-Z0-9_]*\)=.*/\1/p' | grep -vx 'STANDIN_PORT\|STANDIN_API_KEY' | tr '\n' ' ' || true)
    [[ -z $passed ]] || log "standin: passing through $passed"
    cd "$D/standin"
    STANDIN_PORT=$STANDIN_PORT_ STANDIN_API_KEY=$STANDIN_KEY setsid "$bin" </dev/null >>"$LOGS/standin.log" 2>&1 &
    STANDIN_PID=$!
    cd - >/dev/null
    state_set STANDIN_PID "$STANDIN_PID"
}

standin_answers() {
    curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$STANDIN_PORT_/healthz"
}

# ---------------------------------------------------------------- Apicurio registry

registry_launch() {
    local runner
    runner=$(find "$WF4_APICURIO_DIR" -maxdepth 3 -name 'apicurio-registry-app-*-runner.jar' 2>/dev/null | head -n1 || true)
    [[ -n $runner ]] || die "Apicurio missing in $WF4_APICURIO_DIR: run scripts/install.sh"
    REGISTRY_PORT=$(free_port)
    state_set REGISTRY_PORT "$REGISTRY_PORT"
    mkdir -p "$D/registry"
    : >"$LOGS/registry.log"
    cd "$D/registry"
    setsid java -Xmx256m -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
        -Dregistry.ccompat.use-canonical-hash=true -jar "$runner" </dev/null >>"$LOGS/registry.log" 2>&1 &
    REGISTRY_PID=$!
    cd - >/dev/null
    state_set REGISTRY_PID "$REGISTRY_PID"
}

registry_url() { echo "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"; }

registry_answers() {
    curl -sf -o /dev/null --max-time 2 "$(registry_url)/subjects"
}

registry_configure() {
    curl -sf -o /dev/null --max-time 10 -X PUT -H 'Content-Type: application/json' \
        --data '{"compatibility":"BACKWARD"}' "$(registry_url)/config" ||
        part_failed registry "$LOGS/registry.log" "PUT /config BACKWARD failed"
}

registry_version() {
    local v
    v=$(curl -sf --max-time 5 "http://127.0.0.1:$REGISTRY_PORT/apis/registry/v2/system/info" 2>/dev/null |
        jq -r '.version // empty' 2>/dev/null || true)
    echo "${v:-unknown}"
}

# ---------------------------------------------------------------- up / down

# wait_for PART LOG TIMEOUT_S PID CHECK: polls CHECK until it succeeds; fails the part when
# PID dies or the time is up.
wait_for() {
    local part=$1 logfile=$2 timeout=$3 pid=$4 check=$5 deadline
    deadline=$(($(now_ms) + timeout * 1000))
    while ! "$check"; do
        pid_alive "$pid" || part_failed "$part" "$logfile" "process $pid exited before it answered"
        (($(now_ms) < deadline)) || part_failed "$part" "$logfile" "no answer within ${timeout}s"
        sleep 0.2
    done
}

# part_failed PART LOG MSG: says which part did not start with the tail of its log, and
# exits 1 (during up, the EXIT trap then stops everything already started).
part_failed() {
    local part=$1 logfile=$2 msg=$3
    log "ERROR: $part did not start: $msg"
    if [[ -s $logfile ]]; then
        log "---- last lines of $logfile"
        tail -n 30 "$logfile" >&2
        log "----"
    fi
    exit 1
}

# EXIT trap of up: whatever ended it early (a part that failed, an error, a signal), the
# parts already started are stopped.
up_exit() {
    local rc=$?
    trap - EXIT INT TERM
    if ((rc != 0)); then
        log "up failed: stopping what was started"
        do_down || true
    fi
    exit "$rc"
}

write_env() {
    local with_registry=$1
    {
        printf 'export %s=%q\n' WF4_DATABASE_URL "$(app_url)"
        printf 'export %s=%q\n' WF4_ADMIN_DATABASE_URL "$(admin_url)"
        printf 'export %s=%q\n' WF4_PG_PORT "$PG_PORT"
        printf 'export %s=%q\n' WF4_PG_BIN "$PG_BIN"
        printf 'export %s=%q\n' WF4_PG_DATA "$PG_DATA"
        printf 'export %s=%q\n' WF4_KAFKA_BROKERS "$(kafka_bootstrap)"
        [[ $KAFKA_SECURE != 1 ]] || secure_env
        printf 'export %s=%q\n' WF4_KAFKA_JARS "$WF4_KAFKA_JARS_DIR"
        [[ $KAFKA_SECURE == 1 ]] || printf 'export %s=%q\n' WF4_STACK_KAFKA_FAULT_PORT "$(kafka_get KAFKA_FAULT_PORT 1)"
        [[ $KAFKA_SECURE == 1 ]] || printf 'export %s=%q\n' WF4_STACK_KAFKA_FAULT_ADVERTISED "$(kafka_get KAFKA_FAULT_ADV 1)"
        printf 'export %s=%q\n' SCRAPERAPI_URL "http://127.0.0.1:$STANDIN_PORT_/"
        printf 'export %s=%q\n' SCRAPERAPI_KEY "$STANDIN_KEY"
        printf 'export %s=%q\n' STANDIN_PORT "$STANDIN_PORT_"
        if [[ $with_registry == 1 ]]; then
            printf 'export %s=%q\n' WF4_SCHEMA_REGISTRY_URL "$(registry_url)"
        fi
        printf 'export %s=%q\n' WF4_STACK_DIR "$D"
    } >"$D/env.tmp"
    mv "$D/env.tmp" "$D/env"
}

cmd_up() {
    local with_registry=${WF4_STACK_REGISTRY:-0} t0 t i nodes=${WF4_STACK_BROKERS:-1} secure=${WF4_STACK_SECURE:-0}
    while (($#)); do
        case $1 in
            --registry) with_registry=1 ;;
            --brokers) nodes=${2:-}; shift ;;
            --secure) secure=1 ;;
            *) usage >&2; die "unknown option for up: $1" ;;
        esac
        shift
    done
    [[ $with_registry == 1 ]] || with_registry=0
    [[ $secure == 1 ]] || secure=0
    [[ $nodes =~ ^[1-9]$ ]] || die "--brokers: a number of nodes from 1 to 9, not '$nodes'"
    t0=$(now_ms)
    # Fail before starting anything when a part cannot start at all.
    [[ -x $WF4_BIN/scraperapi-standin ]] ||
        die "$WF4_BIN/scraperapi-standin is missing (build it: cmake --build <build dir> --target scraperapi-standin)"
    [[ -x $WF4_BIN/wf4ctl ]] || die "$WF4_BIN/wf4ctl is missing (it migrates the database: cmake --build <build dir> --target wf4ctl)"
    [[ -f $WF4_KAFKA_JARS_DIR/kafka_2.13-$WF4_KAFKA_VERSION.jar ]] ||
        die "Kafka jars missing in $WF4_KAFKA_JARS_DIR: run scripts/install.sh"
    [[ $with_registry == 0 || -f $WF4_APICURIO_DIR/.stamp ]] ||
        die "Apicurio missing in $WF4_APICURIO_DIR: run scripts/install.sh"
    if [[ -s $STATE ]]; then
        log "a stack is recorded in $D: stopping it first"
        do_down
    fi
    mkdir -p "$LOGS"
    rm -f "$D/env" "$D/versions" "$LOGS"/*.log "$LOGS"/*.stdout
    : >"$STATE"
    trap up_exit EXIT
    trap 'log "interrupted"; exit 130' INT TERM
    state_set WITH_REGISTRY "$with_registry"
    state_set KAFKA_NODES "$nodes"
    state_set KAFKA_SECURE "$secure"
    state_load
    [[ $secure == 0 ]] || tls_make

    # The JVMs take the longest: start them first, set PostgreSQL up while they boot.
    t=$(now_ms)
    kafka_configure
    for ((i = 1; i <= nodes; i++)); do kafka_launch "$i"; done
    log "kafka: $nodes node(s) formatted and launched (ports $(kafka_bootstrap)) in $(($(now_ms) - t)) ms"
    if [[ $with_registry == 1 ]]; then
        registry_launch
        log "registry: launched (pid $REGISTRY_PID, port $REGISTRY_PORT)"
    fi
    up_pg
    t=$(now_ms)
    standin_launch
    wait_for standin "$LOGS/standin.log" 30 "$STANDIN_PID" standin_answers
    log "standin: up on port $STANDIN_PORT_ (pid $STANDIN_PID) in $(($(now_ms) - t)) ms"
    for ((i = 1; i <= nodes; i++)); do kafka_wait "$i"; done
    log "kafka: $nodes node(s) answer at $(kafka_bootstrap) ($(($(now_ms) - t0)) ms since up)"
    kafka_topics
    [[ $secure == 0 ]] || kafka_acls
    if [[ $with_registry == 1 ]]; then
        wait_for registry "$LOGS/registry.log" "${WF4_STACK_REGISTRY_WAIT_S:-90}" "$REGISTRY_PID" registry_answers
        registry_configure
        log "registry: answers on port $REGISTRY_PORT, compatibility BACKWARD ($(($(now_ms) - t0)) ms since up)"
    fi

    {
        echo "postgresql=$(psql_admin -c 'SELECT version()')"
        echo "kafka=$(kafka_version)"
        [[ $with_registry == 0 ]] || echo "apicurio=$(registry_version)"
    } >"$D/versions"
    write_env "$with_registry"
    cat "$D/env"
    log "versions: $(tr '\n' ';' <"$D/versions")"
    log "stack up in $(($(now_ms) - t0)) ms (state: $D)"
    trap - EXIT INT TERM
}

# do_down: stops whatever the state file records, verifies, removes the data dirs.
do_down() {
    local port pid cwd left=()
    state_load
    stop_pid standin "$STANDIN_PID" "$D/standin" 10 || true
    stop_pid registry "$REGISTRY_PID" "$D/registry" 20 || true
    kafka_stop TERM || true
    pg_stop fast
    for pid in "$STANDIN_PID" "$REGISTRY_PID" "$PG_PID" $(kafka_all KAFKA_PID); do
        [[ -n $pid ]] && pid_alive "$pid" || continue
        cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || continue
        [[ $cwd == "$D"/* || ( -n $PG_DIR && $cwd == "$PG_DIR"/* ) ]] && left+=("pid $pid")
    done
    for port in "$PG_PORT" "$STANDIN_PORT_" "$REGISTRY_PORT" $(kafka_all KAFKA_PORT) $(kafka_all KAFKA_CTRL_PORT); do
        [[ -n $port ]] || continue
        rm -rf "${WF4_PORT_RESERVE_DIR:?}/$port"
        port_listening "$port" && left+=("port $port")
    done
    if ((${#left[@]})); then
        log "ERROR: still alive after down: ${left[*]}"
        return 1
    fi
    [[ -z $PG_DIR ]] || rm -rf "$PG_DIR"
    rm -rf "$D/pg" "$D/kafka" "$D"/kafka[0-9]* "$D/tls" "$D/standin" "$D/registry" "$D/env" "$STATE"
}

cmd_down() {
    local t0
    t0=$(now_ms)
    if [[ ! -s $STATE ]]; then
        log "nothing recorded in $D: nothing to stop"
        return 0
    fi
    do_down || die "down incomplete in $D"
    log "stack down in $(($(now_ms) - t0)) ms (logs and versions kept in $D)"
}

cmd_status() {
    local rc=0 i
    if [[ ! -s $STATE ]]; then
        echo "no stack recorded in $D"
        return 3
    fi
    state_load
    status_line() { # NAME PID PORT
        local alive=dead
        if pid_alive "$2" && port_listening "$3"; then alive=alive; else rc=1; fi
        printf '%-10s pid %-8s port %-6s %s\n' "$1" "${2:--}" "${3:--}" "$alive"
    }
    PG_PID=$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null || echo "$PG_PID")
    status_line postgresql "$PG_PID" "$PG_PORT"
    for ((i = 1; i <= KAFKA_NODES; i++)); do
        status_line "kafka$( ((KAFKA_NODES == 1)) || echo " $i")" "$(kafka_get KAFKA_PID "$i")" "$(kafka_get KAFKA_PORT "$i")"
    done
    status_line standin "$STANDIN_PID" "$STANDIN_PORT_"
    [[ -z $REGISTRY_PID ]] || status_line registry "$REGISTRY_PID" "$REGISTRY_PORT"
    echo "state: $D"
    return $rc
}

# Parts stopped and started again on the same ports and data (outage tests).
need_stack() {
    [[ -s $STATE ]] || die "no stack recorded in $D (run up first)"
    state_load
}

cmd_stop_pg() {
    need_stack
    local mode=fast
    [[ ${1:-} == --immediate ]] && mode=immediate
    pg_stop "$mode"
    log "postgresql: stopped (-m $mode)"
}

cmd_start_pg() {
    need_stack
    pg_start
    log "postgresql: up again on port $PG_PORT (pid $PG_PID)"
}

# kafka_node_args ARGS...: sets KSIG (TERM, --kill: KILL), KNODES (--node I, repeatable; else every node)
# and KWAIT (--no-wait: 0).
kafka_node_args() {
    KSIG=TERM KNODES='' KWAIT=1
    while (($#)); do
        case $1 in
            --kill) KSIG=KILL ;;
            --no-wait) KWAIT=0 ;;
            --node) [[ ${2:-} =~ ^[0-9]+$ ]] && ((${2} >= 1 && ${2} <= KAFKA_NODES)) ||
                die "--node: 1 to $KAFKA_NODES, not '${2:-}'"
                KNODES+=" $2"; shift ;;
            *) die "unknown option: $1" ;;
        esac
        shift
    done
    [[ -n $KNODES ]] || KNODES=$(seq 1 "$KAFKA_NODES")
}

cmd_stop_kafka() {
    local i
    need_stack
    kafka_node_args "$@"
    for i in $KNODES; do kafka_stop_node "$i" "$KSIG" & done
    wait
    log "kafka: node(s) $(echo $KNODES) stopped (SIG$KSIG)"
}

cmd_start_kafka() {
    local i
    need_stack
    kafka_node_args "$@"
    for i in $KNODES; do kafka_start_node "$i"; done
    ((KWAIT == 1)) || { log "kafka: node(s) $(echo $KNODES) launched"; return 0; }
    for i in $KNODES; do kafka_wait "$i"; done
    log "kafka: node(s) $(echo $KNODES) up again at $(kafka_bootstrap)"
}

cmd_restart_kafka() {
    local a args=()
    for a in "$@"; do [[ $a == --kill ]] || args+=("$a"); done
    cmd_stop_kafka "$@"
    cmd_start_kafka "${args[@]}"
}

main() {
    local cmd=${1:-}
    (($#)) && shift
    case $cmd in
        up) cmd_up "$@" ;;
        down) cmd_down ;;
        status) cmd_status ;;
        env) [[ -f $D/env ]] || die "no env file in $D (run up first)"; cat "$D/env" ;;
        restart-pg) cmd_stop_pg "$@"; cmd_start_pg ;;
        restart-kafka) cmd_restart_kafka "$@" ;;
        stop-pg) cmd_stop_pg "$@" ;;
        start-pg) cmd_start_pg ;;
        stop-kafka) cmd_stop_kafka "$@" ;;
        start-kafka) cmd_start_kafka "$@" ;;
        -h | --help | help) usage ;;
        *) usage >&2; exit 2 ;;
    esac
}

main "$@"
