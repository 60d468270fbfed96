/* wf4ctl trace: one domain's timeline from domain_attempts and the topics. */
#ifndef WF4CTL_CTL_TRACE_H
#define WF4CTL_CTL_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "msg.h"

typedef enum { TRACE_CLAIMS, TRACE_RESULTS, TRACE_HANDOFFS } trace_topic_kind;

/* One message of the domain found on a topic. id: the claim_id (claims, results) or the
 * event_id (handoffs). */
typedef struct trace_msg {
    trace_topic_kind kind;
    const char *topic;
    int32_t partition;
    int64_t offset, ts_ms;
    char id[MSG_UUID_LEN];
    char traceparent[MSG_TRACEPARENT_LEN];
} trace_msg;

typedef struct trace_msgs {
    trace_msg *v;
    size_t n, cap;
} trace_msgs;

/* Scans topic (of kind) for messages keyed domain_id with a timestamp in [from_ms, to_ms],
 * appending them to out. Returns 0, or -1 with a message printed on stderr. */
int trace_kafka_scan(const ctl_settings *s, const char *topic, trace_topic_kind kind,
                     const char *domain_id, int64_t from_ms, int64_t to_ms, trace_msgs *out);

#endif
