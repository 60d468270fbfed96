#!/usr/bin/env bash
# Black-box test of scraperapi-standin: starts it on an ephemeral port, checks its API.
#   tests/standin_test.sh path/to/scraperapi-standin
# Needs curl and jq. Under an ASan build, a sanitizer report or a non-zero exit fails it.
BIN=${1:?usage: standin_test.sh path/to/scraperapi-standin}
# shellcheck source=tests/checks.sh
source "$(dirname "$0")/checks.sh"
STANDIN_BIN=$BIN
STANDIN_KEY=standin-test-key-5f3a9c
KEY=$STANDIN_KEY
WORK=$TEST_TMP
PORT=

# start VAR=VALUE...: runs the stand-in with these settings; sets PORT.
start() {
    standin_start standin "$@" STANDIN_LOG_REQUESTS=1
    PORT=$STANDIN_LISTEN_PORT
}

# stop: SIGTERM, then the exit status (ASan's leak check runs at exit) and the log's hygiene.
stop() {
    svc_kill standin TERM
    check "[[ $SVC_STATUS -eq 0 ]]" "stand-in exits 0 on SIGTERM"
    check "! grep -q 'AddressSanitizer\|runtime error\|LeakSanitizer' '$(svc_log standin)'" \
        "no sanitizer report"
    check "! grep -q '$KEY' '$(svc_log standin)'" "the API key never appears in the log"
}

# scrape HOST [KEY]: prints the status code; the body goes to $WORK/body.
scrape() {
    curl -s -o "$WORK/body" -w '%{http_code}' --max-time 30 \
        "http://127.0.0.1:$PORT/?api_key=${2:-$KEY}&url=https%3A%2F%2F$1%2F" || true
}

# scrapeq HOST QUERY: like scrape, with extra parameters (render=true&...); headers to $WORK/headers.
scrapeq() {
    curl -s -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}' --max-time 30 \
        "http://127.0.0.1:$PORT/?api_key=$KEY&url=https%3A%2F%2F$1%2F&$2" || true
}
cost_header() { tr -d '\r' <"$WORK/headers" | awk -F': ' 'tolower($1) == "sa-credit-cost" {print $2}'; }

get() { curl -s --max-time 10 "http://127.0.0.1:$PORT$1"; }
field() { get "$1" | jq -r ".$2"; }

phase_api() {
    say "API: keys, urls, hooks, determinism, corpus, credits"
    mkdir -p "$WORK/corpus"
    echo '<html><title>From the corpus</title><p>corpus page</p></html>' \
        >"$WORK/corpus/corpus-site.test.html"
    start STANDIN_LATENCY_MIN_MS=5 STANDIN_LATENCY_MAX_MS=20 STANDIN_CONCURRENCY=50 \
        STANDIN_CORPUS_DIR="$WORK/corpus"
    check "[[ \$(get /healthz) == ok ]]" "/healthz answers ok"
    check "[[ \$(scrape example.com wrong-key) == 401 ]]" "wrong key: 401"
    check "[[ \$(curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:$PORT/?url=https://a.com') == 401 ]]" \
        "missing key: 401"
    check "[[ \$(curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:$PORT/?api_key=$KEY') == 400 ]]" \
        "missing url: 400"
    check "[[ \$(curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:$PORT/?api_key=$KEY&url=ftp://a.com') == 400 ]]" \
        "non-http url: 400"
    check "[[ \$(scrape example.com) == 200 ]]" "example.com: 200"
    check "grep -q 'standin host: example.com' '$WORK/body'" "the page embeds its host"
    cp "$WORK/body" "$WORK/first"
    scrape Example.COM >/dev/null
    check "cmp -s '$WORK/first' '$WORK/body'" "same host, same body (host case ignored)"
    scrape other-site.org >/dev/null
    check "! cmp -s '$WORK/first' '$WORK/body'" "another host, another body"
    check "[[ \$(scrape notfound-abc.com) == 404 ]]" "notfound-*: 404"
    check "[[ \$(scrape error500-abc.com) == 500 ]]" "error500-*: 500"
    check "[[ \$(scrape reset-abc.com) == 000 ]]" "reset-*: connection closed without a response"
    check "[[ \$(scrape corpus-site.test) == 200 ]] && grep -q 'corpus page' '$WORK/body'" \
        "corpus file served"
    check "[[ \$(curl -s -o /dev/null -w '%{content_type}' 'http://127.0.0.1:$PORT/?api_key=$KEY&url=https://nonhtml-a.com/') != text/html* ]]" \
        "nonhtml-*: a non-HTML content type"
    # 200: example.com x2, other-site, corpus, nonhtml; 404: one. 500 and reset are failures.
    check "[[ \$(field /account requestCount) == 6 ]]" "/account counts only 200 and 404 credits"
    check "[[ \$(field /account failedRequestCount) == 2 ]]" "/account counts the 500 and the reset as failed"
    check "[[ \$(field /account concurrencyLimit) == 50 ]]" "/account shows the concurrency limit"
    check "[[ \$(field /account requestLimit) == 1000000 ]]" "/account shows the request limit"
    check "[[ \$(get /nothing | head -c 9) == 'not found' ]]" "unknown path: 404 text"
    phase_variety
    stop
}

