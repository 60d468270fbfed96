#!/usr/bin/env bash
# The story of one domain: a claim whose lease expires before any scraper ran, its second
# claim, a ScraperAPI 500 then a success (the stand-in's flaky-* hook), the first claim's
# result arriving stale; then wf4ctl trace (text and --json) step by step (each scrape's tier
# and credits, the domain's credits spent, the stale attempts' included), the traceparent
# header on all three topics, trace_id in the logs, unknown and never-selected domains, and
# the pruning of old attempt records.
. "$WF4_SRC/tests/lib.sh"

RUN_ID="$(date +%s)$$"
CLAIMS="t.trace.$RUN_ID.claims" RESULTS="t.trace.$RUN_ID.results" HANDOFFS="t.trace.$RUN_ID.handoffs"
KEY="trace$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export WF4_SCRAPER_GROUP="g.$RUN_ID.scraper" WF4_COMMITTER_GROUP="g.$RUN_ID.committer" \
    WF4_METRICS_PORT=0 WF4_KAFKA_PROPS=session.timeout.ms=6000 \
    WF4_SCRAPER_RETRY_BASE_MS=100 WF4_SCRAPER_RETRY_CAP_MS=500 WF4_COMMIT_LINGER_MS=20
private_topics "$TEST_TMP/schemas" "$CLAIMS" "$RESULTS" "$HANDOFFS" "$TEST_TMP/topics.log" ||
    fatal "cannot create topics: $(cat "$TEST_TMP/topics.log")"

STANDIN_KEY=$KEY
standin_start standin STANDIN_LATENCY_MIN_MS=50 STANDIN_LATENCY_MAX_MS=100 STANDIN_CONCURRENCY=20
port=$STANDIN_LISTEN_PORT
export SCRAPERAPI_URL="http://127.0.0.1:$port/" SCRAPERAPI_KEY="$KEY"

db_reset
dom="flaky-$RUN_ID.example-shop.com"
# An attempt record older than the retention (30 days by default) and a recent one.
psql_admin -c "INSERT INTO domain_attempts (claim_id, domain_id, attempt, claimed_at)
               VALUES (gen_random_uuid(), gen_random_uuid(), 1, now() - interval '40 days'),
                      (gen_random_uuid(), gen_random_uuid(), 1, now() - interval '2 days')"
"$WF4_BIN/wf4ctl" select "$dom" >"$TEST_TMP/select.log" 2>&1 || fatal "select: $(cat "$TEST_TMP/select.log")"
id=$(psql_admin -c "SELECT id FROM domains WHERE domain = '$dom'")

echo "--- 1. two claims, no scraper yet: the first claim's lease expires"
nattempts() { psql_admin -c "SELECT count(*) FROM domain_attempts WHERE domain_id = '$id'"; }
svc_start claimer env WF4_INSTANCE_ID=claimer-t WF4_LEASE_SECONDS=2 WF4_MAX_ATTEMPTS=20 WF4_CLAIM_INTERVAL_MS=200 \
    "$WF4_BIN/claimer"
two_claims() { [ "$(nattempts)" -ge 2 ]; }
wait_until 60 two_claims || fatal "no second claim after 60 s"
svc_kill claimer TERM
n=$(nattempts)
check "[ $n -ge 2 ]" "claims made: $n (the lease of each but the last expired)"
row=$(psql_admin -c "SELECT string_agg(coalesce(outcome, '-'), ',' ORDER BY attempt) FROM domain_attempts WHERE domain_id = '$id'")
check "[[ '$row' == expired,*-  ]]" "earlier claims marked expired, the last one open ($row)"
old=$(psql_admin -c "SELECT count(*) FILTER (WHERE claimed_at < now() - interval '30 days'), count(*) FILTER (WHERE domain_id <> '$id') FROM domain_attempts")
check_eq "$old" "0|1" "attempt records older than WF4_ATTEMPTS_RETENTION_DAYS pruned, the recent one kept"

echo "--- 2. scraper and committer: every claim is scraped; only the last one applies"
svc_start scraper env WF4_INSTANCE_ID=scraper-t "$WF4_BIN/scraper"
svc_start committer env WF4_INSTANCE_ID=committer-t "$WF4_BIN/committer"
settled() {
    [ "$(psql_admin -c "SELECT count(*) FROM domain_attempts WHERE domain_id = '$id' AND outcome IN ('completed', 'superseded')")" = "$n" ]
}
wait_until 90 settled || fail "attempts not settled after 90 s: $(psql_admin -c "SELECT attempt, outcome FROM domain_attempts WHERE domain_id = '$id'" | tr '\n' ' ')"
t_settled=$SECONDS
row=$(psql_admin -c "SELECT status || ' ' || sitemap_analysis_status FROM domains WHERE id = '$id'")
check_eq "$row" "completed queued" "domain completed and handed to WF5"

sleep 1 # statistics reach pg_stat_user_tables within a second of the transaction
say "domain_attempts since the stack started (all tests): $(psql_admin -c "SELECT n_tup_ins || ' inserted, ' || n_tup_upd || ' updated, of which ' || n_tup_hot_upd || ' HOT' FROM pg_stat_user_tables WHERE relname = 'domain_attempts'")"

