# Helpers for integration test scripts (source it): the stack's env, psql, services, checks, cleanup.
# shellcheck shell=bash
#
#   source "$WF4_SRC/tests/lib.sh"   (ctest sets WF4_STACK_DIR, WF4_BIN, WF4_SRC, TEST_NAME)
#
# What it gives:
#   psql_admin ARGS... / psql_app ARGS...   psql -X -qAt -v ON_ERROR_STOP=1 as postgres / as wf4
#   wait_until TIMEOUT_S CMD...             polls CMD every 0.2 s; returns 1 on timeout
#   svc_start NAME CMD...                   CMD in the background, output in $TEST_TMP/NAME.log
#   svc_kill NAME [SIGNAL]                  signal (TERM); waits for the exit unless STOP/CONT
#   svc_wait NAME [TIMEOUT_S]               waits for the exit; returns its status (124: timeout)
#   svc_pid / svc_alive / svc_log NAME      its pid, whether it runs, its log file
#   say MSG / fail MSG / fatal MSG          print; count a failure; count and exit
#   check 'COND' MSG / check_eq ACT EXP MSG count a check (a failed one does not stop the test)
#   db_reset                                TRUNCATE every public table but the migrations table
#   topic_count TOPIC                       messages readable now (read_committed)
#   topic_end_offsets TOPIC                 sum of the partitions' end offsets
#   topic_partitions TOPIC                  partition count (0 when the topic does not exist)
#   on_exit CMD...                          runs CMD at exit, before the services stop (do not
#                                           set your own EXIT trap: it would replace this one)
# On exit every service still running is stopped; $TEST_TMP is removed when the test passed
# and kept (path printed, service logs' tails shown) when it failed.
set -euo pipefail

: "${WF4_STACK_DIR:?WF4_STACK_DIR is not set: run through ctest, or scripts/stack.sh up and export it}"
if [[ ! -f $WF4_STACK_DIR/env ]]; then
    echo "no $WF4_STACK_DIR/env: is the stack up (scripts/stack.sh up)?" >&2
    exit 1
fi
# shellcheck source=/dev/null
source "$WF4_STACK_DIR/env"
WF4_SRC=${WF4_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=scripts/lib/common.sh
source "$WF4_SRC/scripts/lib/common.sh" # wait_until, pid_alive
WF4_BIN=${WF4_BIN:-$WF4_SRC/build/bin}
WF4_MIGRATIONS_TABLE=${WF4_MIGRATIONS_TABLE:-schema_migrations}
TEST_NAME=${TEST_NAME:-$(basename "${BASH_SOURCE[1]:-$0}" .sh)}
export WF4_SRC WF4_BIN TEST_NAME

# Temporary files live under the build dir (beside the stack's state dir), one dir a test.
mkdir -p "$(dirname "$WF4_STACK_DIR")/test-tmp"
TEST_TMP=$(mktemp -d "$(dirname "$WF4_STACK_DIR")/test-tmp/$TEST_NAME.XXXXXX")
export TEST_TMP

WF4_CHECKS=0
WF4_FAILS=0
declare -A WF4_SVC_PIDS=()
WF4_ON_EXIT=()

say() {
    printf '[%s %s] %s\n' "$TEST_NAME" "$(date +%H:%M:%S)" "$*"
}

fail() {
    WF4_FAILS=$((WF4_FAILS + 1))
    say "FAIL: $*"
}

fatal() {
    fail "$@"
    exit 1
}

# check 'COND' MSG: COND is evaluated by the shell (e.g. '[[ $n -eq 5 ]]').
check() {
    WF4_CHECKS=$((WF4_CHECKS + 1))
    if eval "$1"; then
        say "ok: $2"
    else
        fail "$2 (false: $1)"
    fi
}

check_eq() {
    WF4_CHECKS=$((WF4_CHECKS + 1))
    if [[ $1 == "$2" ]]; then
        say "ok: $3 ($1)"
    else
        fail "$3: got '$1', want '$2'"
    fi
}

psql_admin() {
    "$WF4_PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 "$WF4_ADMIN_DATABASE_URL" "$@"
}

psql_app() {
    "$WF4_PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 "$WF4_DATABASE_URL" "$@"
}

svc_start() {
    local name=$1
    shift
    [[ -z ${WF4_SVC_PIDS[$name]:-} ]] || ! svc_alive "$name" || fatal "service $name already runs"
    "$@" </dev/null >>"$TEST_TMP/$name.log" 2>&1 &
    WF4_SVC_PIDS[$name]=$!
    say "started $name (pid $!): $*"
}

svc_pid() { echo "${WF4_SVC_PIDS[$1]:?no service named $1}"; }
svc_log() { echo "$TEST_TMP/$1.log"; }
svc_alive() {
    pid_alive "${WF4_SVC_PIDS[$1]:-}"
}

svc_wait() {
    local name=$1 timeout=${2:-30} pid rc=0 deadline
    pid=$(svc_pid "$name")
    deadline=$((SECONDS + timeout))
    while svc_alive "$name"; do
        ((SECONDS < deadline)) || return 124
        sleep 0.1
    done
    wait "$pid" 2>/dev/null || rc=$?
    return "$rc"
}

svc_kill() {
    local name=$1 sig=${2:-TERM} pid rc=0
    pid=$(svc_pid "$name")
    svc_alive "$name" || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    case $sig in STOP | CONT | SIGSTOP | SIGCONT | 19 | 18) return 0 ;; esac
    svc_wait "$name" "${SVC_STOP_TIMEOUT:-20}" || rc=$?
    if ((rc == 124)); then
        say "$name ignored SIG$sig for ${SVC_STOP_TIMEOUT:-20}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        svc_wait "$name" 10 || rc=$?
    fi
    say "$name (pid $pid) stopped by SIG$sig, status $rc"
    return 0
}

