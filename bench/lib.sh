# Helpers of the benchmark scripts (source it): stack env, services, metrics, result rows.
# shellcheck shell=bash
#
#   svc_start NAME CMD... / svc_kill NAME / svc_pid NAME   (scripts/lib/harness.sh) background
#                              services, log in $BENCH_TMP/NAME.log, stopped at exit
#   service NAME EXE VAR=VAL...  a WF4 service with its own /metrics port; metrics_port NAME
#   metric NAME REGEX          sum of the series of NAME's /metrics matching ^REGEX
#   scrape NAME FILE           NAME's whole /metrics page into FILE
#   topics PREFIX              this run's own topics (claims, results, handoffs, DLQs) from a
#                              copy of the catalogue; exports WF4_SCHEMA_DIR and the topic vars
#   standin NAME VAR=VAL...    own ScraperAPI stand-in (standin_start); exports SCRAPERAPI_*
#   wait_until TIMEOUT_S CMD... (scripts/lib/common.sh)
#   row KEY FIGURE VALUE UNIT BOUND BOUND_WHAT TARGET PASS   one line of the table
#   note TEXT                  a finding printed under the table
#   psql_admin / psql_pg ARGS... (scripts/lib/common.sh), db_reset (scripts/lib/harness.sh)
set -euo pipefail

: "${WF4_STACK_DIR:?WF4_STACK_DIR is not set (bench/run.sh sets it)}"
# shellcheck source=/dev/null
source "$WF4_STACK_DIR/env"
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WF4_SRC=$(cd "$BENCH_DIR/.." && pwd)
# shellcheck source=scripts/lib/common.sh
source "$WF4_SRC/scripts/lib/common.sh" # wait_until, pid_alive, free_port
: "${WF4_BIN:?WF4_BIN is not set}"
: "${BENCH_OUT:=$WF4_SRC/build-bench/out}"
: "${BENCH_QUICK:=0}"
BENCH_NAME=${BENCH_NAME:-$(basename "$0" .sh)}
mkdir -p "$BENCH_OUT" "$(dirname "$WF4_STACK_DIR")/bench-tmp"
BENCH_TMP=$(mktemp -d "$(dirname "$WF4_STACK_DIR")/bench-tmp/$BENCH_NAME.XXXXXX")
BENCH_ROWS=$BENCH_OUT/$BENCH_NAME.rows
: >"$BENCH_ROWS"
RUN_ID="$(date +%s)$$"
export WF4_LOG_LEVEL=${WF4_LOG_LEVEL:-warn}

