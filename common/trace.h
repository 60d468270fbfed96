/* W3C trace context: a traceparent per claim, carried as a Kafka header through the topics. */
#ifndef WF4_TRACE_H
#define WF4_TRACE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "msg.h"

/* Kafka header names: the W3C traceparent, and what the scraper says about its scrape. */
#define TRACE_HEADER "traceparent"
#define TRACE_HEADER_SCRAPER "wf4-scraper-instance"
#define TRACE_HEADER_RETRIES "wf4-retries"

/* The trace of a claim: its trace id is the claim_id's 32 hex digits (random: a v4 UUID),
 * so that a log line or a database row with a claim_id names its trace. Writes
 * "00-<trace id>-<new span id>-01" into out (MSG_TRACEPARENT_LEN), "" for a bad claim_id. */
void trace_from_claim(const char *claim_id, char *out);

/* A child span of parent: same trace id, a new span id. "" when parent is not a valid
 * traceparent (version 00). */
void trace_child(const char *parent, char *out);

/* The 32 hex digits of a claim_id (out: 33 bytes); "" when it is not a UUID. */
void trace_id_of_claim(const char *claim_id, char *out);

/* The claim_id whose trace parent is (the inverse of trace_from_claim's trace id), in
 * out (37 bytes); "" when parent is not a valid traceparent. */
void trace_claim_of_parent(const char *parent, char *out);

/* The claim_id named by rkm's traceparent header (out: 37 bytes), "" without one: lets a
 * delivery report's log line carry the trace id. */
void trace_claim_of_message(const rd_kafka_message_t *rkm, char *out);

/* Copies the last value of header name of rkm into out (size n, NUL-terminated).
 * Returns 0, or -1 when absent or too long (out is then ""). */
int trace_header_get(const rd_kafka_message_t *rkm, const char *name, char *out, size_t n);

/* Fills r's header-carried fields (scraper instance, retries) from rkm. */
void trace_result_headers(const rd_kafka_message_t *rkm, msg_result *r);

#endif
