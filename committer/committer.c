/* The committer's loop: consume results, apply them in batches, publish the outbox. */
#include "committer.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "service.h"

typedef struct committer_ctx {
    const committer_settings *s;
    char consumer_name[192];
    db *d;
    rd_kafka_t *consumer, *producer;
    wire *w;
    outbox_ctx ob;
    msg_result *batch;
    size_t n;
    rd_kafka_topic_partition_list_t *next; /* per partition: offset to commit */
    rd_kafka_topic_partition_list_t *first; /* per partition: first offset of the batch */
    int64_t batch_started_ms;
    int dlq_failed; /* a dead letter of this batch could not be queued */
    int dlq_sent;   /* dead letters of this batch were queued (wait for them before commit) */
    /* The handoffs of the last batch, in Kafka's hands while the next batch is consumed;
     * their acknowledged outbox rows are deleted by the next transaction. */
    outbox_flight flight;
    int64_t flight_ms;
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

/* Remembers the offset of a consumed message: first of batch and next to commit. */
static void committer_track(committer_ctx *c, const rd_kafka_message_t *rkm)
{
    const char *t = rd_kafka_topic_name(rkm->rkt);
    rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(c->next, t,
                                                                       rkm->partition);
    if (!p) {
        rd_kafka_topic_partition_list_add(c->first, t, rkm->partition)->offset = rkm->offset;
        p = rd_kafka_topic_partition_list_add(c->next, t, rkm->partition);
    }
    if (rkm->offset + 1 > p->offset)
        p->offset = rkm->offset + 1;
}

static void committer_reset(committer_ctx *c)
{
    for (size_t i = 0; i < c->n; i++)
        msg_result_free(&c->batch[i]);
    c->n = 0;
    c->dlq_failed = 0;
    c->dlq_sent = 0;
    rd_kafka_topic_partition_list_destroy(c->next);
    rd_kafka_topic_partition_list_destroy(c->first);
    c->next = rd_kafka_topic_partition_list_new(16);
    c->first = rd_kafka_topic_partition_list_new(16);
}

/* The unit of work failed: rewind its partitions so its messages are consumed again. */
static void committer_rewind(committer_ctx *c)
{
    if (c->first->cnt == 0)
        return;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(c->consumer, c->first, 10000);
    if (e) {
        log_error("cannot rewind the failed batch: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static void committer_log_superseded(const committer_ctx *c, const result_stats *st)
{
    for (size_t i = 0; i < c->n; i++)
        if (!st->applied || !st->applied[i])
            log_write(LOG_INFO, c->batch[i].domain_id, c->batch[i].claim_id,
                      "superseded result for %s ignored: the row is no longer processing "
                      "under this claim",
                      c->batch[i].domain);
}

static void committer_count(const result_stats *st)
{
    metrics_add(cm_completed, (double)st->completed);
    metrics_add(cm_retried, (double)st->retried);
    metrics_add(cm_failed, (double)st->failed);
    metrics_add(cm_superseded, (double)st->superseded);
    metrics_add(cm_batches, 1);
}

/* Applies the batch, retrying while the database is away; 0 applied, -1 given up. */
static int committer_apply(committer_ctx *c, const char *outbox_done, result_stats *st)
{
    long backoff = 200;
    while (result_apply(c->d, &c->s->result, c->batch, c->n, outbox_done, st) != 0) {
        atomic_store(&committer_ready, 0);
        if (!service_running)
            return -1;
        log_warn("batch of %zu results not applied; retrying in %ld ms", c->n, backoff);
        committer_sleep_ms(backoff);
        backoff = backoff * 2 > 10000 ? 10000 : backoff * 2;
    }
    atomic_store(&committer_ready, 1);
    return 0;
}

/* Applies the batch (and deletes the outbox rows of the batch before, now acknowledged),
 * queues its handoffs, commits the offsets: the order that makes a crash anywhere replay
 * harmlessly. Kafka acknowledges the handoffs while the next batch is consumed. sync: wait
 * for the offset commit (a rebalance, the end). */
static void committer_flush(committer_ctx *c, int sync)
{
    result_stats st;
    if (c->n == 0 && c->next->cnt == 0 && c->flight.n == 0)
        return;
    char *done = outbox_settle(&c->ob, &c->flight, NULL);
    if (c->n == 0) {
        outbox_delete(&c->ob, done);
    } else if (committer_apply(c, done, &st) != 0) {
        /* The acknowledged rows stay in the outbox: the sweep publishes them again under
         * the same event ids. */
        free(done);
        committer_rewind(c);
        committer_reset(c);
        return;
    } else {
        committer_log_superseded(c, &st);
        committer_count(&st);
        log_info("batch of %zu results: %ld completed, %ld back to pending, %ld error, "
                 "%ld superseded",
                 c->n, st.completed, st.retried, st.failed, st.superseded);
        outbox_send(&c->ob, &c->flight, st.handoffs, st.nhandoffs);
        c->flight_ms = service_mono_ms();
        st.handoffs = NULL;
        st.nhandoffs = 0;
        result_stats_clear(&st);
    }
    free(done);
    if (c->dlq_sent)
        kafka_drain(c->producer, (int)c->s->publish_timeout_ms);
    if (outbox_take_dlq_failures() > 0 || c->dlq_failed) {
        log_error("dead letters of this batch were not delivered; consuming it again");
        committer_rewind(c);
    } else if (c->next->cnt > 0) {
        /* An asynchronous commit that fails only replays applied results: harmless. */
        rd_kafka_resp_err_t e = rd_kafka_commit(c->consumer, c->next, !sync);
        if (e)
            log_warn("offset commit failed: %s (the batch will be replayed; harmless)",
                     rd_kafka_err2str(e));
    }
    committer_reset(c);
}

static void committer_take(committer_ctx *c, rd_kafka_message_t *rkm)
{
    char err[512];
    if (rkm->err) {
        if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            log_warn("consumer: %s", rd_kafka_message_errstr(rkm));
        return;
    }
    if (c->n == 0 && c->next->cnt == 0)
        c->batch_started_ms = service_mono_ms();
    committer_track(c, rkm);
    msg_result *r = &c->batch[c->n];
    if (msg_result_decode(c->w, rkm->payload, rkm->len, r, err, sizeof err) == 0) {
        c->n++;
        return;
    }
    metrics_add(cm_dlq, 1);
    c->dlq_sent = 1;
    if (kafka_dlq_send(c->producer, rkm, c->consumer_name, err) != 0)
        c->dlq_failed = 1;
}

static void committer_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    committer_ctx *c = opaque;
    rd_kafka_error_t *e = NULL;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        log_info("partitions assigned: %d", parts->cnt);
        if (cooperative)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
    } else {
        log_info("partitions revoked: %d; finishing the batch in hand", parts->cnt);
        committer_flush(c, 1);
        if (cooperative)
            e = rd_kafka_incremental_unassign(rk, parts);
        else
            rd_kafka_assign(rk, NULL);
    }
    if (e) {
        log_error("rebalance: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static int committer_open_kafka(committer_ctx *c, const char *app)
{
    char err[512];
    const committer_settings *s = c->s;
    rd_kafka_conf_t *pc = kafka_conf_new(s->base.kafka_brokers, app, err, sizeof err);
    if (!pc || (rd_kafka_conf_set_dr_msg_cb(pc, outbox_delivery_cb), 0) ||
        !(c->producer = kafka_producer_new(pc, err, sizeof err))) {
        log_error("%s", err);
        return -1;
    }
    if (kafka_check_reachable(c->producer, s->base.kafka_brokers, 10000) != 0)
        return -1;
    rd_kafka_conf_t *cc = kafka_conf_new(s->base.kafka_brokers, app, err, sizeof err);
    if (!cc) {
        log_error("%s", err);
        return -1;
    }
    rd_kafka_conf_set_rebalance_cb(cc, committer_rebalance);
    rd_kafka_conf_set_opaque(cc, c);
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
    char err[512], app[160];
    const committer_settings *s = c->s;
    snprintf(app, sizeof app, "wf4-committer/%s", s->base.instance);
    snprintf(c->consumer_name, sizeof c->consumer_name, "committer/%s", s->base.instance);
    db_settings ds = {s->base.database_url, app, (int)s->base.stmt_timeout_ms, (int)s->base.lock_timeout_ms,
                      (int)s->base.idle_tx_timeout_ms, 10};
    if (!(c->d = db_connect(&ds, err, sizeof err))) {
        log_error("WF4_DATABASE_URL: cannot connect to PostgreSQL: %s", err);
        return -1;
    }
    if (!(c->w = wire_new(s->base.schema_dir, s->base.registry_url, err, sizeof err))) {
        log_error("WF4_SCHEMA_DIR/WF4_SCHEMA_REGISTRY_URL: %s", err);
        return -1;
    }
    if (wire_register(c->w, WIRE_HANDOFF, s->handoff_topic, err, sizeof err) != 0) {
        log_error("WF4_SCHEMA_REGISTRY_URL: cannot register the handoff schema: %s", err);
        return -1;
    }
    c->batch = calloc((size_t)s->batch, sizeof *c->batch);
    c->next = rd_kafka_topic_partition_list_new(16);
    c->first = rd_kafka_topic_partition_list_new(16);
    if (!c->batch || committer_open_kafka(c, app) != 0)
        return -1;
    c->ob = (outbox_ctx){c->d, c->producer, c->w, s->handoff_topic,
                         (int)s->publish_timeout_ms, s->result.budget_ms};
    return 0;
}

static void committer_close(committer_ctx *c)
{
    if (c->consumer) {
        rd_kafka_resp_err_t e = rd_kafka_consumer_close(c->consumer);
        if (e)
            log_warn("consumer close: %s", rd_kafka_err2str(e));
        rd_kafka_destroy(c->consumer);
    }
    if (c->producer) {
        kafka_drain(c->producer, 10000);
        rd_kafka_destroy(c->producer);
    }
    if (c->next)
        committer_reset(c);
    /* NULL when start-up failed before they were made (librdkafka does not take NULL). */
    if (c->next)
        rd_kafka_topic_partition_list_destroy(c->next);
    if (c->first)
        rd_kafka_topic_partition_list_destroy(c->first);
    free(c->batch);
    wire_free(c->w);
    db_close(c->d);
}

/* When the batch in hand (or, with none, the handoffs in flight) must be flushed:
 * INT64_MAX when there is nothing to flush. */
static int64_t committer_due_ms(const committer_ctx *c)
{
    if (c->n > 0 || c->next->cnt > 0)
        return c->batch_started_ms + c->s->linger_ms;
    if (c->flight.n > 0)
        return c->flight_ms + c->s->linger_ms;
    return INT64_MAX;
}

/* One explicit loop: take results until the batch is full or lingered long enough,
 * then flush; sweep the outbox now and then. */
static void committer_loop(committer_ctx *c)
{
    const committer_settings *s = c->s;
    int64_t next_sweep = 0;
    while (service_running) {
        int64_t now = service_mono_ms(), due = committer_due_ms(c);
        long wait = due == INT64_MAX ? 100 : (due > now ? (long)(due - now) : 0);
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(c->consumer, (int)wait);
        if (rkm) {
            committer_take(c, rkm);
            rd_kafka_message_destroy(rkm);
        }
        now = service_mono_ms();
        if ((long)c->n >= s->batch || now >= committer_due_ms(c))
            committer_flush(c, 0);
        rd_kafka_poll(c->producer, 0);
        if (now >= next_sweep) {
            outbox_sweep(&c->ob, s->sweep_interval_s, 1000);
            atomic_store(&committer_ready, db_ok(c->d));
            next_sweep = now + s->sweep_interval_s * 1000;
        }
        char fatal[256];
        if (rd_kafka_fatal_error(c->consumer, fatal, sizeof fatal) ||
            rd_kafka_fatal_error(c->producer, fatal, sizeof fatal)) {
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
    if (committer_open(&c) != 0)
        goto out;
    if (http_start((int)s->base.metrics_port, committer_ready_fn, NULL) < 0)
        goto out;
    atomic_store(&committer_ready, 1);
    log_info("committer started: batch %ld, linger %ld ms, group %s, topic %s -> %s",
             s->batch, s->linger_ms, s->group, s->results_topic, s->handoff_topic);
    committer_loop(&c);
    log_info("committer stopping: applying the batch in hand");
    committer_flush(&c, 1);
    committer_flush(&c, 1); /* its handoffs: acknowledged rows leave the outbox */
    rc = 0;
out:
    atomic_store(&committer_ready, 0);
    http_stop();
    committer_close(&c);
    log_info("committer stopped");
    return rc;
}