db_reset() {
    local tables
    tables=$(psql_admin -v keep="$WF4_MIGRATIONS_TABLE" <<'SQL'
SELECT string_agg(format('%I.%I', schemaname, tablename), ', ')
  FROM pg_tables WHERE schemaname = 'public' AND tablename <> :'keep';
SQL
)
    [[ -z $tables ]] || psql_admin -c "TRUNCATE $tables RESTART IDENTITY CASCADE"
}

topic_count() {
    kcat -b "$WF4_KAFKA_BROKERS" -C -t "$1" -o beginning -e -q -f 'x\n' | wc -l
}

topic_partitions() {
    kcat -b "$WF4_KAFKA_BROKERS" -L -t "$1" -J 2>/dev/null |
        jq -r --arg t "$1" '[.topics[] | select(.topic == $t and .error == null) | .partitions | length] | add // 0'
}

topic_end_offsets() {
    local n p args=()
    n=$(topic_partitions "$1")
    for ((p = 0; p < n; p++)); do args+=(-t "$1:$p:-1"); done
    ((n > 0)) || { echo 0; return 0; }
    kcat -b "$WF4_KAFKA_BROKERS" -Q "${args[@]}" | awk '{s += $NF} END {print s + 0}'
}

on_exit() {
    local cmd
    printf -v cmd '%q ' "$@"
    WF4_ON_EXIT+=("$cmd")
}

_wf4_exit() {
    local rc=$? name cmd
    for cmd in "${WF4_ON_EXIT[@]}"; do
        eval "$cmd" || say "on_exit: '$cmd' failed"
    done
    for name in "${!WF4_SVC_PIDS[@]}"; do
        svc_alive "$name" && svc_kill "$name" TERM
    done
    ((rc != 0 || WF4_FAILS == 0)) || rc=1
    say "$WF4_CHECKS checks, $WF4_FAILS failed, exit $rc"
    if ((rc == 0)); then
        rm -rf "$TEST_TMP"
    else
        for name in "${!WF4_SVC_PIDS[@]}"; do
            say "---- last lines of $TEST_TMP/$name.log"
            tail -n 20 "$TEST_TMP/$name.log" || true
        done
        say "kept $TEST_TMP"
    fi
    exit "$rc"
}
trap _wf4_exit EXIT
