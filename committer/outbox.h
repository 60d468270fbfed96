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
} outbox_ctx;

/* Handoffs queued in the producer whose outbox rows wait for Kafka's acknowledgement. */
typedef struct outbox_flight {
    msg_handoff *v;
    size_t n;
    unsigned char *acked; /* per handoff: 0 waiting, 1 acknowledged, 2 failed */
    char (*batches)[MSG_UUID_LEN]; /* the outbox rows (batch_id) the handoffs come from */
    size_t nbatches;
    size_t *batch_of; /* per handoff: its row in batches */
} outbox_flight;

/* Queues the n handoffs of the outbox row batch_id (key = domain id) without waiting; f
 * takes ownership of v (freed by outbox_settle). f must be empty. */
void outbox_send(const outbox_ctx *c, outbox_flight *f, msg_handoff *v, size_t n,
                 const char *batch_id);

/* Waits up to the timeout for the delivery reports of f's handoffs, counts the acknowledged
 * ones (*acked when not NULL), and empties f. Returns the batch_ids of the outbox rows whose
 * every event was acknowledged as a PostgreSQL array literal (malloc'd; NULL when none) for
 * outbox_delete_in; the other rows stay for outbox_sweep. */
char *outbox_settle(const outbox_ctx *c, outbox_flight *f, size_t *acked);

/* Reads one handoff from row of r, columns col.. col+5: event_id, domain_id, claim_id,
 * tenant_id ('' when none), domain, completed_at in ms. Returns 0, or -1 when out of memory. */
int outbox_handoff_read(const PGresult *r, int row, int col, msg_handoff *h);

/* Deletes, inside tx, the outbox rows of ids (from outbox_settle). Returns 0 or -1. */
int outbox_delete_in(db_tx *tx, const char *ids);

/* Deletes the outbox rows of ids in a transaction of their own (nothing else to apply). */
void outbox_delete(const outbox_ctx *c, const char *ids);

/* Publishes the events of outbox rows older than min_age_s left by a crash or a refused
 * delivery (at least once: an event may be published twice, with the same event id), rows in
 * age order until about limit events. Returns the backlog seen (events), or -1. */
long outbox_sweep(const outbox_ctx *c, long min_age_s, long limit);

/* Producer delivery callback: sets the opaque's flag (handoffs), counts DLQ failures. */
void outbox_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque);

/* DLQ deliveries that failed since the last call (and resets the count). */
long outbox_take_dlq_failures(void);

#endif
