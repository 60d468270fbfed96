#!/usr/bin/env bash
# Bad configuration: every executable, given a missing or malformed variable, an unknown
# librdkafka property or an unreachable host, exits non-zero within a bounded time with
# exactly one clear error line naming the variable (and no sanitizer report). Needs the stack
# (a reachable database/broker where the case is about the other one).
. "$WF4_SRC/tests/lib.sh"

DB=$WF4_DATABASE_URL K=$WF4_KAFKA_BROKERS
closed=$(free_port)
cases=0 passed=0

# expect_reject TOKEN TIMEOUT_S ENV... -- CMD ARGS...: runs CMD with only ENV (plus PATH),
# wants rc not 0 and not a timeout, one line naming TOKEN (librdkafka's own log lines aside),
# no other error line on stderr but librdkafka's, no sanitizer report. (stdout may hold a
# report: wf4ctl status prints what it could read.)
expect_reject() {
    local token=$1 limit=$2 envs=() rc=0 t0=$SECONDS out naming others noise what
    shift 2
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    what="$(basename "$1")${2:+ ${*:2}} [${envs[*]}]"
    what=${what//$DB/\$DB}
    what=${what//$K/\$K}
    what=${what//$SCRAPERAPI_KEY/\$KEY}
    cases=$((cases + 1))
    out=$TEST_TMP/case$cases.out
    timeout -k 5 "$limit" env -i PATH="$PATH" HOME="${HOME:-/root}" "${envs[@]}" "$@" </dev/null >"$out.stdout" 2>"$out" || rc=$?
    cat "$out.stdout" >>"$out"
    naming=$(grep -v -E 'librdkafka|^%[0-9]\|' "$out" | grep -c -F -- "$token" || true)
    others=$(grep -v -E 'librdkafka|^%[0-9]\|' "$out" | grep -v -F -x -f "$out.stdout" | grep -v -F -- "$token" | grep -c -v -E '"level":"(info|debug|warn)"|^\s*$' || true)
    noise=$(grep -c -E 'librdkafka|^%[0-9]\|' "$out" || true)
    local san
    san=$(grep -c -E 'Sanitizer|runtime error' "$out" || true)
    local msg
    msg=$(grep -v -E 'librdkafka|^%[0-9]\|' "$out" | grep -F -m1 -- "$token" | sed -E 's/.*"msg":"([^"]*(\\"[^"]*)*)".*/\1/' | cut -c1-110 || true)
    if ((rc != 0 && rc != 124 && rc != 137 && naming == 1 && others == 0 && san == 0)); then
        passed=$((passed + 1))
        ((noise == 0)) || msg+=" (+$noise librdkafka log lines)"
        say "ok: $what -> exit $rc in $((SECONDS - t0))s: $msg"
    else
        fail "$what -> exit $rc in $((SECONDS - t0))s, $naming lines naming $token, $others other error lines, $san sanitizer lines:"
        grep -v -E '^\s+#[0-9]+ ' "$out" | head -8 | cut -c1-240 | sed 's/^/      /' || true
    fi
}

C=$WF4_BIN/claimer S=$WF4_BIN/scraper M=$WF4_BIN/committer CTL=$WF4_BIN/wf4ctl I=$WF4_BIN/wf4-inspect SI=$WF4_BIN/scraperapi-standin
SVC=(WF4_DATABASE_URL="$DB" WF4_KAFKA_BROKERS="$K" WF4_METRICS_PORT=0)
SCR=(WF4_KAFKA_BROKERS="$K" SCRAPERAPI_KEY="$SCRAPERAPI_KEY" SCRAPERAPI_URL="$SCRAPERAPI_URL" WF4_METRICS_PORT=0)

for exe in "$C" "$M"; do
    expect_reject WF4_DATABASE_URL 20 WF4_KAFKA_BROKERS="$K" -- "$exe"
    expect_reject WF4_KAFKA_BROKERS 20 WF4_DATABASE_URL="$DB" -- "$exe"
    expect_reject WF4_MAX_ATTEMPTS 20 "${SVC[@]}" WF4_MAX_ATTEMPTS=abc -- "$exe"
    expect_reject WF4_TX_BUDGET_MS 20 "${SVC[@]}" WF4_TX_BUDGET_MS=0 -- "$exe"
    expect_reject WF4_METRICS_PORT 20 "${SVC[@]}" WF4_METRICS_PORT=70000 -- "$exe"
    expect_reject WF4_DB_LOCK_TIMEOUT_MS 20 "${SVC[@]}" WF4_DB_LOCK_TIMEOUT_MS=12x -- "$exe"
    expect_reject WF4_LOG_LEVEL 20 "${SVC[@]}" WF4_LOG_LEVEL=loud -- "$exe"
    expect_reject WF4_KAFKA_PROPS 20 "${SVC[@]}" WF4_KAFKA_PROPS=no.such.property=1 -- "$exe"
    expect_reject WF4_KAFKA_PROPS 20 "${SVC[@]}" WF4_KAFKA_PROPS=novalue -- "$exe"
    expect_reject WF4_DATABASE_URL 30 "${SVC[@]}" WF4_DATABASE_URL="postgresql://wf4:x@127.0.0.1:$closed/wf4" -- "$exe"
    expect_reject WF4_DATABASE_URL 30 "${SVC[@]}" WF4_DATABASE_URL="not a url" -- "$exe"
    expect_reject WF4_KAFKA_BROKERS 45 "${SVC[@]}" WF4_KAFKA_BROKERS="127.0.0.1:$closed" -- "$exe"
    expect_reject --bogus 20 "${SVC[@]}" -- "$exe" --bogus
done
expect_reject WF4_CLAIM_BATCH 20 "${SVC[@]}" WF4_CLAIM_BATCH=0 -- "$C"
expect_reject WF4_LEASE_SECONDS 20 "${SVC[@]}" WF4_LEASE_SECONDS=-5 -- "$C"
expect_reject WF4_COMMIT_BATCH 20 "${SVC[@]}" WF4_COMMIT_BATCH=many -- "$M"

expect_reject WF4_KAFKA_BROKERS 20 SCRAPERAPI_KEY=k -- "$S"
expect_reject SCRAPERAPI_KEY 20 WF4_KAFKA_BROKERS="$K" -- "$S"
expect_reject WF4_SCRAPER_CONCURRENCY 20 "${SCR[@]}" WF4_SCRAPER_CONCURRENCY=lots -- "$S"
expect_reject WF4_SCRAPER_TIMEOUT_MS 20 "${SCR[@]}" WF4_SCRAPER_TIMEOUT_MS=-1 -- "$S"
expect_reject WF4_LOG_LEVEL 20 "${SCR[@]}" WF4_LOG_LEVEL=loud -- "$S"
expect_reject WF4_KAFKA_PROPS 20 "${SCR[@]}" WF4_KAFKA_PROPS=no.such.property=1 -- "$S"
expect_reject WF4_KAFKA_BROKERS 45 "${SCR[@]}" WF4_KAFKA_BROKERS="127.0.0.1:$closed" -- "$S"
# (ScraperAPI unreachable at start is no configuration error: the scraper warns, uses a
# concurrency of 10 and retries each call.)

expect_reject WF4_DATABASE_URL 20 WF4_KAFKA_BROKERS="$K" -- "$CTL" status
expect_reject WF4_LEASE_SECONDS 20 WF4_DATABASE_URL="$DB" WF4_LEASE_SECONDS=abc -- "$CTL" status
expect_reject WF4_IDLE_THRESHOLD_S 20 WF4_DATABASE_URL="$DB" WF4_IDLE_THRESHOLD_S=0 -- "$CTL" doctor
expect_reject WF4_DATABASE_URL 30 WF4_DATABASE_URL="postgresql://wf4:x@127.0.0.1:$closed/wf4" -- "$CTL" status
expect_reject WF4_KAFKA_PROPS 20 WF4_DATABASE_URL="$DB" WF4_KAFKA_BROKERS="$K" WF4_KAFKA_PROPS=no.such.property=1 -- "$CTL" topics
expect_reject WF4_KAFKA_BROKERS 45 WF4_DATABASE_URL="$DB" WF4_KAFKA_BROKERS="127.0.0.1:$closed" -- "$CTL" topics

expect_reject 'no topic given' 20 WF4_KAFKA_BROKERS="$K" -- "$I"
expect_reject WF4_KAFKA_PROPS 20 WF4_KAFKA_BROKERS="$K" WF4_KAFKA_PROPS=no.such.property=1 -- "$I" wf4.domain.claims
expect_reject WF4_KAFKA_BROKERS 45 WF4_KAFKA_BROKERS="127.0.0.1:$closed" -- "$I" wf4.domain.claims
expect_reject -o 20 WF4_KAFKA_BROKERS="$K" -- "$I" -o sideways wf4.domain.claims

expect_reject STANDIN_API_KEY 20 STANDIN_PORT=0 -- "$SI"
expect_reject STANDIN_PORT 20 STANDIN_API_KEY=k STANDIN_PORT=99999 -- "$SI"
expect_reject STANDIN_PORT 20 STANDIN_API_KEY=k STANDIN_PORT="$WF4_PG_PORT" -- "$SI"
expect_reject STANDIN_RATE_500 20 STANDIN_API_KEY=k STANDIN_PORT=0 STANDIN_RATE_500=2 -- "$SI"
expect_reject STANDIN_LATENCY_MIN_MS 20 STANDIN_API_KEY=k STANDIN_PORT=0 STANDIN_LATENCY_MIN_MS=soon -- "$SI"
expect_reject STANDIN_LOG_LEVEL 20 STANDIN_API_KEY=k STANDIN_PORT=0 STANDIN_LOG_LEVEL=loud -- "$SI"

say "RESULT $passed of $cases bad configurations rejected with one clear error naming the variable"
check_eq "$passed" "$cases" "every executable rejects every bad configuration"
