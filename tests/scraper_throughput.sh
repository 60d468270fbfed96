#!/usr/bin/env bash
# 2,000 claims against a stand-in with 2-3 s latency and a plan limit of 200, the scraper set
# to 250 in flight: every claim gets exactly one result, the stand-in answers some 429s, and
# no domain fails because of them (429s slow the scraper down, they do not fail claims).
source "$WF4_SRC/tests/scraper_lib.sh"
N=${SCRAPER_TEST_CLAIMS:-2000}

scraper_topics
standin_start standin STANDIN_CONCURRENCY=200 STANDIN_LATENCY_MIN_MS=2000 \
    STANDIN_LATENCY_MAX_MS=3000
scraper_start scraper WF4_SCRAPER_CONCURRENCY=250
"$WF4_BIN/wf4-claimgen" -n "$N" -t "$CLAIMS" -o "$TEST_TMP/claims.txt" -g "tp$RUN_ID" ||
    fatal "wf4-claimgen failed"
t0=$(date +%s.%N)
wait_until 300 bash -c "(( \$(curl -sf http://127.0.0.1:$(scraper_port scraper)/metrics |
    awk '/^wf4_scraper_results_total/ {s += \$NF} END {print s + 0}') >= $N ))" ||
    fail "the scraper did not publish $N results within 300 s"
t1=$(date +%s.%N)
secs=$(echo "$t1 - $t0" | bc)
rate=$(echo "scale=1; $N / $secs" | bc)
say "measured: $N results in ${secs%???????} s = $rate results/s"

resultcheck "$RESULTS" "$TEST_TMP/claims.txt" 120
s429=$(standin_stat .status429)
maxin=$(standin_stat .maxInFlight)
retries=$(scraper_metric scraper 'wf4_scraper_retries_total')
say "measured: stand-in answered $s429 x 429 (max in flight $maxin of 200), scraper retries $retries, AIMD limit now $(scraper_metric scraper wf4_scraper_concurrency_limit)"
check_eq "${RC_missing:-x}" 0 "no claim without a result"
check_eq "${RC_duplicates:-x}" 0 "no claim with two results"
check_eq "${RC_success:-x}" "$N" "every claim succeeded"
check_eq "${RC_failure_429:-x}" 0 "no claim failed because of 429"
check '[[ $s429 -gt 0 ]]' "the stand-in answered 429s ($s429)"
check '[[ $(scraper_metric scraper "wf4_scraper_api_responses_total{code=\"429\"}") -gt 0 ]]' \
    "the scraper counted 429s in wf4_scraper_api_responses_total"
svc_kill scraper TERM
check 'grep -q "\"msg\":\"stopped\"" "$(svc_log scraper)"' "the scraper stopped cleanly on SIGTERM"
check '! grep -q "ERROR: AddressSanitizer\|runtime error" "$(svc_log scraper)"' "no sanitizer report"
