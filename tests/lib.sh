# Helpers for integration test scripts (source it): the stack's env and Kafka checks on top of tests/checks.sh.
# shellcheck shell=bash
#
#   source "$WF4_SRC/tests/lib.sh"   (ctest sets WF4_STACK_DIR, WF4_BIN, WF4_SRC, TEST_NAME)
#
# What it gives, besides tests/checks.sh (say, fail, fatal, check, check_eq, on_exit, $TEST_TMP)
# and scripts/lib/harness.sh (svc_start, svc_kill, svc_wait, svc_pid, svc_alive, svc_log,
# standin_start, db_reset) and scripts/lib/common.sh (psql_admin, psql_app, wait_until, ...):
#   topic_count TOPIC                       messages readable now (read_committed)
#   topic_end_offsets TOPIC                 sum of the partitions' end offsets
#   topic_partitions TOPIC                  partition count (0 when the topic does not exist)
#   select_domains FILE [OUT]               wf4ctl select --file FILE, its output in OUT
#                                           ($TEST_TMP/select.log); fatal when it fails
#   terminal_count / status_counts          domains completed or error / "status|count ..."
#   wait_terminal N TIMEOUT_S               until N domains are terminal; 1 after TIMEOUT_S
set -euo pipefail

: "${WF4_STACK_DIR:?WF4_STACK_DIR is not set: run through ctest, or scripts/stack.sh up and export it}"
if [[ ! -f $WF4_STACK_DIR/env ]]; then
    echo "no $WF4_STACK_DIR/env: is the stack up (scripts/stack.sh up)?" >&2
    exit 1
fi
# shellcheck source=/dev/null
source "$WF4_STACK_DIR/env"
WF4_SRC=${WF4_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=tests/checks.sh
source "$WF4_SRC/tests/checks.sh"

topic_count() {
    kcat -b "$WF4_KAFKA_BROKERS" -C -t "$1" -o beginning -e -q -f 'x\n' | wc -l
}

topic_partitions() {
    kcat -b "$WF4_KAFKA_BROKERS" -L -t "$1" -J 2>/dev/null |
        jq -r --arg t "$1" '[.topics[] | select(.topic == $t and .error == null) | .partitions | length] | add // 0'
}

# topic_pairs TOPIC A B: "A B" of each value decoded from TOPIC that has a field B.
topic_pairs() {
    "$WF4_BIN/wf4-inspect" -o beginning "$1" 2>/dev/null |
        jq -r --arg a "$2" --arg b "$3" '(.value // {}) | select(.[$b] != null) | "\(.[$a]) \(.[$b])"'
}

topic_end_offsets() {
    local n p args=()
    n=$(topic_partitions "$1")
    for ((p = 0; p < n; p++)); do args+=(-t "$1:$p:-1"); done
    ((n > 0)) || { echo 0; return 0; }
    kcat -b "$WF4_KAFKA_BROKERS" -Q "${args[@]}" | awk '{s += $NF} END {print s + 0}'
}

select_domains() {
    local out=${2:-$TEST_TMP/select.log}
    "$WF4_BIN/wf4ctl" select --file "$1" >"$out" 2>&1 || fatal "select: $(cat "$out")"
}

terminal_count() { psql_admin -c "SELECT count(*) FROM domains WHERE status IN ('completed', 'error')"; }
status_counts() { psql_admin -c "SELECT status, count(*) FROM domains GROUP BY 1" | tr '\n' ' '; }
terminal_reached() {
    local n
    n=$(terminal_count 2>/dev/null) || return 1
    ((${n:-0} >= $1))
}
wait_terminal() { wait_until "$2" terminal_reached "$1"; }
