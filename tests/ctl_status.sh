#!/usr/bin/env bash
# wf4ctl status: counts after a selection and some hand-made states, as JSON and as a table.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CTL=$WF4_BIN/wf4ctl

db_reset
printf '%s\n' one.example two.example three.example four.example five.example >"$TEST_TMP/list"
"$CTL" select --file "$TEST_TMP/list" >/dev/null || fatal "select failed"
psql_admin <<'SQL'
UPDATE domains SET status = 'processing', claim_id = gen_random_uuid(),
    claimed_at = now() - interval '90 seconds', lease_expires_at = now() - interval '30 seconds'
    WHERE domain = 'one.example';
UPDATE domains SET status = 'error', error_message = 'test' WHERE domain = 'two.example';
UPDATE domains SET next_attempt_at = now() + interval '1 hour' WHERE domain = 'three.example';
UPDATE domains SET status = 'completed', sitemap_analysis_status = 'queued',
    handoff_event_id = gen_random_uuid(), completed_at = now() WHERE domain = 'four.example';
INSERT INTO wf5_outbox (event_ids, domain_ids, claim_ids, tenant_ids, domains, completed_at)
    SELECT ARRAY[handoff_event_id], ARRAY[id], ARRAY[gen_random_uuid()], ARRAY[NULL::uuid],
           ARRAY[domain], now() FROM domains
    WHERE domain = 'four.example';
INSERT INTO domains (domain) VALUES ('never.example');
-- credits: 11 on the completed domain, 10 of them scraped today, 1 three days ago
UPDATE domains SET credits_spent = 11, scrape_tier = 'render' WHERE domain = 'four.example';
INSERT INTO domain_attempts (claim_id, domain_id, attempt, claimed_at, scraped_at, credits)
    SELECT gen_random_uuid(), id, a, now() - t, now() - t, c FROM domains,
           (VALUES (1, interval '3 days', 1), (2, interval '0 s', 10)) v(a, t, c)
    WHERE domain = 'four.example';
SQL

rc=0
"$CTL" status --json >"$TEST_TMP/status.json" 2>"$TEST_TMP/status.err" || rc=$?
check_eq "$rc" 0 "status --json exits 0"
jq . "$TEST_TMP/status.json" >/dev/null || fatal "status --json is not one JSON object"
j() { jq -r "$1" "$TEST_TMP/status.json"; }
check_eq "$(j '.by_status | [.pending, .processing, .completed, .error, .none] | @csv')" \
    "2,1,1,1,1" "counts by status (pending, processing, completed, error, none)"
check_eq "$(j '.by_sitemap_analysis_status.queued')" 1 "counts by sitemap analysis status"
check_eq "$(j '.by_curation_status.Selected')" 5 "counts by curation status"
check_eq "$(j '.claims.domains_total')" 6 "domains in total"
check_eq "$(j '.claims.in_flight')" 1 "domains in flight"
check_eq "$(j '.claims.expired_leases')" 1 "expired leases"
check_eq "$(j '.claims.pending_due_now')" 1 "pending and due now"
check_eq "$(j '.claims.pending_later')" 1 "pending, due later"
check "(( \$(j '.claims.oldest_claim_age_s | floor') >= 89 ))" "the oldest claim's age"
check_eq "$(j '.outbox.backlog')" 1 "outbox backlog"
check "[[ \$(j '.outbox.oldest_age_s') != null ]]" "outbox oldest age"
check_eq "$(j '[.consumer_lag[].group] | sort | @csv')" '"wf4-committer","wf4-scraper"' \
    "consumer lag of both groups"
check_eq "$(j '.consumer_lag[] | select(.group == "wf4-scraper") | .partitions | length')" \
    "$(topic_partitions wf4.domain.claims)" "one lag entry per partition"
check_eq "$(j '.dlq | has("wf4.domain.claims.dlq") and has("wf4.domain.results.dlq")')" true \
    "DLQ sizes of both DLQ topics"
check_eq "$(j '.credits_spent | [.today_utc, .total] | @csv')" "10,11" \
    "credits spent today (attempts scraped since midnight UTC) and in all (domains)"
check_eq "$(j '.errors | length')" 0 "no errors"

rc=0
"$CTL" status >"$TEST_TMP/status.txt" 2>&1 || rc=$?
check_eq "$rc" 0 "status exits 0"
for section in "DOMAINS BY STATUS" CLAIMS "WF5 OUTBOX" "SCRAPERAPI CREDITS SPENT" "CONSUMER LAG" DLQ; do
    check 'grep -q "^$section" "$TEST_TMP/status.txt"' "the table has $section"
done
check 'grep -Eq "^  expired leases +1$" "$TEST_TMP/status.txt"' "the table shows the expired lease"
check 'grep -Eq "^  today_utc +10$" "$TEST_TMP/status.txt"' "the table shows the credits spent today"
rc=0
"$CTL" status --bogus >/dev/null 2>&1 || rc=$?
check_eq "$rc" 2 "an unknown option is a usage error"
rc=0
WF4_KAFKA_BROKERS=127.0.0.1:1 timeout 60 "$CTL" status --json >"$TEST_TMP/nokafka.json" 2>/dev/null ||
    rc=$?
check_eq "$rc" 1 "status exits 1 when Kafka cannot be read"
check_eq "$(jq -r '.claims.in_flight' "$TEST_TMP/nokafka.json")" 1 "...but still reports the database"
