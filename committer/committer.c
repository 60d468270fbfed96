/* The committer's loop: consume results into batches (batch.c: their life from filling to
 * offsets committed), apply them in the applier thread, publish the outbox. This file is
 * the batches' world: PostgreSQL, the producer and the consumer behind batch_ops. */
#include "committer.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "service.h"
#include "service_open.h"
#include "trace.h"

typedef struct committer_ctx {
    const committer_settings *s;
    char consumer_name[192];
    service_handles h; /* d: the applier's while it holds a batch, the loop's otherwise */
    rd_kafka_t *consumer;
    kafka_rebalance rebalance;
    outbox_ctx ob;
    batch_line line;
    int line_ready;
} committer_ctx;

static atomic_int committer_ready;
static metric *cm_completed, *cm_retried, *cm_failed, *cm_superseded, *cm_dlq, *cm_batches;

static void committer_metrics_init(void)
{
    const char *h = "Results applied by the committer, by outcome";
    cm_completed = metrics_counter("wf4_committer_results_total{outcome=\"completed\"}", h);
    cm_retried = metrics_counter("wf4_committer_results_total{outcome=\"retried\"}", h);
    cm_failed = metrics_counter("wf4_committer_results_total{outcome=\"error\"}", h);
    cm_superseded = metrics_counter("wf4_committer_results_total{outcome=\"superseded\"}", h);
    cm_dlq = metrics_counter("wf4_committer_dlq_total", "Results sent to the dead-letter topic");
    cm_batches = metrics_counter("wf4_committer_batches_total", "Batches committed");
}

static int committer_ready_fn(void *arg)
{
    (void)arg;
    return atomic_load(&committer_ready);
}

static void committer_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* batch_ops.apply: retries while the database is away; -1 only when stopping. */
static int committer_apply(void *env, batch *b, const outbox_ids *done)
{
    committer_ctx *c = env;
    long backoff = 200;
    for (;;) {
        /* Not serialized when handed (out of memory): once more here. */
        if (!b->prep.ready && result_prepare(b->v, b->n, &b->prep) != 0)
            memset(&b->st, 0, sizeof b->st);
        else if (result_apply(c->h.d, &c->s->result, &b->prep, done, &b->st) == 0)
            break;
        atomic_store(&committer_ready, 0);
        if (!service_running)
            return -1;
        log_warn("batch of %zu results not applied; retrying in %ld ms", b->n, backoff);
        committer_sleep_ms(backoff);
        backoff = backoff * 2 > 10000 ? 10000 : backoff * 2;
    }
    b->tx_ms = db_last_tx_ms(c->h.d);
    atomic_store(&committer_ready, 1);
    return 0;
}

/* batch_ops.applied */
static void committer_applied(void *env, const batch *b)
{
    (void)env;
    const result_stats *st = &b->st;
    if (b->n == 0)
        return;
    for (size_t i = 0; i < b->n; i++)
        if (!st->applied || !st->applied[i])
            log_write(LOG_LEVEL_INFO, b->v[i].domain_id, b->v[i].claim_id,
                      "superseded result for %s ignored: the row is no longer processing "
                      "under this claim",
                      b->v[i].domain);
    metrics_add(cm_completed, (double)st->completed);
    metrics_add(cm_retried, (double)st->retried);
    metrics_add(cm_failed, (double)st->failed);
    metrics_add(cm_superseded, (double)st->superseded);
    metrics_add(cm_batches, 1);
    log_info("batch of %zu results: %ld completed, %ld back to pending, %ld error, "
             "%ld superseded",
             b->n, st->completed, st->retried, st->failed, st->superseded);
}

/* batch_ops.publish */
static void committer_publish(void *env, batch *b)
{
    committer_ctx *c = env;
    if (!b->st.nhandoffs)
        return;
    outbox_send(&c->ob, &b->flight, b->st.handoffs, b->st.nhandoffs, b->st.outbox_batch);
    b->st.handoffs = NULL;
    b->st.nhandoffs = 0;
}

/* batch_ops.settle */
static void committer_settle(void *env, batch *b, outbox_ids *done)
{
    committer_ctx *c = env;
    outbox_settle(&c->ob, &b->flight, done);
}

/* batch_ops.dlq_settle */
static int committer_dlq_settle(void *env, batch *b)
{
    committer_ctx *c = env;
    if (b->dlq.acked < b->dlq.sent)
        kafka_drain(c->h.producer, (int)c->s->publish_timeout_ms);
    return b->dlq.failed || b->dlq.acked < b->dlq.sent ? -1 : 0;
}

/* batch_ops.commit: a failed commit only replays applied results, harmless. */
static void committer_commit(void *env, const rd_kafka_topic_partition_list_t *next, int sync)
{
    committer_ctx *c = env;
    rd_kafka_resp_err_t e = rd_kafka_commit(c->consumer, next, !sync);
    if (e)
        log_warn("offset commit failed: %s (the batch will be replayed; harmless)",
                 rd_kafka_err2str(e));
}

