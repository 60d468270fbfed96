# Helpers of the benchmark scripts (source it): stack env, services, metrics, result rows.
# shellcheck shell=bash
#
#   svc NAME CMD...            CMD in the background, log in $BENCH_TMP/NAME.log, stopped at exit
#   svc_stop NAME              SIGTERM, wait (SIGKILL after 20 s)
#   svc_pid NAME / metrics_port NAME
#   metric NAME REGEX          sum of the series of NAME's /metrics matching ^REGEX
#   scrape NAME FILE           NAME's whole /metrics page into FILE
#   topics PREFIX              this run's own topics (claims, results, handoffs, DLQs) from a
#                              copy of the catalogue; exports WF4_SCHEMA_DIR and the topic vars
#   standin NAME VAR=VAL...    own ScraperAPI stand-in; sets STANDIN_URL, exports SCRAPERAPI_*
#   wait_until TIMEOUT_S CMD...
#   row KEY FIGURE VALUE UNIT BOUND BOUND_WHAT TARGET PASS   one line of the table
#   note TEXT                  a finding printed under the table
#   psql_admin ARGS...         psql as the superuser on the wf4 database
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
declare -A BENCH_PIDS=()

say() { printf '[bench %s %s] %s\n' "$BENCH_NAME" "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

psql_admin() { PGOPTIONS="-c client_min_messages=warning" "$WF4_PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 "$WF4_ADMIN_DATABASE_URL" "$@"; }
psql_pg() { PGOPTIONS="-c client_min_messages=warning" "$WF4_PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 "${WF4_ADMIN_DATABASE_URL%/*}/postgres" "$@"; }

now() { date +%s.%N; }
calc() { python3 -c "import math; print($*)"; }

svc() {
    local name=$1
    shift
    "$@" </dev/null >>"$BENCH_TMP/$name.log" 2>&1 &
    BENCH_PIDS[$name]=$!
}

svc_pid() { echo "${BENCH_PIDS[$1]:?no service $1}"; }

svc_alive() {
    pid_alive "${BENCH_PIDS[$1]:-}"
}

svc_stop() {
    local name=$1 pid i
    pid=${BENCH_PIDS[$name]:-}
    [[ -n $pid ]] || return 0
    if svc_alive "$name"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 200; i++)); do svc_alive "$name" || break; sleep 0.1; done
        svc_alive "$name" && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null || true
    unset "BENCH_PIDS[$name]"
}

declare -A BENCH_MPORTS=()
# service NAME EXECUTABLE VAR=VAL...: a WF4 service with its own /metrics port (at nice
# $SVC_NICE when set).
service() {
    local name=$1 exe=$2 port
    shift 2
    port=$(free_port)
    BENCH_MPORTS[$name]=$port
    svc "$name" ${SVC_NICE:+nice -n "$SVC_NICE"} env WF4_METRICS_PORT="$port" WF4_INSTANCE_ID="bench-$name" "$@" "$WF4_BIN/$exe"
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
}

standin() {
    local name=$1 key port
    shift
    key="bk$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    svc "$name" env "$@" STANDIN_PORT=0 STANDIN_API_KEY="$key" "$WF4_BIN/scraperapi-standin"
    wait_until 20 grep -q 'listening on port' "$BENCH_TMP/$name.log" || die "$name did not start"
    port=$(grep -o 'listening on port [0-9]*' "$BENCH_TMP/$name.log" | head -1 | grep -o '[0-9]*$')
    STANDIN_URL="http://127.0.0.1:$port/"
    export SCRAPERAPI_URL=$STANDIN_URL SCRAPERAPI_KEY=$key
}

db_reset() {
    psql_admin -c "TRUNCATE wf5_outbox, domains" >/dev/null
}

# Histogram of wf4_db_transaction_seconds from /metrics pages: "le count" cumulative lines
# summed over the files given.
tx_histogram() {
    cat "$@" | awk '/^wf4_db_transaction_seconds_bucket/ {
        match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); c[le] += $NF }
        END { for (k in c) print k, c[k] }' | sort -g
}

# p-quantile (0..1) from "le cumulative" lines: the upper bound of the bucket holding it.
hist_quantile() {
    awk -v q="$1" '{le[NR] = $1; c[NR] = $2} END { n = c[NR]; if (n == 0) { print "nan"; exit }
        for (i = 1; i <= NR; i++) if (c[i] >= q * n) { print le[i]; exit } }'
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
    local rc=$? name
    for name in "${!BENCH_PIDS[@]}"; do svc_stop "$name"; done
    if ((rc == 0)) && [[ ${BENCH_KEEP:-0} != 1 ]]; then rm -rf "$BENCH_TMP"; else say "kept $BENCH_TMP"; fi
    exit "$rc"
}
trap bench_exit EXIT
trap 'exit 130' INT TERM
