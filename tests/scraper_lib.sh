# Helpers of the scraper's integration tests (source it after nothing else: it sources lib.sh).
# shellcheck shell=bash
#
#   scraper_topics                 creates this run's own claims/results/DLQ topics from a copy
#                                  of the catalogue ($CLAIMS, $RESULTS, $RESULTS2, $CLAIMS.dlq)
#   standin_start NAME VAR=VAL...  own ScraperAPI stand-in (key $KEY); sets STANDIN_URL
#                                  (scripts/lib/harness.sh)
#   standin_stat JQ                a figure from its /stats
#   scraper_start NAME VAR=VAL...  a scraper on this run's topics (group $GROUP unless given)
#   scraper_port NAME              its /metrics port (from its log)
#   scraper_metric NAME SERIES     a summed metric value
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
source "$WF4_SRC/tests/lib.sh"

RUN_ID="$(date +%s)$$"
CLAIMS="t.${TEST_NAME}.${RUN_ID}.claims"
RESULTS="t.${TEST_NAME}.${RUN_ID}.results"
RESULTS2="t.${TEST_NAME}.${RUN_ID}.results2"
GROUP="wf4-scraper-${TEST_NAME}-${RUN_ID}"
KEY="sk$(random_hex 12)"
STANDIN_KEY=$KEY
SCHEMAS="$TEST_TMP/schemas"
export WF4_SCHEMA_DIR="$SCHEMAS"

scraper_topics() {
    mkdir -p "$SCHEMAS"
    cp -r "$WF4_SRC/schemas/avro" "$SCHEMAS/avro"
    jq --arg c "$CLAIMS" --arg r "$RESULTS" --arg r2 "$RESULTS2" '
      .topics = [.topics[] | select(.name == "wf4.domain.claims" or .name == "wf4.domain.results"
                                    or .name == "wf4.domain.claims.dlq")
                 | .name |= (if . == "wf4.domain.claims" then $c
                             elif . == "wf4.domain.results" then $r else $c + ".dlq" end)]
      | .topics += [(.topics[] | select(.name == $r) | .name = $r2)]' \
        "$WF4_SRC/schemas/topics.json" >"$SCHEMAS/topics.json"
    "$WF4_BIN/wf4ctl" topics >"$TEST_TMP/topics.log" 2>&1 || {
        cat "$TEST_TMP/topics.log"
        fatal "cannot create the test topics"
    }
    say "topics $CLAIMS, $RESULTS, $RESULTS2, $CLAIMS.dlq created"
}

standin_stat() {
    curl -sf --max-time 5 "${STANDIN_URL}stats" | jq -r "$1"
}

scraper_start() {
    local name=$1
    shift
    svc_start "$name" env WF4_CLAIMS_TOPIC="$CLAIMS" WF4_RESULTS_TOPIC="$RESULTS" \
        WF4_SCRAPER_GROUP="$GROUP" SCRAPERAPI_URL="$STANDIN_URL" SCRAPERAPI_KEY="$KEY" \
        WF4_METRICS_PORT=0 WF4_INSTANCE_ID="$name" "$@" "$WF4_BIN/scraper"
    wait_until 20 grep -q 'serving /metrics' "$(svc_log "$name")" || fatal "$name has no /metrics"
}

scraper_port() {
    grep -o 'serving /metrics, /healthz, /readyz on port [0-9]*' "$(svc_log "$1")" | tail -1 |
        grep -o '[0-9]*$'
}

scraper_metric() { # NAME SERIES-REGEX: sum of the matching series (0 when absent)
    curl -sf --max-time 5 "http://127.0.0.1:$(scraper_port "$1")/metrics" |
        awk -v re="^$2" '$0 ~ re {s += $NF} END {printf "%d\n", s + 0}'
}

scraper_results() { scraper_metric "$1" 'wf4_scraper_results_total'; }

# resultcheck TOPIC FILE WAIT_S [SECRET]: runs the checker, prints its counts, sets RC_* vars.
resultcheck() {
    local out
    out=$("$WF4_BIN/wf4-resultcheck" "$@" 2>>"$TEST_TMP/resultcheck.err") || true
    echo "$out"
    eval "$(echo "$out" | head -1 | tr ' ' '\n' | sed -n 's/^\([a-z_0-9]*\)=\([0-9]*\)$/RC_\1=\2/p')"
}