/* batch_ops.rewind */
static void committer_rewind(void *env, const rd_kafka_topic_partition_list_t *first)
{
    committer_ctx *c = env;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_copy(first);
    rd_kafka_error_t *e = rd_kafka_seek_partitions(c->consumer, l, 10000);
    if (e) {
        log_error("cannot rewind the failed batch: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* batch_ops.delete_done */
static void committer_delete_done(void *env, outbox_ids *done)
{
    committer_ctx *c = env;
    outbox_delete(&c->ob, done);
}

static const batch_ops committer_ops = {
    committer_apply,      committer_applied, committer_publish, committer_settle,
    committer_dlq_settle, committer_commit,  committer_rewind,  committer_delete_done,
};

/* One consumed message into the filling batch: a result, or a dead letter. */
static void committer_take(committer_ctx *c, rd_kafka_message_t *rkm)
{
    char err[512];
    batch *b = batch_filling(&c->line);
    if (rkm->err) {
        if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            log_warn("consumer: %s", rd_kafka_message_errstr(rkm));
        return;
    }
    batch_track(b, rd_kafka_topic_name(rkm->rkt), rkm->partition, rkm->offset);
    if (msg_result_decode(c->h.w, rkm->payload, rkm->len, &b->v[b->n], err, sizeof err) == 0) {
        trace_result_headers(rkm, &b->v[b->n]);
        b->n++;
        return;
    }
    metrics_add(cm_dlq, 1);
    (void)kafka_dlq_send_counted(c->h.producer, rkm, c->consumer_name, err, &b->dlq);
}

/* Before partitions go: everything in hand applied, published, offsets committed. */
static void committer_revoked(void *arg, rd_kafka_topic_partition_list_t *parts, int lost)
{
    committer_ctx *c = arg;
    (void)parts;
    (void)lost;
    if (!c->line_ready)
        return;
    log_info("finishing the batches in hand");
    batch_drain(&c->line);
}

static int committer_open_consumer(committer_ctx *c)
{
    char err[512];
    const committer_settings *s = c->s;
    rd_kafka_conf_t *cc = kafka_conf_new(s->base.kafka_brokers, c->h.app, err, sizeof err);
    if (!cc) {
        log_error("%s", err);
        return -1;
    }
    c->rebalance = (kafka_rebalance){NULL, committer_revoked, c};
    rd_kafka_conf_set_rebalance_cb(cc, kafka_rebalance_cb);
    rd_kafka_conf_set_opaque(cc, &c->rebalance);
    if (!(c->consumer = kafka_consumer_new(cc, s->group, err, sizeof err))) {
        log_error("%s", err);
        return -1;
    }
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, s->results_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e) {
        log_error("cannot subscribe to %s: %s", s->results_topic, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

static int committer_open(committer_ctx *c)
{
    const committer_settings *s = c->s;
    snprintf(c->consumer_name, sizeof c->consumer_name, "committer/%s", s->base.instance);
    c->ob.topic = s->handoff_topic; /* the delivery reports' opaque: set before any */
    const service_open_spec o = {"committer", WIRE_HANDOFF, s->handoff_topic, outbox_delivery_cb,
                                 &c->ob};
    if (service_open(&s->base, &o, &c->h) != 0)
        return -1;
    c->ob = (outbox_ctx){.d = c->h.d,
                         .producer = c->h.producer,
                         .w = c->h.w,
                         .topic = s->handoff_topic,
                         .timeout_ms = (int)s->publish_timeout_ms,
                         .budget_ms = s->result.budget_ms};
    if (batch_line_init(&c->line, &committer_ops, c, s->batch, s->linger_ms, s->tx_target_ms) != 0)
        return -1;
    c->line_ready = 1;
    return committer_open_consumer(c);
}

static void committer_close(committer_ctx *c)
{
    if (c->consumer) {
        rd_kafka_resp_err_t e = rd_kafka_consumer_close(c->consumer);
        if (e)
            log_warn("consumer close: %s", rd_kafka_err2str(e));
        rd_kafka_destroy(c->consumer);
    }
    batch_line_free(&c->line); /* before the producer: it settles what is in flight */
    service_close(&c->h);
    outbox_held_free(&c->ob); /* after the producer: nothing writes to them any more */
}

/* One explicit loop: take results, let the batches move on (batch_step), sweep the outbox
 * now and then. */
static void committer_loop(committer_ctx *c)
{
    const committer_settings *s = c->s;
    int64_t next_sweep = 0;
    while (service_running) {
        int64_t now = service_mono_ms(), due = batch_due_ms(&c->line);
        long wait = due == INT64_MAX ? 100 : (due > now ? (long)(due - now) : 0);
        if (batch_applying(&c->line) && wait > 5)
            wait = 5; /* its outcome (handoffs, offsets) is taken promptly */
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(c->consumer, (int)wait);
        if (rkm) {
            committer_take(c, rkm);
            rd_kafka_message_destroy(rkm);
        }
        now = service_mono_ms();
        batch_step(&c->line, now);
        rd_kafka_poll(c->h.producer, 0);
        if (now >= next_sweep && !batch_applying(&c->line)) {
            outbox_sweep(&c->ob, s->sweep_interval_s, 1000);
            atomic_store(&committer_ready, db_ok(c->h.d));
            next_sweep = now + s->sweep_interval_s * 1000;
        }
        char fatal[256];
        if (rd_kafka_fatal_error(c->consumer, fatal, sizeof fatal) ||
            rd_kafka_fatal_error(c->h.producer, fatal, sizeof fatal)) {
            log_error("Kafka fatal error: %s; stopping", fatal);
            break;
        }
    }
}

int committer_run(const committer_settings *s)
{
    committer_ctx c;
    int rc = 1;
    memset(&c, 0, sizeof c);
    c.s = s;
    committer_metrics_init();
    if (committer_open(&c) != 0 || service_endpoint_start(&s->base, committer_ready_fn, NULL) != 0)
        goto out;
    atomic_store(&committer_ready, 1);
    log_info("committer started: batch %ld, linger %ld ms, group %s, topic %s -> %s", s->batch,
             s->linger_ms, s->group, s->results_topic, s->handoff_topic);
    committer_loop(&c);
    log_info("committer stopping: applying the batches in hand");
    batch_drain(&c.line);
    rc = 0;
out:
    atomic_store(&committer_ready, 0);
    http_stop();
    committer_close(&c);
    log_info("committer stopped");
    return rc;
}
