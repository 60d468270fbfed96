/* Topic creation from the catalogue (schemas/topics.json) with the Admin API. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "kafka.h"
#include "log.h"

#define KAFKA_TOPICS_MAX 64

/* The topics to create: names point into the catalogue's JSON. */
typedef struct {
    rd_kafka_NewTopic_t *nt[KAFKA_TOPICS_MAX];
    const char *name[KAFKA_TOPICS_MAX];
    int rf[KAFKA_TOPICS_MAX];
    size_t n;
} kafka_topic_set;

/* A catalogue's integer field in [1, max]; -1 when absent or out of range. */
static int kafka_topic_int(json_t *t, const char *field, int max)
{
    json_t *v = json_object_get(t, field);
    json_int_t x = json_integer_value(v);
    return json_is_integer(v) && x >= 1 && x <= max ? (int)x : -1;
}

/* The catalogue's replication factor and min.insync.replicas, lowered to what a cluster of
 * `brokers` holds (said in a warning): a topic a cluster cannot place is no topic at all. */
static int kafka_topic_replication(json_t *t, const char *name, int brokers, int *rf, int *misr,
                                   char *err, size_t errlen)
{
    int want_rf = kafka_topic_int(t, "replication_factor", 32767);
    int want_misr = kafka_topic_int(t, "min_insync_replicas", 32767);
    if (want_rf < 0 || want_misr < 0 || want_misr > want_rf) {
        snprintf(err, errlen,
                 "topic %s: replication_factor and min_insync_replicas must be "
                 "integers with 1 <= min_insync_replicas <= replication_factor",
                 name);
        return -1;
    }
    *rf = want_rf < brokers ? want_rf : brokers;
    *misr = want_misr < *rf ? want_misr : *rf;
    if (*rf < want_rf || *misr < want_misr)
        log_warn("topic %s: the cluster has %d broker(s): replication factor %d and "
                 "min.insync.replicas %d instead of the catalogue's %d and %d",
                 name, brokers, *rf, *misr, want_rf, want_misr);
    return 0;
}

/* Builds one NewTopic from a catalogue entry; NULL with err on a bad entry. */
static rd_kafka_NewTopic_t *kafka_topic_from(json_t *t, int brokers, int *rf_out, char *err,
                                             size_t errlen)
{
    const char *name = json_string_value(json_object_get(t, "name"));
    int parts = kafka_topic_int(t, "partitions", 10000), rf, misr;
    json_t *ret = json_object_get(t, "retention_ms");
    const char *cleanup = json_string_value(json_object_get(t, "cleanup_policy"));
    char e[256], v[32], m[16];
    if (!name || parts < 1) {
        snprintf(err, errlen, "topic catalogue: entry without a name or valid partitions");
        return NULL;
    }
    if (kafka_topic_replication(t, name, brokers, &rf, &misr, err, errlen) != 0)
        return NULL;
    *rf_out = rf;
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, parts, rf, e, sizeof e);
    if (!nt) {
        snprintf(err, errlen, "topic %s: %s", name, e);
        return NULL;
    }
    snprintf(m, sizeof m, "%d", misr);
    rd_kafka_resp_err_t ce = rd_kafka_NewTopic_set_config(nt, "min.insync.replicas", m);
    if (!ce && json_is_integer(ret)) {
        snprintf(v, sizeof v, "%lld", (long long)json_integer_value(ret));
        ce = rd_kafka_NewTopic_set_config(nt, "retention.ms", v);
    }
    if (!ce && cleanup)
        ce = rd_kafka_NewTopic_set_config(nt, "cleanup.policy", cleanup);
    if (ce) {
        snprintf(err, errlen, "topic %s: config: %s", name, rd_kafka_err2str(ce));
        rd_kafka_NewTopic_destroy(nt);
        return NULL;
    }
    return nt;
}

/* The replica count of an existing topic's smallest partition, 0 when md lacks it. */
static int kafka_topic_replicas(const rd_kafka_metadata_t *md, const char *name)
{
    int min = 0;
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        if (strcmp(t->topic, name) != 0 || t->err)
            continue;
        for (int p = 0; p < t->partition_cnt; p++)
            if (p == 0 || t->partitions[p].replica_cnt < min)
                min = t->partitions[p].replica_cnt;
    }
    return min;
}

static int kafka_topic_wanted_rf(const kafka_topic_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->name[i], name) == 0)
            return set->rf[i];
    return 0;
}

/* Logs each topic's outcome; an existing topic with fewer replicas than it would get now is
 * a warning (creation never changes an existing topic). */
static int kafka_topics_result(rd_kafka_event_t *ev, const rd_kafka_metadata_t *md,
                               const kafka_topic_set *set, char *err, size_t errlen)
{
    size_t n;
    int rc = 0;
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    if (!res) {
        snprintf(err, errlen, "CreateTopics: %s", rd_kafka_event_error_string(ev));
        return -1;
    }
    const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
        const char *name = rd_kafka_topic_result_name(tr[i]);
        int have = kafka_topic_replicas(md, name), want = kafka_topic_wanted_rf(set, name);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            log_info("topic %s created", name);
        else if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && have > 0 && have < want)
            log_warn("topic %s already exists with %d replica(s), fewer than the %d it would "
                     "get now (kafka-reassign-partitions raises it)",
                     name, have, want);
        else if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            log_info("topic %s already exists", name);
        else {
            snprintf(err, errlen, "topic %s: %s", name, rd_kafka_topic_result_error_string(tr[i]));
            rc = -1;
        }
    }
    return rc;
}

