/* The committer's loop: consume results, apply them in batches, publish the outbox.
 *
 * The loop consumes and decodes the next batch while an applier thread runs the previous
 * batch's transaction (one at a time, on the one database connection, which only the
 * applier touches while it holds a batch). A batch's handoffs are queued and its offsets
 * committed once its transaction has committed; its outbox row is deleted by a later
 * transaction once Kafka has acknowledged every one of them. */
#include "committer.h"

#include <pthread.h>
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

/* Consumed results and the offsets they cover. */
typedef struct committer_batch {
    msg_result *v;
    size_t n;
    rd_kafka_topic_partition_list_t *next;  /* per partition: offset to commit */
    rd_kafka_topic_partition_list_t *first; /* per partition: first offset of the batch */
    int64_t started_ms;
    result_prepared prep; /* serialized by the loop before it is handed to the applier */
    int dlq_failed; /* a dead letter of this batch could not be queued */
    int dlq_sent;   /* dead letters of this batch were queued (wait for them before commit) */
} committer_batch;

typedef struct committer_ctx {
    const committer_settings *s;
    char consumer_name[192];
    db *d;
    rd_kafka_t *consumer, *producer;
    wire *w;
    outbox_ctx ob;
    committer_batch fill; /* being consumed */
    committer_batch out;  /* handed to the applier */
    int out_pending;      /* out was handed and its outcome not yet taken by the loop */
    /* The applier thread and its one job (out), under mu. */
    pthread_t applier;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int applier_started, applier_busy, applier_stop, out_rc;
    long limit;        /* results per batch now: WF4_COMMIT_BATCH, less while slow */
    char *out_done; /* outbox rows the job's transaction deletes (array literal) */
    result_stats out_st;
    /* Handoffs queued after the last transaction, and the outbox rows of handoffs Kafka
     * acknowledged, waiting for the next transaction (or an idle moment) to be deleted. */
    outbox_flight flight;
    int64_t flight_ms;
    char *done;
    /* The handoffs of the batch committed last, queued once the next batch is handed (so
     * that encoding them does not delay the next transaction). */
    msg_handoff *send;
    size_t nsend;
    char send_batch[MSG_UUID_LEN]; /* their outbox row */
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

static int committer_batch_init(committer_batch *b, long cap)
{
    memset(b, 0, sizeof *b);
    b->v = calloc((size_t)cap, sizeof *b->v);
    b->next = rd_kafka_topic_partition_list_new(16);
    b->first = rd_kafka_topic_partition_list_new(16);
    return b->v ? 0 : -1;
}

static int committer_batch_has(const committer_batch *b)
{
    return b->n > 0 || (b->next && b->next->cnt > 0);
}

static void committer_batch_reset(committer_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        msg_result_free(&b->v[i]);
    b->n = 0;
    b->dlq_failed = 0;
    b->dlq_sent = 0;
    result_prepared_free(&b->prep);
    rd_kafka_topic_partition_list_destroy(b->next);
    rd_kafka_topic_partition_list_destroy(b->first);
    b->next = rd_kafka_topic_partition_list_new(16);
    b->first = rd_kafka_topic_partition_list_new(16);
}

static void committer_batch_free(committer_batch *b)
{
    if (!b->next) /* never made: start-up failed before */
        return;
    committer_batch_reset(b);
    rd_kafka_topic_partition_list_destroy(b->next);
    rd_kafka_topic_partition_list_destroy(b->first);
    free(b->v);
    memset(b, 0, sizeof *b);
}

/* Remembers the offset of a consumed message: first of batch and next to commit. */
static void committer_track(committer_batch *b, const rd_kafka_message_t *rkm)
{
    const char *t = rd_kafka_topic_name(rkm->rkt);
    rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(b->next, t,
                                                                       rkm->partition);
    if (!p) {
        rd_kafka_topic_partition_list_add(b->first, t, rkm->partition)->offset = rkm->offset;
        p = rd_kafka_topic_partition_list_add(b->next, t, rkm->partition);
    }
    if (rkm->offset + 1 > p->offset)
        p->offset = rkm->offset + 1;
}

/* The unit of work failed: rewind its partitions so its messages are consumed again. */
static void committer_rewind(committer_ctx *c, const committer_batch *b)
{
    if (b->first->cnt == 0)
        return;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(c->consumer, b->first, 10000);
    if (e) {
        log_error("cannot rewind the failed batch: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

/* The handed batch failed: it and the batch being filled after it are consumed again (the
 * handed one's offsets are the earlier where they share a partition, so they go last). */
static void committer_rewind_both(committer_ctx *c)
{
    committer_rewind(c, &c->fill);
    committer_batch_reset(&c->fill);
    committer_rewind(c, &c->out);
}

static void committer_log_superseded(const committer_batch *b, const result_stats *st)
{
    for (size_t i = 0; i < b->n; i++)
        if (!st->applied || !st->applied[i])
            log_write(LOG_INFO, b->v[i].domain_id, b->v[i].claim_id,
                      "superseded result for %s ignored: the row is no longer processing "
                      "under this claim",
                      b->v[i].domain);
}

static void committer_count(const result_stats *st)
{
    metrics_add(cm_completed, (double)st->completed);
    metrics_add(cm_retried, (double)st->retried);
    metrics_add(cm_failed, (double)st->failed);
    metrics_add(cm_superseded, (double)st->superseded);
    metrics_add(cm_batches, 1);
}

/* Appends the array literal ids to c->done (taking ids). */
static void committer_done_add(committer_ctx *c, char *ids)
{
    if (!ids)
        return;
    if (!c->done) {
        c->done = ids;
        return;
    }
    size_t a = strlen(c->done), b = strlen(ids);
    char *m = malloc(a + b + 1);
    if (!m) { /* the sweep publishes them again, same event ids */
        free(ids);
        return;
    }
    memcpy(m, c->done, a - 1); /* without the closing brace */
    m[a - 1] = ',';
    memcpy(m + a, ids + 1, b); /* without the opening brace, with the NUL */
    free(c->done);
    free(ids);
    c->done = m;
}

/* In the applier: applies the batch, retrying while the database is away; 0 applied,
 * -1 given up (stopping). */
static int committer_apply(committer_ctx *c, committer_batch *b, const char *done,
                           result_stats *st)
{
    long backoff = 200;
    for (;;) {
        /* Not serialized when handed (out of memory): once more here. */
        if (!b->prep.ready && result_prepare(b->v, b->n, &b->prep) != 0)
            memset(st, 0, sizeof *st);
        else if (result_apply(c->d, &c->s->result, &b->prep, done, st) == 0)
            break;
        atomic_store(&committer_ready, 0);
        if (!service_running)
            return -1;
        log_warn("batch of %zu results not applied; retrying in %ld ms", b->n, backoff);
        committer_sleep_ms(backoff);
        backoff = backoff * 2 > 10000 ? 10000 : backoff * 2;
    }
    atomic_store(&committer_ready, 1);
    return 0;
}

static void *committer_applier_main(void *arg)
{
    committer_ctx *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->applier_busy && !c->applier_stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (!c->applier_busy)
            break;
        pthread_mutex_unlock(&c->mu);
        result_stats st;
        int rc = committer_apply(c, &c->out, c->out_done, &st);
        pthread_mutex_lock(&c->mu);
        c->out_st = st;
        c->out_rc = rc;
        c->applier_busy = 0;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Hands the batch being filled to the applier (which must be idle), with the outbox rows
 * to delete; a fresh batch is filled meanwhile. */
static void committer_hand(committer_ctx *c)
{
    committer_batch t = c->out;
    c->out = c->fill;
    c->fill = t;
    pthread_mutex_lock(&c->mu);
    c->out_done = c->done;
    c->done = NULL;
    c->applier_busy = 1;
    c->out_pending = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Sizes the next batches from the last transaction (n results in ms): as many as fit in
 * WF4_TX_TARGET_MS at its pace (db_batch_fit). Short transactions hold their row locks
 * briefly even on a loaded machine; a full batch on a quiet one keeps the per-transaction
 * costs low. */
static void committer_resize(committer_ctx *c, size_t n, long ms)
{
    long limit = db_batch_fit(c->limit, c->s->batch, c->s->tx_target_ms, n, ms);
    if (limit != c->limit)
        log_debug("batch limit %ld -> %ld (last transaction: %zu results in %ld ms)", c->limit,
                  limit, n, ms);
    c->limit = limit;
}

/* Queues the handoffs of the batch committed last (their outbox rows are deleted by a
 * later transaction once Kafka has acknowledged them). */
static void committer_publish(committer_ctx *c)
{
    if (!c->send)
        return;
    outbox_send(&c->ob, &c->flight, c->send, c->nsend, c->send_batch);
    c->flight_ms = service_mono_ms();
    c->send = NULL;
    c->nsend = 0;
}

/* Takes the outcome of the batch handed to the applier, waiting for it unless wait is 0
 * (then only when it is already done). A committed batch's handoffs are kept for
 * committer_publish and its offsets committed (synchronously when sync); a failed one is
 * consumed again. */
static void committer_finish(committer_ctx *c, int wait, int sync)
{
    if (!c->out_pending)
        return;
    pthread_mutex_lock(&c->mu);
    if (c->applier_busy && !wait) {
        pthread_mutex_unlock(&c->mu);
        return;
    }
    while (c->applier_busy)
        pthread_cond_wait(&c->cv, &c->mu);
    result_stats st = c->out_st;
    int rc = c->out_rc;
    char *done = c->out_done;
    c->out_done = NULL;
    pthread_mutex_unlock(&c->mu);
    c->out_pending = 0;
    /* Done rows a failed transaction did not delete stay: the sweep publishes them again,
     * same ids. */
    free(done);
    committer_batch *b = &c->out;
    if (rc != 0) {
        /* The batch being filled follows the failed one on its partitions: consumed again. */
        committer_rewind_both(c);
        committer_batch_reset(b);
        return;
    }
    committer_resize(c, b->n, db_last_tx_ms(c->d)); /* the applier is idle: d is ours */
    if (b->n > 0) {
        committer_log_superseded(b, &st);
        committer_count(&st);
        log_info("batch of %zu results: %ld completed, %ld back to pending, %ld error, "
                 "%ld superseded",
                 b->n, st.completed, st.retried, st.failed, st.superseded);
        committer_publish(c); /* an earlier batch's, not yet queued: settled with the rest */
        committer_done_add(c, outbox_settle(&c->ob, &c->flight, NULL));
        c->send = st.handoffs;
        c->nsend = st.nhandoffs;
        memcpy(c->send_batch, st.outbox_batch, sizeof c->send_batch);
        st.handoffs = NULL;
        st.nhandoffs = 0;
    }
    result_stats_clear(&st);
    if (b->dlq_sent)
        kafka_drain(c->producer, (int)c->s->publish_timeout_ms);
    if (outbox_take_dlq_failures() > 0 || b->dlq_failed) {
        log_error("dead letters of this batch were not delivered; consuming it again");
        committer_rewind_both(c);
    } else if (b->next->cnt > 0) {
        /* An asynchronous commit that fails only replays applied results: harmless. */
        rd_kafka_resp_err_t e = rd_kafka_commit(c->consumer, b->next, !sync);
        if (e)
            log_warn("offset commit failed: %s (the batch will be replayed; harmless)",
                     rd_kafka_err2str(e));
    }
    committer_batch_reset(b);
}

/* Hands the batch in hand to the applier once the one before is done, serialized before
 * waiting; the handoffs of the one before are queued after. sync (a rebalance, the end):
 * waits for it and commits its offsets before returning. With nothing to apply, the outbox
 * rows of acknowledged handoffs are deleted on their own. */
static void committer_flush(committer_ctx *c, int sync)
{
    if (committer_batch_has(&c->fill)) {
        if (!c->fill.prep.ready && result_prepare(c->fill.v, c->fill.n, &c->fill.prep) != 0)
            log_error("the batch of %zu results could not be serialized; retried", c->fill.n);
        committer_finish(c, 1, sync);
        if (committer_batch_has(&c->fill)) /* a failure above drops it */
            committer_hand(c);
    }
    if (sync)
        committer_finish(c, 1, 1);
    committer_publish(c);
    if (!c->out_pending && (c->flight.n > 0 || c->done)) {
        committer_done_add(c, outbox_settle(&c->ob, &c->flight, NULL));
        outbox_delete(&c->ob, c->done);
        free(c->done);
        c->done = NULL;
    }
}

static void committer_take(committer_ctx *c, rd_kafka_message_t *rkm)
{
    char err[512];
    committer_batch *b = &c->fill;
    if (rkm->err) {
        if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            log_warn("consumer: %s", rd_kafka_message_errstr(rkm));
        return;
    }
    if (!committer_batch_has(b))
        b->started_ms = service_mono_ms();
    committer_track(b, rkm);
    msg_result *r = &b->v[b->n];
    if (msg_result_decode(c->w, rkm->payload, rkm->len, r, err, sizeof err) == 0) {
        b->n++;
        return;
    }
    metrics_add(cm_dlq, 1);
    b->dlq_sent = 1;
    if (kafka_dlq_send(c->producer, rkm, c->consumer_name, err) != 0)
        b->dlq_failed = 1;
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
    if (committer_batch_init(&c->fill, s->batch) != 0 ||
        committer_batch_init(&c->out, s->batch) != 0) {
        log_error("out of memory for batches of %ld results", s->batch);
        return -1;
    }
    if (committer_open_kafka(c, app) != 0)
        return -1;
    c->ob = (outbox_ctx){c->d, c->producer, c->w, s->handoff_topic,
                         (int)s->publish_timeout_ms, s->result.budget_ms};
    int e = pthread_create(&c->applier, NULL, committer_applier_main, c);
    if (e != 0) {
        log_error("cannot start the applier thread: %s", strerror(e));
        return -1;
    }
    c->applier_started = 1;
    c->limit = s->batch < 50 ? s->batch : 50; /* grows by half a batch while fast */
    return 0;
}

static void committer_close(committer_ctx *c)
{
    if (c->applier_started) {
        pthread_mutex_lock(&c->mu);
        c->applier_stop = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->applier, NULL);
        if (c->out_pending) { /* stopped before its outcome was taken: replayed on restart */
            result_stats_clear(&c->out_st);
            free(c->out_done);
        }
    }
    if (c->consumer) {
        rd_kafka_resp_err_t e = rd_kafka_consumer_close(c->consumer);
        if (e)
            log_warn("consumer close: %s", rd_kafka_err2str(e));
        rd_kafka_destroy(c->consumer);
    }
    free(outbox_settle(&c->ob, &c->flight, NULL));
    for (size_t i = 0; i < c->nsend; i++) /* never queued: the sweep publishes their rows */
        msg_handoff_free(&c->send[i]);
    free(c->send);
    if (c->producer) {
        kafka_drain(c->producer, 10000);
        rd_kafka_destroy(c->producer);
    }
    free(c->done);
    committer_batch_free(&c->fill);
    committer_batch_free(&c->out);
    wire_free(c->w);
    db_close(c->d);
}

/* When the batch in hand (or, with none, the acknowledged outbox rows) must be flushed:
 * INT64_MAX when there is nothing to flush. */
static int64_t committer_due_ms(const committer_ctx *c)
{
    if (committer_batch_has(&c->fill))
        return c->fill.started_ms + c->s->linger_ms;
    if (!c->out_pending && (c->flight.n > 0 || c->done))
        return c->flight_ms + c->s->linger_ms;
    return INT64_MAX;
}

/* One explicit loop: take results until the batch is full or lingered long enough, then
 * hand it to the applier; take the applier's outcomes; sweep the outbox now and then. */
static void committer_loop(committer_ctx *c)
{
    const committer_settings *s = c->s;
    int64_t next_sweep = 0;
    while (service_running) {
        int64_t now = service_mono_ms(), due = committer_due_ms(c);
        long wait = due == INT64_MAX ? 100 : (due > now ? (long)(due - now) : 0);
        if (c->out_pending && wait > 5)
            wait = 5; /* its outcome (handoffs, offsets) is taken promptly */
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(c->consumer, (int)wait);
        if (rkm) {
            committer_take(c, rkm);
            rd_kafka_message_destroy(rkm);
        }
        committer_finish(c, 0, 0);
        now = service_mono_ms();
        if ((long)c->fill.n >= c->limit || now >= committer_due_ms(c))
            committer_flush(c, 0);
        committer_publish(c);
        rd_kafka_poll(c->producer, 0);
        if (now >= next_sweep && !c->out_pending) {
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
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
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
    pthread_cond_destroy(&c.cv);
    pthread_mutex_destroy(&c.mu);
    log_info("committer stopped");
    return rc;
}
