/* The WF5 outbox: handoff events published after commit, deleted once Kafka has them.
 * One outbox row holds the events of one applied batch (schemas/sql/004_outbox_batches.sql). */
#ifndef WF4_OUTBOX_H
#define WF4_OUTBOX_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "db.h"
#include "msg.h"
#include "wire.h"

typedef struct outbox_ctx {
    db *d;
    rd_kafka_t *producer;
    wire *w;
    const char *topic;
    int timeout_ms;
    long budget_ms;
    unsigned char **held; /* flag arrays librdkafka may still write to (outbox_settle) */
    size_t nheld;
} outbox_ctx;

/* Outbox rows (batch_id) whose every event Kafka acknowledged: a typed list, sent to
 * PostgreSQL as one binary uuid[] (outbox_ids_array). */
typedef struct outbox_ids {
    char (*v)[MSG_UUID_LEN];
    size_t n, cap;
} outbox_ids;

/* Appends id; returns 0, or -1 when out of memory (the row is then left to the sweep). */
int outbox_ids_add(outbox_ids *l, const char *id);
/* Moves every id of from to the end of to (from is emptied even when memory runs out: the
 * ids then lost are left to the sweep, which publishes them again with the same event ids). */
void outbox_ids_move(outbox_ids *to, outbox_ids *from);
void outbox_ids_clear(outbox_ids *l);
/* The ids as a binary uuid[] for a parameter cast $n::uuid[]; l NULL or empty gives an empty
 * array. Returns 0, or -1 (out of memory; a is freed). */
int outbox_ids_array(const outbox_ids *l, db_array *a);

/* Handoffs queued in the producer whose outbox rows wait for Kafka's acknowledgement. */
typedef struct outbox_flight {
    msg_handoff *v;
    size_t n;
    unsigned char *acked;          /* per handoff: 0 waiting, 1 acknowledged, 2 failed */
    char (*batches)[MSG_UUID_LEN]; /* the outbox rows (batch_id) the handoffs come from */
    size_t nbatches;
    size_t *batch_of; /* per handoff: its row in batches */
} outbox_flight;

/* Queues the n handoffs of the outbox row batch_id (key = domain id) without waiting; f
 * takes ownership of v (freed by outbox_settle). f must be empty. */
void outbox_send(const outbox_ctx *c, outbox_flight *f, msg_handoff *v, size_t n,
                 const char *batch_id);

/* Waits up to the timeout for the delivery reports of f's handoffs, appends to done the
 * batch_ids of the outbox rows whose every event was acknowledged (for outbox_delete_in),
 * and empties f; the other rows stay for outbox_sweep. Returns the handoffs acknowledged. */
size_t outbox_settle(outbox_ctx *c, outbox_flight *f, outbox_ids *done);

/* Reads one handoff from row of r, columns col.. col+5: event_id, domain_id, claim_id,
 * tenant_id ('' when none), domain, completed_at in ms. Returns 0, or -1 when out of memory. */
int outbox_handoff_read(const PGresult *r, int row, int col, msg_handoff *h);

/* Deletes, inside tx, the outbox rows of ids (from outbox_settle). Returns 0 or -1. */
int outbox_delete_in(db_tx *tx, const outbox_ids *ids);

/* Deletes the outbox rows of ids in a transaction of their own (nothing else to apply), and
 * empties ids. */
void outbox_delete(const outbox_ctx *c, outbox_ids *ids);

/* Frees the flag arrays outbox_settle had to hold; call once the producer is destroyed. */
void outbox_held_free(outbox_ctx *c);

/* Publishes the events of outbox rows older than min_age_s left by a crash or a refused
 * delivery (at least once: an event may be published twice, with the same event id), rows in
 * age order until about limit events. Returns the backlog seen (events), or -1. */
long outbox_sweep(outbox_ctx *c, long min_age_s, long limit);

/* Producer delivery callback; the producer's opaque is the outbox_ctx. A report of the
 * handoff topic sets its handoff's flag; any other is a dead letter's (kafka_dlq_report). */
void outbox_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque);

#endif
