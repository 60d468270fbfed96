# Shared shell helpers of the scripts/ directory: logging, errors, ports, pids (source it).
# shellcheck shell=bash disable=SC2034 # constants are used by the scripts that source this file

# The repository root, whatever the caller's working directory.
WF4_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export WF4_ROOT

# Versions pinned in one place (install.sh fetches them, stack.sh runs them).
WF4_KAFKA_VERSION=3.9.2
WF4_SLF4J_VERSION=1.7.36
WF4_APICURIO_VERSION=2.6.13.Final
WF4_DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1
WF4_CACHE_DIR=$WF4_ROOT/.cache
WF4_KAFKA_JARS_DIR=$WF4_CACHE_DIR/kafka-jars
WF4_APICURIO_DIR=$WF4_CACHE_DIR/apicurio

# log MSG...: one line on stderr, prefixed with the script's name and the time.
log() {
    printf '[%s %s] %s\n' "${WF4_LOG_TAG:-wf4}" "$(date +%H:%M:%S)" "$*" >&2
}

# die MSG...: log and exit 1.
die() {
    log "ERROR: $*"
    exit 1
}

# now_ms: milliseconds since the epoch (for timings).
now_ms() {
    local s ns
    read -r s ns < <(date '+%s %N')
    echo $((s * 1000 + 10#$ns / 1000000))
}

# port_listening PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_listening() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port: prints a TCP port nobody listens on, below the kernel's ephemeral range so
# that outgoing connections do not take it before our server binds it. Several stacks
# start side by side: a port is reserved for a few minutes under /tmp (an atomic mkdir)
# so that two concurrent `up`s never pick the same one before either has bound it.
WF4_PORT_RESERVE_DIR=${WF4_PORT_RESERVE_DIR:-/tmp/wf4-port-reservations}
free_port() {
    local lo=20000 hi=32000 tries=0 port
    mkdir -p "$WF4_PORT_RESERVE_DIR"
    # Reservations older than 5 minutes have been bound by their server (or abandoned).
    find "$WF4_PORT_RESERVE_DIR" -mindepth 1 -maxdepth 1 -mmin +5 -exec rm -rf {} + 2>/dev/null || true
    while ((tries++ < 500)); do
        port=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
        port_listening "$port" && continue
        mkdir "$WF4_PORT_RESERVE_DIR/$port" 2>/dev/null || continue
        echo "$port"
        return 0
    done
    die "no free TCP port found in $lo-$hi"
}

# wait_until SECONDS CMD...: runs CMD every 0.2 s until it succeeds; 1 after SECONDS.
wait_until() {
    local timeout=$1 deadline
    shift
    deadline=$((SECONDS + timeout))
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# private_topics DIR CLAIMS RESULTS HANDOFFS LOG: a run's own topics. DIR gets a copy of
# schemas/ whose catalogue names CLAIMS, RESULTS and HANDOFFS (their DLQs follow) instead of
# the production names; WF4_SCHEMA_DIR=DIR and the three topic variables are exported and
# `$WF4_BIN/wf4ctl topics` creates them. Returns wf4ctl's status; its output goes to LOG.
private_topics() {
    local dir=$1
    export WF4_SCHEMA_DIR=$dir WF4_CLAIMS_TOPIC=$2 WF4_RESULTS_TOPIC=$3 WF4_HANDOFF_TOPIC=$4
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -r "$WF4_ROOT/schemas/avro" "$dir/avro"
    jq --arg c "$2" --arg r "$3" --arg h "$4" '.topics |= map(.name |= (
          sub("^wf4\\.domain\\.claims"; $c) | sub("^wf4\\.domain\\.results"; $r)
          | sub("^wf5\\.domain\\.handoffs"; $h)))' "$WF4_ROOT/schemas/topics.json" >"$dir/topics.json"
    "$WF4_BIN/wf4ctl" topics >"$5" 2>&1
}

# pid_alive PID: true when PID is a live process (not a zombie).
pid_alive() {
    local pid=$1 state
    [[ -n $pid && -d /proc/$pid ]] || return 1
    state=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || return 1
    [[ -n $state && $state != Z ]]
}

# pid_is_ours PID DIR: true when PID is alive and runs in DIR (every process of a stack is
# started with its own directory as working directory), so that a recycled pid belonging to
# someone else is never signalled.
pid_is_ours() {
    local pid=$1 dir=$2
    pid_alive "$pid" || return 1
    [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$(readlink -f "$dir")" ]]
}

# wait_gone PID TIMEOUT_S: true once PID is gone; 1 when it still lives after TIMEOUT_S.
wait_gone() {
    local pid=$1 i
    for ((i = 0; i < $2 * 10; i++)); do
        pid_alive "$pid" || return 0
        sleep 0.1
    done
    ! pid_alive "$pid"
}

# signal_wait PID SIGNAL TIMEOUT_S: sends SIGNAL, then wait_gone.
signal_wait() {
    kill "-$2" "$1" 2>/dev/null || true
    wait_gone "$1" "$3"
}

# stop_pid NAME PID DIR [TIMEOUT_S]: SIGTERM, then SIGKILL after the timeout (15 s), when
# PID is ours (pid_is_ours).
stop_pid() {
    local name=$1 pid=$2 dir=$3 timeout=${4:-15}
    pid_is_ours "$pid" "$dir" || return 0
    signal_wait "$pid" TERM "$timeout" && return 0
    log "$name (pid $pid) ignored SIGTERM for ${timeout}s: SIGKILL"
    signal_wait "$pid" KILL 5 && return 0
    log "$name (pid $pid) still alive after SIGKILL"
    return 1
}

# postgres_dir NAME: prints a new directory /var/tmp/wf4-NAME.XXXXXX owned by the postgres
# user, for what runs as that user (it may not enter the clone, e.g. under a 0700 home).
postgres_dir() {
    local dir
    dir=$(mktemp -d "/var/tmp/wf4-$1.XXXXXX") || return 1
    chown postgres:postgres "$dir" && runuser -u postgres -- test -w "$dir" && echo "$dir" && return 0
    rm -rf "$dir"
    return 1
}

# wf4_psql URL ARGS...: psql for scripts (no psqlrc, tuples only, stop at the first error,
# no NOTICE lines).
wf4_psql() {
    local url=$1
    shift
    PGOPTIONS="-c client_min_messages=warning" "$WF4_PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 "$url" "$@"
}
# psql_admin / psql_app / psql_pg ARGS...: as postgres on wf4 / as wf4 / as postgres on the
# postgres database, through $WF4_PG_BIN (the stack's env file sets these variables).
psql_admin() { wf4_psql "$WF4_ADMIN_DATABASE_URL" "$@"; }
psql_app() { wf4_psql "$WF4_DATABASE_URL" "$@"; }
psql_pg() { wf4_psql "$(url_database "$WF4_ADMIN_DATABASE_URL" postgres)" "$@"; }

# url_database URL DB: URL naming database DB, its query (sslrootcert=/a/path) kept whole.
url_database() {
    local base=${1%%\?*} query=
    [[ $1 == *\?* ]] && query=?${1#*\?}
    echo "${base%/*}/$2$query"
}

# random_hex N: N random bytes as hex.
random_hex() {
    od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}
