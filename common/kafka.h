/* Kafka setup: one way to build producers, consumers, topics and dead letters. */
#ifndef WF4_KAFKA_H
#define WF4_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* A conf with bootstrap.servers, client.id and every pass-through property from
 * config_kafka_props() applied (an unknown property is an error). The caller may set
 * callbacks/opaque on it, then hands it to kafka_producer_new/kafka_consumer_new.
 * Returns NULL with err. */
rd_kafka_conf_t *kafka_conf_new(const char *brokers, const char *client_id, char *err,
                                size_t errlen);

/* Idempotent producer, acks=all. Takes ownership of conf (also on failure). */
rd_kafka_t *kafka_producer_new(rd_kafka_conf_t *conf, char *err, size_t errlen);

/* Consumer in group_id: cooperative-sticky, manual offset commits (enable.auto.commit=false,
 * enable.auto.offset.store=false), auto.offset.reset=earliest, isolation.level=read_committed,
 * heartbeat.interval.ms=1000 (a member learns of a rebalance within a second, not three:
 * partitions of a member that left sit idle until then). Each is a default WF4_KAFKA_PROPS
 * may override. Set a rebalance callback on conf beforehand when needed. Takes ownership of
 * conf. */
rd_kafka_t *kafka_consumer_new(rd_kafka_conf_t *conf, const char *group_id, char *err,
                               size_t errlen);

/* Creates the topics of <schema_dir>/topics.json (TOPIC_ALREADY_EXISTS is success) with the
 * catalogue's replication_factor and min_insync_replicas, each lowered to the number of
 * brokers the cluster reports (a warning says so). Returns 0 or -1 with err. */
int kafka_topics_create(const char *brokers, const char *schema_dir, int timeout_ms, char *err,
                        size_t errlen);

/* Creates the ACLs the catalogue implies: a topic's producer (a service name such as
 * "scraper") may Write and Describe it, each consuming service Read and Describe it and Read
 * its group wf4-<service>; principals are User:<service>. Needs an administrator's
 * credentials. Returns 0 or -1 with err. */
int kafka_acls_create(const char *brokers, const char *schema_dir, int timeout_ms, char *err,
                      size_t errlen);

/* A dead-letter sender's context: the dead letters of one unit of work, counted by their
 * delivery reports (kafka_dlq_report). */
typedef struct kafka_dlq {
    long sent, acked, failed; /* failed: refused by the producer or reported failed */
} kafka_dlq;

/* Publishes rkm's key and value unchanged to "<topic>.dlq" with headers
 * wf4.dlq.error, wf4.dlq.topic, wf4.dlq.partition, wf4.dlq.offset, wf4.dlq.consumer,
 * plus the original headers. A value too large for the producer is cut to its first 64 KiB
 * and gets a wf4.dlq.truncated header (its original size). Asynchronous: the delivery report
 * arrives through the producer's callback with opaque as the message's opaque
 * (rkm->_private), the sender's context. Returns 0 or -1 (logged). */
int kafka_dlq_send(rd_kafka_t *producer, const rd_kafka_message_t *rkm, const char *consumer,
                   const char *reason, void *opaque);

/* kafka_dlq_send into d: counts the dead letter as sent, or as failed when refused. */
int kafka_dlq_send_counted(rd_kafka_t *producer, const rd_kafka_message_t *rkm,
                           const char *consumer, const char *reason, kafka_dlq *d);

/* Counts a dead letter's delivery report into its context (the report's rkm->_private). */
void kafka_dlq_report(const rd_kafka_message_t *rkm);

/* Produces one message (key = key, NUL-terminated), serving delivery reports while the
 * producer's queue is full: the one backpressure rule. Takes ownership of buf (freed by
 * librdkafka once sent, here on failure). Returns the error of the produce (logged by the
 * caller, which knows the message). */
rd_kafka_resp_err_t kafka_produce(rd_kafka_t *producer, const char *topic, const char *key,
                                  void *buf, size_t len, void *opaque);

/* kafka_produce with one header (hname: hvalue, NUL-terminated), e.g. the traceparent. */
rd_kafka_resp_err_t kafka_produce_header(rd_kafka_t *producer, const char *topic, const char *key,
                                         void *buf, size_t len, void *opaque, const char *hname,
                                         const char *hvalue);

/* A consumer's part in a rebalance, set as the consumer conf's opaque with
 * kafka_rebalance_cb as its rebalance callback: assigned runs once new partitions are
 * assigned, revoked before partitions are taken away (lost: the group already gave them to
 * another member, or the rebalance failed). Either may be NULL. */
typedef struct kafka_rebalance {
    void (*assigned)(void *arg, rd_kafka_topic_partition_list_t *parts, int cooperative);
    void (*revoked)(void *arg, rd_kafka_topic_partition_list_t *parts, int lost);
    void *arg;
} kafka_rebalance;

/* The one rebalance callback: cooperative (incremental) or eager assignment, each call
 * checked, around the consumer's hooks (opaque: a kafka_rebalance). Assigned partitions
 * start at the group's committed offsets, read in the callback (one OffsetFetch). */
void kafka_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t *parts, void *opaque);

/* Asks the cluster for its metadata: start-up proof that WF4_KAFKA_BROKERS answers.
 * Returns 0, or -1 after logging one line naming the variable. */
int kafka_check_reachable(rd_kafka_t *rk, const char *brokers, int timeout_ms);

/* The number of partitions of topic from the cluster's metadata, or -1 with err. */
int kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, char *err,
                          size_t errlen);

/* Polls a producer until its queue is empty or timeout_ms passes; returns remaining count. */
int kafka_drain(rd_kafka_t *rk, int timeout_ms);

#endif
