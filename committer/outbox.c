/* The WF5 outbox: handoff events published after commit, deleted once Kafka has them. */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "trace.h"

static metric *outbox_m_published, *outbox_m_backlog;

static void outbox_metrics_init(void)
{
    if (outbox_m_published)
        return;
    outbox_m_published = metrics_counter("wf4_committer_handoffs_published_total",
                                         "WF5 handoff events acknowledged by Kafka");
    outbox_m_backlog = metrics_gauge("wf4_committer_outbox_backlog",
                                     "Outbox events waiting to be published (last sweep)");
}

void outbox_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    const outbox_ctx *c = opaque;
    if (strcmp(rd_kafka_topic_name(rkm->rkt), c->topic) != 0) {
        kafka_dlq_report(rkm);
        return;
    }
    unsigned char *flag = rkm->_private;
    if (rkm->err) {
        char domain[MSG_UUID_LEN], claim_id[MSG_UUID_LEN];
        snprintf(domain, sizeof domain, "%.*s", (int)rkm->key_len, (const char *)rkm->key);
        trace_claim_of_message(rkm, claim_id);
        log_write(LOG_LEVEL_ERROR, domain, claim_id,
                  "handoff for domain %s not delivered: %s (left in the outbox)", domain,
                  rd_kafka_err2str(rkm->err));
    }
    if (flag)
        *flag = rkm->err ? 2 : 1;
}

