#!/usr/bin/env bash
# Secrets: the ScraperAPI key and the database password appear nowhere the pipeline writes.
# A small run (its own topics and stand-in, failures and poison included so that error paths
# and DLQ headers are exercised), then both secrets are searched in every service log line,
# every message (key, value, headers) of every topic of the run as raw bytes, every DLQ
# header, every metrics/health page, every service's process title (/proc/PID/cmdline),
# --print-config and wf4ctl's reports. Zero hits wanted; the places searched are counted.
. "$WF4_SRC/tests/lib.sh"

RUN_ID="$(date +%s)$$"
CLAIMS="t.sec.$RUN_ID.claims" RESULTS="t.sec.$RUN_ID.results" HANDOFFS="t.sec.$RUN_ID.handoffs"
STANDIN_KEY="sec$(random_hex 16)"
PW=$(sed -E 's|^postgresql://[^:]*:([^@]*)@.*|\1|' <<<"$WF4_DATABASE_URL")
[[ -n $PW && $PW != "$WF4_DATABASE_URL" && ${#PW} -ge 8 ]] || fatal "no password in WF4_DATABASE_URL"
export WF4_SCRAPER_GROUP="g.$RUN_ID.scraper" \
    WF4_COMMITTER_GROUP="g.$RUN_ID.committer" WF4_METRICS_PORT=0 WF4_LOG_LEVEL=debug \
    WF4_KAFKA_PROPS=session.timeout.ms=6000 WF4_RETRY_BASE_S=1 WF4_RETRY_CAP_S=2 \
    WF4_SCRAPER_RETRY_BASE_MS=50 WF4_SCRAPER_RETRY_CAP_MS=200 WF4_SCRAPER_MAX_RETRIES=1 \
    WF4_SCRAPER_TIMEOUT_MS=1500 WF4_MAX_ATTEMPTS=2
mkdir -p "$TEST_TMP/found"
private_topics "$TEST_TMP/schemas" "$CLAIMS" "$RESULTS" "$HANDOFFS" "$TEST_TMP/topics.log" ||
    fatal "cannot create topics: $(cat "$TEST_TMP/topics.log")"

# Failures of every kind, so that error messages (which may quote URLs) are written.
standin_start standin STANDIN_LATENCY_MIN_MS=20 \
    STANDIN_LATENCY_MAX_MS=100 STANDIN_RATE_500=0.15 STANDIN_RATE_RESET=0.05 STANDIN_RATE_HANG=0.03 \
    STANDIN_HANG_MS=3000 STANDIN_RATE_404=0.05 STANDIN_RATE_MALFORMED=0.05 STANDIN_CONCURRENCY=8
export SCRAPERAPI_URL="$STANDIN_URL" SCRAPERAPI_KEY="$STANDIN_KEY"

db_reset
SERVICES=(claimer scraper committer)
svc_start claimer env WF4_INSTANCE_ID=claimer1 "$WF4_BIN/claimer"
svc_start scraper env WF4_INSTANCE_ID=scraper1 WF4_SCRAPER_CONCURRENCY=16 "$WF4_BIN/scraper"
svc_start committer env WF4_INSTANCE_ID=committer1 "$WF4_BIN/committer"
for i in $(seq 1 80); do echo "secret-check-$i.shop$((i % 7)).com"; done >"$TEST_TMP/domains"
printf '%s\n' localhost notfound-sec.example-shop.com >>"$TEST_TMP/domains"
total=$(wc -l <"$TEST_TMP/domains")
select_domains "$TEST_TMP/domains" "$TEST_TMP/wf4ctl-select.out"
printf 'garbage-%s' "$RUN_ID" | kcat -b "$WF4_KAFKA_BROKERS" -P -t "$CLAIMS" -k poison
printf '\x00\x00\x00\x7f\xffgarbage' | kcat -b "$WF4_KAFKA_BROKERS" -P -t "$RESULTS" -k poison

wait_terminal "$total" 240 || fail "not every domain terminal: $(status_counts)"
say "run: $(psql_admin -c "SELECT status || ' ' || count(*) FROM domains GROUP BY status" | tr '\n' ',')"

# While the services still run: process titles and every HTTP page they serve.
titles=0 pages=0
for name in "${SERVICES[@]}"; do
    pid=$(svc_pid "$name")
    tr '\0' ' ' <"/proc/$pid/cmdline" >"$TEST_TMP/found/$name.cmdline"
    for t in /proc/"$pid"/task/*/comm; do cat "$t"; done >>"$TEST_TMP/found/$name.cmdline" 2>/dev/null || true
    titles=$((titles + 1))
    ps -o args= -p "$pid" >>"$TEST_TMP/found/$name.cmdline" || true
    mport=$(grep -o 'serving /metrics[^0-9]*[0-9]*' "$(svc_log "$name")" | grep -o '[0-9]*$' | tail -1)
    for page in metrics healthz readyz; do
        curl -s --max-time 5 "http://127.0.0.1:$mport/$page" >"$TEST_TMP/found/$name.$page" || true
        pages=$((pages + 1))
    done
done
for name in "${SERVICES[@]}"; do
    env "$WF4_BIN/$name" --print-config >"$TEST_TMP/found/$name.print-config" 2>&1 || true
done
"$WF4_BIN/wf4ctl" status >"$TEST_TMP/found/wf4ctl-status.out" 2>&1 || true
"$WF4_BIN/wf4ctl" doctor >"$TEST_TMP/found/wf4ctl-doctor.out" 2>&1 || true
"$WF4_BIN/wf4ctl" --help-settings >"$TEST_TMP/found/wf4ctl-help.out" 2>&1 || true
for name in "${SERVICES[@]}"; do svc_kill "$name" TERM; done

# Every message of every topic of the run, raw: key, value, headers.
messages=0 headers=0
for t in "$CLAIMS" "$RESULTS" "$HANDOFFS" "$CLAIMS.dlq" "$RESULTS.dlq"; do
    kcat -b "$WF4_KAFKA_BROKERS" -C -t "$t" -o beginning -e -q -f 'K:%k\nV:%s\nH:%h\n' >"$TEST_TMP/found/topic.$t" 2>/dev/null || true
    n=$(grep -a -c '^K:' "$TEST_TMP/found/topic.$t" || true)
    messages=$((messages + n))
    [[ $t != *.dlq ]] || headers=$((headers + $(grep -a '^H:' "$TEST_TMP/found/topic.$t" | tr ',' '\n' | grep -c . || true)))
    say "topic $t: $n messages"
done
check "[ $(grep -a -c '^K:' "$TEST_TMP/found/topic.$CLAIMS.dlq" || true) -ge 1 ] && [ $(grep -a -c '^K:' "$TEST_TMP/found/topic.$RESULTS.dlq" || true) -ge 1 ]" "both DLQs hold a message, so their headers are searched"

logs=0 lines=0
for name in "${SERVICES[@]}"; do
    cp "$(svc_log "$name")" "$TEST_TMP/found/$name.log"
    logs=$((logs + 1))
    lines=$((lines + $(wc -l <"$(svc_log "$name")")))
done
errors=$(cat "$TEST_TMP"/found/*.log | grep -c '"level":"\(error\|warn\)"' || true)

hits_key=$(grep -a -r -l -F "$STANDIN_KEY" "$TEST_TMP/found" || true)
hits_pw=$(grep -a -r -l -F "$PW" "$TEST_TMP/found" || true)
say "RESULT searched: $logs service logs ($lines lines, $errors warnings/errors), $messages messages in 5 topics (raw key, value, headers), $headers DLQ headers, $pages HTTP pages, $titles process titles, 3 --print-config, 3 wf4ctl outputs"
say "RESULT hits: API key in ${hits_key:-no file}; database password in ${hits_pw:-no file}"
check "[ -z '$hits_key' ]" "the ScraperAPI key appears nowhere ($(grep -a -r -c -F "$STANDIN_KEY" "$TEST_TMP/found" | awk -F: '{s += $NF} END {print s + 0}') hits)"
check "[ -z '$hits_pw' ]" "the database password appears nowhere ($(grep -a -r -c -F "$PW" "$TEST_TMP/found" | awk -F: '{s += $NF} END {print s + 0}') hits)"
# The search itself works: the stand-in, which must see the key, is a positive control.
check "grep -q -F \"$STANDIN_KEY\" /proc/$(svc_pid standin)/environ" "positive control: the key is found where it is (the stand-in's environment)"