# Forty hosts: the generated pages show the promised variety.
phase_variety() {
    local pids=()
    mkdir -p "$WORK/pages"
    for i in $(seq 1 40); do
        curl -s -D "$WORK/pages/$i.h" -o "$WORK/pages/$i.html" --max-time 30 \
            "http://127.0.0.1:$PORT/?api_key=$KEY&url=https://www.site-$i.example/" &
        pids+=($!)
    done
    wait "${pids[@]}" # not a bare wait: the stand-in is a child too
    local p=$WORK/pages
    check "grep -lq 'content=\"WordPress 6.4.2\"' $p/*.html" "some pages are WordPress"
    check "grep -lq 'elementor-kit' $p/*.html" "some pages are Elementor"
    check "[[ \$(grep -L '<title>' $p/*.html | wc -l) -gt 0 ]]" "some pages have no title"
    check "grep -lqi 'charset=\"iso-8859-1\"\|charset=ISO-8859-1' $p/*.html" "some pages in ISO-8859-1"
    check "grep -lqi 'windows-1252' $p/*.html $p/*.h" "some pages in windows-1252"
    check "[[ \$(head -c 3 -q $p/*.html | grep -c \$'\\xef\\xbb\\xbf' || true) -gt 0 ]]" \
        "some pages start with a UTF-8 BOM"
    check "grep -lq 'mailto:' $p/*.html && grep -lq 'tel:' $p/*.html" "mailto: and tel: links"
    check "grep -lq 'facebook.com' $p/*.html && grep -lq 'linkedin.com' $p/*.html" "social links"
    check "grep -lq '<html lang=' $p/*.html" "pages declare a language"
}

phase_concurrency() {
    say "concurrency limit 5, 20 parallel requests of 3 s (long enough for all 20 to arrive on a loaded machine)"
    start STANDIN_LATENCY_MIN_MS=3000 STANDIN_LATENCY_MAX_MS=3000 STANDIN_CONCURRENCY=5
    local pids=() ok n429
    for i in $(seq 1 20); do
        curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 \
            "http://127.0.0.1:$PORT/?api_key=$KEY&url=https://par-$i.example/" >"$WORK/par.$i" &
        pids+=($!)
    done
    wait "${pids[@]}"
    ok=$(cat "$WORK"/par.* | grep -c '^200$' || true)
    n429=$(cat "$WORK"/par.* | grep -c '^429$' || true)
    echo "200: $ok, 429: $n429"
    check "[[ $ok -ge 1 && $ok -le 5 ]]" "at most 5 requests served at once"
    check "[[ $n429 -ge 1 && $((ok + n429)) -eq 20 ]]" "the others got 429"
    check "[[ \$(field /stats maxInFlight) -le 5 ]]" "max observed concurrency <= 5"
    check "[[ \$(field /stats status429) == $n429 ]]" "/stats counts the 429s"
    check "[[ \$(field /account requestCount) == $ok ]]" "429s cost no credits"
    stop
}

# Seeded rates: two runs with the same seed answer the same sequence; credits run out.
phase_rates() {
    say "seeded failure rates, request limit"
    local run
    for run in 1 2; do
        start STANDIN_LATENCY_MIN_MS=0 STANDIN_LATENCY_MAX_MS=0 STANDIN_SEED=42 \
            STANDIN_RATE_500=0.3 STANDIN_RATE_404=0.2 STANDIN_REQUEST_LIMIT=20
        : >"$WORK/seq.$run"
        for i in $(seq 1 60); do scrape "seq-$i.example" >>"$WORK/seq.$run"; echo >>"$WORK/seq.$run"; done
        stop
    done
    check "cmp -s '$WORK/seq.1' '$WORK/seq.2'" "same seed, same answers"
    check "grep -q '^500$' '$WORK/seq.1' && grep -q '^404$' '$WORK/seq.1'" "the rates produce 500s and 404s"
    check "[[ \$(grep -c '^200$\|^404$' '$WORK/seq.1') == 20 ]]" "exactly 20 credits were spent"
    check "[[ \$(tail -n 1 '$WORK/seq.1') == 403 ]]" "past the request limit: 403"
}

