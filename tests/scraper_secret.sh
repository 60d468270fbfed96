#!/usr/bin/env bash
# The API key appears in no log line, no result, no dead letter and no metric — also when
# calls fail (curl error buffers hold the URL) and when the key is refused (401/403).
# Also: undecodable claims go to the DLQ, invalid names and 404s fail finally without
# retries, and a refused key stops intake (/readyz 503) without failing any claim.
source "$WF4_SRC/tests/scraper_lib.sh"
N=300 NOTFOUND=20 INVALID=10 GARBAGE=5

scraper_topics
standin_start standin STANDIN_CONCURRENCY=50 STANDIN_LATENCY_MIN_MS=50 \
    STANDIN_LATENCY_MAX_MS=300 STANDIN_RATE_500=0.1 STANDIN_RATE_RESET=0.05 STANDIN_LOG_REQUESTS=1
# Concurrency 0: read from the stand-in's /account (the key travels there too).
scraper_start scraper WF4_SCRAPER_CONCURRENCY=0 WF4_LOG_LEVEL=debug WF4_SCRAPER_RETRY_BASE_MS=50 \
    WF4_SCRAPER_RETRY_CAP_MS=500 WF4_SCRAPER_MAX_RETRIES=8
"$WF4_BIN/wf4-claimgen" -n "$N" -t "$CLAIMS" -o "$TEST_TMP/claims.txt" -g "s$RUN_ID" \
    --notfound "$NOTFOUND" --invalid "$INVALID" --garbage "$GARBAGE" || fatal "wf4-claimgen failed"
resultcheck "$RESULTS" "$TEST_TMP/claims.txt" 120 "$KEY"
check_eq "${RC_missing:-x}" 0 "every claim has a result"
check_eq "${RC_failure_final:-x}" $((NOTFOUND + INVALID)) "404s and invalid names fail finally"
check_eq "${RC_secret_hits:-x}" 0 "no result carries the API key"
wait_until 30 bash -c "(( \$(kcat -b $WF4_KAFKA_BROKERS -C -t $CLAIMS.dlq -o beginning -e -q -f 'x\n' | wc -l) >= $GARBAGE ))" ||
    fail "dead letters missing"
check_eq "$(topic_count "$CLAIMS.dlq")" "$GARBAGE" "undecodable claims went to the DLQ"
check_eq "$(scraper_metric scraper wf4_scraper_dlq_total)" "$GARBAGE" "wf4_scraper_dlq_total"
check 'grep -q "accounts allows\|account allows 50 concurrent" "$(svc_log scraper)"' \
    "concurrency read from /account"
check '[[ $(scraper_metric scraper wf4_scraper_retries_total) -gt 0 ]]' "500s and resets were retried"
kcat -b "$WF4_KAFKA_BROKERS" -C -t "$CLAIMS.dlq" -o beginning -e -q \
    -f '%k %s %h\n' >"$TEST_TMP/dlq.txt" 2>&1 || true
curl -sf "http://127.0.0.1:$(scraper_port scraper)/metrics" >"$TEST_TMP/metrics.txt"
kcat -b "$WF4_KAFKA_BROKERS" -C -t "$RESULTS" -o beginning -e -q -f '%k %s %h\n' \
    >"$TEST_TMP/results.raw" 2>&1 || true

# A refused key: intake stops, /readyz says 503, an ERROR is logged, no result is published.
svc_start badkey env WF4_CLAIMS_TOPIC="$CLAIMS" WF4_RESULTS_TOPIC="$RESULTS2" \
    WF4_SCRAPER_GROUP="$GROUP-badkey" SCRAPERAPI_URL="$STANDIN_URL" SCRAPERAPI_KEY="${KEY}x" \
    WF4_SCRAPER_CONCURRENCY=20 WF4_METRICS_PORT=0 WF4_INSTANCE_ID=badkey WF4_LOG_LEVEL=debug \
    "$WF4_BIN/scraper"
wait_until 20 grep -q 'serving /metrics' "$(svc_log badkey)" || fatal "badkey has no /metrics"
wait_until 30 grep -q '"level":"error".*\(refused\|rejects\) the API key' "$(svc_log badkey)" ||
    fail "no ERROR about the refused key"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(scraper_port badkey)/readyz")
check_eq "$code" 503 "/readyz is 503 while the key is refused"
check '[[ $(scraper_metric badkey "wf4_scraper_api_responses_total{code=\"401\"}") -gt 0 ]]' \
    "the stand-in answered 401"
# Invalid names fail without an API call whatever the key; nothing else may be published.
sleep 2
resultcheck "$RESULTS2" "$TEST_TMP/claims.txt" 3
check_eq "${RC_failure_auth:-x}" 0 "no failure result for refused calls"
check_eq "${RC_success:-x}" 0 "no success with a refused key"
check '[[ ${RC_failure_final:-99} -le $INVALID && ${RC_failure_retryable:-1} -eq 0 ]]' \
    "only invalid names (no API call) got results"
curl -sf "http://127.0.0.1:$(scraper_port badkey)/metrics" >>"$TEST_TMP/metrics.txt"
svc_kill badkey TERM
svc_kill scraper TERM

for f in scraper.log badkey.log metrics.txt dlq.txt results.raw; do
    n=$(grep -c -- "$KEY" "$TEST_TMP/$f" || true)
    check_eq "$n" 0 "the API key appears in no line of $f ($(wc -l <"$TEST_TMP/$f") lines)"
done
check 'grep -q "GET host=" "$(svc_log standin)"' "the stand-in saw the calls (its log is the API's side)"
