/* Kafka setup: one way to build producers, consumers, topics and dead letters. */
#include "kafka.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "metrics.h"

/* origin: the setting the value came from, named in the error. */
static int kafka_set(rd_kafka_conf_t *conf, const char *origin, const char *name, const char *value,
                     char *err, size_t errlen)
{
    char e[256];
    if (rd_kafka_conf_set(conf, name, value, e, sizeof e) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "%s: kafka property %s: %s", origin, name, e);
        return -1;
    }
    return 0;
}

/* Sets name=value unless the operator passed it through already. */
static int kafka_default(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                         size_t errlen)
{
    const char *const *names, *const *values;
    size_t n = config_kafka_props(&names, &values);
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 0;
    return kafka_set(conf, "built-in default", name, value, err, errlen);
}

#define KAFKA_CLIENTS_MAX 16

/* Each client's last word on its brokers: wf4_dependency_up{dependency="kafka"} is 1 while
 * every client of the process has a broker up. Callbacks run on the clients' threads. */
static pthread_mutex_t kafka_health_lock = PTHREAD_MUTEX_INITIALIZER;
static const rd_kafka_t *kafka_clients[KAFKA_CLIENTS_MAX];
static int kafka_client_up[KAFKA_CLIENTS_MAX];

static void kafka_health_set(const rd_kafka_t *rk, int up)
{
    int all = 1;
    pthread_mutex_lock(&kafka_health_lock);
    int i = 0;
    while (i < KAFKA_CLIENTS_MAX && kafka_clients[i] && kafka_clients[i] != rk)
        i++;
    if (i < KAFKA_CLIENTS_MAX) {
        kafka_clients[i] = rk;
        kafka_client_up[i] = up;
    }
    for (i = 0; i < KAFKA_CLIENTS_MAX && kafka_clients[i]; i++)
        all &= kafka_client_up[i];
    pthread_mutex_unlock(&kafka_health_lock);
    metrics_dependency_set("kafka", all);
}

/* Statistics every second: up while some broker connection (not a bootstrap one) is UP. */
static int kafka_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)opaque;
    json_error_t e;
    json_t *root = json_loadb(json, len, 0, &e), *brokers, *b;
    const char *name;
    int up = 0;
    if (!root) {
        log_warn("librdkafka statistics: %s", e.text);
        return 0;
    }
    brokers = json_object_get(root, "brokers");
    json_object_foreach(brokers, name, b)
    {
        const char *st = json_string_value(json_object_get(b, "state"));
        up |= json_integer_value(json_object_get(b, "nodeid")) >= 0 && st && strcmp(st, "UP") == 0;
    }
    json_decref(root);
    kafka_health_set(rk, up);
    return 0;
}

static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        kafka_health_set(rk, 0);
    log_warn("librdkafka: %s: %s", rd_kafka_err2str((rd_kafka_resp_err_t)err), reason);
}

/* Timeouts a dead network needs (README, Operating it): a request unanswered for 10 s ends
 * its connection, and idle connections are probed. */
static int kafka_net_defaults(rd_kafka_conf_t *conf, char *err, size_t errlen)
{
    if (kafka_default(conf, "socket.timeout.ms", "10000", err, errlen) != 0 ||
        kafka_default(conf, "socket.keepalive.enable", "true", err, errlen) != 0 ||
        kafka_default(conf, "socket.connection.setup.timeout.ms", "10000", err, errlen) != 0 ||
        kafka_default(conf, "statistics.interval.ms", "1000", err, errlen) != 0)
        return -1;
    rd_kafka_conf_set_stats_cb(conf, kafka_stats_cb);
    rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
    return 0;
}

