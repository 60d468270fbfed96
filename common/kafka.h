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
 * enable.auto.offset.store=false), auto.offset.reset=earliest, isolation.level=read_committed.
 * Set a rebalance callback on conf beforehand when needed. Takes ownership of conf. */
rd_kafka_t *kafka_consumer_new(rd_kafka_conf_t *conf, const char *group_id, char *err,
                               size_t errlen);

/* Creates the topics of <schema_dir>/topics.json (TOPIC_ALREADY_EXISTS is success) with the
 * catalogue's replication_factor and min_insync_replicas, each lowered to the number of
 * brokers the cluster reports (a warning says so). Returns 0 or -1 with err. */
int kafka_topics_create(const char *brokers, const char *schema_dir, int timeout_ms,
                        char *err, size_t errlen);

/* Creates the ACLs the catalogue implies: a topic's producer (a service name such as
 * "scraper") may Write and Describe it, each consuming service Read and Describe it and Read
 * its group wf4-<service>; principals are User:<service>. Needs an administrator's
 * credentials. Returns 0 or -1 with err. */
int kafka_acls_create(const char *brokers, const char *schema_dir, int timeout_ms, char *err,
                      size_t errlen);

/* Publishes rkm's key and value unchanged to "<topic>.dlq" with headers
 * wf4.dlq.error, wf4.dlq.topic, wf4.dlq.partition, wf4.dlq.offset, wf4.dlq.consumer,
 * plus the original headers. A value too large for the producer is cut to its first 64 KiB
 * and gets a wf4.dlq.truncated header (its original size). Asynchronous: the delivery report arrives through the
 * producer's callback like any message (its opaque is NULL). Returns 0 or -1 (logged). */
int kafka_dlq_send(rd_kafka_t *producer, const rd_kafka_message_t *rkm, const char *consumer,
                   const char *reason);

/* Asks the cluster for its metadata: start-up proof that WF4_KAFKA_BROKERS answers.
 * Returns 0, or -1 after logging one line naming the variable. */
int kafka_check_reachable(rd_kafka_t *rk, const char *brokers, int timeout_ms);

/* Polls a producer until its queue is empty or timeout_ms passes; returns remaining count. */
int kafka_drain(rd_kafka_t *rk, int timeout_ms);

#endif
