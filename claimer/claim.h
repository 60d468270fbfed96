/* Claiming: one short transaction marks due domains processing; publishing follows it. */
#ifndef WF4_CLAIM_H
#define WF4_CLAIM_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "db.h"
#include "msg.h"
#include "wire.h"

typedef struct claim_opts {
    long batch;              /* claims per transaction */
    long lease_s;            /* lease granted to a claim */
    long max_attempts;       /* past this, an expired claim becomes error */
    long max_in_flight;      /* claim nothing while this many domains are processing */
    long budget_ms;          /* transaction budget */
    const char *instance;    /* this claimer's WF4_INSTANCE_ID, recorded in domain_attempts */
    long credit_room;        /* credits the budget allows for new claims, -1: no budget */
    long credit_per_claim;   /* credits reserved for each domain in flight */
    int64_t credit_since_ms; /* results applied since then (epoch ms) hold credits too: the
                              * account may not count them yet; 0 = not asked */
    long credit_ceiling;     /* each claim's credits_ceiling (0: no daily budget) */
    int64_t credit_ceiling_until_ms; /* and its credits_ceiling_until */
} claim_opts;

/* The outcome of one claim transaction. Owns the claims (msg_claim_free each). */
typedef struct claim_set {
    msg_claim *v;
    size_t n, cap;
    long gave_up;   /* domains turned to error past the attempts cap */
    long in_flight; /* domains processing before this claim */
} claim_set;

/* What one claimer knows of the domains in flight between two counts. Counting costs one
 * index entry per domain in flight, so far below the cap the claimer adds its own claims
 * to the last count instead of counting again; within half the cap, or once the count is
 * older than CLAIM_RECOUNT_MS, every transaction counts. */
typedef struct claim_inflight {
    long counted;       /* domains processing at the last count */
    long claimed_since; /* claimed by this claimer since that count */
    int64_t counted_ms; /* monotonic time of the count; 0 = never counted */
} claim_inflight;

#define CLAIM_RECOUNT_MS 1000

/* Runs the claim transaction. Returns 0 (set filled, possibly empty) or -1. */
int claim_batch(db *d, const claim_opts *o, claim_inflight *inflight, claim_set *out)
    __attribute__((warn_unused_result));

/* Queues every claim of set (key = domain id) in the producer without waiting for Kafka.
 * Returns the number queued (a claim not queued is left to its lease). */
size_t claim_publish_start(rd_kafka_t *producer, wire *w, const char *topic, const claim_set *set);

/* Serves delivery reports until at most max_waiting queued claims await theirs, or
 * timeout_ms passed (the rest are left to lease expiry). Returns the number still waiting. */
size_t claim_publish_wait(rd_kafka_t *producer, size_t max_waiting, int timeout_ms);

/* Claims acknowledged by Kafka and claims it failed, since start. */
void claim_publish_counts(size_t *acked, size_t *failed);

void claim_set_clear(claim_set *s);

/* Deletes up to limit domain_attempts rows claimed more than retention_days ago, in a
 * statement of its own. Returns the number deleted, or -1 (logged by db). */
long claim_prune_attempts(db *d, long retention_days, long limit);

/* Delivery report callback to install on the producer's conf (counts acks per batch). */
void claim_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque);

#endif