rd_kafka_conf_t *kafka_conf_new(const char *brokers, const char *client_id, char *err,
                                size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *const *names, *const *values;
    size_t n = config_kafka_props(&names, &values);
    if (kafka_set(conf, "WF4_KAFKA_BROKERS", "bootstrap.servers", brokers, err, errlen) != 0 ||
        kafka_set(conf, "WF4_INSTANCE_ID", "client.id", client_id, err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (kafka_set(conf, "WF4_KAFKA_PROPS (or -X)", names[i], values[i], err, errlen) != 0)
            goto fail;
    if (kafka_net_defaults(conf, err, errlen) != 0)
        goto fail;
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* The last connection failure librdkafka reported, named when Kafka cannot be reached at start:
 * the FAIL line itself comes at info level and may say "security.protocol" or "SSL". */
static pthread_mutex_t kafka_fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char kafka_last_fail[512];

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (strcmp(fac, "FAIL") == 0) {
        pthread_mutex_lock(&kafka_fail_lock);
        snprintf(kafka_last_fail, sizeof kafka_last_fail, "%s", buf);
        pthread_mutex_unlock(&kafka_fail_lock);
    }
    log_level l = level <= 3   ? LOG_LEVEL_ERROR
                  : level <= 4 ? LOG_LEVEL_WARN
                  : level <= 6 ? LOG_LEVEL_INFO
                               : LOG_LEVEL_DEBUG;
    log_write(l, NULL, NULL, "librdkafka %s: %s", fac, buf);
}

rd_kafka_t *kafka_producer_new(rd_kafka_conf_t *conf, char *err, size_t errlen)
{
    char e[512];
    if (kafka_default(conf, "enable.idempotence", "true", err, errlen) != 0 ||
        kafka_default(conf, "acks", "all", err, errlen) != 0 ||
        kafka_default(conf, "linger.ms", "5", err, errlen) != 0 ||
        kafka_default(conf, "message.timeout.ms", "60000", err, errlen) != 0 ||
        kafka_default(conf, "compression.type", "lz4", err, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!rk) {
        snprintf(err, errlen, "cannot create Kafka producer: %s", e);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

rd_kafka_t *kafka_consumer_new(rd_kafka_conf_t *conf, const char *group_id, char *err,
                               size_t errlen)
{
    char e[512];
    if (kafka_set(conf, "consumer group", "group.id", group_id, err, errlen) != 0 ||
        kafka_default(conf, "partition.assignment.strategy", "cooperative-sticky", err, errlen) !=
            0 ||
        kafka_default(conf, "enable.auto.commit", "false", err, errlen) != 0 ||
        kafka_default(conf, "enable.auto.offset.store", "false", err, errlen) != 0 ||
        kafka_default(conf, "auto.offset.reset", "earliest", err, errlen) != 0 ||
        kafka_default(conf, "isolation.level", "read_committed", err, errlen) != 0 ||
        kafka_default(conf, "heartbeat.interval.ms", "1000", err, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (!rk) {
        snprintf(err, errlen, "cannot create Kafka consumer: %s", e);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

int kafka_drain(rd_kafka_t *rk, int timeout_ms)
{
    rd_kafka_resp_err_t e = rd_kafka_flush(rk, timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_warn("Kafka flush: %s (%d messages left)", rd_kafka_err2str(e), rd_kafka_outq_len(rk));
    return rd_kafka_outq_len(rk);
}

static int kafka_header_add(rd_kafka_headers_t *h, const char *name, const char *value)
{
    rd_kafka_resp_err_t e = rd_kafka_header_add(h, name, -1, value, -1);
    if (e) {
        log_error("DLQ header %s: %s", name, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

#define KAFKA_DLQ_TRUNCATE (64 * 1024) /* bytes kept of a message too large to dead-letter */

/* One DLQ produce of rkm's first len bytes; h is the message's on success only. */
static rd_kafka_resp_err_t kafka_dlq_produce(rd_kafka_t *producer, const char *topic,
                                             const rd_kafka_message_t *rkm, size_t len,
                                             rd_kafka_headers_t *h, void *opaque)
{
    return rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(rkm->key, rkm->key_len),
        RD_KAFKA_V_VALUE(rkm->payload, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}

int kafka_dlq_send(rd_kafka_t *producer, const rd_kafka_message_t *rkm, const char *consumer,
                   const char *reason, void *opaque)
{
    char topic[512], part[16], off[32];
    const char *src = rd_kafka_topic_name(rkm->rkt);
    rd_kafka_headers_t *orig = NULL, *h;
    snprintf(topic, sizeof topic, "%s.dlq", src);
    snprintf(part, sizeof part, "%d", rkm->partition);
    snprintf(off, sizeof off, "%lld", (long long)rkm->offset);
    h = rd_kafka_message_headers(rkm, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR
            ? rd_kafka_headers_copy(orig)
            : rd_kafka_headers_new(6);
    if (kafka_header_add(h, "wf4.dlq.error", reason) || kafka_header_add(h, "wf4.dlq.topic", src) ||
        kafka_header_add(h, "wf4.dlq.partition", part) ||
        kafka_header_add(h, "wf4.dlq.offset", off) ||
        kafka_header_add(h, "wf4.dlq.consumer", consumer)) {
        rd_kafka_headers_destroy(h);
        return -1;
    }
    size_t len = rkm->len;
    rd_kafka_resp_err_t e = kafka_dlq_produce(producer, topic, rkm, len, h, opaque);
    if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && len > KAFKA_DLQ_TRUNCATE) {
        /* Why: a message past the producer's message.max.bytes (an oversized poison message)
         * cannot be dead-lettered whole, and refusing it would replay it forever: its head
         * goes instead, with the original size in a header. */
        char orig[32];
        snprintf(orig, sizeof orig, "%zu", len);
        len = KAFKA_DLQ_TRUNCATE;
        e = kafka_header_add(h, "wf4.dlq.truncated", orig)
                ? RD_KAFKA_RESP_ERR__FAIL
                : kafka_dlq_produce(producer, topic, rkm, len, h, opaque);
    }
    if (e) {
        log_error("cannot publish to %s: %s", topic, rd_kafka_err2str(e));
        rd_kafka_headers_destroy(h);
        return -1;
    }
    log_warn("message %s[%d]@%s sent to %s: %s", src, rkm->partition, off, topic, reason);
    return 0;
}

int kafka_check_reachable(rd_kafka_t *rk, const char *brokers, int timeout_ms)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms);
    if (e) {
        char last[sizeof kafka_last_fail];
        pthread_mutex_lock(&kafka_fail_lock);
        snprintf(last, sizeof last, "%s", kafka_last_fail[0] ? kafka_last_fail : "none reported");
        pthread_mutex_unlock(&kafka_fail_lock);
        log_error("WF4_KAFKA_BROKERS: cannot reach Kafka at %s: %s (last connection failure: %s)",
                  brokers, rd_kafka_err2str(e), last);
        return -1;
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}

int kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, char *err,
                          size_t errlen)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (!rkt) {
        snprintf(err, errlen, "rd_kafka_topic_new(%s): %s", topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        return -1;
    }
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (e) {
        snprintf(err, errlen, "metadata of %s: %s", topic, rd_kafka_err2str(e));
        return -1;
    }
    int n = -1;
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        n = md->topics[0].partition_cnt;
    else
        snprintf(err, errlen, "metadata of %s: %s", topic,
                 rd_kafka_err2str(md->topic_cnt == 1 ? md->topics[0].err
                                                     : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
    rd_kafka_metadata_destroy(md);
    return n;
}

int kafka_dlq_send_counted(rd_kafka_t *producer, const rd_kafka_message_t *rkm,
                           const char *consumer, const char *reason, kafka_dlq *d)
{
    if (kafka_dlq_send(producer, rkm, consumer, reason, d) != 0) {
        d->failed++;
        return -1;
    }
    d->sent++;
    return 0;
}

void kafka_dlq_report(const rd_kafka_message_t *rkm)
{
    kafka_dlq *d = rkm->_private;
    if (rkm->err)
        log_error("dead letter not delivered to %s: %s", rd_kafka_topic_name(rkm->rkt),
                  rd_kafka_err2str(rkm->err));
    if (!d)
        return;
    if (rkm->err)
        d->failed++;
    else
        d->acked++;
}

rd_kafka_resp_err_t kafka_produce(rd_kafka_t *producer, const char *topic, const char *key,
                                  void *buf, size_t len, void *opaque)
{
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_producev(
                producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(producer, 50); /* delivery reports make room */
    if (e)
        free(buf);
    return e;
}

rd_kafka_resp_err_t kafka_produce_header(rd_kafka_t *producer, const char *topic, const char *key,
                                         void *buf, size_t len, void *opaque, const char *hname,
                                         const char *hvalue)
{
    rd_kafka_resp_err_t e;
    for (;;) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(1);
        rd_kafka_header_add(h, hname, -1, hvalue, -1);
        e = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                              RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                              RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
        if (e)
            rd_kafka_headers_destroy(h); /* on success the message owns them */
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        rd_kafka_poll(producer, 50); /* delivery reports make room */
    }
    if (e)
        free(buf);
    return e;
}

/* Takes (assign 1) or gives up (assign 0) parts, incrementally when cooperative. */
static void kafka_assign(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, int assign,
                         int cooperative)
{
    const char *what = assign ? "assign" : "unassign";
    if (cooperative) {
        rd_kafka_error_t *error = assign ? rd_kafka_incremental_assign(rk, parts)
                                         : rd_kafka_incremental_unassign(rk, parts);
        if (error) {
            log_error("incremental %s: %s", what, rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
        return;
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, assign ? parts : NULL);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_error("%s: %s", what, rd_kafka_err2str(e));
}

/* Sets each assigned partition's start to the group's committed offset (none committed:
 * INVALID, auto.offset.reset), so the fetch cannot resume from a position the consumer held
 * before: librdkafka may keep a paused partition's own position across a lost assignment
 * (its issues #1802, #4686), skipping claims that were in hand when it was lost. */
static void kafka_start_at_committed(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, parts, 10000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_warn("committed offsets of the %d partitions assigned: %s (librdkafka fetches them)",
                 parts->cnt, rd_kafka_err2str(e));
        for (int i = 0; i < parts->cnt; i++)
            parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
        return;
    }
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR || parts->elems[i].offset < 0)
            parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
}

void kafka_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    const kafka_rebalance *r = opaque;
    /* NULL once the consumer has left its group (the revocation at close). */
    const char *protocol = rd_kafka_rebalance_protocol(rk);
    int cooperative = protocol && strcmp(protocol, "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (parts->cnt > 0)
            kafka_start_at_committed(rk, parts);
        kafka_assign(rk, parts, 1, cooperative);
        log_info("%d partitions assigned (%s)", parts->cnt, cooperative ? "cooperative" : "eager");
        if (r->assigned)
            r->assigned(r->arg, parts, cooperative);
        return;
    }
    int lost = err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS || rd_kafka_assignment_lost(rk);
    if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
        log_error("rebalance failed: %s", rd_kafka_err2str(err));
    log_info("%d partitions %s", parts->cnt, lost ? "lost" : "revoked");
    if (r->revoked)
        r->revoked(r->arg, parts, lost);
    kafka_assign(rk, parts, 0, cooperative);
}
