#!/usr/bin/env bash
# Reliability under faults: CHAOS_DOMAINS (5,000) domains through two claimers, three scrapers
# and two committers while the stand-in injects 500s, 429s, hangs, resets, malformed, huge
# and non-HTML pages, the harness SIGKILLs random instances (CHAOS_KILLS, >= 10) and restarts
# them, restarts the Kafka broker and PostgreSQL once each, and poison messages of seven
# kinds go into both input topics. Checks, printed with counts: every domain terminal (error
# with a reason), one handoff per completed domain, every handoff on the WF5 topic, no row
# changed by a superseded claim (topic analysis + stale results injected at the end), every
# poison message in a DLQ, no pipeline connection idle in transaction > 1 s (pg_stat_activity
# sampled every 100 ms), no exit but our kills and clean SIGTERMs, no sanitizer report.
. "$WF4_SRC/tests/lib.sh"

N=${CHAOS_DOMAINS:-5000}
KILLS=${CHAOS_KILLS:-12}
DEADLINE_S=${CHAOS_DEADLINE_S:-600}
SEED=${CHAOS_SEED:-$((RANDOM * 32768 + RANDOM))}
RUN_ID="$(date +%s)$$"
CLAIMS="t.chaos.$RUN_ID.claims" RESULTS="t.chaos.$RUN_ID.results" HANDOFFS="t.chaos.$RUN_ID.handoffs"
STANDIN_KEY="chaos$(random_hex 12)"
export WF4_SCRAPER_GROUP="g.$RUN_ID.scraper" \
    WF4_COMMITTER_GROUP="g.$RUN_ID.committer" WF4_METRICS_PORT=0 \
    WF4_KAFKA_PROPS=session.timeout.ms=6000 WF4_RETRY_BASE_S=1 WF4_RETRY_CAP_S=3 \
    WF4_SCRAPER_RETRY_BASE_MS=100 WF4_SCRAPER_RETRY_CAP_MS=1000 WF4_SCRAPER_MAX_RETRIES=0 \
    WF4_SCRAPER_TIMEOUT_MS=2000 WF4_SCRAPER_GRACE_MS=3000 WF4_LEASE_SECONDS=45 \
    WF4_MAX_IN_FLIGHT=800 WF4_CLAIM_BATCH=200 WF4_MAX_ATTEMPTS=5 WF4_PUBLISH_TIMEOUT_MS=10000
# No retry inside the scraper: a 5xx, reset or hang becomes a retryable failure result, the
# committer puts the domain back to pending and it is claimed again under a new claim id, so
# the fencing checks see real older claims.
say "seed $SEED, $N domains, $KILLS kills (CHAOS_SEED=$SEED reproduces the harness's choices)"

private_topics "$TEST_TMP/schemas" "$CLAIMS" "$RESULTS" "$HANDOFFS" "$TEST_TMP/topics.log" ||
    fatal "cannot create topics: $(cat "$TEST_TMP/topics.log")"

# The shared stack must be whole again whatever ends this test early.
stack_heal() {
    kcat -b "$WF4_KAFKA_BROKERS" -L -m 5 >/dev/null 2>&1 ||
        WF4_STACK_KAFKA_WAIT_S=${WF4_STACK_KAFKA_WAIT_S:-180} "$WF4_SRC/scripts/stack.sh" start-kafka >>"$TEST_TMP/stack.log" 2>&1 || say "cannot restart Kafka"
    "$WF4_PG_BIN/pg_isready" -q -d "$WF4_ADMIN_DATABASE_URL" ||
        "$WF4_SRC/scripts/stack.sh" start-pg >>"$TEST_TMP/stack.log" 2>&1 || say "cannot restart PostgreSQL"
}
on_exit stack_heal

