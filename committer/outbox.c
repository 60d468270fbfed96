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
                                     "Outbox rows waiting to be published (last sweep)");
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

int outbox_delete_in(db_tx *tx, const char *ids)
{
    const char *p[] = {ids};
    PGresult *r = db_exec(tx, "DELETE FROM wf5_outbox WHERE event_id = ANY($1::uuid[])", 1, p);
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

/* The acknowledged event ids as an array literal; UUID text is safe in one. */
static char *outbox_acked_ids(const outbox_flight *f, size_t *k)
{
    char *ids = malloc(f->n * (MSG_UUID_LEN + 1) + 3), *p = ids;
    *k = 0;
    if (!ids)
        return NULL;
    *p++ = '{';
    for (size_t i = 0; i < f->n; i++) {
        if (f->acked[i] != 1)
            continue;
        if ((*k)++)
            *p++ = ',';
        size_t l = strlen(f->v[i].event_id);
        memcpy(p, f->v[i].event_id, l);
        p += l;
    }
    *p++ = '}';
    *p = '\0';
    if (*k == 0) {
        free(ids);
        return NULL;
    }
    return ids;
}

void outbox_send(const outbox_ctx *c, outbox_flight *f, msg_handoff *v, size_t n)
{
    outbox_metrics_init();
    f->v = v;
    f->n = n;
    f->acked = n ? calloc(n, 1) : NULL;
    if (n && !f->acked) {
        log_error("out of memory: %zu handoffs left to the outbox sweep", n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        (void)outbox_produce(c, &v[i], &f->acked[i]);
    rd_kafka_poll(c->producer, 0);
}

char *outbox_settle(const outbox_ctx *c, outbox_flight *f, size_t *acked)
{
    size_t ok = 0;
    char *ids = NULL;
    if (f->n && f->acked) {
        kafka_drain(c->producer, c->timeout_ms);
        ids = outbox_acked_ids(f, &ok);
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
    memset(f, 0, sizeof *f);
    if (acked)
        *acked = ok;
    return ids;
}

static const char outbox_sweep_sql[] =
    "SELECT event_id, domain_id, claim_id, coalesce(tenant_id::text, ''), domain,"
    " (extract(epoch FROM completed_at) * 1000)::bigint,"
    " (SELECT count(*) FROM wf5_outbox)"
    " FROM wf5_outbox WHERE created_at < now() - make_interval(secs => $1)"
    " ORDER BY created_at LIMIT $2";

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
    long backlog = n ? atol(PQgetvalue(r, 0, 6)) : 0;
    msg_handoff *v = n ? calloc((size_t)n, sizeof *v) : NULL;
    for (int i = 0; v && i < n; i++) {
        snprintf(v[i].event_id, sizeof v[i].event_id, "%s", PQgetvalue(r, i, 0));
        snprintf(v[i].domain_id, sizeof v[i].domain_id, "%s", PQgetvalue(r, i, 1));
        snprintf(v[i].claim_id, sizeof v[i].claim_id, "%s", PQgetvalue(r, i, 2));
        snprintf(v[i].tenant_id, sizeof v[i].tenant_id, "%s", PQgetvalue(r, i, 3));
        v[i].domain = strdup(PQgetvalue(r, i, 4));
        v[i].completed_at_ms = strtoll(PQgetvalue(r, i, 5), NULL, 10);
    }
    PQclear(r);
    if (v) {
        outbox_flight f = {0};
        size_t ok = 0;
        outbox_send(c, &f, v, (size_t)n);
        char *ids = outbox_settle(c, &f, &ok);
        outbox_delete(c, ids);
        free(ids);
        log_info("outbox sweep: %zu of %d leftover handoffs published", ok, n);
    }
    metrics_set(outbox_m_backlog, (double)backlog);
    return backlog;
}