echo "--- 3. wf4ctl trace --json, step by step"
# The handoff is published after the commit: wait for it on the topic before tracing.
handoff_out() { kcat -b "$WF4_KAFKA_BROKERS" -C -t "$HANDOFFS" -o beginning -e -q -f '%k\n' | grep -q "^$id$"; }
wait_until 30 handoff_out || fail "no handoff on $HANDOFFS"
rc=0
"$WF4_BIN/wf4ctl" trace --json "$dom" >"$TEST_TMP/trace.json" 2>"$TEST_TMP/trace.err" || rc=$?
check_eq "$rc" 0 "wf4ctl trace --json exits 0"
say "trace took $((SECONDS - t_settled)) s after the attempts settled"
claims=$(psql_admin -c "SELECT string_agg(claim_id::text, ' ' ORDER BY attempt) FROM domain_attempts WHERE domain_id = '$id'")
event=$(psql_admin -c "SELECT handoff_event_id FROM domains WHERE id = '$id'")
python3 - "$TEST_TMP/trace.json" "$n" "$CLAIMS" "$RESULTS" "$HANDOFFS" "$event" $claims \
    >"$TEST_TMP/checks" 2>&1 <<'PY' || true
import json, re, sys
doc = json.load(open(sys.argv[1]))
n, tc, tr, th, event = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
claims = sys.argv[7:]
steps = doc["steps"]
def ok(cond, msg):
    print(("ok " if cond else "FAIL ") + msg)
def tid(c): return c.replace("-", "")
def tp_ok(ref, claim):
    m = re.fullmatch(r"00-([0-9a-f]{32})-([0-9a-f]{16})-01", ref.get("traceparent") or "")
    return bool(m) and m.group(1) == tid(claim)
ok(doc["selected"] is True and doc["status"] == "completed", "domain selected, completed")
ok(steps[0]["step"] == "selected", "first step: selected (%s)" % steps[0]["step"])
names = [s["step"] for s in steps]
ok(names.count("claim") == n and names.count("scrape") == n, "%d claims and %d scrapes: %s" % (n, n, names))
times = [s["at_ms"] for s in steps]
ok(all(isinstance(t, int) for t in times) and times == sorted(times), "steps in time order")
ok(all(steps[i]["since_prev_ms"] == times[i] - times[i - 1] for i in range(1, len(steps))),
   "since_prev_ms is the time since the previous step")
by = {}
for s in steps:
    by.setdefault((s["step"], s.get("attempt")), s)
for a, c in enumerate(claims, 1):
    cl = by.get(("claim", a), {})
    ok(cl.get("claim_id") == c and cl.get("trace_id") == tid(c) and cl.get("claimer") == "claimer-t",
       "attempt %d: claim %s by claimer-t, trace id = claim id" % (a, c))
    k = cl.get("kafka") or [{}]
    ok(len(k) == 1 and k[0].get("topic") == tc and tp_ok(k[0], c) and k[0].get("offset", -1) >= 0,
       "attempt %d: claim message found on %s (partition %s offset %s) with its traceparent" % (a, tc, k[0].get("partition"), k[0].get("offset")))
    sc = by.get(("scrape", a), {})
    k = sc.get("kafka") or [{}]
    ok(sc.get("scraper") == "scraper-t" and sc.get("api_status") == 200,
       "attempt %d: scraped by scraper-t, HTTP %s, retries %s" % (a, sc.get("api_status"), sc.get("retries")))
    ok(len(k) == 1 and k[0].get("topic") == tr and tp_ok(k[0], c),
       "attempt %d: result message on %s (offset %s), traceparent in the claim's trace" % (a, tr, k[0].get("offset")))
ok(sum(by.get(("scrape", a), {}).get("retries") or 0 for a in range(1, n + 1)) == 1,
   "one retry in all (the stand-in's 500, then a page)")
for a in range(1, n + 1):
    sc = by.get(("scrape", a), {})
    ok(sc.get("tier") == "plain" and sc.get("credits") == 1,
       "attempt %d: tier %s, %s credits (a plain page costs 1, the 500 nothing)" % (a, sc.get("tier"), sc.get("credits")))
ok(doc.get("credits_spent") == n and doc.get("scrape_tier") == "plain",
   "domain: %s credits spent (every attempt's, the superseded ones' too: %d), scrape tier %s"
   % (doc.get("credits_spent"), n, doc.get("scrape_tier")))
for a in range(1, n):
    st = by.get(("superseded", a), {})
    ok(st.get("reason") == "superseded: stale claim", "attempt %d: superseded: stale claim" % a)
ap = by.get(("applied", n), {})
ok(ap.get("outcome") == "completed", "attempt %d: applied (completed)" % n)
ho = by.get(("handoff", n), {})
k = ho.get("kafka") or [{}]
ok(ho.get("event_id") == event and k[0].get("topic") == th and tp_ok(k[0], claims[-1]),
   "handoff event %s on %s (offset %s), in the last claim's trace" % (event, th, k[0].get("offset")))
