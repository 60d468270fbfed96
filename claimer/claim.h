/* Claiming: one short transaction marks due domains processing; publishing follows it. */
#ifndef WF4_CLAIM_H
#define WF4_CLAIM_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "db.h"
#include "msg.h"
#include "wire.h"

typedef struct claim_opts {
    long batch;         /* claims per transaction */
    long lease_s;       /* lease granted to a claim */
    long max_attempts;  /* past this, an expired claim becomes error */
    long max_in_flight; /* claim nothing while this many domains are processing */
    long budget_ms;     /* transaction budget */
} claim_opts;

/* The outcome of one claim transaction. Owns the claims (msg_claim_free each). */
typedef struct claim_set {
    msg_claim *v;
    size_t n, cap;
    long gave_up;   /* domains turned to error past the attempts cap */
    long in_flight; /* domains processing before this claim */
} claim_set;

/* Runs the claim transaction. Returns 0 (set filled, possibly empty) or -1. */
int claim_batch(db *d, const claim_opts *o, claim_set *out) __attribute__((warn_unused_result));

/* Publishes every claim of set (key = domain id) and waits up to timeout_ms for the delivery
 * reports. Returns the number Kafka acknowledged; the rest are left to lease expiry. */
size_t claim_publish(rd_kafka_t *producer, wire *w, const char *topic, const claim_set *set,
                     int timeout_ms);

void claim_set_clear(claim_set *s);

/* Delivery report callback to install on the producer's conf (counts acks per batch). */
void claim_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque);

#endif
