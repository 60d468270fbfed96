/* Internals shared by scrape.c, scrape_claims.c and scrape_group.c (not a public API). */
#ifndef WF4_SCRAPER_SCRAPE_INTERNAL_H
#define WF4_SCRAPER_SCRAPE_INTERNAL_H

#include <librdkafka/rdkafka.h>
#include <stdatomic.h>
#include <stdint.h>

#include "fetch.h"
#include "kafka.h"
#include "metrics.h"
#include "msg.h"
#include "offsets.h"
#include "scrape.h"
#include "seen.h"

typedef enum {
    JOB_FETCHING,   /* queued, backing off or in flight in fetch */
    JOB_PUBLISHING, /* result (or dead letter) ready, not yet accepted by the producer */
    JOB_AWAIT_DR    /* produced, waiting for the delivery report */
} scrape_job_state;

/* One claim message from its consumption until its result is acknowledged by Kafka. */
typedef struct scrape_job {
    struct scrape_job *prev, *next;
    char *topic;
    int32_t partition;
    int64_t offset;
    msg_claim claim;
    rd_kafka_message_t *dlq_rkm; /* dead letter: the undecodable message, kept to resend */
    char dlq_reason[256];
    void *payload; /* encoded result, kept until acknowledged to publish again on failure */
    size_t len;
    result_outcome outcome;
    int retries; /* ScraperAPI calls beyond the first (the result's wf4-retries header) */
    scrape_job_state state;
    int orphan; /* its partition was revoked: free on delivery report, touch no offsets */
} scrape_job;

typedef struct scrape {
    scrape_settings *cfg;
    rd_kafka_t *consumer, *producer;
    kafka_rebalance rebalance; /* the consumer's opaque: arg is this scrape */
    wire *w;
    fetch *f;
    offsets *off;
    seen *published; /* claim ids whose results Kafka acknowledged lately */
    scrape_job *head, *tail;
    size_t njobs, npublish, cap;
    long account_limit; /* shared by the group: this scraper's share follows its partitions */
    int sharing;        /* 0: WF4_SCRAPER_CONCURRENCY fixed the limit */
    int partitions;     /* of the claims topic; -1 unknown (then the whole limit) */
    char dlq_consumer[256];
    int paused;   /* we paused the assignment */
    int stopping; /* 1: intake stopped; 2: final flush, failed deliveries are dropped */
    int fatal;
    atomic_int ready_joined, ready_blocked, ready_stopping;
    int64_t next_commit_ms, next_summary_ms, next_auth_log_ms, summary_start_ms;
    uint64_t n_claims, n_success, n_failure, n_dlq; /* this summary period */
    metric *m_claims, *m_success, *m_failure, *m_dlq, *m_jobs, *m_limit, *m_share, *m_replayed;
} scrape;

/* scrape_claims.c */
void scrape_intake(scrape *s);
void scrape_fetched(void *opaque, const fetch_result *r, void *arg);
void scrape_publish_pending(scrape *s);
void scrape_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
void scrape_job_free(scrape *s, scrape_job *job);

/* scrape_group.c */
/* Reads the claim topic's partition count, for the share (logged when unknown). */
void scrape_share_partitions(scrape *s);
void scrape_assigned(void *arg, rd_kafka_topic_partition_list_t *parts, int cooperative);
void scrape_revoked(void *arg, rd_kafka_topic_partition_list_t *parts, int lost);
void scrape_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque);
void scrape_commit(scrape *s, int sync);
void scrape_set_paused(scrape *s, int paused);

/* scrape.c */
void scrape_drive(scrape *s, int timeout_ms);

#endif
