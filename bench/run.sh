#!/usr/bin/env bash
# The benchmarks of the WF4 pipeline, one command: what is missing installed
# (scripts/install.sh), a Release build in build-bench/, a private
# stack in build-bench/stack (stopped at the end, whatever happens), each benchmark, a table
# on stdout, the same figures in bench/results/latest.json and bench/RESULTS.md.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/run.sh [--quick] [--only NAME[,NAME...]] [--brokers N] [--no-build] [--keep-stack]

Benchmarks (each figure beside a bound measured in the same run; these machines are noisy):
  scraper       1. one scraper vs Little's law (C=256, L=2.5 s): throughput / (C/L) >= 0.95;
                   CPU per domain; peak RSS at 1,000 calls in flight < 64 MB
  pipeline      2. database time per domain <= 1 ms, p99 transaction <= 50 ms, cross-checked
                   with pg_stat_database and pg_stat_statements;
                4. selection-to-claim and claim-to-handoff-minus-API latencies (p50, p99)
  dbthroughput  3. claimer claims/s and committer results/s (>= 20,000/s) beside pgbench's
                   one-row UPDATE rate on the same cluster
  antipattern   5. the incident's anti-pattern through PgBouncer, beside the pipeline

Options:
  --quick        smaller runs (about 3 minutes instead of about 8)
  --only LIST    run only these benchmarks (comma separated)
  --brokers N    also start a cluster of N brokers (scripts/stack.sh up --brokers N in
                 build-bench/stackN: the topics get replication 3 and min.insync.replicas 2
                 from N = 3) beside the single broker, run pipeline and dbthroughput (those
                 of them selected) on the cluster right after each runs on the single
                 broker, and print both in a "Replication" table. Cheapest:
                 bench/run.sh --quick --only pipeline,dbthroughput --brokers 3
  --no-build     use build-bench/bin as it is
  --keep-stack   leave the stack running (stop it: WF4_STACK_DIR=build-bench/stack scripts/stack.sh down)
EOF
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ALL=(scraper pipeline dbthroughput antipattern)
only=() quick=0 build=1 keep=0 brokers=1
while (($#)); do
    case $1 in
        --quick) quick=1 ;;
        --only) IFS=, read -r -a only <<<"${2:?--only needs a list}"; shift ;;
        --only=*) IFS=, read -r -a only <<<"${1#--only=}" ;;
        --brokers) brokers=${2:?--brokers needs a number}; shift ;;
        --no-build) build=0 ;;
        --keep-stack) keep=1 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
    shift