# ------------------------------------------------------------------ idle-in-transaction sampler
# One psql session fed a query every 100 ms (a new session after PostgreSQL's restart).
touch "$TEST_TMP/samples"
(
    while [[ ! -f $TEST_TMP/sampler.stop ]]; do
        while [[ ! -f $TEST_TMP/sampler.stop ]]; do
            # cat fails once psql is gone (PostgreSQL restarted): a new session then.
            if cat <<'SQL'
SELECT 'S', (extract(epoch FROM clock_timestamp()) * 1000)::bigint, count(*),
       count(*) FILTER (WHERE state LIKE 'idle in transaction%'),
       coalesce((max(extract(epoch FROM clock_timestamp() - state_change) * 1000)
                 FILTER (WHERE state LIKE 'idle in transaction%'))::bigint, 0),
       count(*) FILTER (WHERE state LIKE 'idle in transaction%'
                          AND clock_timestamp() - state_change > interval '1 second')
  FROM pg_stat_activity WHERE application_name LIKE 'wf4-%';
SELECT 'OFFENDER', application_name, pid, state, clock_timestamp() - state_change, left(query, 100)
  FROM pg_stat_activity WHERE application_name LIKE 'wf4-%' AND state LIKE 'idle in transaction%'
   AND clock_timestamp() - state_change > interval '1 second';
SQL
            then sleep 0.1; else break; fi
        done | "$WF4_PG_BIN/psql" -X -qAt -F' ' "$WF4_ADMIN_DATABASE_URL" >>"$TEST_TMP/samples" 2>>"$TEST_TMP/sampler.err" || true
        sleep 0.2
    done
) &
SAMPLER=$!
sampler_stop() { touch "$TEST_TMP/sampler.stop"; wait "$SAMPLER" 2>/dev/null || true; }
on_exit sampler_stop

# ------------------------------------------------------------------ stand-in and services
standin_start standin STANDIN_SEED="$SEED" \
    STANDIN_CONCURRENCY=40 STANDIN_LATENCY_MIN_MS=50 STANDIN_LATENCY_MAX_MS=300 \
    STANDIN_RATE_500=0.05 STANDIN_RATE_HANG=0.01 STANDIN_HANG_MS=4000 STANDIN_RATE_RESET=0.02 \
    STANDIN_RATE_MALFORMED=0.03 STANDIN_RATE_HUGE=0.005 STANDIN_HUGE_BYTES=3000000 \
    STANDIN_RATE_NONHTML=0.02 STANDIN_RATE_404=0.01
export SCRAPERAPI_URL="$STANDIN_URL" SCRAPERAPI_KEY="$STANDIN_KEY"

# The instances, their kills and restarts, the broker's and the server's restarts: the
# scheduler (tests/chaos_scheduler.py) runs them; the checks below read its reports.
db_reset
python3 "$WF4_SRC/tests/chaos_scheduler.py" "$TEST_TMP" "$SEED" "$KILLS" "$DEADLINE_S" "$(svc_pid standin)" &
SCHEDULER=$!
scheduler_end() { kill -TERM "$SCHEDULER" 2>/dev/null && wait "$SCHEDULER" 2>/dev/null || true; }
on_exit scheduler_end
# scheduler_wait FILE: until the scheduler wrote FILE; fatal when it is gone before.
scheduler_wait() {
    until [[ -f $TEST_TMP/$1 ]]; do
        pid_alive "$SCHEDULER" || fatal "the chaos scheduler exited before writing $1"
        sleep 0.5
    done
}
scheduler_wait chaos.started

tlds=(com de net io fr co.uk)
for ((i = 0; i < N; i++)); do printf 'shop%05d.chaos-%s.%s\n' "$i" "$((i % 61))" "${tlds[$((i % 6))]}"; done >"$TEST_TMP/domains"
printf '%s\n' localhost 192.168.1.10 'bad..name.example' >>"$TEST_TMP/domains"
total=$(sort -u "$TEST_TMP/domains" | wc -l)
select_domains "$TEST_TMP/domains"
t0=$(date +%s)
say "$total domains selected"

