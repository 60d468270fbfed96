/* Applying results: one short, set-based, fenced transaction per batch. */
#ifndef WF4_RESULT_H
#define WF4_RESULT_H

#include <stddef.h>

#include "db.h"
#include "msg.h"
#include "outbox.h"

typedef struct result_opts {
    long max_attempts; /* a retryable failure at or past this many attempts becomes error */
    long retry_base_s; /* backoff of a retryable failure: base * 2^(attempts-1), jittered */
    long retry_cap_s;
    long budget_ms;
} result_opts;

/* What a batch did. handoffs is owned (msg_handoff_free each, then free). */
typedef struct result_stats {
    long completed, retried, failed, superseded;
    msg_handoff *handoffs; /* the events of the outbox row written by this batch, to publish
                            * after commit */
    size_t nhandoffs;
    char outbox_batch[MSG_UUID_LEN]; /* that outbox row's batch_id ("" when none) */
    unsigned char *applied;          /* applied[i] = 1 when result i changed its row */
    size_t napplied;
} result_stats;

/* The success columns: batch index, domain_id, claim_id, one per META_FIELDS entry, then the
 * attempt history's (scraper instance, API status, retries, API time, scraped at, credits,
 * tier); the failure columns: batch index, domain_id, claim_id, error, retryable, then the
 * same. */
enum {
    RESULT_ATT_COLS = 7,
    RESULT_SUCCESS_COLS = 3 + META_NFIELDS + RESULT_ATT_COLS,
    RESULT_FAILURE_COLS = 5 + RESULT_ATT_COLS
};

/* A batch serialized for its transaction, so that the serializing can happen outside it
 * (and elsewhere than the thread that waits for the transaction). */
typedef struct result_prepared {
    db_array success[RESULT_SUCCESS_COLS]; /* one array per column; unset when nsuccess 0 */
    db_array failure[RESULT_FAILURE_COLS];
    size_t n, nsuccess, nfailure;
    int ready; /* serialized (an empty batch is ready too) */
} result_prepared;

/* Serializes n results. Returns 0, or -1 when out of memory (p is then empty). */
int result_prepare(const msg_result *v, size_t n, result_prepared *p);

void result_prepared_free(result_prepared *p);

/* Applies a prepared batch in ONE transaction: successes complete their domain and write
 * the WF5 outbox row; failures go back to pending (retryable, under the cap) or to error.
 * A result changes a row only while it is processing under the same claim_id; the others
 * are counted as superseded and logged. outbox_done (NULL or ids from outbox_settle) names
 * outbox rows whose events Kafka acknowledged: the same transaction deletes them. Returns 0
 * when committed, -1 when rolled back. */
int result_apply(db *d, const result_opts *o, const result_prepared *p,
                 const outbox_ids *outbox_done, result_stats *out)
    __attribute__((warn_unused_result));

void result_stats_clear(result_stats *s);

/* The success statement's text, built from META_FIELDS on first use (static storage, never
 * freed); "" if it did not fit its buffer. */
const char *result_success_statement(void);

#endif
