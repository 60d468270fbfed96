# The frame of a test script, with or without a stack: its temporary dir, checks, services, exit report (source it).
# shellcheck shell=bash
#
#   say MSG / fail MSG / fatal MSG          print; count a failure; count and exit
#   check 'COND' MSG / check_eq ACT EXP MSG count a check (a failed one does not stop the test)
#   on_exit CMD...                          runs CMD at exit, before the services stop (do not
#                                           set your own EXIT trap: it would replace this one)
#   svc_* / standin_start                   background services (scripts/lib/harness.sh)
# $TEST_TMP is the test's own directory; on exit every service still running is stopped, so
# is every background job the script left running (a sampler loop of a test that failed
# half-way would otherwise hold ctest's output open until its timeout), and $TEST_TMP is removed when the test passed and kept (path printed, service logs' tails
# shown) when it failed. tests/lib.sh sources this file after the stack's env.
set -euo pipefail

WF4_SRC=${WF4_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=scripts/lib/common.sh
source "$WF4_SRC/scripts/lib/common.sh"
WF4_BIN=${WF4_BIN:-$WF4_SRC/build/bin}
TEST_NAME=${TEST_NAME:-$(basename "${BASH_SOURCE[-1]:-$0}" .sh)}
export WF4_SRC WF4_BIN TEST_NAME

# Temporary files live under the build dir (beside the stack's state dir), one dir a test.
WF4_TEST_TMP_ROOT=${WF4_TEST_TMP_ROOT:-$(dirname "${WF4_STACK_DIR:-$WF4_SRC/build/stack}")/test-tmp}
mkdir -p "$WF4_TEST_TMP_ROOT"
TEST_TMP=$(mktemp -d "$WF4_TEST_TMP_ROOT/$TEST_NAME.XXXXXX")
export TEST_TMP
WF4_SVC_DIR=$TEST_TMP

WF4_CHECKS=0
WF4_FAILS=0
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

# shellcheck source=scripts/lib/harness.sh
source "$WF4_SRC/scripts/lib/harness.sh"

on_exit() {
    local cmd
    printf -v cmd '%q ' "$@"
    WF4_ON_EXIT+=("$cmd")
}

jobs_kill() {
    local pid
    for pid in $(jobs -p); do
        ! pid_alive "$pid" || { say "stopping background job $pid left running"; kill -TERM "$pid" 2>/dev/null || true; }
    done
}

_wf4_exit() {
    local rc=$? name cmd
    for cmd in "${WF4_ON_EXIT[@]}"; do
        eval "$cmd" || say "on_exit: '$cmd' failed"
    done
    svc_kill_all
    jobs_kill
    ((rc != 0 || WF4_FAILS == 0)) || rc=1
    say "$WF4_CHECKS checks, $WF4_FAILS failed, exit $rc"
    if ((rc == 0)); then
        rm -rf "$TEST_TMP"
    else
        for name in "${!WF4_SVC_PIDS[@]}"; do
            say "---- last lines of $(svc_log "$name")"
            tail -n 20 "$(svc_log "$name")" || true
        done
        say "kept $TEST_TMP"
    fi
    exit "$rc"
}
trap _wf4_exit EXIT