# ------------------------------------------------------------------ poison
# Crafted from a valid claim and a valid result of this run (raw bytes, whatever framing).
capture() { kcat -b "$WF4_KAFKA_BROKERS" -C -t "$1" -o beginning -c 1 -e -q -f '%s' >"$2" 2>/dev/null && [[ -s $2 ]]; }
wait_until 120 capture "$CLAIMS" "$TEST_TMP/claim.bin" || fatal "no claim on $CLAIMS"
wait_until 120 capture "$RESULTS" "$TEST_TMP/result.bin" || fatal "no result on $RESULTS"
mkdir -p "$TEST_TMP/poison"
read -r -a KINDS <<<"$(python3 "$WF4_SRC/tests/chaos_poison.py" "$TEST_TMP/claim.bin" "$TEST_TMP/result.bin" "$TEST_TMP/poison")"
for topic in claims results; do
    t=$CLAIMS
    [[ $topic == results ]] && t=$RESULTS
    for kind in "${KINDS[@]}"; do
        # Compressed, so the broker takes the oversized one (its limit is on the batch).
        kcat -b "$WF4_KAFKA_BROKERS" -P -t "$t" -k "poison-$kind" -z gzip \
            -X message.max.bytes=4000000 "$TEST_TMP/poison/$topic.$kind.bin" ||
            fail "cannot produce poison $kind into $t"
    done
done
say "poison: ${#KINDS[@]} kinds into each of $CLAIMS and $RESULTS (${KINDS[*]})"

# ------------------------------------------------------------------ chaos
echo "$t0 $total" >"$TEST_TMP/chaos.go.tmp"
mv "$TEST_TMP/chaos.go.tmp" "$TEST_TMP/chaos.go"
scheduler_wait chaos.done
chaos() { jq -r "$1" "$TEST_TMP/chaos.done"; }
[[ $(chaos '.fatal // empty') == '' ]] || fatal "chaos: $(chaos .fatal)"
[[ $(chaos '.late // empty') == '' ]] || fail "$(chaos .late)"
while read -r line; do fail "chaos: $line"; done < <(chaos '.crashed[]')
kills=$(chaos .kills) crashes=$(chaos .crashes) elapsed=$(chaos .elapsed)
kafka_restarts=$(chaos .kafka_restarts) pg_restarts=$(chaos .pg_restarts)
say "chaos done after ${elapsed}s: $kills kills ($(chaos .kills_by.scraper) scraper, $(chaos .kills_by.committer) committer, $(chaos .kills_by.claimer) claimer), $kafka_restarts Kafka restart, $pg_restarts PostgreSQL restart"

# ------------------------------------------------------------------ checks: faults injected
curl -s --max-time 5 "${SCRAPERAPI_URL}stats" >"$TEST_TMP/standin.stats" || true
read -r sreq s429 s500 shang sreset smal shuge snon s404 smax <<<"$(jq -r '[.requests, .status429, .status500, .hangs, .resets, .malformed, .huge, .nonhtml, .status["404"], .maxInFlight] | map(tostring) | join(" ")' "$TEST_TMP/standin.stats" 2>/dev/null || echo 0 0 0 0 0 0 0 0 0 0)"
say "RESULT stand-in: $sreq requests (at most $smax in flight, plan 40): $s429 x 429, $s500 x 500, $shang hangs, $sreset resets, $smal malformed, $shuge huge, $snon non-HTML, $s404 x 404"
check "[ $s429 -gt 0 ] && [ $s500 -gt 0 ] && [ $shang -gt 0 ] && [ $sreset -gt 0 ] && [ $smal -gt 0 ] && [ $shuge -gt 0 ] && [ $snon -gt 0 ]" \
    "the stand-in injected every kind of fault"

