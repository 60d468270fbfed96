/* The WF5 outbox: handoff events published after commit, deleted once Kafka has them. */
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

/* Publishes the handoffs (key = domain id), waits for the delivery reports, then deletes
 * the acknowledged rows in one short transaction (no transaction is open while waiting for
 * Kafka). Rows not acknowledged stay for outbox_sweep. Returns the number published. */
size_t outbox_publish(const outbox_ctx *c, const msg_handoff *v, size_t n);

/* Publishes outbox rows older than min_age_s left by a crash (at least once: a row may be
 * published twice, with the same event id). Returns the backlog seen, or -1. */
long outbox_sweep(const outbox_ctx *c, long min_age_s, long limit);

/* Producer delivery callback: sets the opaque's flag (handoffs), counts DLQ failures. */
void outbox_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque);

/* DLQ deliveries that failed since the last call (and resets the count). */
long outbox_take_dlq_failures(void);

#endif