done
((${#only[@]})) || only=("${ALL[@]}")
[[ $brokers =~ ^[1-9]$ ]] || { echo "--brokers: 1 to 9 nodes, not '$brokers'" >&2; exit 2; }
# The benchmarks that run again on the cluster (what replication could slow down).
REPLICATED=(pipeline dbthroughput)
for b in "${only[@]}"; do
    [[ " ${ALL[*]} " == *" $b "* ]] || { echo "unknown benchmark: $b (one of ${ALL[*]})" >&2; exit 2; }
done

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
B=$ROOT/build-bench
export WF4_STACK_DIR=$B/stack WF4_BIN=$B/bin BENCH_OUT=$B/out BENCH_QUICK=$quick
t_start=$SECONDS

# What the stack needs (Debian packages, Kafka and Apicurio jars), as scripts/test.sh and
# scripts/demo.sh do: cached after the first run.
mkdir -p "$B"
log "installing what is missing (scripts/install.sh; cached after the first run)"
"$ROOT/scripts/install.sh" >"$B/install.log" 2>&1 || { tail -20 "$B/install.log"; exit 1; }

if ((build)); then
    log "Release build in $B (no sanitizers)"
    cmake -S "$ROOT" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWF4_SANITIZE=OFF \
        -DCMAKE_C_FLAGS= >"$B/cmake.log" 2>&1 ||
        { tail -20 "$B/cmake.log"; exit 1; }
    cmake --build "$B" -j2 --target claimer scraper committer wf4ctl scraperapi-standin \
        wf4-claimgen wf4-resultgen wf4-inspect antipattern stallprobe >>"$B/cmake.log" 2>&1 ||
        { tail -30 "$B/cmake.log"; exit 1; }
fi

# Both stacks when --brokers N: the single broker and the cluster side by side (the idle one
# costs little), so that each benchmark runs on one and at once on the other.
STACK1=$B/stack STACKN=$B/stack$brokers
stacks=("$STACK1")
((brokers == 1)) || stacks+=("$STACKN")
stack_down() {
    local d
    ((keep)) && return 0
    for d in "${stacks[@]}"; do
        log "stopping the stack ($d)"
        WF4_STACK_DIR=$d "$ROOT/scripts/stack.sh" down >>"$B/stack.log" 2>&1 || log "WARNING: stack down failed (see $B/stack.log)"
    done
}
trap stack_down EXIT
trap 'exit 130' INT TERM
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
rm -rf "$BENCH_OUT"
mkdir -p "$BENCH_OUT" "$ROOT/bench/results"
: >"$B/stack.log"
for d in "${stacks[@]}"; do
    n=$([[ $d == "$STACK1" ]] && echo 1 || echo "$brokers")
    log "stack up in $d ($n broker(s))"
    WF4_STACK_DIR=$d "$ROOT/scripts/stack.sh" up --brokers "$n" >>"$B/stack.log" 2>&1 || { tail -20 "$B/stack.log"; exit 1; }
    log "warming the broker(s) up (not measured)"
    WF4_STACK_DIR=$d "$ROOT/bench/warmup.sh" >"$B/warmup$n.log" 2>&1 || { tail -5 "$B/warmup$n.log"; exit 1; }
done

failed=() ran=() loads=()
# run_bench NAME SCRIPT STACK_DIR: one benchmark on that stack, its rows as NAME.
run_bench() {
    local t=$SECONDS
    loads+=("$1 $(cut -d' ' -f1 /proc/loadavg)")
    log "benchmark $1 (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    if ! WF4_STACK_DIR=$3 BENCH_NAME=$1 "$ROOT/bench/$2.sh" 2>&1 | tee "$BENCH_OUT/$1.log" >&2; then
        failed+=("$1")
    fi
    ran+=("$1")
    log "benchmark $1: $((SECONDS - t)) s"
}
for b in "${ALL[@]}"; do
    [[ " ${only[*]} " == *" $b "* ]] || continue
    run_bench "$b" "$b" "$STACK1"
    # Right after, on the cluster: the two columns a minute apart, not a whole run.
    if ((brokers > 1)) && [[ " ${REPLICATED[*]} " == *" $b "* ]]; then
        run_bench "$b.rf$brokers" "$b" "$STACKN"
    fi
done

# The machine it ran on.
export WF4_STACK_DIR=$STACK1
. "$WF4_STACK_DIR/env"
jq -n --arg nproc "$(nproc)" --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
    --arg ram "$(awk '/^MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)" \
    --arg kernel "$(uname -r)" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --arg postgres "$(sed -n 's/^postgresql=\(PostgreSQL [0-9.]*\).*/\1/p' "$WF4_STACK_DIR/versions")" \
    --arg kafka "$(sed -n 's/^kafka=//p' "$WF4_STACK_DIR/versions")" \
    --arg commit "$(git -C "$ROOT" rev-parse --short HEAD)" --argjson quick "$quick" \
    --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --arg loads "$(IFS=,; echo "${loads[*]}")" \
    '{nproc: ($nproc | tonumber), cpu: $cpu, ram: $ram, kernel: $kernel, date: $date,
      postgres: $postgres, kafka: $kafka, commit: $commit, quick: ($quick == 1), loadavg: $load,
      loadavg_at_start: $loads}' \
    >"$BENCH_OUT/machine.json"
python3 "$ROOT/bench/report.py" "$BENCH_OUT" "$BENCH_OUT/machine.json" \
    "$ROOT/bench/results/latest.json" "${ran[@]}" >"$BENCH_OUT/table.md"
{
    echo "# Benchmark results"
    echo
    echo "Produced by \`bench/run.sh$( ((quick)) && echo ' --quick')$( ((${#only[@]} < ${#ALL[@]})) && echo " --only $(IFS=,; echo "${only[*]}")")$( ((brokers > 1)) && echo " --brokers $brokers")\` at commit $(jq -r .commit "$BENCH_OUT/machine.json"); the same figures are in \`bench/results/latest.json\`. Load average (1 min) as each benchmark started: $(jq -r .loadavg_at_start "$BENCH_OUT/machine.json"); at the end: $(jq -r .loadavg "$BENCH_OUT/machine.json") (the machine is shared)."
    echo
    cat "$BENCH_OUT/table.md"
} >"$ROOT/bench/RESULTS.md"
echo
cat "$BENCH_OUT/table.md"
log "done in $((SECONDS - t_start)) s; bench/RESULTS.md, bench/results/latest.json written"
((${#failed[@]} == 0)) || { log "benchmarks that did not finish: ${failed[*]}"; exit 1; }