# ------------------------------------------------------------------ checks: database
sleep 2
read -r done err proc <<<"$(psql_admin -F' ' -c "SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'error'), count(*) FILTER (WHERE status IS DISTINCT FROM 'completed' AND status IS DISTINCT FROM 'error') FROM domains")"
say "RESULT domains: $total selected, $done completed, $err error, $proc other"
check "[ $proc = 0 ] && [ $((done + err)) = $total ]" "every domain completed or error, none processing"
noreason=$(psql_admin -c "SELECT count(*) FROM domains WHERE status = 'error' AND coalesce(error_message, '') = ''")
check "[ $noreason = 0 ]" "every error has a reason ($noreason without)"
psql_admin -F' | ' -c "SELECT count(*), left(regexp_replace(error_message, '[0-9]+', 'N', 'g'), 70) FROM domains WHERE status = 'error' GROUP BY 2 ORDER BY 1 DESC LIMIT 12" | sed 's/^/    /'
read -r handoffs distinct queued <<<"$(psql_admin -F' ' -c "SELECT count(handoff_event_id), count(DISTINCT handoff_event_id), count(*) FILTER (WHERE sitemap_analysis_status = 'queued') FROM domains WHERE status = 'completed'")"
check "[ $handoffs = $done ] && [ $distinct = $done ] && [ $queued = $done ]" "exactly one handoff per completed domain ($handoffs handoffs, $distinct distinct, $queued queued, $done completed)"
outbox_empty() { [[ $(psql_admin -c 'SELECT count(*) FROM wf5_outbox') == 0 ]]; }
wait_until 60 outbox_empty || fail "outbox not drained: $(psql_admin -c 'SELECT count(*) FROM wf5_outbox') rows"

# ------------------------------------------------------------------ checks: topics
"$WF4_BIN/wf4-inspect" -o beginning "$HANDOFFS" 2>/dev/null >"$TEST_TMP/handoffs.jsonl" || true
"$WF4_BIN/wf4-inspect" -o beginning "$CLAIMS" 2>/dev/null >"$TEST_TMP/claims.jsonl" || true
"$WF4_BIN/wf4-inspect" -o beginning "$RESULTS" 2>/dev/null >"$TEST_TMP/results.jsonl" || true
jq -r '.value.event_id // empty' "$TEST_TMP/handoffs.jsonl" | sort >"$TEST_TMP/events_all"
sort -u "$TEST_TMP/events_all" >"$TEST_TMP/events"
psql_admin -c "SELECT handoff_event_id FROM domains WHERE status = 'completed'" | sort >"$TEST_TMP/db_events"
missing=$(comm -23 "$TEST_TMP/db_events" "$TEST_TMP/events" | wc -l)
stray=$(comm -13 "$TEST_TMP/db_events" "$TEST_TMP/events" | wc -l)
dups=$(($(wc -l <"$TEST_TMP/events_all") - $(wc -l <"$TEST_TMP/events")))
say "RESULT WF5 topic: $(wc -l <"$TEST_TMP/events_all") events, $(wc -l <"$TEST_TMP/events") distinct, $dups re-published duplicates (at-least-once, same event id)"
check "[ $missing = 0 ] && [ $stray = 0 ]" "every handoff event id is on the WF5 topic ($missing missing, $stray strays)"

# ------------------------------------------------------------------ checks: fencing
superseded_logged() { cat "$(svc_log committer1)" "$(svc_log committer2)" | grep -c 'superseded result for' || true; }
psql_admin -F$'\t' -c "SELECT id, domain, status, claim_id, attempts, handoff_event_id FROM domains ORDER BY id" >"$TEST_TMP/rows.tsv"
psql_admin -F$'\t' -c "SELECT id, credits_spent FROM domains ORDER BY id" >"$TEST_TMP/credits.tsv"
charged=$(curl -sf --max-time 5 "${SCRAPERAPI_URL}account" | jq '.requestCount // 0' || echo 0)
python3 "$WF4_SRC/tests/chaos_analyze.py" "$TEST_TMP/claims.jsonl" "$TEST_TMP/results.jsonl" \
    "$TEST_TMP/handoffs.jsonl" "$TEST_TMP/rows.tsv" "$TEST_TMP/stale.txt" \
    "$TEST_TMP/credits.tsv" "$charged" >"$TEST_TMP/fencing.txt" 2>"$TEST_TMP/credits_diff.txt"
