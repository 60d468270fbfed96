#!/usr/bin/env bash
# The whole pipeline end to end on the real PostgreSQL and Kafka with the ScraperAPI
# stand-in: every selected domain ends completed or error with a reason, each completed one
# is handed to WF5 exactly once, garbage in each input topic lands in its DLQ while the
# pipeline keeps going, and every service's /metrics parses.
# E2E_DOMAINS (default: the demo set, ~300) and E2E_SCRAPERS/E2E_COMMITTERS/E2E_CLAIMERS size the run.
. "$WF4_SRC/tests/lib.sh"

RUN_ID="$(date +%s)$$"
CLAIMS="t.e2e.$RUN_ID.claims" RESULTS="t.e2e.$RUN_ID.results" HANDOFFS="t.e2e.$RUN_ID.handoffs"
STANDIN_KEY="e2e$(random_hex 12)"
export WF4_SCRAPER_GROUP="g.$RUN_ID.scraper" \
    WF4_COMMITTER_GROUP="g.$RUN_ID.committer" WF4_METRICS_PORT=0 \
    WF4_KAFKA_PROPS=session.timeout.ms=6000 WF4_RETRY_BASE_S=1 WF4_RETRY_CAP_S=4 \
    WF4_SCRAPER_RETRY_BASE_MS=100 WF4_SCRAPER_RETRY_CAP_MS=1000 WF4_LEASE_SECONDS=60
n_domains=${E2E_DOMAINS:-0}

# This run's own topics, from a copy of the catalogue.
private_topics "$TEST_TMP/schemas" "$CLAIMS" "$RESULTS" "$HANDOFFS" "$TEST_TMP/topics.log" ||
    fatal "cannot create topics: $(cat "$TEST_TMP/topics.log")"

standin_start standin STANDIN_LATENCY_MIN_MS=100 \
    STANDIN_LATENCY_MAX_MS=500 STANDIN_RATE_500=0.05 STANDIN_RATE_MALFORMED=0.05 \
    STANDIN_RATE_NONHTML=0.02 STANDIN_CONCURRENCY=100
export SCRAPERAPI_URL="$STANDIN_URL" SCRAPERAPI_KEY="$STANDIN_KEY"

db_reset
for i in $(seq 1 "${E2E_CLAIMERS:-1}"); do svc_start "claimer$i" env WF4_INSTANCE_ID="claimer$i" "$WF4_BIN/claimer"; done
for i in $(seq 1 "${E2E_SCRAPERS:-2}"); do svc_start "scraper$i" env WF4_INSTANCE_ID="scraper$i" WF4_SCRAPER_CONCURRENCY=80 "$WF4_BIN/scraper"; done
for i in $(seq 1 "${E2E_COMMITTERS:-1}"); do svc_start "committer$i" env WF4_INSTANCE_ID="committer$i" "$WF4_BIN/committer"; done

# Demo names, cycled with a suffix to reach n_domains, plus the must-fail ones.
grep -v -E '^\s*(#|$)' "$WF4_SRC/demo/domains.txt" >"$TEST_TMP/base"
[ "$n_domains" -gt 0 ] || n_domains=$(wc -l <"$TEST_TMP/base")
awk -v n="$n_domains" '{a[NR]=$0} END {for (i = 0; i < n; i++) { d = a[i % NR + 1];
     if (i >= NR) { sub(/\./, i ".", d) } print d }}' "$TEST_TMP/base" >"$TEST_TMP/domains"
total=$(sort -u "$TEST_TMP/domains" | wc -l)
select_domains "$TEST_TMP/domains"
t0=$SECONDS

# Garbage into each input topic while the pipeline runs.
sleep 1
printf 'garbage-claim-%s' "$RUN_ID" | kcat -b "$WF4_KAFKA_BROKERS" -P -t "$CLAIMS" -k poison
printf '\x00\x00\x00\x7f\xffgarbage-result' | kcat -b "$WF4_KAFKA_BROKERS" -P -t "$RESULTS" -k poison

wait_terminal "$total" 600 || fail "not every domain terminal after 600 s: $(status_counts)"
elapsed=$((SECONDS - t0))
sleep 2

