/* The WF5 outbox: handoff events published after commit, deleted once Kafka has them. */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "log.h"
#include "metrics.h"

static long outbox_dlq_failures;
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
    (void)opaque; /* the handle's opaque; the message's own is rkm->_private */
    unsigned char *flag = rkm->_private;
    if (flag) {
        *flag = rkm->err ? 2 : 1;
        if (rkm->err)
            log_error("handoff for domain %.*s not delivered: %s (left in the outbox)",
                      (int)rkm->key_len, (const char *)rkm->key, rd_kafka_err2str(rkm->err));
        return;
    }
    if (rkm->err) {
        outbox_dlq_failures++;
        log_error("dead letter not delivered: %s", rd_kafka_err2str(rkm->err));
    }
}

long outbox_take_dlq_failures(void)
{
    long n = outbox_dlq_failures;
    outbox_dlq_failures = 0;
    return n;
}

static int outbox_produce(const outbox_ctx *c, const msg_handoff *h, unsigned char *flag)
{
    void *buf = NULL;
    size_t len = 0;
    char err[256];
    if (msg_handoff_encode(c->w, h, &buf, &len, err, sizeof err) != 0) {
        log_write(LOG_ERROR, h->domain_id, h->claim_id, "cannot encode handoff: %s", err);
        return -1;
    }
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_producev(c->producer, RD_KAFKA_V_TOPIC(c->topic),
                                  RD_KAFKA_V_KEY(h->domain_id, strlen(h->domain_id)),
                                  RD_KAFKA_V_VALUE(buf, len),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                                  RD_KAFKA_V_OPAQUE(flag), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(c->producer, 50);
    if (e) {
        log_write(LOG_ERROR, h->domain_id, h->claim_id, "cannot publish handoff: %s",
                  rd_kafka_err2str(e));
        free(buf);
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

int outbox_delete_in(db_tx *tx, const char *ids)
{
    const char *p[] = {ids};
    PGresult *r = db_exec(tx, "DELETE FROM wf5_outbox WHERE batch_id = ANY($1::uuid[])", 1, p);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

static int outbox_delete_tx(db_tx *tx, void *arg)
{
    return outbox_delete_in(tx, arg);
}

void outbox_delete(const outbox_ctx *c, const char *ids)
{
    if (ids && db_transaction(c->d, "outbox_delete", (int)c->budget_ms, outbox_delete_tx,
                              (void *)ids) != 0)
        log_warn("could not delete published outbox rows; the sweep will publish them again "
                 "(same event ids)");
}

/* The batch_ids of the rows whose every event was acknowledged, as an array literal (UUID
 * text is safe in one); NULL when none. */
static char *outbox_done_batches(const outbox_flight *f)
{
    char *ids = malloc(f->nbatches * (MSG_UUID_LEN + 1) + 3), *p = ids;
    unsigned char *missing = calloc(f->nbatches ? f->nbatches : 1, 1); /* an event unacked */
    size_t k = 0;
    if (!ids || !missing) {
        free(ids);
        free(missing);
        return NULL;
    }
    for (size_t i = 0; i < f->n; i++)
        if (f->acked[i] != 1)
            missing[f->batch_of[i]] = 1;
    *p++ = '{';
    for (size_t b = 0; b < f->nbatches; b++) {
        if (missing[b] || !f->batches[b][0])
            continue;
        if (k++)
            *p++ = ',';
        size_t l = strlen(f->batches[b]);
        memcpy(p, f->batches[b], l);
        p += l;
    }
    *p++ = '}';
    *p = '\0';
    free(missing);
    if (k == 0) {
        free(ids);
        return NULL;
    }
    return ids;
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

char *outbox_settle(const outbox_ctx *c, outbox_flight *f, size_t *acked)
{
    size_t ok = 0;
    char *ids = NULL;
    if (f->n && f->acked) {
        kafka_drain(c->producer, c->timeout_ms);
        for (size_t i = 0; i < f->n; i++)
            ok += f->acked[i] == 1;
        ids = outbox_done_batches(f);
        metrics_add(outbox_m_published, (double)ok);
        /* Flags still 0 belong to messages librdkafka holds: it must not write to freed
         * memory, so while any is queued the flags are deliberately left allocated. */
        if (ok < f->n && kafka_drain(c->producer, c->timeout_ms) > 0)
            log_error("Kafka still holds handoffs after %d ms; they stay in the outbox",
                      2 * c->timeout_ms);
        else
            free(f->acked);
    }
    for (size_t i = 0; i < f->n; i++)
        msg_handoff_free(&f->v[i]);
    free(f->v);
    free(f->batches);
    free(f->batch_of);
    memset(f, 0, sizeof *f);
    if (acked)
        *acked = ok;
    return ids;
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

long outbox_sweep(const outbox_ctx *c, long min_age_s, long limit)
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
            free(outbox_settle(c, &f, NULL));
        } else {
            size_t rows = f.nbatches;
            outbox_queue(c, &f);
            char *ids = outbox_settle(c, &f, &ok);
            outbox_delete(c, ids);
            free(ids);
            log_info("outbox sweep: %zu of %d leftover handoffs (%zu outbox rows) published", ok,
                     n, rows);
        }
    }
    PQclear(r);
    metrics_set(outbox_m_backlog, (double)backlog);
    return backlog;
}
