#!/usr/bin/env bash
# Benchmark 3: database-side throughput, no API at all.
#   claimer: K pending domains inserted beforehand; one claimer claims and publishes them
#            (claims acknowledged by Kafka per second).
#   committer: K processing rows and K success results on the topic beforehand; one
#            committer applies them (rows completed and handed off per second).
# Each next to what pgbench reaches on the same cluster in the same run with one-row
# UPDATE transactions (the rate of a design that writes one row per transaction).
source "$(dirname "$0")/lib.sh"

K=$((BENCH_QUICK == 1 ? 20000 : 100000))
PGB_T=$((BENCH_QUICK == 1 ? 5 : 10))
TARGET=20000
CLAIM_BATCHES=${BENCH_CLAIM_BATCHES:-$([[ $BENCH_QUICK == 1 ]] && echo 500 || echo "500 2000 5000")}
COMMIT_BATCHES=${BENCH_COMMIT_BATCHES:-$([[ $BENCH_QUICK == 1 ]] && echo 1000 || echo "1000 250")}

# rate NAME REGEX K: polls NAME's counter every 0.1 s until K; prints the rate from the
# first sample above zero to the first at K (so start-up and Kafka connection are excluded).
rate() {
    local name=$1 re=$2 k=$3 c t first_c='' first_t='' t0=$SECONDS
    while :; do
        c=$(metric "$name" "$re")
        t=$(now)
        if [[ -z $first_c ]] && ((c > 0)); then first_c=$c first_t=$t; fi
        ((c >= k)) && break
        ((SECONDS - t0 < 300)) || die "$name: $c of $k after 300 s"
        svc_alive "$name" || die "$name died: $(tail -5 "$BENCH_TMP/$name.log")"
        sleep 0.1
    done
    calc "round(($c - $first_c) / ($t - $first_t), 1) if $t > $first_t else float('nan')"
}

