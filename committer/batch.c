/* A batch's life in the committer, one state machine:
 * filling -> applying -> applied -> published -> offsets committed.
 *
 * The loop fills a batch while the applier thread runs the previous one's transaction. An
 * applied batch's handoffs are queued once the next batch is handed (encoding them does not
 * delay the next transaction); its offsets are committed only once their delivery reports
 * are in, and the outbox rows Kafka acknowledged are deleted by the next transaction. */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

static int batch_has(const batch *b)
{
    return b->n > 0 || b->next->cnt > 0;
}

static void batch_lists_new(batch *b)
{
    b->next = rd_kafka_topic_partition_list_new(16);
    b->first = rd_kafka_topic_partition_list_new(16);
}

/* Back to an empty FILLING batch (its flight must be settled). */
static void batch_reset(batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        msg_result_free(&b->v[i]);
    b->n = 0;
    result_prepared_free(&b->prep);
    result_stats_clear(&b->st);
    memset(&b->dlq, 0, sizeof b->dlq);
    b->tx_ms = 0;
    b->started_ms = 0;
    rd_kafka_topic_partition_list_destroy(b->next);
    rd_kafka_topic_partition_list_destroy(b->first);
    batch_lists_new(b);
    b->state = BATCH_FILLING;
}

/* In the applier thread: out's transaction, with the outbox rows handed along. */
static int batch_apply_job(void *arg, void *job)
{
    batch_line *l = arg;
    return l->ops->apply(l->env, job, &l->out_done);
}

int batch_line_init(batch_line *l, const batch_ops *ops, void *env, long cap, long linger_ms,
                    long target_ms)
{
    memset(l, 0, sizeof *l);
    l->ops = ops;
    l->env = env;
    l->cap = cap;
    l->limit = cap < 50 ? cap : 50; /* grows by half a batch while fast */
    l->linger_ms = linger_ms;
    l->target_ms = target_ms;
    for (int i = 0; i < 3; i++) {
        batch_lists_new(&l->slot[i]);
        l->slot[i].state = BATCH_COMMITTED;
        if (!(l->slot[i].v = calloc((size_t)cap, sizeof *l->slot[i].v))) {
            log_error("out of memory for batches of %ld results", cap);
            return -1;
        }
    }
    l->fill = &l->slot[0];
    l->fill->state = BATCH_FILLING;
    return (l->ap = applier_new(batch_apply_job, l)) ? 0 : -1;
}

void batch_line_free(batch_line *l)
{
    applier_free(l->ap); /* a batch still applying is replayed on restart */
    for (int i = 0; i < 3; i++) {
        batch *b = &l->slot[i];
        if (!b->next)
            continue;
        if (b->flight.n) /* librdkafka holds its flags: wait for their reports */
            l->ops->settle(l->env, b, &l->done);
        batch_reset(b);
        rd_kafka_topic_partition_list_destroy(b->next);
        rd_kafka_topic_partition_list_destroy(b->first);
        free(b->v);
    }
    outbox_ids_clear(&l->done);
    outbox_ids_clear(&l->out_done);
    memset(l, 0, sizeof *l);
}

batch *batch_filling(batch_line *l)
{
    return l->fill;
}

void batch_track(batch *b, const char *topic, int32_t partition, int64_t offset)
{
    rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(b->next, topic, partition);
    if (!p) {
        rd_kafka_topic_partition_list_add(b->first, topic, partition)->offset = offset;
        p = rd_kafka_topic_partition_list_add(b->next, topic, partition);
    }
    if (offset + 1 > p->offset)
        p->offset = offset + 1;
}

int batch_applying(const batch_line *l)
{
    return l->out != NULL;
}

/* The slot that is neither filling, applying nor waiting for its reports. */
static batch *batch_free_slot(batch_line *l)
{
    for (int i = 0; i < 3; i++)
        if (&l->slot[i] != l->fill && &l->slot[i] != l->out && &l->slot[i] != l->last)
            return &l->slot[i];
    return NULL; /* not reached: three slots, three roles */
}

/* A failed batch b and the one filled after it are consumed again; b's offsets are the
 * earlier where they share a partition, so they are sought last. */
static void batch_rewind(batch_line *l, batch *b)
{
    if (l->fill->first->cnt)
        l->ops->rewind(l->env, l->fill->first);
    batch_reset(l->fill);
    if (b->first->cnt)
        l->ops->rewind(l->env, b->first);
}

/* Serialized in the loop thread, before waiting for the applier; failing here it is tried
 * again by the applier. */
static void batch_prepare(batch *b)
{
    if (!b->prep.ready && result_prepare(b->v, b->n, &b->prep) != 0)
        log_error("the batch of %zu results could not be serialized; retried", b->n);
}

