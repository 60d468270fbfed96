# Helpers of the credits and tier tests: the whole pipeline against a stand-in account.
# shellcheck shell=bash
#
#   credits_pipeline STANDIN_VAR=VAL... -- SCRAPER_VAR=VAL...
#                      own topics, a stand-in with these settings (STANDIN_URL), db_reset,
#                      one claimer, one scraper, one committer
#   credits_select FILE            selects the domains listed in FILE
#   status_count STATUS            domains in that status
#   standin_get PATH               GET from the stand-in (/account, /stats, /control/...)
#   scraper_metric SERIES-REGEX    the metric of the scraper ($SCRAPER, default "scraper"),
#                                  summed (0 when absent)
#   svc_metric NAME SERIES-REGEX   the same for the service NAME
. "$WF4_SRC/tests/lib.sh"

RUN_ID="$(date +%s)$$"
KEY="cr$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export WF4_SCRAPER_GROUP="g.$RUN_ID.scraper" WF4_COMMITTER_GROUP="g.$RUN_ID.committer" \
    WF4_METRICS_PORT=0 WF4_KAFKA_PROPS=session.timeout.ms=6000 WF4_SCRAPER_RETRY_BASE_MS=100 \
    WF4_SCRAPER_RETRY_CAP_MS=1000

credits_pipeline() {
    local standin=() scraper=() port
    while (($# > 0)) && [[ $1 != -- ]]; do standin+=("$1"); shift; done
    (($# > 0)) && shift
    scraper=("$@")
    private_topics "$TEST_TMP/schemas" "t.$TEST_NAME.$RUN_ID.claims" "t.$TEST_NAME.$RUN_ID.results" \
        "t.$TEST_NAME.$RUN_ID.handoffs" "$TEST_TMP/topics.log" ||
        fatal "cannot create topics: $(cat "$TEST_TMP/topics.log")"
    STANDIN_KEY=$KEY
    standin_start standin STANDIN_LOG_REQUESTS=1 "${standin[@]}"
    port=$STANDIN_LISTEN_PORT
    STANDIN_URL="http://127.0.0.1:$port"
    export SCRAPERAPI_URL="$STANDIN_URL/" SCRAPERAPI_KEY="$KEY"
    db_reset
    registry_warm
    svc_start claimer env WF4_INSTANCE_ID=claimer "$WF4_BIN/claimer"
    svc_start scraper env WF4_INSTANCE_ID=scraper "${scraper[@]}" "$WF4_BIN/scraper"
    svc_start committer env WF4_INSTANCE_ID=committer "$WF4_BIN/committer"
    wait_until 30 grep -q 'serving /metrics' "$(svc_log scraper)" || fatal "the scraper has no /metrics"
}

# The services give the registry 5 s per request at start-up; its first registrations after
# the stack starts can take longer on a loaded machine (seen: load 46 on 2 cores, both
# services stopped at start-up), so one registration is made here first, with time to spare.
registry_warm() {
    [[ -n ${WF4_SCHEMA_REGISTRY_URL:-} ]] || return 0
    curl -sf --max-time 120 -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
        --data '{"schema": "{\"type\": \"record\", \"name\": \"Warm\", \"fields\": []}"}' \
        "${WF4_SCHEMA_REGISTRY_URL%/}/subjects/t.$TEST_NAME.$RUN_ID.warm-value/versions" >/dev/null ||
        say "the registry did not answer a warm-up registration within 120 s"
}

credits_select() {
    "$WF4_BIN/wf4ctl" select --file "$1" >"$TEST_TMP/select.log" 2>&1 ||
        fatal "select: $(cat "$TEST_TMP/select.log")"
}

status_count() { psql_admin -c "SELECT count(*) FROM domains WHERE status = '$1'"; }

standin_get() { curl -sf --max-time 5 "$STANDIN_URL$1"; }

scraper_metric() { svc_metric "${SCRAPER:-scraper}" "$1"; }

svc_metric() {
    local port
    port=$(grep -o 'serving /metrics, /healthz, /readyz on port [0-9]*' "$(svc_log "$1")" |
        tail -1 | grep -o '[0-9]*$')
    curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" |
        awk -v re="^$2" '$0 ~ re {s += $NF} END {printf "%d\n", s + 0}'
}

# The stand-in's log as "host status tier cost" lines, one per scrape request answered.
standin_calls() {
    jq -Rr 'fromjson? | .msg // empty' "$(svc_log standin)" |
        sed -n 's/^GET host=\([^ ]*\) status=\([0-9]*\) outcome=[^ ]* tier=\([^ ]*\) cost=\([0-9]*\).*/\1 \2 \3 \4/p'
}
