#!/usr/bin/env bash
# Issue 23: tier escalation. Protected sites of each kind (Cloudflare challenge, captcha
# page, the target's 403, an empty body; by host name and by STANDIN_WALLS) complete at the
# lowest tier that works; a site still blocked at WF4_SCRAPER_MAX_TIER=premium ends error
# with "blocked at tier premium (...)"; no call goes past the cap; the credits the stand-in
# charged equal, per domain and in total, the sum expected from ScraperAPI's price list
# (plain 1, render 10, premium 10; a 403 costs nothing), and the scraper counts the same.
# The database keeps them (issue 23): per domain, credits_spent equals the stand-in's charge
# and scrape_tier the tier that worked; each attempt and each result message carries its
# credits and tier; a re-scrape starts at the stored tier (one call, its price added); the
# schema registry accepts the new result and claim schemas after the previous ones.
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

# ---- the database and the result messages keep what each domain cost and its tier
db_row() { psql_admin -F' ' -c "SELECT d.credits_spent, coalesce(d.scrape_tier, '-'), coalesce(a.tier, '-'), a.credits FROM domains d JOIN domain_attempts a ON a.domain_id = d.id WHERE d.domain = '$1'"; }
"$WF4_BIN/wf4-inspect" -o beginning "$WF4_RESULTS_TOPIC" >"$TEST_TMP/results.jsonl" 2>/dev/null || true
while read -r domain want_status want_tier want_credits want_reason; do
    charged=$(awk -v h="$domain" '$1 == h && ($2 == 200 || $2 == 404) {s += $4} END {print s + 0}' "$TEST_TMP/calls")
    stored=-
    [[ $want_status == completed ]] && stored=$want_tier
    check_eq "$(db_row "$domain")" "$charged $stored $want_tier $want_credits" \
        "$domain: database credits_spent = stand-in's charge, scrape_tier, attempt's tier and credits"
    check_eq "$(jq -r --arg d "$domain" 'select(.value.domain == $d) | .value | "\(.credits) \(.tier)"' "$TEST_TMP/results.jsonl")" \
        "$want_credits $want_tier" "$domain: its result message carries credits and tier"
done <"$TEST_TMP/expect"
db_total=$(psql_admin -c "SELECT sum(credits_spent) FROM domains")
say "measured: database $db_total credits = charged $used"
check_eq "$db_total" "$used" "the database's credits spent equal the stand-in's charge"

# ---- a re-scrape starts at the stored tier: one call per completed domain, at its tier
ncalls=$(wc -l <"$TEST_TMP/calls")
psql_admin -c "UPDATE domains SET status = 'pending', next_attempt_at = now(), attempts = 0 WHERE status = 'completed'" >/dev/null
ncompleted=$(awk '$2 == "completed"' "$TEST_TMP/expect" | wc -l)
rescraped() { [[ $(psql_admin -c "SELECT count(*) FROM domain_attempts WHERE outcome = 'completed'") -ge $((2 * ncompleted)) ]]; }
wait_until 120 rescraped || fail "the $ncompleted completed domains were not scraped again within 120 s"
sleep 1
standin_calls | tail -n +$((ncalls + 1)) >"$TEST_TMP/calls2"
say "second round, stand-in calls (host status tier cost):"
sed 's/^/    /' "$TEST_TMP/calls2"
price() { case $1 in plain) echo 1 ;; render | premium) echo 10 ;; ultra_premium) echo 30 ;; esac; }
again=0
while read -r domain want_status want_tier want_credits _; do
    [[ $want_status == completed ]] || continue
    p=$(price "$want_tier")
    again=$((again + p))
    check_eq "$(awk -v h="$domain" '$1 == h {print $3, $4}' "$TEST_TMP/calls2" | tr '\n' ' ')" "$want_tier $p " \
        "$domain: scraped again with one call at its stored tier $want_tier"
    check_eq "$(psql_admin -F' ' -c "SELECT credits_spent, scrape_tier FROM domains WHERE domain = '$domain'")" \
        "$((want_credits + p)) $want_tier" "$domain: credits_spent adds the second call's $p credits"
done <"$TEST_TMP/expect"
used2=$(standin_get /account | jq .requestCount)
db_total2=$(psql_admin -c "SELECT sum(credits_spent) FROM domains")
say "measured: after the re-scrape, database $db_total2 credits = charged $used2 ($used + $again expected)"
check_eq "$db_total2/$used2" "$((total + again))/$((total + again))" \
    "after the re-scrape the database and the stand-in agree on the price of the tiers used"

# ---- the registry's compatibility check (BACKWARD) takes the new schemas after the old ones
if [[ -n ${WF4_SCHEMA_REGISTRY_URL:-} ]]; then
    register() {
        jq -Rs '{schema: .}' "$2" | curl -s -o /dev/null -w '%{http_code}' --max-time 60 -X POST \
            -H 'Content-Type: application/vnd.schemaregistry.v1+json' --data @- \
            "${WF4_SCHEMA_REGISTRY_URL%/}/subjects/t.$TEST_NAME.$RUN_ID.$1-value/versions"
    }
    # Each version in turn (history/NAME_v1, _v2, ..., then the current one): BACKWARD checks
    # each against the one before.
    for s in result claim; do
        versions=("$WF4_SRC"/schemas/avro/history/"${s}"_v*.avsc "$WF4_SRC/schemas/avro/$s.avsc")
        codes="" want=""
        for v in "${versions[@]}"; do
            codes+="${codes:+ }$(register "$s" "$v")"
            want+="${want:+ }200"
        done
        check_eq "$codes" "$want" "registry: $s.avsc registers after $(basename -a "${versions[@]:0:${#versions[@]}-1}" | paste -sd,)"
    done
    jq '.fields += [{"name": "no_default", "type": "long"}]' "$WF4_SRC/schemas/avro/result.avsc" >"$TEST_TMP/bad.avsc"
    check_eq "$(register result "$TEST_TMP/bad.avsc")" 409 "registry: a field without a default is refused (the check can fail)"
fi
check '! grep -q "ERROR: AddressSanitizer\|runtime error" "$(svc_log scraper)"' "no sanitizer report"

# A cap the max_cost cannot pay for is a start-up error, not a silent lower cap.
out=$(env WF4_SCRAPER_MAX_TIER=ultra_premium WF4_SCRAPER_MAX_COST=10 WF4_INSTANCE_ID=badcap \
    timeout 60 "$WF4_BIN/scraper" 2>&1) && rc=0 || rc=$?
check '[[ $rc -ne 0 ]] && grep -q "WF4_SCRAPER_MAX_COST (10) is below the price of WF4_SCRAPER_MAX_TIER=ultra_premium (30" <<<"$out"' \
    "MAX_TIER=ultra_premium with MAX_COST=10 is refused at start-up (status $rc)"
