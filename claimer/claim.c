/* Claiming: one short transaction marks due domains processing; publishing follows it. */
#include "claim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credits.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "service.h"
#include "trace.h"

/* Expired leases first, then due pending domains, oldest first, each through its partial
 * index; rows other claimers hold are skipped. Past the attempts cap a row becomes error.
 * The locked rows are updated through the primary key (= ANY of an array): a join against
 * the CTE let the planner hash the whole table for every batch. */
static const char claim_sql[] =
    "WITH expired AS ("
    "  SELECT id, claim_id FROM domains WHERE status = 'processing' AND lease_expires_at < now()"
    "  ORDER BY lease_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED),"
    " due AS ("
    "  SELECT id FROM domains WHERE status = 'pending' AND next_attempt_at <= now()"
    "  ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED),"
    " picked AS (SELECT id FROM expired UNION ALL SELECT id FROM due LIMIT $1),"
    " upd AS (UPDATE domains d SET"
    "  status = CASE WHEN d.attempts >= $3 THEN 'error'::domain_status"
    "           ELSE 'processing'::domain_status END,"
    "  error_message = CASE WHEN d.attempts >= $3 THEN format("
    "     'gave up after %s attempts: %s', d.attempts, CASE WHEN d.status = 'processing'"
    "     THEN 'the last claim''s lease expired without a result'"
    "     ELSE 'attempts exhausted' END) END,"
    "  claim_id = CASE WHEN d.attempts >= $3 THEN d.claim_id ELSE gen_random_uuid() END,"
    "  claimed_at = CASE WHEN d.attempts >= $3 THEN d.claimed_at ELSE now() END,"
    "  lease_expires_at = CASE WHEN d.attempts >= $3 THEN NULL"
    "           ELSE now() + make_interval(secs => $2) END,"
    "  attempts = CASE WHEN d.attempts >= $3 THEN d.attempts ELSE d.attempts + 1 END,"
    "  updated_at = now()"
    " WHERE d.id = ANY(ARRAY(SELECT id FROM picked))"
    " RETURNING d.id, d.claim_id, d.domain, d.tenant_id, d.attempts, d.status,"
    "  d.claimed_at, d.lease_expires_at, d.scrape_tier),"
    /* Attempt history (schemas/sql/006_domain_attempts.sql): a new claim's row, and the
     * expired claim it replaces marked as such (its result may still come: superseded). */
    " att AS (INSERT INTO domain_attempts (claim_id, domain_id, attempt, claimer_instance,"
    "  claimed_at, lease_expires_at)"
    "  SELECT claim_id, id, attempts, $5, claimed_at, lease_expires_at FROM upd"
    "  WHERE status = 'processing'),"
    " att_expired AS (UPDATE domain_attempts a SET outcome = 'expired',"
    "  reason = 'lease expired without a result', applied_at = now()"
    "  FROM expired e WHERE a.claim_id = e.claim_id AND a.outcome IS NULL)"
    " SELECT id, claim_id, domain, coalesce(tenant_id::text, ''), attempts,"
    "  status = 'processing', (extract(epoch FROM claimed_at) * 1000)::bigint,"
    "  coalesce((extract(epoch FROM lease_expires_at) * 1000)::bigint, 0),"
    "  coalesce(scrape_tier, '')"
    " FROM upd";

static metric *claim_m_claimed, *claim_m_gave_up, *claim_m_published, *claim_m_failed,
    *claim_m_in_flight;

static void claim_metrics_init(void)
{
    if (claim_m_claimed)
        return;
    claim_m_claimed = metrics_counter("wf4_claimer_claims_total", "Domains claimed");
    claim_m_gave_up = metrics_counter("wf4_claimer_gave_up_total",
                                      "Domains turned to error past the attempts cap");
    claim_m_published = metrics_counter("wf4_claimer_published_total",
                                        "Claims acknowledged by Kafka");
    claim_m_failed = metrics_counter("wf4_claimer_publish_failed_total",
                                     "Claims Kafka did not acknowledge (left to lease expiry)");
    claim_m_in_flight = metrics_gauge("wf4_claimer_in_flight",
                                      "Domains processing, as seen by the last claim");
}

