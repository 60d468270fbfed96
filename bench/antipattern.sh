#!/usr/bin/env bash
# Benchmark 5: the incident's anti-pattern (bench/antipattern/antipattern.c) against the same
# stand-in latency and the same database, through PgBouncer in transaction mode with a
# small pool, as the old scheduler ran behind Supavisor. Printed beside the pipeline's
# figures (benchmarks 1 and 2, when they ran in the same invocation).
source "$(dirname "$0")/lib.sh"

SECS=$((BENCH_QUICK == 1 ? 12 : 20))
WORKERS=8
POOL=5
L_MS=2500
HANG_RATE=0.05 # ScraperAPI's tail ("2-3 s, sometimes 70 s"), scaled down: 5 % take 8 s, then 500
HANG_MS=8000
IDLE_TX_S=5     # PgBouncer idle_transaction_timeout: the pooler kills a client idle in a transaction
WAIT_S=3        # PgBouncer query_wait_timeout: how long a client may wait for a server connection
command -v pgbouncer >/dev/null || die "pgbouncer is not installed (apt-get install pgbouncer)"

standin standin STANDIN_CONCURRENCY=256 STANDIN_LATENCY_MIN_MS=$L_MS STANDIN_LATENCY_MAX_MS=$L_MS \
    STANDIN_RATE_HANG=$HANG_RATE STANDIN_HANG_MS=$HANG_MS
db_reset
psql_admin -c "INSERT INTO domains (domain, sitemap_curation_status)
               SELECT 'legacy' || g || '.example-shop.com', 'Selected' FROM generate_series(1, 2000) g" >/dev/null

# PgBouncer, transaction pooling, the pool of a small managed plan. It refuses to run as root.
pw=$(sed -n 's|.*://wf4:\([^@]*\)@.*|\1|p' <<<"$WF4_DATABASE_URL")
pb=$(postgres_dir pgbouncer) || die "no directory for the postgres user"
BENCH_RM+=("$pb")
port=$(free_port)
cat >"$pb/pgbouncer.ini" <<EOF
[databases]
wf4 = host=127.0.0.1 port=$WF4_PG_PORT dbname=wf4 user=wf4 password=$pw
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $pb/userlist.txt
pool_mode = transaction
default_pool_size = $POOL
max_client_conn = $((WORKERS + 2))
query_wait_timeout = $WAIT_S
idle_transaction_timeout = $IDLE_TX_S
logfile = $pb/pgbouncer.log
pidfile = $pb/pgbouncer.pid
EOF
echo '"wf4" ""' >"$pb/userlist.txt"
chown -R postgres:postgres "$pb"
svc_start pgbouncer runuser -u postgres -- pgbouncer "$pb/pgbouncer.ini"
wait_until 10 bash -c "(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null" || die "pgbouncer did not start: $(tail -5 "$pb/pgbouncer.log" "$BENCH_TMP/pgbouncer.log")"

stat_db() {
    psql_pg -F' ' -c "SELECT active_time + idle_in_transaction_time, idle_in_transaction_time
                        FROM pg_stat_database WHERE datname = 'wf4'"
}
read -r db0 idle0 <<<"$(stat_db)"
say "$WORKERS workers, PgBouncer pool $POOL, L = $L_MS ms (${HANG_RATE} of calls hang $HANG_MS ms), $SECS s"
# Samples of pg_stat_activity: how many of the pool's connections are idle in transaction.
(while :; do
    psql_pg -c "SELECT count(*) FILTER (WHERE state LIKE 'idle in transaction%'), count(*)
                FROM pg_stat_activity WHERE datname = 'wf4' AND usename = 'wf4'"
    sleep 0.5
done >"$BENCH_TMP/samples.txt" 2>/dev/null) &
sampler=$!
AP_DATABASE_URL="postgresql://wf4@127.0.0.1:$port/wf4" "$WF4_BIN/antipattern" --workers $WORKERS \
    --seconds $SECS >"$BENCH_TMP/ap.json" 2>"$BENCH_TMP/ap.err" || true
kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
svc_kill pgbouncer # closes its server connections: their statistics are flushed
sleep 1.5
read -r db1 idle1 <<<"$(stat_db)"
[[ -s $BENCH_TMP/ap.json ]] || die "antipattern printed nothing: $(tail -5 "$BENCH_TMP/ap.err")"
j() { jq -r ".$1" "$BENCH_TMP/ap.json"; }
done_=$(j done)
stuck=$(psql_admin -c "SELECT count(*) FROM domains WHERE status = 'processing'")
idle_pct=$(awk -F'|' '{i += $1; n += $2} END {printf "%.0f\n", n ? i * 100 / n : 0}' "$BENCH_TMP/samples.txt")
figures antipattern pool="$POOL" l_ms="$L_MS" done="$done_" db0="$db0" db1="$db1" idle0="$idle0" \
    idle1="$idle1" killed="$(j killed)" wait_timeout="$(j wait_timeout)" refused="$(j refused)" \
    other_errors="$(j other_errors)"
row ap_rate "Anti-pattern throughput ($WORKERS workers, pool $POOL)" "$(j per_s)" "domains/s" "$F_bound" \
    "pool/L (Little's law on connections)" "info" "-"
pipe_rate=$(jq -r 'select(.key == "throughput") | .value' "$BENCH_OUT/scraper.rows" 2>/dev/null | head -1)
[[ -z $pipe_rate ]] || row ap_vs_pipe_rate "  pipeline, one scraper (benchmark 1)" "$pipe_rate" "domains/s" "" "" "info" "-"
row ap_tx_per_domain "Anti-pattern transaction time per committed domain (client side, incl. waiting for a pool connection)" "$(j tx_ms_per_domain)" "ms" "1" \
    "pipeline target" "info" "-"
pipe_db=$(jq -r 'select(.key == "db_per_domain") | .value' "$BENCH_OUT/pipeline.rows" 2>/dev/null | head -1)
[[ -z $pipe_db ]] || row ap_vs_pipe_db "  pipeline (benchmark 2)" "$pipe_db" "ms" "" "" "info" "-"
row ap_pg_per_domain "Anti-pattern PostgreSQL active + idle-in-tx time per committed domain" \
    "$F_pg_per" "ms" "" "" "info" "-"
row ap_idle_in_tx "Anti-pattern idle-in-transaction time (pg_stat_database), per committed domain" \
    "$F_idle_per" "ms" "" "" "info" "-"
row ap_failures "Anti-pattern failures (killed $(j killed), pool wait timeout $(j wait_timeout), refused $(j refused), other $(j other_errors))" \
    "$F_fails" "" "" "" "info" "-"
row ap_wasted "Anti-pattern API calls whose result was lost (rolled back)" "$(j wasted_api_calls)" \
    "calls" "$(j api_calls)" "API calls made" "info" "-"
note "anti-pattern: $done_ domains committed in $(j seconds) s, longest transaction $(j max_tx_ms) ms, mean API call $(j api_ms_mean) ms; pg_stat_activity samples: ${idle_pct}% of the pool's connections idle in transaction; $stuck rows left processing"
note "anti-pattern settings: PgBouncer transaction mode, default_pool_size=$POOL, max_client_conn=$((WORKERS + 2)), query_wait_timeout=${WAIT_S}s, idle_transaction_timeout=${IDLE_TX_S}s; stand-in L=${L_MS} ms with ${HANG_RATE} of calls hanging ${HANG_MS} ms then 500"
