#!/usr/bin/env bash
# The README's first command: installs, builds, starts the local stack and the three
# services, selects the demo domains and shows progress until every one is terminal.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/demo.sh [--keep] [--domains FILE]

Installs what is missing (scripts/install.sh), builds into build/, starts PostgreSQL, Kafka,
the schema registry and the ScraperAPI stand-in (scripts/stack.sh), starts one claimer, one
scraper and one committer, selects the demo domains (demo/domains.txt) and prints progress
until every domain is completed or error, then a summary.

  --keep          leave the stack and the services running at the end (stop them with
                  scripts/stack.sh down; service pids are in build/demo/pids)
  --domains FILE  select the domains of FILE instead (one per line, # comments)

With SCRAPERAPI_KEY set, the scraper calls the real ScraperAPI (SCRAPERAPI_URL, default
https://api.scraperapi.com/) instead of the local stand-in.
USAGE
}

# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
root=$WF4_ROOT
keep=0
domains="$root/demo/domains.txt"
while [ $# -gt 0 ]; do
    case "$1" in
    --keep) keep=1 ;;
    --domains) domains=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "demo.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
real_key=${SCRAPERAPI_KEY:-}
real_url=${SCRAPERAPI_URL:-https://api.scraperapi.com/}

echo "== install"
"$root/scripts/install.sh"
echo "== build"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$root/build" >/dev/null
bin="$root/build/bin"

export WF4_STACK_DIR="$root/build/demo/stack" WF4_BIN="$bin"
demo_dir="$root/build/demo"
mkdir -p "$demo_dir/logs"
: >"$demo_dir/pids"

stop_all() {
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$demo_dir/pids"
    while read -r pid; do wait_gone "$pid" 10 || signal_wait "$pid" KILL 5 || true; done <"$demo_dir/pids"
    "$root/scripts/stack.sh" down >/dev/null 2>&1 || true
}
if [ "$keep" = 0 ]; then trap stop_all EXIT; fi

echo "== stack"
STANDIN_LATENCY_MIN_MS=${STANDIN_LATENCY_MIN_MS:-1000} STANDIN_LATENCY_MAX_MS=${STANDIN_LATENCY_MAX_MS:-3000} \
    "$root/scripts/stack.sh" up --registry >"$demo_dir/stack-up.log" 2>&1 ||
    { cat "$demo_dir/stack-up.log"; exit 1; }
# shellcheck disable=SC1091
. "$WF4_STACK_DIR/env"
if [ -n "$real_key" ]; then
    export SCRAPERAPI_KEY="$real_key" SCRAPERAPI_URL="$real_url"
    echo "using the real ScraperAPI at $SCRAPERAPI_URL"
else
    echo "using the local ScraperAPI stand-in at $SCRAPERAPI_URL"
fi
psql_q() { psql_admin -c "$1"; }

start() {
    local name=$1; shift
    "$@" >"$demo_dir/logs/$name.log" 2>&1 &
    echo $! >>"$demo_dir/pids"
}
export WF4_RETRY_BASE_S=${WF4_RETRY_BASE_S:-2} WF4_LEASE_SECONDS=${WF4_LEASE_SECONDS:-120}
WF4_METRICS_PORT=0 start claimer "$bin/claimer"
WF4_METRICS_PORT=0 WF4_SCRAPER_RETRY_BASE_MS=200 start scraper "$bin/scraper"
WF4_METRICS_PORT=0 start committer "$bin/committer"

echo "== select"
grep -v -E '^\s*(#|$)' "$domains" >"$demo_dir/selected.txt"
total=$(wc -l <"$demo_dir/selected.txt")
"$bin/wf4ctl" select --file "$demo_dir/selected.txt"
t0=$(date +%s)

echo "== progress (every 2 s)"
while :; do
    row=$(psql_q "SELECT count(*) FILTER (WHERE status = 'pending'),
                         count(*) FILTER (WHERE status = 'processing'),
                         count(*) FILTER (WHERE status = 'completed'),
                         count(*) FILTER (WHERE status = 'error')
                  FROM domains WHERE sitemap_curation_status = 'Selected'")
    IFS='|' read -r pend proc done err <<<"$row"
    now=$(date +%s)
    el=$((now - t0)); [ "$el" -gt 0 ] || el=1
    printf '%4ss  pending %4s  in flight %4s  completed %4s  error %4s  (%s/s)\n' \
        "$el" "$pend" "$proc" "$done" "$err" "$(( (done + err) / el ))"
    [ $((done + err)) -ge "$total" ] && break
    while read -r pid; do
        pid_alive "$pid" || { echo "a service stopped; see $demo_dir/logs" >&2; exit 1; }
    done <"$demo_dir/pids"
    sleep 2
done
elapsed=$(( $(date +%s) - t0 )); [ "$elapsed" -gt 0 ] || elapsed=1

echo "== summary"
psql_q "SELECT rpad(coalesce(status::text, '-'), 10) || count(*) FROM domains
        WHERE sitemap_curation_status = 'Selected' GROUP BY status ORDER BY 1" | sed 's/^/  /'
echo "  throughput: $(( (done + err) * 60 / elapsed )) domains/min ($total in ${elapsed}s)"
psql_q "SELECT 'selection to handoff: p50 ' ||
          round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM handed_off_at - selected_at))::numeric, 2) || ' s, p95 ' ||
          round(percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM handed_off_at - selected_at))::numeric, 2) || ' s, p99 ' ||
          round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM handed_off_at - selected_at))::numeric, 2) || ' s'
        FROM domains WHERE handed_off_at IS NOT NULL" | sed 's/^/  /'
handoffs=$(kcat -b "$WF4_KAFKA_BROKERS" -C -t wf5.domain.handoffs -e -q -f 'x\n' 2>/dev/null | wc -l)
echo "  handoffs in the database: $(psql_q "SELECT count(*) FROM domains WHERE handoff_event_id IS NOT NULL"), on the WF5 topic: $handoffs"
echo "  errors by reason:"
psql_q "SELECT count(*) || '  ' || left(error_message, 70) FROM domains WHERE status = 'error'
        GROUP BY error_message ORDER BY count(*) DESC LIMIT 8" | sed 's/^/    /'
cat <<NEXT

Where to look next:
  $bin/wf4-inspect -t wf5.domain.handoffs -o beginning     # decoded WF5 events, one JSON a line
  $bin/wf4-inspect -t wf4.domain.results -o beginning -c 3 # results with their metadata
  $bin/wf4ctl status ; $bin/wf4ctl doctor                   # pipeline health
  service logs: $demo_dir/logs/ ; metrics: each service's /metrics (port in its start-up log)
NEXT
if [ "$keep" = 1 ]; then
    echo "Left running (--keep). Environment: . $WF4_STACK_DIR/env ; stop: scripts/stack.sh down"
fi