say() { printf '[bench %s %s] %s\n' "$BENCH_NAME" "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
WF4_SVC_DIR=$BENCH_TMP
BENCH_RM=() # removed at exit
# shellcheck source=scripts/lib/harness.sh
source "$WF4_SRC/scripts/lib/harness.sh"

now() { date +%s.%N; }
# stats ARGS...: bench/stats.py (the statistics; see its usage); figures KIND NAME=VALUE...:
# the derived figures of one measurement, set as shell variables F_<name>.
stats() { python3 "$BENCH_DIR/stats.py" "$@"; }
figures() {
    local out
    out=$(stats "$@") || die "bench/stats.py $1 failed"
    eval "$out"
}

declare -A BENCH_MPORTS=()
# service NAME EXECUTABLE VAR=VAL...: a WF4 service with its own /metrics port (at nice
# $SVC_NICE when set).
service() {
    local name=$1 exe=$2 port
    shift 2
    port=$(free_port)
    BENCH_MPORTS[$name]=$port
    svc_start "$name" ${SVC_NICE:+nice -n "$SVC_NICE"} env WF4_METRICS_PORT="$port" WF4_INSTANCE_ID="bench-$name" "$@" "$WF4_BIN/$exe"
}

metrics_port() { echo "${BENCH_MPORTS[$1]:?no service $1}"; }

wait_metrics() { # NAME: until the service serves /metrics
    wait_until 30 curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$(metrics_port "$1")/metrics" ||
        die "$1 serves no /metrics: $(tail -5 "$BENCH_TMP/$1.log")"
}

scrape() { curl -sf --max-time 5 "http://127.0.0.1:$(metrics_port "$1")/metrics" >"$2"; }

metric() { # NAME REGEX
    curl -sf --max-time 5 "http://127.0.0.1:$(metrics_port "$1")/metrics" |
        awk -v re="^$2" '$0 ~ re {s += $NF} END {printf "%.0f\n", s + 0}'
}

# CPU seconds (utime + stime) and peak RSS in kB of a process.
proc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
proc_hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
proc_rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

topics() {
    local p=t.bench.$1.$RUN_ID
    export WF4_SCRAPER_GROUP=g.$p.scraper WF4_COMMITTER_GROUP=g.$p.committer
    private_topics "$BENCH_TMP/schemas" "$p.claims" "$p.results" "$p.handoffs" "$BENCH_TMP/topics.log" ||
        die "topics: $(cat "$BENCH_TMP/topics.log")"
    [[ -n ${BENCH_TOPICS_NOTED:-} || ${BENCH_WARM:-0} == 1 ]] || topics_note
}

# topics_note: once per benchmark, the cluster and the replication its topics got (kcat -L).
topics_note() {
    local meta i
    BENCH_TOPICS_NOTED=1
    # A topic just created may not be in every broker's metadata yet: until it has partitions.
    for ((i = 0; i < 25; i++)); do
        meta=$(kcat -b "$WF4_KAFKA_BROKERS" -L -t "$WF4_CLAIMS_TOPIC" -J 2>/dev/null) || meta=''
        [[ $(jq '[.topics[0].partitions[]?] | length' <<<"${meta:-{\}}" 2>/dev/null) -gt 0 ]] && break
        sleep 0.2
    done
    [[ -n $meta ]] || return 0
    note "topics: $(jq '.brokers | length' <<<"$meta") broker(s), each partition of $WF4_CLAIMS_TOPIC on $(jq '[.topics[0].partitions[].replicas | length] | min' <<<"$meta") replica(s) (kcat -L); wf4ctl topics: $(grep -c 'instead of the catalogue' "$BENCH_TMP/topics.log" || true) topic(s) below the catalogue's replication 3 / min.insync.replicas 2"
}

standin() {
    STANDIN_KEY="bk$(random_hex 12)"
    standin_start "$@"
    export SCRAPERAPI_URL=$STANDIN_URL SCRAPERAPI_KEY=$STANDIN_KEY
}

# row KEY FIGURE VALUE UNIT BOUND BOUND_WHAT TARGET PASS(1/0/-)
row() {
    jq -cn --arg bench "$BENCH_NAME" --arg key "$1" --arg figure "$2" --arg value "$3" \
        --arg unit "$4" --arg bound "$5" --arg bound_what "$6" --arg target "$7" --arg pass "$8" \
        '{bench: $bench, key: $key, figure: $figure, value: ($value | tonumber? // $value),
          unit: $unit, bound: ($bound | tonumber? // null), bound_what: $bound_what,
          ratio: (if ($bound | tonumber? // 0) != 0 and ($value | tonumber? // null) != null
                  then (($value | tonumber) / ($bound | tonumber) * 1000 | round / 1000) else null end),
          target: $target, pass: (if $pass == "1" then true elif $pass == "0" then false else null end)}' \
        >>"$BENCH_ROWS"
    say "$2: $3 $4${5:+ (bound $5: $6)} ${7:+target $7} $([[ $8 == 1 ]] && echo PASS || { [[ $8 == 0 ]] && echo FAIL; })"
}

note() {
    if [[ ${BENCH_WARM:-0} == 1 ]]; then # a warm-up run: printed, not reported
        say "warm-up (not counted): $*"
        return
    fi
    jq -cn --arg bench "$BENCH_NAME" --arg note "$*" '{bench: $bench, note: $note}' >>"$BENCH_ROWS"
    say "note: $*"
}

bench_exit() {
    local rc=$?
    svc_kill_all
    rm -rf "${BENCH_RM[@]}"
    if ((rc == 0)) && [[ ${BENCH_KEEP:-0} != 1 ]]; then rm -rf "$BENCH_TMP"; else say "kept $BENCH_TMP"; fi
    exit "$rc"
}
trap bench_exit EXIT
trap 'exit 130' INT TERM