/* An admin client on brokers; NULL with err. */
static rd_kafka_t *kafka_topics_admin(const char *brokers, char *err, size_t errlen)
{
    char e[512];
    rd_kafka_conf_t *conf = kafka_conf_new(brokers, "wf4-topics", err, errlen);
    if (!conf)
        return NULL;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!rk) {
        snprintf(err, errlen, "cannot create Kafka admin client: %s", e);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* The cluster's metadata (its brokers and every topic); NULL with err. */
static const rd_kafka_metadata_t *kafka_topics_metadata(rd_kafka_t *rk, const char *brokers,
                                                        int timeout_ms, char *err, size_t errlen)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (e) {
        snprintf(err, errlen, "WF4_KAFKA_BROKERS: metadata from %s: %s", brokers,
                 rd_kafka_err2str(e));
        return NULL;
    }
    if (md->broker_cnt < 1) {
        snprintf(err, errlen, "WF4_KAFKA_BROKERS: %s reports no broker", brokers);
        rd_kafka_metadata_destroy(md);
        return NULL;
    }
    return md;
}

/* Reads <schema_dir>/topics.json into set, replication fitted to `brokers`; its JSON in
 * *root (the caller decrefs it, also on failure). */
static int kafka_topics_load(const char *schema_dir, int brokers, kafka_topic_set *set,
                             json_t **root, char *err, size_t errlen)
{
    char path[4096];
    json_error_t je;
    snprintf(path, sizeof path, "%s/topics.json", schema_dir);
    *root = json_load_file(path, 0, &je);
    json_t *arr = json_object_get(*root, "topics");
    if (!json_is_array(arr) || json_array_size(arr) > KAFKA_TOPICS_MAX) {
        snprintf(err, errlen, "%s: %s", path, *root ? "no \"topics\" array (at most 64)" : je.text);
        return -1;
    }
    for (set->n = 0; set->n < json_array_size(arr); set->n++) {
        json_t *t = json_array_get(arr, set->n);
        set->nt[set->n] = kafka_topic_from(t, brokers, &set->rf[set->n], err, errlen);
        if (!set->nt[set->n])
            return -1;
        set->name[set->n] = json_string_value(json_object_get(t, "name"));
    }
    return 0;
}

/* Sends CreateTopics for set and waits for its answer; NULL with err. */
static rd_kafka_event_t *kafka_topics_send(rd_kafka_t *rk, rd_kafka_queue_t *q,
                                           kafka_topic_set *set, const char *brokers,
                                           int timeout_ms, char *err, size_t errlen)
{
    char e[512];
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (rd_kafka_AdminOptions_set_operation_timeout(opt, timeout_ms, e, sizeof e) ||
        rd_kafka_AdminOptions_set_request_timeout(opt, timeout_ms, e, sizeof e)) {
        snprintf(err, errlen, "CreateTopics options: %s", e);
        rd_kafka_AdminOptions_destroy(opt);
        return NULL;
    }
    rd_kafka_CreateTopics(rk, set->nt, set->n, opt, q);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
    if (!ev)
        snprintf(err, errlen, "CreateTopics: no answer from %s within %d ms", brokers, timeout_ms);
    else if (rd_kafka_event_error(ev)) { /* the request itself failed: no topic result */
        snprintf(err, errlen, "WF4_KAFKA_BROKERS: CreateTopics at %s: %s", brokers,
                 rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        ev = NULL;
    }
    return ev;
}

int kafka_topics_create(const char *brokers, const char *schema_dir, int timeout_ms, char *err,
                        size_t errlen)
{
    int rc = -1;
    kafka_topic_set set = {.n = 0};
    json_t *root = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_event_t *ev = NULL;
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_t *rk = kafka_topics_admin(brokers, err, errlen);
    if (!rk || !(md = kafka_topics_metadata(rk, brokers, timeout_ms, err, errlen)))
        goto out;
    log_info("Kafka cluster at %s: %d broker(s)", brokers, md->broker_cnt);
    if (kafka_topics_load(schema_dir, md->broker_cnt, &set, &root, err, errlen) != 0)
        goto out;
    q = rd_kafka_queue_new(rk);
    if ((ev = kafka_topics_send(rk, q, &set, brokers, timeout_ms, err, errlen)))
        rc = kafka_topics_result(ev, md, &set, err, errlen);
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (set.n)
        rd_kafka_NewTopic_destroy_array(set.nt, set.n);
    if (md)
        rd_kafka_metadata_destroy(md);
    if (q)
        rd_kafka_queue_destroy(q);
    if (rk)
        rd_kafka_destroy(rk);
    json_decref(root);
    return rc;
}