sed 's/^/    /' "$TEST_TMP/fencing.txt"
fv() { awk -v k="$1" '$1 == k {print $2}' "$TEST_TMP/fencing.txt"; }
sup_run=$(superseded_logged)
say "RESULT superseded results ignored by the committers during the run: $sup_run (logged); results of older claims in the topic: $(fv results_of_older_claims); domains claimed more than once: $(fv domains_reclaimed)"
check "[ $(fv violation_completed_by_older_claim) = 0 ] && [ $(fv violation_claim_never_published) = 0 ]" \
    "every completed row carries the domain's newest claim ($(fv completed_checked) rows checked)"
check "[ $(fv violation_completed_without_success_result) = 0 ] && [ $(fv violation_handoff_claim_mismatch) = 0 ]" \
    "every completed row was completed by a SUCCESS result of its own claim, and its handoff names that claim"
# ------------------------------------------------------------------ credits (issue 23)
# The database counts each claim's credits once (its first result, applied or superseded);
# what the stand-in charged beyond that was paid for calls whose result a kill lost: the
# scraper died before publishing it, or after publishing but before committing the claim's
# offset, so the claim was replayed, scraped and paid again, and its second result is a
# replay to the committer.
say "RESULT credits: stand-in charged $(fv credits_charged), result messages carry $(fv credits_in_results), database $(fv credits_database) for $(fv credits_completed_domains) completed domains: $(fv credits_per_completed_domain) credits per completed domain"
say "RESULT credits lost to kills: $(fv credits_lost_to_kills) (charged - database) = $(fv credits_charged_without_result) charged for calls whose result never reached the topic + $(fv credits_results_of_replayed_claims) in $(fv results_of_replayed_claims) results of claims replayed after a kill and scraped again"
say "RESULT credits: database - first result of every claim = $(fv credits_database_minus_first_results) ($(fv credits_domains_database_differs) domains differ)"
sed 's/^/    /' "$TEST_TMP/credits_diff.txt"
check "[ $(fv credits_database) -gt 0 ] && [ $(fv credits_database) -le $(fv credits_charged) ] && [ $(fv credits_in_results) -le $(fv credits_charged) ]" \
    "the database counts credits, never more than the stand-in charged, nor do the results"
# Stale results for terminal rows (older claim ids, or never-issued ones): nothing may change.
rowsum() { psql_admin -c "SELECT id, md5(d::text) FROM domains d ORDER BY id" >"$1"; }
rowsum "$TEST_TMP/rows.before"
nstale=$(wc -l <"$TEST_TMP/stale.txt")
"$WF4_BIN/wf4-resultgen" "$RESULTS" <"$TEST_TMP/stale.txt" >"$TEST_TMP/resultgen.log" 2>&1 || fail "resultgen: $(cat "$TEST_TMP/resultgen.log")"
stale_seen() { (($(superseded_logged) - sup_run >= nstale)); }
wait_until 90 stale_seen || fail "committers did not report the $nstale stale results as superseded ($(($(superseded_logged) - sup_run)))"
sleep 1
rowsum "$TEST_TMP/rows.after"
changed=$(diff "$TEST_TMP/rows.before" "$TEST_TMP/rows.after" | grep -c '^>' || true)
say "RESULT stale results injected: $nstale ($(fv stale_with_real_older_claim) with a real older claim id), reported superseded: $(($(superseded_logged) - sup_run)), rows changed: $changed"
check "[ $changed = 0 ]" "no row changed by a superseded claim's result"