void claim_set_clear(claim_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        msg_claim_free(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int claim_push(claim_set *s, PGresult *r, int row, const claim_opts *o)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        msg_claim *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    msg_claim *c = &s->v[s->n];
    memset(c, 0, sizeof *c);
    snprintf(c->domain_id, sizeof c->domain_id, "%s", PQgetvalue(r, row, 0));
    snprintf(c->claim_id, sizeof c->claim_id, "%s", PQgetvalue(r, row, 1));
    snprintf(c->tenant_id, sizeof c->tenant_id, "%s", PQgetvalue(r, row, 3));
    c->domain = strdup(PQgetvalue(r, row, 2));
    c->attempt = (int32_t)atoi(PQgetvalue(r, row, 4));
    c->claimed_at_ms = strtoll(PQgetvalue(r, row, 6), NULL, 10);
    c->lease_expires_at_ms = strtoll(PQgetvalue(r, row, 7), NULL, 10);
    snprintf(c->tier, sizeof c->tier, "%s", PQgetvalue(r, row, 8));
    c->credits_ceiling = o->credit_ceiling;
    c->credits_ceiling_until_ms = o->credit_ceiling > 0 ? o->credit_ceiling_until_ms : 0;
    if (!c->domain)
        return -1;
    s->n++;
    return 0;
}

typedef struct claim_tx_arg {
    const claim_opts *o;
    claim_inflight *inflight;
    claim_set *out;
} claim_tx_arg;

/* Domains in flight now: counted (up to the cap), or the last count plus this claimer's
 * claims since when that is recent and far below the cap. Returns -1 on a failed query. */
static long claim_count_in_flight(db_tx *tx, const claim_opts *o, claim_inflight *inf)
{
    long est = inf->counted + inf->claimed_since;
    int64_t now = service_mono_ms();
    if (inf->counted_ms && now - inf->counted_ms < CLAIM_RECOUNT_MS &&
        est + o->batch <= o->max_in_flight / 2)
        return est;
    char cap[24];
    snprintf(cap, sizeof cap, "%ld", o->max_in_flight);
    const char *pc[] = {cap};
    /* Counting stops at the cap: its cost does not grow with the domains in flight. */
    PGresult *r = db_exec(tx,
                          "SELECT count(*) FROM (SELECT 1 FROM domains WHERE status = "
                          "'processing' LIMIT $1) p",
                          1, pc);
    if (!r)
        return -1;
    inf->counted = atol(PQgetvalue(r, 0, 0));
    inf->claimed_since = 0;
    inf->counted_ms = now;
    PQclear(r);
    return inf->counted;
}

/* Results applied since credit_since_ms: charged, no longer in flight, and perhaps not yet
 * in /account's count (ScraperAPI refreshes it every 15 s). Through the BRIN index on
 * claimed_at: such a claim was made at most a lease before. Returns -1 on a failed query. */
static long claim_count_uncounted(db_tx *tx, const claim_opts *o)
{
    if (o->credit_room < 0 || o->credit_since_ms <= 0)
        return 0;
    char since[24], lease[24];
    snprintf(since, sizeof since, "%lld", (long long)o->credit_since_ms);
    snprintf(lease, sizeof lease, "%ld", o->lease_s);
    const char *p[] = {since, lease};
    PGresult *r = db_exec(tx,
                          "SELECT count(*) FROM domain_attempts"
                          " WHERE claimed_at > to_timestamp($1::bigint / 1000.0)"
                          "  - make_interval(secs => $2::int)"
                          " AND applied_at > to_timestamp($1::bigint / 1000.0)",
                          2, p);
    if (!r)
        return -1;
    long n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
}

/* The transaction body; it may run more than once, so it starts from an empty set. */
static int claim_tx(db_tx *tx, void *arg)
{
    claim_tx_arg *a = arg;
    claim_set_clear(a->out);
    if ((a->out->in_flight = claim_count_in_flight(tx, a->o, a->inflight)) < 0)
        return -1;
    /* The cap limits new work only: reclaiming an expired lease leaves the number in flight
     * as it is, and must go on at the cap, or lost claims filling it would hold it forever
     * (bench/README.md, "Incidents behind comments"). */
    long room = a->o->max_in_flight - a->out->in_flight;
    long due = room < a->o->batch ? (room > 0 ? room : 0) : a->o->batch;
    /* The credit budget: each domain in flight holds credit_per_claim credits until its
     * result is applied, so new claims get only what is left. */
    long uncounted = claim_count_uncounted(tx, a->o);
    if (uncounted < 0)
        return -1;
    long credits = credits_claims_allowed(a->o->credit_room, a->o->credit_per_claim,
                                          a->out->in_flight + uncounted);
    if (credits >= 0 && credits < due)
        due = credits;
    char lim[24], lease[24], cap[24], due_lim[24];
    snprintf(lim, sizeof lim, "%ld", a->o->batch);
    snprintf(lease, sizeof lease, "%ld", a->o->lease_s);
    snprintf(cap, sizeof cap, "%ld", a->o->max_attempts);
    snprintf(due_lim, sizeof due_lim, "%ld", due);
    const char *p[] = {lim, lease, cap, due_lim, a->o->instance ? a->o->instance : ""};
    PGresult *r = db_exec(tx, claim_sql, 5, p);
    if (!r)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        if (strcmp(PQgetvalue(r, i, 5), "t") == 0)
            rc = claim_push(a->out, r, i, a->o);
        else {
            a->out->gave_up++;
            log_write(LOG_LEVEL_WARN, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                      "domain %s failed: attempts cap of %ld reached", PQgetvalue(r, i, 2),
                      a->o->max_attempts);
        }
    }
    PQclear(r);
    return rc;
}

