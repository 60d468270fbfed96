/* Typed messages of the pipeline's topics, encoded/decoded through wire.h (Avro). */
#ifndef WF4_MSG_H
#define WF4_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta.h"
#include "wire.h"

#define MSG_UUID_LEN 37        /* 36 chars + NUL */
#define MSG_TRACEPARENT_LEN 56 /* "00-" 32 hex "-" 16 hex "-01" + NUL */
#define MSG_TIER_LEN 16        /* a ScraperAPI tier's name ("ultra_premium") + NUL */

/* wf4.domain.claims, key = domain_id. schemas/avro/claim.avsc */
typedef struct msg_claim {
    char domain_id[MSG_UUID_LEN];
    char claim_id[MSG_UUID_LEN];
    char tenant_id[MSG_UUID_LEN]; /* "" = null */
    char *domain;                 /* owned */
    int32_t attempt;
    int64_t claimed_at_ms, lease_expires_at_ms; /* Unix epoch milliseconds */
    char tier[MSG_TIER_LEN]; /* the domain's stored tier, where the scraper starts ("" = null) */
    int64_t credits_ceiling; /* requestCount today's daily budget ends at (0 = null: none) */
    int64_t credits_ceiling_until_ms;      /* when it stops applying, epoch ms (0 = null) */
    char traceparent[MSG_TRACEPARENT_LEN]; /* Kafka header, not Avro ("" = none) */
} msg_claim;

typedef enum { RESULT_SUCCESS = 0, RESULT_FAILURE = 1 } result_outcome;

/* wf4.domain.results, key = domain_id. schemas/avro/result.avsc */
typedef struct msg_result {
    char domain_id[MSG_UUID_LEN];
    char claim_id[MSG_UUID_LEN];
    char *domain; /* owned */
    int32_t attempt;
    result_outcome outcome;
    char *error;         /* owned; failure reason, NULL on success */
    bool retryable;      /* failure only: may be tried again */
    int32_t http_status; /* last ScraperAPI HTTP status, 0 = none (no call made) */
    int64_t scraped_at_ms;
    int64_t api_ms;          /* total time spent in ScraperAPI calls for this claim */
    int64_t credits;         /* ScraperAPI credits charged for this claim, all calls */
    char tier[MSG_TIER_LEN]; /* tier of the last call ("" = null: no call made) */
    bool has_meta;           /* success: meta is set */
    meta_page meta;
    /* Kafka headers, not Avro (trace.h): "" / -1 when absent. */
    char scraper_instance[128];
    int32_t retries;
} msg_result;

/* wf5.domain.handoffs, key = domain_id. schemas/avro/handoff.avsc */
typedef struct msg_handoff {
    char event_id[MSG_UUID_LEN];
    char domain_id[MSG_UUID_LEN];
    char claim_id[MSG_UUID_LEN];
    char tenant_id[MSG_UUID_LEN]; /* "" = null */
    char *domain;                 /* owned */
    int64_t completed_at_ms;
} msg_handoff;

/* Encoders: *buf is malloc'ed (caller frees), framed per wire.h. Return 0 or -1 with err. */
int msg_claim_encode(wire *w, const msg_claim *c, void **buf, size_t *len, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int msg_result_encode(wire *w, const msg_result *r, void **buf, size_t *len, char *err,
                      size_t errlen) __attribute__((warn_unused_result));
int msg_handoff_encode(wire *w, const msg_handoff *h, void **buf, size_t *len, char *err,
                       size_t errlen) __attribute__((warn_unused_result));

/* Decoders: accept both framings and any compatible writer schema; treat bytes as hostile.
 * On success fill *out (free with msg_*_free) and return 0; on failure return -1 with a
 * reason in err (for the DLQ header) and leave *out zeroed. */
int msg_claim_decode(wire *w, const void *buf, size_t len, msg_claim *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
int msg_result_decode(wire *w, const void *buf, size_t len, msg_result *out, char *err,
                      size_t errlen) __attribute__((warn_unused_result));
int msg_handoff_decode(wire *w, const void *buf, size_t len, msg_handoff *out, char *err,
                       size_t errlen) __attribute__((warn_unused_result));

void msg_claim_free(msg_claim *c);
void msg_result_free(msg_result *r);
void msg_handoff_free(msg_handoff *h);

#endif