# ------------------------------------------------------------------ checks: DLQ
dlq_total=0
for topic in claims results; do
    t=$CLAIMS
    [[ $topic == results ]] && t=$RESULTS
    kcat -b "$WF4_KAFKA_BROKERS" -C -t "$t.dlq" -o beginning -e -q -f '%k\t%h\n' >"$TEST_TMP/$topic.dlq" 2>/dev/null || true
    line=""
    for kind in "${KINDS[@]}"; do
        c=$(awk -F'\t' -v k="poison-$kind" '$1 == k && $2 ~ /wf4.dlq.error=/' "$TEST_TMP/$topic.dlq" | wc -l)
        line+=" $kind=$c"
        dlq_total=$((dlq_total + (c > 0)))
        check "[ $c -ge 1 ]" "poison $kind into $topic is in $t.dlq with a reason ($c)"
    done
    say "RESULT $topic DLQ: $(wc -l <"$TEST_TMP/$topic.dlq") messages;$line"
    awk -F'\t' '$1 ~ /^poison-/ {print $1, $2}' "$TEST_TMP/$topic.dlq" | sed -E 's/.*(poison-[a-z_0-9]+).*wf4\.dlq\.error=([^,]{0,90}).*/      \1: \2/' | sort -u
done
say "RESULT poison: $((2 * ${#KINDS[@]})) sent, $dlq_total found in a DLQ"

# ------------------------------------------------------------------ checks: idle in transaction
sampler_stop
nsamples=$(grep -c '^S ' "$TEST_TMP/samples" || true)
read -r maxidle over span maxgap maxconns <<<"$(awk '$1 == "S" { if (prev) { g = $2 - prev; if (g > gap) gap = g } else first = $2; prev = $2;
    if ($5 > m) m = $5; o += ($6 > 0); if ($3 > c) c = $3 } END { print m + 0, o + 0, (prev - first) / 1000, gap + 0, c + 0 }' "$TEST_TMP/samples")"
say "RESULT idle in transaction: $nsamples samples over ${span}s (longest gap ${maxgap} ms, PostgreSQL restart included), up to $maxconns pipeline connections, longest idle in transaction seen ${maxidle} ms, samples over 1 s: $over"
grep '^OFFENDER' "$TEST_TMP/samples" | head -5 | sed 's/^/    /' || true
check "[ $over = 0 ]" "no pipeline connection idle in transaction for more than 1 s"
check "[ $nsamples -gt $((elapsed * 4)) ] && [ $maxgap -lt 5000 ] && [ ${span%.*} -ge $elapsed ]" "the sampler ran throughout ($nsamples samples over ${span}s, chaos ${elapsed}s, longest gap $maxgap ms)"

# ------------------------------------------------------------------ checks: exits
touch "$TEST_TMP/chaos.stop"
scheduler_wait chaos.stopped
clean_stops=$(jq -r .clean "$TEST_TMP/chaos.stopped") unclean_stops=$(jq -r .unclean "$TEST_TMP/chaos.stopped")
bad_kills=$(awk '$3 == "SIGKILL" && $2 != 137' "$TEST_TMP/exits" | wc -l)
say "RESULT exits: $(grep -c SIGKILL "$TEST_TMP/exits") by our SIGKILL, $clean_stops clean SIGTERM (status 0), $unclean_stops unclean SIGTERM, $crashes crashes"
check "[ $crashes = 0 ] && [ $unclean_stops = 0 ] && [ $bad_kills = 0 ]" "no service exit other than our kills and clean SIGTERMs"
san=$(cat "$TEST_TMP"/*.log | grep -c -E 'AddressSanitizer|LeakSanitizer|runtime error|UndefinedBehaviorSanitizer' || true)
check "[ $san = 0 ]" "no sanitizer report in any service log ($san)"
check "[ $kills -ge 10 ] && [ $kafka_restarts = 1 ] && [ $pg_restarts = 1 ]" "the faults happened: $kills kills, $kafka_restarts Kafka and $pg_restarts PostgreSQL restart"
healthy=0
kcat -b "$WF4_KAFKA_BROKERS" -L -m 10 >/dev/null 2>&1 && "$WF4_PG_BIN/pg_isready" -q -d "$WF4_ADMIN_DATABASE_URL" || healthy=1
check "[ $healthy = 0 ]" "the shared stack is healthy at the end"