int claim_batch(db *d, const claim_opts *o, claim_inflight *inflight, claim_set *out)
{
    claim_metrics_init();
    claim_tx_arg a = {o, inflight, out};
    memset(out, 0, sizeof *out);
    if (db_transaction(d, "claim", (int)o->budget_ms, claim_tx, &a) != 0) {
        claim_set_clear(out);
        return -1;
    }
    inflight->claimed_since += (long)out->n;
    metrics_add(claim_m_claimed, (double)out->n);
    metrics_add(claim_m_gave_up, (double)out->gave_up);
    metrics_set(claim_m_in_flight, (double)(out->in_flight + (long)out->n));
    return 0;
}

long claim_prune_attempts(db *d, long retention_days, long limit)
{
    char days[24], lim[24];
    snprintf(days, sizeof days, "%ld", retention_days);
    snprintf(lim, sizeof lim, "%ld", limit);
    const char *p[] = {days, lim};
    /* A bounded batch through the BRIN index: pruning never holds many row locks at once. */
    PGresult *r = db_query(d,
                           "DELETE FROM domain_attempts WHERE ctid = ANY(ARRAY("
                           " SELECT ctid FROM domain_attempts"
                           " WHERE claimed_at < now() - make_interval(days => $1::int)"
                           " LIMIT $2))",
                           2, p);
    if (!r)
        return -1;
    long n = atol(PQcmdTuples(r));
    PQclear(r);
    return n;
}

/* Claims handed to the producer and their delivery reports, since start. The callback runs
 * in the loop thread (rd_kafka_poll), so plain counters do. */
static size_t claim_queued, claim_acked, claim_nacked;

void claim_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        claim_acked++;
        metrics_add(claim_m_published, 1);
        return;
    }
    claim_nacked++;
    metrics_add(claim_m_failed, 1);
    char domain[MSG_UUID_LEN], claim_id[MSG_UUID_LEN];
    snprintf(domain, sizeof domain, "%.*s", (int)rkm->key_len, (const char *)rkm->key);
    trace_claim_of_message(rkm, claim_id);
    log_write(LOG_LEVEL_ERROR, domain, claim_id,
              "claim for domain %s not delivered: %s (it will be claimed again after its lease)",
              domain, rd_kafka_err2str(rkm->err));
}

static int claim_produce(rd_kafka_t *producer, wire *w, const char *topic, const msg_claim *c)
{
    void *buf = NULL;
    size_t len = 0;
    char err[256];
    if (msg_claim_encode(w, c, &buf, &len, err, sizeof err) != 0) {
        log_write(LOG_LEVEL_ERROR, c->domain_id, c->claim_id, "cannot encode claim: %s", err);
        return -1;
    }
    char tp[MSG_TRACEPARENT_LEN]; /* each claim starts a trace: trace.h */
    trace_from_claim(c->claim_id, tp);
    rd_kafka_resp_err_t e = kafka_produce_header(producer, topic, c->domain_id, buf, len, NULL,
                                                 TRACE_HEADER, tp);
    if (e) {
        log_write(LOG_LEVEL_ERROR, c->domain_id, c->claim_id, "cannot publish claim: %s",
                  rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

size_t claim_publish_start(rd_kafka_t *producer, wire *w, const char *topic, const claim_set *set)
{
    size_t queued = 0;
    for (size_t i = 0; i < set->n; i++)
        if (claim_produce(producer, w, topic, &set->v[i]) == 0)
            queued++;
    claim_queued += queued;
    metrics_add(claim_m_failed, (double)(set->n - queued));
    rd_kafka_poll(producer, 0);
    return queued;
}

size_t claim_publish_wait(rd_kafka_t *producer, size_t max_waiting, int timeout_ms)
{
    int64_t deadline = service_mono_ms() + timeout_ms;
    size_t waiting;
    /* Serving the delivery callbacks; nothing here holds a database transaction. */
    while ((waiting = claim_queued - claim_acked - claim_nacked) > max_waiting) {
        int64_t left = deadline - service_mono_ms();
        if (left <= 0) {
            log_error("%zu claims still unacknowledged after %d ms; their leases will expire",
                      waiting, timeout_ms);
            break;
        }
        if (max_waiting == 0)
            rd_kafka_flush(producer, (int)(left < 100 ? left : 100));
        else
            rd_kafka_poll(producer, (int)(left < 100 ? left : 100));
    }
    return waiting;
}

void claim_publish_counts(size_t *acked, size_t *failed)
{
    *acked = claim_acked;
    *failed = claim_nacked;
}