i_cl, i_ap, i_ho = names.index("claim"), steps.index(ap) if ap else -1, steps.index(ho) if ho else -1
ok(0 < i_cl < i_ap < i_ho, "selected -> claim -> ... -> applied -> handoff")
print("timeline: " + ", ".join("%s/%s +%s ms" % (s["step"], s.get("attempt"), s["since_prev_ms"]) for s in steps))
PY
while read -r verdict rest; do
    check "[ '$verdict' = ok ]" "trace --json: $rest"
done < <(grep -E '^(ok|FAIL) ' "$TEST_TMP/checks")
check "grep -q '^timeline: ' '$TEST_TMP/checks'" "trace --json: every check ran"
grep -q '^timeline: ' "$TEST_TMP/checks" && say "$(grep '^timeline: ' "$TEST_TMP/checks")"
grep -vqE '^(ok|FAIL|timeline:) ' "$TEST_TMP/checks" && say "python: $(grep -vE '^(ok|FAIL|timeline:) ' "$TEST_TMP/checks")"

echo "--- 4. wf4ctl trace (text)"
rc=0
"$WF4_BIN/wf4ctl" trace "$dom" >"$TEST_TMP/trace.txt" 2>&1 || rc=$?
check_eq "$rc" 0 "wf4ctl trace exits 0"
sed 's/^/    /' "$TEST_TMP/trace.txt"
order=$(awk 'NR > 1 && $0 !~ /kafka / {print $3}' "$TEST_TMP/trace.txt" | tr '\n' ' ')
check "[[ '$order' == selected\ claim\ * && '$order' == *applied\ handoff* ]]" "text steps in order: $order"
check "grep -q 'superseded: stale claim' '$TEST_TMP/trace.txt'" "text: the stale claim says so"
check "head -1 '$TEST_TMP/trace.txt' | grep -q ', $n credits spent, scrape tier plain\$'" "text: the domain's credits spent and tier"
nt=$(grep -c ' scrape .* tier plain  credits 1$' "$TEST_TMP/trace.txt" || true)
check_eq "$nt" "$n" "text: every scrape shows its tier and credits"
nk=$(grep -c "kafka .* partition [0-9]* offset [0-9]*  traceparent 00-" "$TEST_TMP/trace.txt" || true)
check "[ $nk -eq $((2 * n + 1)) ]" "text: $nk Kafka messages with topic, partition, offset, traceparent (want $((2 * n + 1)))"

echo "--- 5. the traceparent header on all three topics (kcat)"
for t in "$CLAIMS" "$RESULTS" "$HANDOFFS"; do
    kcat -b "$WF4_KAFKA_BROKERS" -C -t "$t" -o beginning -e -q -f '%k %h\n' | grep "^$id " >"$TEST_TMP/h" || true
    total=$(wc -l <"$TEST_TMP/h")
    good=$(grep -cE 'traceparent=00-[0-9a-f]{32}-[0-9a-f]{16}-01' "$TEST_TMP/h" || true)
    check "[ $total -ge 1 ] && [ $good = $total ]" "$t: $good of $total messages carry a traceparent"
done
check "grep -q 'wf4-scraper-instance=scraper-t' <(kcat -b '$WF4_KAFKA_BROKERS' -C -t '$RESULTS' -o beginning -e -q -f '%h\n')" \
    "results carry wf4-scraper-instance"

echo "--- 6. trace_id on the log lines about the claims"
c1=${claims%% *}
line=$(grep '"claim_id":"'"$c1"'"' "$(svc_log committer)" | grep superseded | head -1 || true)
check "[[ '$line' == *'\"trace_id\":\"${c1//-/}\"'* ]]" "committer's superseded line has the first claim's trace_id"
bad=$(cat "$(svc_log claimer)" "$(svc_log scraper)" "$(svc_log committer)" | grep '"claim_id"' | grep -vc '"trace_id"' || true)
check "[ $bad = 0 ]" "every log line with a claim_id has a trace_id ($bad without)"

echo "--- 7. unknown and never-selected domains"
rc=0
"$WF4_BIN/wf4ctl" trace "nosuch-$RUN_ID.example" >"$TEST_TMP/unknown.txt" 2>&1 || rc=$?
check "[ $rc -ne 0 ] && grep -q 'unknown domain' '$TEST_TMP/unknown.txt'" "unknown domain: exit $rc, $(head -1 "$TEST_TMP/unknown.txt")"
psql_admin -c "INSERT INTO domains (domain) VALUES ('new-$RUN_ID.example-shop.com')"
rc=0
"$WF4_BIN/wf4ctl" trace "new-$RUN_ID.example-shop.com" >"$TEST_TMP/never.txt" 2>&1 || rc=$?
check "[ $rc -eq 0 ] && grep -q 'never been selected' '$TEST_TMP/never.txt'" "never selected: exit $rc, $(head -1 "$TEST_TMP/never.txt")"
j=$("$WF4_BIN/wf4ctl" trace --json "new-$RUN_ID.example-shop.com" | jq -c '[.selected, (.steps | length)]')
check_eq "$j" "[false,0]" "never selected, --json"
