#!/usr/bin/env bash
# Issue 23: tier escalation. Protected sites of each kind (Cloudflare challenge, captcha
# page, the target's 403, an empty body; by host name and by STANDIN_WALLS) complete at the
# lowest tier that works; a site still blocked at WF4_SCRAPER_MAX_TIER=premium ends error
# with "blocked at tier premium (...)"; no call goes past the cap; the credits the stand-in
# charged equal, per domain and in total, the sum expected from ScraperAPI's price list
# (plain 1, render 10, premium 10; a 403 costs nothing), and the scraper counts the same.
source "$WF4_SRC/tests/credits_lib.sh"

# domain  end-status  tier-it-ends-at  credits  [error]  (walls at 200 are charged, the
# 403s are not; costly-* costs 25 a plain call: over max_cost, refused before any charge)
cat >"$TEST_TMP/expect" <<'EXPECT'
plain-a.com completed plain 1
plain-b.com completed plain 1
wall-cloudflare-render-a.com completed render 11
wall-empty-render-a.com completed render 11
wall-captcha-premium-a.com completed premium 21
wall-forbidden-premium-a.com completed premium 10
www.shielded.com completed premium 21
wall-captcha-ultra-a.com error premium 21 blocked at tier premium (captcha page)
wall-forbidden-never-a.com error premium 0 blocked at tier premium (403 from the target)
costly-a.com error plain 0 ScraperAPI refused the call: it would cost more than max_cost (403)
EXPECT
N=$(wc -l <"$TEST_TMP/expect")
total=$(awk '{s += $4} END {print s}' "$TEST_TMP/expect")

credits_pipeline STANDIN_LATENCY_MIN_MS=50 STANDIN_LATENCY_MAX_MS=150 \
    'STANDIN_WALLS=*.shielded.com=cloudflare:premium' -- \
    WF4_SCRAPER_CONCURRENCY=10 WF4_SCRAPER_MAX_TIER=premium WF4_SCRAPER_MAX_COST=10
awk '{print $1}' "$TEST_TMP/expect" >"$TEST_TMP/domains"
credits_select "$TEST_TMP/domains"
terminal() { [[ $(psql_admin -c "SELECT count(*) FROM domains WHERE status IN ('completed', 'error')") -ge $N ]]; }
wait_until 120 terminal || fail "not every domain terminal after 120 s: $(psql_admin -c "SELECT domain, status FROM domains" | tr '\n' ' ')"

standin_calls >"$TEST_TMP/calls"
say "stand-in calls (host status tier cost):"
sed 's/^/    /' "$TEST_TMP/calls"
while read -r domain want_status want_tier want_credits want_reason; do
    read -r status reason <<<"$(psql_admin -F' ' -c "SELECT status, coalesce(error_message, '') FROM domains WHERE domain = '$domain'")"
    top=$(awk -v h="$domain" '$1 == h {print $3}' "$TEST_TMP/calls" |
        awk '{r = ($0 == "plain" ? 0 : $0 == "render" ? 1 : $0 == "premium" ? 2 : 3); if (r >= m) {m = r; t = $0}} END {print t}')
    charged=$(awk -v h="$domain" '$1 == h && ($2 == 200 || $2 == 404) {s += $4} END {print s + 0}' "$TEST_TMP/calls")
    check_eq "$status/$top/$charged" "$want_status/$want_tier/$want_credits" \
        "$domain: status/highest tier called/credits charged"
    if [[ $want_status == error ]]; then
        check_eq "$reason" "$want_reason" "$domain: the error says why"
    fi
done <"$TEST_TMP/expect"

used=$(standin_get /account | jq .requestCount)
tiers=$(standin_get /stats | jq -c .tiers)
say "measured: $used credits charged for $N domains (expected $total); calls by tier $tiers"
check_eq "$used" "$total" "the credits charged equal the sum from the price list"
check_eq "$(jq .ultra_premium <<<"$tiers")" 0 "no call above WF4_SCRAPER_MAX_TIER=premium"
check_eq "$(scraper_metric wf4_scraper_credits_total)" "$total" "the scraper counts the same credits"
check_eq "$(scraper_metric 'wf4_scraper_credits_total{outcome="failure"}')" 21 \
    "credits of the blocked domains are counted as failure (21)"
check_eq "$(scraper_metric wf4_scraper_tier_escalations_total)" 12 "12 escalations (0+0+1+1+2+2+2+2+2+0)"
check_eq "$(grep -c '"msg":"GET host=' "$(svc_log standin)")" "$(grep -c '"msg":"GET host=.* max_cost=10 ' "$(svc_log standin)")" \
    "every call carried max_cost=10"
check '! grep -q "ERROR: AddressSanitizer\|runtime error" "$(svc_log scraper)"' "no sanitizer report"

# A cap the max_cost cannot pay for is a start-up error, not a silent lower cap.
out=$(env WF4_SCRAPER_MAX_TIER=ultra_premium WF4_SCRAPER_MAX_COST=10 WF4_INSTANCE_ID=badcap \
    timeout 60 "$WF4_BIN/scraper" 2>&1) && rc=0 || rc=$?
check '[[ $rc -ne 0 ]] && grep -q "WF4_SCRAPER_MAX_COST (10) is below the price of WF4_SCRAPER_MAX_TIER=ultra_premium (30" <<<"$out"' \
    "MAX_TIER=ultra_premium with MAX_COST=10 is refused at start-up (status $rc)"
