#!/usr/bin/env bash
# Broker warm-up before the benchmarks (not measured): a freshly started Kafka spends a
# quarter to a third of these two cores JIT-compiling its produce and fetch paths for its
# first minutes (perf: the C1/C2 compiler threads), which a long-running broker has long
# done. N messages are produced to a scratch topic and consumed back, twice, then read by a
# committer through a consumer group.
source "$(dirname "$0")/lib.sh"

N=$((BENCH_QUICK == 1 ? 50000 : 150000))
topics warmup
t0=$(now)
for round in 1 2; do
    psql_admin -c "SELECT gen_random_uuid() || ' ' || gen_random_uuid() || ' warm' || g || '.example.com success'
                   FROM generate_series(1, $N) g" |
        "$WF4_BIN/wf4-resultgen" "$WF4_RESULTS_TOPIC" >"$BENCH_TMP/warmup.log" 2>&1 ||
        die "wf4-resultgen: $(tail -3 "$BENCH_TMP/warmup.log")"
    "$WF4_BIN/wf4-inspect" -o beginning -c $((N * round)) "$WF4_RESULTS_TOPIC" 2>>"$BENCH_TMP/warmup.log" |
        wc -l >"$BENCH_TMP/warmup.count" || die "wf4-inspect: $(tail -3 "$BENCH_TMP/warmup.log")"
done
# The consumer-group path (read_committed fetches, offset commits, an idempotent producer)
# the plain consumer above does not take: a committer over the same results. Their ids match
# no row, so each is superseded; it stops once it has read them all. Without this the
# broker's C2 compiler still took 12 % of the CPU during the committer's benchmark (perf).
superseded_all() {
    (($(metric warmcommitter 'wf4_committer_results_total\{outcome="superseded"') >= 2 * N))
}
service warmcommitter committer
wait_metrics warmcommitter
wait_until 300 superseded_all || die "warm-up committer: not all $((2 * N)) results read after 300 s"
svc_kill warmcommitter
say "broker warmed up: $((2 * N)) messages produced and consumed back, and read by a committer, in $(stats since "$t0") s"
