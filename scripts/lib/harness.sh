# The harness of tests/ and bench/: background services, psql, the stand-in (source common.sh first).
# shellcheck shell=bash
#
# The caller defines say MSG (and may define fatal MSG; die is the default) and sets
# WF4_SVC_DIR, the directory of the services' logs.
#
#   svc_start NAME CMD...        CMD in the background, output in $WF4_SVC_DIR/NAME.log
#   svc_kill NAME [SIGNAL]       signal (TERM); waits for the exit unless STOP/CONT (SIGKILL
#                                after $SVC_STOP_TIMEOUT s, default 20); its status in SVC_STATUS
#   svc_wait NAME [TIMEOUT_S]    waits for the exit; returns its status (124: timeout)
#   svc_pid / svc_alive / svc_log NAME
#   svc_kill_all                 svc_kill TERM of every service still running (exit traps)
#   standin_start NAME VAR=VAL...  a ScraperAPI stand-in on a port of its own with the API key
#                                $STANDIN_KEY (a random one, set, when empty); sets STANDIN_URL
#                                and STANDIN_LISTEN_PORT
#   psql_admin / psql_app / psql_pg (common.sh)
#   db_reset                     TRUNCATE every public table but the migrations table
declare -F fatal >/dev/null || fatal() { die "$@"; }

declare -A WF4_SVC_PIDS=()

svc_start() {
    local name=$1
    shift
    [[ -z ${WF4_SVC_PIDS[$name]:-} ]] || ! svc_alive "$name" || fatal "service $name already runs"
    "$@" </dev/null >>"${WF4_SVC_DIR:?}/$name.log" 2>&1 &
    WF4_SVC_PIDS[$name]=$!
    say "started $name (pid $!): $*"
}

svc_pid() { echo "${WF4_SVC_PIDS[$1]:?no service named $1}"; }
svc_log() { echo "$WF4_SVC_DIR/$1.log"; }
svc_alive() { pid_alive "${WF4_SVC_PIDS[$1]:-}"; }

svc_wait() {
    local name=$1 timeout=${2:-30} pid rc=0
    pid=$(svc_pid "$name")
    wait_gone "$pid" "$timeout" || return 124
    wait "$pid" 2>/dev/null || rc=$?
    return "$rc"
}

svc_kill() {
    local name=$1 sig=${2:-TERM} pid rc=0
    pid=$(svc_pid "$name")
    if ! svc_alive "$name"; then # gone already: its status
        svc_wait "$name" 1 || rc=$?
        SVC_STATUS=$rc
        return 0
    fi
    case $sig in STOP | CONT | SIGSTOP | SIGCONT | 19 | 18) kill "-$sig" "$pid" 2>/dev/null; return 0 ;; esac
    if ! signal_wait "$pid" "$sig" "${SVC_STOP_TIMEOUT:-20}"; then
        say "$name ignored SIG$sig for ${SVC_STOP_TIMEOUT:-20}s: SIGKILL"
        signal_wait "$pid" KILL 10 || true
    fi
    svc_wait "$name" 1 || rc=$?
    SVC_STATUS=$rc
    say "$name (pid $pid) stopped by SIG$sig, status $rc"
}

svc_kill_all() {
    local name
    for name in "${!WF4_SVC_PIDS[@]}"; do
        ! svc_alive "$name" || svc_kill "$name" TERM
    done
}

# standin_start NAME VAR=VAL...: the stand-in prints its port once it listens (in the part
# of its log written since it started: a log may hold an earlier run's).
standin_new_log() { tail -c "+$((WF4_STANDIN_LOG_FROM + 1))" "$(svc_log "$1")" 2>/dev/null; }
standin_listening() { [[ $(standin_new_log "$1") =~ listening\ on\ port\ ([0-9]+) ]]; }
standin_start() {
    local name=$1
    shift
    STANDIN_KEY=${STANDIN_KEY:-sk$(random_hex 12)}
    WF4_STANDIN_LOG_FROM=$(stat -c %s "$(svc_log "$name")" 2>/dev/null || echo 0)
    svc_start "$name" env STANDIN_PORT=0 STANDIN_API_KEY="$STANDIN_KEY" "$@" "${STANDIN_BIN:-$WF4_BIN/scraperapi-standin}"
    wait_until 20 standin_listening "$name" || fatal "$name did not start: $(standin_new_log "$name" | tail -n 5)"
    standin_listening "$name"
    STANDIN_LISTEN_PORT=${BASH_REMATCH[1]}
    STANDIN_URL="http://127.0.0.1:$STANDIN_LISTEN_PORT/"
    say "$name listens on $STANDIN_URL"
}

WF4_MIGRATIONS_TABLE=${WF4_MIGRATIONS_TABLE:-schema_migrations}
db_reset() {
    local tables
    tables=$(psql_admin -v keep="$WF4_MIGRATIONS_TABLE" <<'SQL'
SELECT string_agg(format('%I.%I', schemaname, tablename), ', ')
  FROM pg_tables WHERE schemaname = 'public' AND tablename <> :'keep';
SQL
)
    [[ -z $tables ]] || psql_admin -c "TRUNCATE $tables RESTART IDENTITY CASCADE"
}