# The price list, max_cost, the cost header, and credits charged on 200/404 only.
phase_prices() {
    say "tiers: prices, cost header, max_cost"
    start STANDIN_LATENCY_MIN_MS=0 STANDIN_LATENCY_MAX_MS=0 STANDIN_REQUEST_LIMIT=1000
    local q want used=0 got
    while read -r q want; do
        got=$(scrapeq "price-$want.example" "$q")
        check "[[ $got == 200 && \$(cost_header) == $want ]]" "$q: 200 and sa-credit-cost $want"
        used=$((used + want))
    done <<'PRICES'
plain=1 1
render=true 10
premium=true 10
premium=true&render=true 25
ultra_premium=true 30
ultra_premium=true&render=true 75
PRICES
    check "[[ \$(field /account requestCount) == $used ]]" "requestCount is the sum of the prices ($used)"
    check "[[ \$(scrapeq over.example 'premium=true&max_cost=5') == 403 ]] && grep -q 'cost more than your max_cost' '$WORK/body'" \
        "premium with max_cost=5: 403 saying the call would cost more than max_cost"
    check "[[ \$(cost_header) == 10 ]]" "the refusal's header says what the call would cost (10)"
    check "[[ \$(scrapeq under.example 'render=true&max_cost=10') == 200 ]]" "render with max_cost=10: 200"
    check "[[ \$(scrapeq costly-a.example 'max_cost=10') == 403 && \$(cost_header) == 25 ]]" \
        "costly-*: 25 times the price, refused under max_cost=10"
    check "[[ \$(scrapeq bad.example 'render=maybe') == 400 ]]" "render=maybe: 400"
    check "[[ \$(scrapeq bad.example 'max_cost=-1') == 400 ]]" "max_cost=-1: 400"
    check "[[ \$(scrapeq error500-x.example 'render=true') == 500 && \$(scrapeq notfound-x.example 'render=true') == 404 ]]" \
        "a 500 and a 404 at render"
    used=$((used + 10 + 10))
    check "[[ \$(field /account requestCount) == $used ]]" \
        "the 403, 400 and 500 cost nothing, the 404 its price ($used)"
    check "[[ \$(field /account creditsRemaining) == $((1000 - used)) ]]" "creditsRemaining = limit - used"
    check "[[ \$(field /account concurrentRequests) == 0 ]]" "/account: concurrentRequests"
    check "[[ \$(field /stats overCost) == 2 && \$(get /stats | jq -r .tiers.ultra_premium) == 2 ]]" \
        "/stats counts the 2 max_cost refusals and the calls by tier"
    stop
}

# Bot walls by host name and by STANDIN_WALLS; a wall at 200 is charged, a 403 is not.
phase_walls() {
    say "bot walls below a tier"
    start STANDIN_LATENCY_MIN_MS=0 STANDIN_LATENCY_MAX_MS=0 'STANDIN_WALLS=*.shop.test=captcha:premium'
    check "[[ \$(scrapeq wall-cloudflare-render-a.test '') == 200 ]] && grep -q 'Just a moment' '$WORK/body' && grep -q challenge-platform '$WORK/body'" \
        "wall-cloudflare-render-*: plain gets the Cloudflare challenge (200)"
    check "[[ \$(scrapeq wall-cloudflare-render-a.test 'render=true') == 200 ]] && grep -q 'standin host: wall-cloudflare' '$WORK/body'" \
        "... and the page with render=true"
    check "[[ \$(scrapeq wall-forbidden-premium-b.test 'render=true') == 403 ]] && grep -q 'Access Denied' '$WORK/body'" \
        "wall-forbidden-premium-*: render gets the target's 403"
    check "[[ \$(scrapeq wall-forbidden-premium-b.test 'premium=true') == 200 ]] && grep -q 'standin host' '$WORK/body'" \
        "... and the page with premium=true"
    check "[[ \$(scrapeq wall-empty-ultra-c.test 'premium=true') == 200 && ! -s '$WORK/body' ]]" \
        "wall-empty-ultra-*: premium gets an empty 200"
    check "[[ \$(scrapeq wall-empty-ultra-c.test 'ultra_premium=true') == 200 && -s '$WORK/body' ]]" \
        "... and the page with ultra_premium=true"
    check "[[ \$(scrapeq wall-captcha-never-d.test 'ultra_premium=true') == 200 ]] && grep -q 'g-recaptcha' '$WORK/body'" \
        "wall-captcha-never-*: a captcha even at ultra_premium"
    check "[[ \$(scrapeq www.shop.test 'render=true') == 200 ]] && grep -q 'g-recaptcha' '$WORK/body'" \
        "STANDIN_WALLS *.shop.test=captcha:premium: a captcha at render"
    check "[[ \$(scrapeq www.shop.test 'premium=true') == 200 ]] && ! grep -q 'g-recaptcha' '$WORK/body'" \
        "... and the page at premium"
    # charged: 1 + 10 + 10 + 10 + 30 + 30 + 10 + 10 (the 403 is free)
    check "[[ \$(field /account requestCount) == 111 ]]" "walls at 200 are charged, the 403 is not (111)"
    check "[[ \$(field /stats walls) == 5 ]]" "/stats counts 5 walls served"
    stop
    check "! STANDIN_API_KEY=x STANDIN_WALLS='*.x=captcha' '$BIN' 2>/dev/null" "a STANDIN_WALLS entry without a tier is refused"
    check "! STANDIN_API_KEY=x STANDIN_WALLS='*.x=paywall:render' '$BIN' 2>/dev/null" "an unknown wall kind is refused"
}