/* FILLING -> APPLYING, with the acknowledged outbox rows for its transaction to delete. */
static void batch_hand(batch_line *l)
{
    batch *b = l->fill;
    batch_prepare(b);
    outbox_ids_move(&l->out_done, &l->done);
    if (applier_hand(l->ap, b) != 0) { /* not reached: out was taken before */
        log_error("the applier still holds a batch; this one waits");
        return;
    }
    b->state = BATCH_APPLYING;
    l->out = b;
    l->fill = batch_free_slot(l);
    batch_reset(l->fill);
}

/* APPLIED -> PUBLISHED: its handoffs are queued in the producer. */
static void batch_publish(batch_line *l)
{
    batch *b = l->last;
    if (!b || b->state != BATCH_APPLIED)
        return;
    l->ops->publish(l->env, b);
    b->state = BATCH_PUBLISHED;
    b->started_ms = l->now;
    l->quiet_ms = l->now;
}

/* PUBLISHED -> COMMITTED: once its handoffs' reports are in (the acknowledged rows are
 * deleted later, the others stay for the sweep), its offsets are committed. */
static void batch_settle(batch_line *l, int sync)
{
    batch *b = l->last;
    if (!b)
        return;
    batch_publish(l);
    l->ops->settle(l->env, b, &l->done);
    if (b->next->cnt > 0)
        l->ops->commit(l->env, b->next, sync);
    b->state = BATCH_COMMITTED;
    l->last = NULL;
}

/* The next batches fit in the transaction target at the pace of this one (db_batch_fit). */
static void batch_resize(batch_line *l, const batch *b)
{
    long limit = db_batch_fit(l->limit, l->cap, l->target_ms, b->n, b->tx_ms);
    if (limit != l->limit)
        log_debug("batch limit %ld -> %ld (last transaction: %zu results in %ld ms)", l->limit,
                  limit, b->n, b->tx_ms);
    l->limit = limit;
}

/* APPLIED, after its dead letters: a dead letter not delivered means consuming the batch
 * again (its results are applied already: their replay is superseded, harmless). */
static void batch_check_dlq(batch_line *l, batch *b)
{
    if (!b->dlq.sent && !b->dlq.failed)
        return;
    if (l->ops->dlq_settle(l->env, b) == 0)
        return;
    log_error("dead letters of this batch were not delivered; consuming it again");
    batch_rewind(l, b);
    rd_kafka_topic_partition_list_destroy(b->next); /* no offsets of it are committed */
    b->next = rd_kafka_topic_partition_list_new(1);
}

/* APPLYING -> APPLIED (or, given up, its results consumed again), waiting for the applier
 * when wait. The batch applied before it is settled now (sync: its offsets too). */
static void batch_outcome(batch_line *l, int wait, int sync)
{
    int rc;
    if (!l->out || !applier_take(l->ap, wait, &rc))
        return;
    batch *b = l->out;
    l->out = NULL;
    if (rc != 0) {
        outbox_ids_move(&l->done, &l->out_done); /* not deleted: the next transaction does */
        batch_rewind(l, b);
        batch_reset(b);
        return;
    }
    outbox_ids_clear(&l->out_done);
    b->state = BATCH_APPLIED;
    batch_resize(l, b);
    l->ops->applied(l->env, b);
    batch_settle(l, sync);
    batch_check_dlq(l, b);
    l->last = b;
}

/* The filling batch is due: full, or lingered long enough. */
static int batch_fill_due(const batch_line *l)
{
    const batch *f = l->fill;
    return batch_has(f) && ((long)f->n >= l->limit || l->now >= f->started_ms + l->linger_ms);
}

/* Nothing applying to carry the acknowledged rows: they are deleted on their own. */
static int64_t batch_idle_due(const batch_line *l)
{
    if (l->out || (!l->last && !l->done.n))
        return INT64_MAX;
    return l->quiet_ms + l->linger_ms;
}

int64_t batch_due_ms(const batch_line *l)
{
    if (batch_has(l->fill)) /* started_ms 0: taken since the last step, which times it */
        return l->fill->started_ms ? l->fill->started_ms + l->linger_ms : l->now;
    return batch_idle_due(l);
}

void batch_step(batch_line *l, int64_t now)
{
    l->now = now;
    if (batch_has(l->fill) && !l->fill->started_ms) /* its first message: the linger starts */
        l->fill->started_ms = now;
    batch_outcome(l, 0, 0);
    if (batch_fill_due(l)) {
        batch_prepare(l->fill);
        batch_outcome(l, 1, 0); /* the one before, which fails it too when it failed */
        if (batch_has(l->fill))
            batch_hand(l);
    }
    batch_publish(l);
    if (!batch_has(l->fill) && now >= batch_idle_due(l)) {
        batch_settle(l, 0);
        l->ops->delete_done(l->env, &l->done);
    }
}

void batch_drain(batch_line *l)
{
    batch_outcome(l, 1, 1);
    if (batch_has(l->fill)) {
        batch_hand(l);
        batch_outcome(l, 1, 1);
    }
    batch_settle(l, 1);
    if (l->done.n)
        l->ops->delete_done(l->env, &l->done);
}