read -r done err proc <<<"$(psql_admin -F' ' -c "SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'error'), count(*) FILTER (WHERE status NOT IN ('completed', 'error')) FROM domains")"
say "$total domains in ${elapsed}s: $done completed, $err error, $proc other"
check "[ $proc = 0 ] && [ $((done + err)) = $total ]" "every domain completed or error"
noreason=$(psql_admin -c "SELECT count(*) FROM domains WHERE status = 'error' AND coalesce(error_message, '') = ''")
check "[ $noreason = 0 ]" "every error has a reason"
psql_admin -c "SELECT left(error_message, 60), count(*) FROM domains WHERE status = 'error' GROUP BY 1 ORDER BY 2 DESC" | sed 's/^/    /'
nf=$(psql_admin -c "SELECT count(*) FROM domains WHERE domain LIKE 'notfound-%' AND status = 'error' AND error_message LIKE '%404%'")
check "[ $nf -ge 2 ]" "the stand-in's 404 domains end as error with the status ($nf)"
bad=$(psql_admin -c "SELECT count(*) FROM domains WHERE domain IN ('localhost', '192.168.1.10') AND status = 'error'")
check "[ $bad = 2 ]" "localhost and an IP literal are refused without an API call ($bad)"
read -r handoffs distinct queued <<<"$(psql_admin -F' ' -c "SELECT count(handoff_event_id), count(DISTINCT handoff_event_id), count(*) FILTER (WHERE sitemap_analysis_status = 'queued') FROM domains WHERE status = 'completed'")"
check "[ $handoffs = $done ] && [ $distinct = $done ] && [ $queued = $done ]" "each completed domain handed to WF5 once ($handoffs handoffs, $queued queued)"
meta=$(psql_admin -c "SELECT count(*) FROM domains WHERE status = 'completed' AND title IS NOT NULL")
say "completed with a title: $meta of $done"
wait_until 60 bash -c "[ \"\$(\"$WF4_PG_BIN/psql\" -X -qAt \"$WF4_ADMIN_DATABASE_URL\" -c 'SELECT count(*) FROM wf5_outbox')\" = 0 ]" || fail "outbox not drained"
"$WF4_BIN/wf4-inspect" -o beginning "$HANDOFFS" 2>/dev/null | jq -r '.value.event_id' | sort -u >"$TEST_TMP/events"
psql_admin -c "SELECT handoff_event_id FROM domains WHERE status = 'completed'" | sort >"$TEST_TMP/db_events"
missing=$(comm -23 "$TEST_TMP/db_events" "$TEST_TMP/events" | wc -l)
stray=$(comm -13 "$TEST_TMP/db_events" "$TEST_TMP/events" | wc -l)
check "[ $missing = 0 ] && [ $stray = 0 ]" "the WF5 topic holds every handoff event id ($missing missing, $stray strays)"

cdlq=$(kcat -b "$WF4_KAFKA_BROKERS" -C -t "$CLAIMS.dlq" -o beginning -e -q -f '%h\n' | grep -c 'wf4.dlq.error=' || true)
rdlq=$(kcat -b "$WF4_KAFKA_BROKERS" -C -t "$RESULTS.dlq" -o beginning -e -q -f '%h\n' | grep -c 'wf4.dlq.error=' || true)
check "[ $cdlq = 1 ] && [ $rdlq = 1 ]" "garbage in each input topic is in its DLQ with the reason in the headers (claims $cdlq, results $rdlq)"
kcat -b "$WF4_KAFKA_BROKERS" -C -t "$CLAIMS.dlq" -o beginning -e -q -f '    %h\n' | tr ',' '\n' | sed 's/^/    /' | head -6

# /metrics of each service parses as Prometheus text.
for name in claimer1 scraper1 committer1; do
    mport=$(grep -o 'serving /metrics[^0-9]*[0-9]*' "$(svc_log "$name")" | grep -o '[0-9]*$' | head -1)
    curl -sf --max-time 5 "http://127.0.0.1:$mport/metrics" >"$TEST_TMP/$name.metrics" || true
    series=$(python3 - "$TEST_TMP/$name.metrics" <<'PY'
import re, sys
ok = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eE]+(\.[0-9]+)?$|^[-+]?(Inf|NaN)$')
n = 0
for line in open(sys.argv[1]):
    line = line.rstrip('\n')
    if not line or line.startswith('# HELP ') or line.startswith('# TYPE '):
        continue
    name_val = line.rsplit(' ', 1)
    if not ok.match(line) and not (len(name_val) == 2 and name_val[1] in ('+Inf', '-Inf', 'NaN')):
        print('bad line: ' + line, file=sys.stderr); sys.exit(1)
    n += 1
print(n)
PY
) || series=0
    check "[ ${series:-0} -gt 5 ]" "$name /metrics (port $mport) parses: $series series"
done
leaks=$(cat "$TEST_TMP"/*.log "$TEST_TMP"/*.metrics | grep -c -F "$STANDIN_KEY" || true)
check "[ $leaks = 0 ]" "the API key appears in no log line or metric ($leaks)"