# ---------------------------------------------------------------- pgbench
say "pgbench: one-row UPDATE transactions, -c 8 -j 2, ${PGB_T} s"
pgb_url=${WF4_ADMIN_DATABASE_URL%/*}/bench_pgbench
psql_pg -c "DROP DATABASE IF EXISTS bench_pgbench" >/dev/null
psql_pg -c "CREATE DATABASE bench_pgbench" >/dev/null
"$WF4_PG_BIN/pgbench" -i -q -s 5 "$pgb_url" >"$BENCH_TMP/pgbench-init.log" 2>&1 || die "pgbench -i: $(tail -3 "$BENCH_TMP/pgbench-init.log")"
cat >"$BENCH_TMP/update.sql" <<'EOF'
\set aid random(1, 100000 * :scale)
UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;
EOF
pgb_tps() { sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$1" | head -1; }
"$WF4_PG_BIN/pgbench" -n -c 8 -j 2 -T "$PGB_T" -f "$BENCH_TMP/update.sql" "$pgb_url" >"$BENCH_TMP/pgbench-update.log" 2>&1 ||
    die "pgbench: $(tail -3 "$BENCH_TMP/pgbench-update.log")"
PGB=$(pgb_tps "$BENCH_TMP/pgbench-update.log")
"$WF4_PG_BIN/pgbench" -n -c 8 -j 2 -T "$PGB_T" -b simple-update "$pgb_url" >"$BENCH_TMP/pgbench-simple.log" 2>&1 ||
    die "pgbench: $(tail -3 "$BENCH_TMP/pgbench-simple.log")"
PGB_SIMPLE=$(pgb_tps "$BENCH_TMP/pgbench-simple.log")
row pgbench_update "pgbench, one-row UPDATE per transaction (-c 8 -j 2 -T $PGB_T)" "$PGB" "tx/s" "" "" "bound" "-"
row pgbench_simple "pgbench -b simple-update (3 statements per transaction)" "$PGB_SIMPLE" "tx/s" "" "" "info" "-"
psql_pg -c "DROP DATABASE bench_pgbench" >/dev/null

# ---------------------------------------------------------------- claimer
topics dbthroughput
first=1
for b in $CLAIM_BATCHES; do
    say "claimer: $K pending domains, WF4_CLAIM_BATCH=$b"
    db_reset
    psql_admin -c "INSERT INTO domains (domain, sitemap_curation_status)
                   SELECT 'claim' || g || '.example-shop.com', 'Selected' FROM generate_series(1, $K) g" >/dev/null
    psql_admin -c "VACUUM ANALYZE domains" >/dev/null
    service claimer claimer WF4_CLAIM_BATCH="$b" WF4_MAX_IN_FLIGHT=10000000 WF4_TX_BUDGET_MS=1000
    wait_metrics claimer
    r=$(rate claimer wf4_claimer_published_total "$K")
    scrape claimer "$BENCH_TMP/claimer.$b"
    svc_stop claimer
    txs=$(awk '/^wf4_db_transaction_seconds_count/ {print $NF}' "$BENCH_TMP/claimer.$b")
    txsum=$(awk '/^wf4_db_transaction_seconds_sum/ {print $NF}' "$BENCH_TMP/claimer.$b")
    # The default batch is judged; other sizes are the investigation (verdict in the text).
    key=claimer_rate target=">= $TARGET/s" pass=$(calc "int($r >= $TARGET)")
    ((first)) || { key=claimer_rate_b$b target="investigation ($( ((pass)) && echo 'would pass' || echo 'still short'))" pass=-; }
    row "$key" "Claimer: claims published per second (K=$K, batch $b)" "$r" "claims/s" "$PGB" \
        "pgbench one-row UPDATE tx/s" "$target" "$pass"
    note "claimer batch $b: $txs transactions, $(calc "round($txsum * 1000 / max($txs, 1), 1)") ms each on average, $(calc "round($txsum / ($K / $r) * 100, 0)")% of the wall time inside transactions (the rest: publishing and waiting for Kafka's acks)"
    first=0
done

# ---------------------------------------------------------------- committer
first=1
for b in $COMMIT_BATCHES; do
    say "committer: $K results for processing rows, WF4_COMMIT_BATCH=$b"
    db_reset
    psql_admin -c "INSERT INTO domains (domain, status, claim_id, claimed_at, lease_expires_at, attempts)
                   SELECT 'commit' || g || '.example-shop.com', 'processing', gen_random_uuid(), now(),
                          now() + interval '1 hour', 1 FROM generate_series(1, $K) g" >/dev/null
    psql_admin -c "VACUUM ANALYZE domains" >/dev/null
    topics "dbthroughput$b" # a fresh results topic per run
    t0=$(now)
    psql_admin -c "SELECT id || ' ' || claim_id || ' ' || domain || ' success' FROM domains" |
        "$WF4_BIN/wf4-resultgen" "$WF4_RESULTS_TOPIC" >"$BENCH_TMP/resultgen.log" 2>&1 || die "wf4-resultgen: $(tail -3 "$BENCH_TMP/resultgen.log")"
    say "  $K results produced in $(calc "round($(now) - $t0, 1)") s"
    service committer committer WF4_COMMIT_BATCH="$b" WF4_TX_BUDGET_MS=5000 WF4_DB_STATEMENT_TIMEOUT_MS=60000
    wait_metrics committer
    r=$(rate committer 'wf4_committer_results_total\{outcome="completed"' "$K")
    scrape committer "$BENCH_TMP/committer.$b"
    svc_stop committer
    txs=$(awk '/^wf4_db_transaction_seconds_count/ {print $NF}' "$BENCH_TMP/committer.$b")
    txsum=$(awk '/^wf4_db_transaction_seconds_sum/ {print $NF}' "$BENCH_TMP/committer.$b")
    key=committer_rate target=">= $TARGET/s" pass=$(calc "int($r >= $TARGET)")
    ((first)) || { key=committer_rate_b$b target="investigation ($( ((pass)) && echo 'would pass' || echo 'still short'))" pass=-; }
    row "$key" "Committer: results applied per second (K=$K, batch $b)" "$r" "results/s" "$PGB" \
        "pgbench one-row UPDATE tx/s" "$target" "$pass"
    note "committer batch $b: $txs transactions (apply + outbox delete), $(calc "round($txsum * 1000 / max($txs, 1), 1)") ms each on average, $(calc "round($txsum / ($K / $r) * 100, 0)")% of the wall time inside transactions"
    first=0
done
sc=$(psql_pg -c "SHOW synchronous_commit")
fs=$(psql_pg -c "SHOW fsync")
note "cluster: synchronous_commit=$sc, fsync=$fs (the test stack's settings; pgbench ran under the same)"