static int outbox_produce(const outbox_ctx *c, const msg_handoff *h, unsigned char *flag)
{
    void *buf = NULL;
    size_t len = 0;
    char err[256];
    if (msg_handoff_encode(c->w, h, &buf, &len, err, sizeof err) != 0) {
        log_write(LOG_LEVEL_ERROR, h->domain_id, h->claim_id, "cannot encode handoff: %s", err);
        return -1;
    }
    /* The claim's trace (its id is the claim_id's) goes on to WF5 in a span of ours. */
    char tp[MSG_TRACEPARENT_LEN];
    trace_from_claim(h->claim_id, tp);
    rd_kafka_resp_err_t e = kafka_produce_header(c->producer, c->topic, h->domain_id, buf, len,
                                                 flag, TRACE_HEADER, tp);
    if (e) {
        log_write(LOG_LEVEL_ERROR, h->domain_id, h->claim_id, "cannot publish handoff: %s",
                  rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

int outbox_ids_add(outbox_ids *l, const char *id)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char(*v)[MSG_UUID_LEN] = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    snprintf(l->v[l->n++], MSG_UUID_LEN, "%s", id);
    return 0;
}

void outbox_ids_move(outbox_ids *to, outbox_ids *from)
{
    if (to->n == 0) {
        outbox_ids_clear(to);
        *to = *from;
        memset(from, 0, sizeof *from);
        return;
    }
    for (size_t i = 0; i < from->n; i++)
        if (outbox_ids_add(to, from->v[i]) != 0)
            break;
    outbox_ids_clear(from);
}

void outbox_ids_clear(outbox_ids *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

int outbox_ids_array(const outbox_ids *l, db_array *a)
{
    db_array_init(a, DB_OID_UUID);
    for (size_t i = 0; l && i < l->n; i++)
        db_array_add_uuid(a, l->v[i]);
    if (db_array_finish(a) != 0) {
        db_array_free(a);
        return -1;
    }
    return 0;
}

int outbox_handoff_read(const PGresult *r, int row, int col, msg_handoff *h)
{
    snprintf(h->event_id, sizeof h->event_id, "%s", PQgetvalue(r, row, col));
    snprintf(h->domain_id, sizeof h->domain_id, "%s", PQgetvalue(r, row, col + 1));
    snprintf(h->claim_id, sizeof h->claim_id, "%s", PQgetvalue(r, row, col + 2));
    snprintf(h->tenant_id, sizeof h->tenant_id, "%s", PQgetvalue(r, row, col + 3));
    h->domain = strdup(PQgetvalue(r, row, col + 4));
    h->completed_at_ms = strtoll(PQgetvalue(r, row, col + 5), NULL, 10);
    return h->domain ? 0 : -1;
}

int outbox_delete_in(db_tx *tx, const outbox_ids *ids)
{
    db_array a;
    if (outbox_ids_array(ids, &a) != 0)
        return -1;
    const char *p[] = {a.buf};
    int len[] = {(int)a.len}, fmt[] = {1};
    PGresult *r = db_exec_params(tx, "DELETE FROM wf5_outbox WHERE batch_id = ANY($1::uuid[])", 1,
                                 p, len, fmt);
    db_array_free(&a);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

static int outbox_delete_tx(db_tx *tx, void *arg)
{
    return outbox_delete_in(tx, arg);
}

void outbox_delete(const outbox_ctx *c, outbox_ids *ids)
{
    if (ids->n &&
        db_transaction(c->d, "outbox_delete", (int)c->budget_ms, outbox_delete_tx, ids) != 0)
        log_warn("could not delete published outbox rows; the sweep will publish them again "
                 "(same event ids)");
    outbox_ids_clear(ids);
}

/* Appends the batch_ids of the rows whose every event was acknowledged to done. */
static void outbox_done_batches(const outbox_flight *f, outbox_ids *done)
{
    unsigned char *missing = calloc(f->nbatches ? f->nbatches : 1, 1); /* an event unacked */
    if (!missing)
        return; /* the sweep publishes them again, same event ids */
    for (size_t i = 0; i < f->n; i++)
        if (f->acked[i] != 1)
            missing[f->batch_of[i]] = 1;
    for (size_t b = 0; b < f->nbatches; b++)
        if (!missing[b] && f->batches[b][0] && outbox_ids_add(done, f->batches[b]) != 0)
            break;
    free(missing);
}

/* Queues the handoffs of f (v, batches and batch_of already set, owned by f). */
static void outbox_queue(const outbox_ctx *c, outbox_flight *f)
{
    outbox_metrics_init();
    f->acked = f->n ? calloc(f->n, 1) : NULL;
    if (f->n && (!f->acked || !f->batches || !f->batch_of)) {
        log_error("out of memory: %zu handoffs left to the outbox sweep", f->n);
        free(f->acked);
        f->acked = NULL;
        return;
    }
    for (size_t i = 0; i < f->n; i++)
        (void)outbox_produce(c, &f->v[i], &f->acked[i]);
    rd_kafka_poll(c->producer, 0);
}

void outbox_send(const outbox_ctx *c, outbox_flight *f, msg_handoff *v, size_t n,
                 const char *batch_id)
{
    f->v = v;
    f->n = n;
    f->nbatches = 1;
    f->batches = calloc(1, sizeof *f->batches);
    f->batch_of = n ? calloc(n, sizeof *f->batch_of) : NULL; /* all in batch 0 */
    if (f->batches)
        snprintf(f->batches[0], sizeof f->batches[0], "%s", batch_id ? batch_id : "");
    outbox_queue(c, f);
}

static void outbox_hold(outbox_ctx *c, unsigned char *flags)
{
    unsigned char **v = realloc(c->held, (c->nheld + 1) * sizeof *v);
    if (!v) {
        log_error("out of memory holding handoff flags: %s", "they are left allocated");
        return;
    }
    c->held = v;
    c->held[c->nheld++] = flags;
}

void outbox_held_free(outbox_ctx *c)
{
    for (size_t i = 0; i < c->nheld; i++)
        free(c->held[i]);
    free(c->held);
    c->held = NULL;
    c->nheld = 0;
}

size_t outbox_settle(outbox_ctx *c, outbox_flight *f, outbox_ids *done)
{
    size_t ok = 0;
    if (f->n && f->acked) {
        kafka_drain(c->producer, c->timeout_ms);
        for (size_t i = 0; i < f->n; i++)
            ok += f->acked[i] == 1;
        outbox_done_batches(f, done);
        metrics_add(outbox_m_published, (double)ok);
        /* Flags still 0 belong to messages librdkafka holds: it must not write to freed
         * memory, so while any is queued the flags are held until the producer is gone. */
        if (ok < f->n && kafka_drain(c->producer, c->timeout_ms) > 0) {
            log_error("Kafka still holds handoffs after %d ms; they stay in the outbox",
                      2 * c->timeout_ms);
            outbox_hold(c, f->acked);
        } else {
            free(f->acked);
        }
    }
    for (size_t i = 0; i < f->n; i++)
        msg_handoff_free(&f->v[i]);
    free(f->v);
    free(f->batches);
    free(f->batch_of);
    memset(f, 0, sizeof *f);
    return ok;
}

/* Rows in age order while the events before them number under $2 (at least one row), each
 * row's events unnested in order; the last column is the whole backlog in events. */
static const char outbox_sweep_sql[] =
    "SELECT o.batch_id, e.event_id, e.domain_id, e.claim_id, coalesce(e.tenant_id::text, ''),"
    " e.domain, (extract(epoch FROM o.completed_at) * 1000)::bigint,"
    " (SELECT coalesce(sum(cardinality(event_ids)), 0) FROM wf5_outbox)"
    " FROM (SELECT *, sum(cardinality(event_ids)) OVER (ORDER BY created_at, batch_id)"
    "        - cardinality(event_ids) AS before"
    "       FROM wf5_outbox WHERE created_at < now() - make_interval(secs => $1)) o,"
    " unnest(o.event_ids, o.domain_ids, o.claim_ids, o.tenant_ids, o.domains)"
    "  WITH ORDINALITY AS e(event_id, domain_id, claim_id, tenant_id, domain, k)"
    " WHERE o.before < $2"
    " ORDER BY o.created_at, o.batch_id, e.k";

/* Reads the sweep's rows into f (one batch per distinct batch_id). Returns 0 or -1. */
static int outbox_sweep_read(PGresult *r, outbox_flight *f)
{
    int n = PQntuples(r);
    f->v = calloc((size_t)n, sizeof *f->v);
    f->batch_of = calloc((size_t)n, sizeof *f->batch_of);
    f->batches = calloc((size_t)n, sizeof *f->batches);
    if (!f->v || !f->batch_of || !f->batches)
        return -1;
    for (int i = 0; i < n; i++) {
        const char *b = PQgetvalue(r, i, 0);
        if (f->nbatches == 0 || strcmp(f->batches[f->nbatches - 1], b) != 0)
            snprintf(f->batches[f->nbatches++], MSG_UUID_LEN, "%s", b);
        f->batch_of[i] = f->nbatches - 1;
        f->n++;
        if (outbox_handoff_read(r, i, 1, &f->v[i]) != 0)
            return -1;
    }
    return 0;
}

long outbox_sweep(outbox_ctx *c, long min_age_s, long limit)
{
    char age[24], lim[24];
    outbox_metrics_init();
    snprintf(age, sizeof age, "%ld", min_age_s);
    snprintf(lim, sizeof lim, "%ld", limit);
    const char *p[] = {age, lim};
    PGresult *r = db_query(c->d, outbox_sweep_sql, 2, p);
    if (!r)
        return -1;
    int n = PQntuples(r);
    long backlog = n ? atol(PQgetvalue(r, 0, 7)) : 0;
    if (n) {
        outbox_flight f = {0};
        size_t ok = 0;
        if (outbox_sweep_read(r, &f) != 0) {
            log_error("out of memory reading %d leftover handoffs; next sweep", n);
            outbox_ids none = {0};
            outbox_settle(c, &f, &none);
            outbox_ids_clear(&none);
        } else {
            size_t rows = f.nbatches;
            outbox_ids ids = {0};
            outbox_queue(c, &f);
            ok = outbox_settle(c, &f, &ids);
            outbox_delete(c, &ids);
            log_info("outbox sweep: %zu of %d leftover handoffs (%zu outbox rows) published", ok, n,
                     rows);
        }
    }
    PQclear(r);
    metrics_set(outbox_m_backlog, (double)backlog);
    return backlog;
}
