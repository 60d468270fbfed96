/* A batch's life in the committer, one state machine:
 * filling -> applying -> applied -> published -> offsets committed. */
#ifndef WF4_BATCH_H
#define WF4_BATCH_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "applier.h"
#include "kafka.h"
#include "outbox.h"
#include "result.h"

typedef enum batch_state {
    BATCH_FILLING,   /* taking consumed results; nothing of it is in PostgreSQL */
    BATCH_APPLYING,  /* handed to the applier thread: its transaction runs */
    BATCH_APPLIED,   /* committed: its handoffs wait in their outbox row */
    BATCH_PUBLISHED, /* its handoffs queued in the producer, delivery reports awaited */
    BATCH_COMMITTED  /* reports in, offsets committed: the slot is free */
} batch_state;

/* Consumed results and the offsets they cover. */
typedef struct batch {
    batch_state state;
    msg_result *v;
    size_t n;
    rd_kafka_topic_partition_list_t *next;  /* per partition: offset to commit */
    rd_kafka_topic_partition_list_t *first; /* per partition: first offset of the batch */
    int64_t started_ms;   /* FILLING: first step with a message; PUBLISHED: handoffs queued */
    result_prepared prep; /* serialized in the loop thread before it is handed */
    result_stats st;      /* the transaction's outcome: counts, handoffs */
    long tx_ms;           /* how long the transaction took */
    outbox_flight flight; /* PUBLISHED: its handoffs in the producer */
    kafka_dlq dlq;        /* its dead letters */
} batch;

/* The world a batch moves through; env is the ops' first argument. A fake of it drives the
 * state machine in tests/unit/test_committer_batch.c. */
typedef struct batch_ops {
    /* In the applier thread: applies b in ONE transaction that also deletes the outbox rows
     * done; fills b->st and b->tx_ms. Returns 0 committed, -1 given up (consumed again). */
    int (*apply)(void *env, batch *b, const outbox_ids *done);
    /* Logs and counts an applied batch (loop thread, as all that follow). */
    void (*applied)(void *env, const batch *b);
    /* Queues b->st's handoffs (taking them) into b->flight. */
    void (*publish)(void *env, batch *b);
    /* Waits for b->flight's delivery reports and empties it; appends to done the outbox rows
     * whose every event was acknowledged (the others stay for the sweep). */
    void (*settle)(void *env, batch *b, outbox_ids *done);
    /* Waits for b->dlq's delivery reports: 0 when every dead letter was delivered. */
    int (*dlq_settle)(void *env, batch *b);
    /* Commits the consumer offsets next (synchronously when sync). */
    void (*commit)(void *env, const rd_kafka_topic_partition_list_t *next, int sync);
    /* Seeks the consumer back to first: those messages are consumed again. */
    void (*rewind)(void *env, const rd_kafka_topic_partition_list_t *first);
    /* Deletes the outbox rows done in a transaction of their own, and empties done. */
    void (*delete_done)(void *env, outbox_ids *done);
} batch_ops;

/* The committer's batches in order: at most one filling, one applying, and one applied or
 * published (whose offsets wait for its handoffs' delivery reports). */
typedef struct batch_line {
    batch slot[3];
    batch *fill, *out, *last; /* out: APPLYING or NULL; last: APPLIED, PUBLISHED or NULL */
    outbox_ids done;          /* acknowledged outbox rows, deleted by the next transaction */
    outbox_ids out_done;      /* those handed to out's transaction */
    applier *ap;
    const batch_ops *ops;
    void *env;
    long cap, limit; /* results per batch: at most, and now (less while slow) */
    long linger_ms, target_ms;
    int64_t now, quiet_ms; /* the loop's clock; when the last handoffs were queued */
} batch_line;

/* Starts the applier thread. Returns 0, or -1 (logged). */
int batch_line_init(batch_line *l, const batch_ops *ops, void *env, long cap, long linger_ms,
                    long target_ms);
/* Stops the applier (an unfinished batch is replayed on restart) and frees everything. */
void batch_line_free(batch_line *l);

/* The batch taking results: add at v[n] (n++ once it is whole) and batch_track each
 * message, results and dead letters alike. */
batch *batch_filling(batch_line *l);
void batch_track(batch *b, const char *topic, int32_t partition, int64_t offset);

/* The loop's pass at time now: takes the applier's outcome, hands the filling batch when
 * full or lingered long enough, queues the applied batch's handoffs, and when idle settles
 * them (offsets committed, acknowledged outbox rows deleted). */
void batch_step(batch_line *l, int64_t now);
/* When batch_step has work, INT64_MAX when none. */
int64_t batch_due_ms(const batch_line *l);
/* 1 while a batch is in the applier (the database connection is the applier's). */
int batch_applying(const batch_line *l);

/* Everything in hand through to offsets committed, synchronously: a rebalance, the end. */
void batch_drain(batch_line *l);

#endif