# 300 calls at once against 100 credits: exactly 100 served, the rest refused as ScraperAPI
# refuses an exhausted account; credits added through /control/credits serve again.
phase_exhaust() {
    say "300 concurrent calls, 100 credits"
    start STANDIN_LATENCY_MIN_MS=300 STANDIN_LATENCY_MAX_MS=600 STANDIN_CONCURRENCY=1000 \
        STANDIN_REQUEST_LIMIT=100 STANDIN_MAX_CONNECTIONS=1000
    local pids=() ok n403
    for i in $(seq 1 300); do
        curl -s -o "$WORK/ex.$i.body" -w '%{http_code}\n' --max-time 30 \
            "http://127.0.0.1:$PORT/?api_key=$KEY&url=https://ex-$i.example/" >"$WORK/ex.$i" &
        pids+=($!)
    done
    wait "${pids[@]}"
    ok=$(cat "$WORK"/ex.? "$WORK"/ex.?? "$WORK"/ex.??? | grep -c '^200$' || true)
    n403=$(cat "$WORK"/ex.? "$WORK"/ex.?? "$WORK"/ex.??? | grep -c '^403$' || true)
    echo "200: $ok, 403: $n403"
    check "[[ $ok == 100 && $n403 == 200 ]]" "exactly 100 served, 200 refused with 403"
    check "grep -l 'exhausted the API Credits' $WORK/ex.*.body | wc -l | grep -qx 200" \
        "every 403 says the credits are exhausted"
    check "[[ \$(field /account requestCount) == 100 && \$(field /account creditsRemaining) == 0 ]]" \
        "requestCount 100, creditsRemaining 0"
    check "[[ \$(scrape one-more.example) == 403 ]]" "one more call: 403"
    check "[[ \$(get '/control/credits?add=5' | jq -r .creditsRemaining) == 5 ]]" "/control/credits?add=5: 5 left"
    check "[[ \$(scrape one-more.example) == 200 && \$(scrapeq two.example render=true) == 403 ]]" \
        "a plain call is served again; a render call (10) is not"
    check "[[ \$(get '/control/credits?limit=1000' | jq -r .requestLimit) == 1000 && \$(scrapeq two.example render=true) == 200 ]]" \
        "/control/credits?limit=1000: the render call is served"
    check "[[ \$(field /stats reserved) == 0 ]]" "no credits left reserved"
    stop
}

phase_config() {
    say "configuration"
    check "'$BIN' --help | grep STANDIN_CONCURRENCY >/dev/null" "--help lists the settings"
    check "'$BIN' --help | grep STANDIN_WALLS >/dev/null" "--help lists STANDIN_WALLS"
    check "! env -u STANDIN_API_KEY '$BIN' 2>/dev/null" "a missing STANDIN_API_KEY stops start-up"
    check "! STANDIN_API_KEY=x STANDIN_RATE_500=2 '$BIN' 2>/dev/null" "a rate above 1 is refused"
}

command -v jq >/dev/null || fatal "jq is required"
phase_config
phase_api
phase_concurrency
phase_rates
phase_prices
phase_walls
phase_exhaust
