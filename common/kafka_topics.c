/* Topic creation from the catalogue (schemas/topics.json) with the Admin API. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "kafka.h"
#include "log.h"

/* Builds one NewTopic from a catalogue entry; NULL with err on a bad entry. */
static rd_kafka_NewTopic_t *kafka_topic_from(json_t *t, char *err, size_t errlen)
{
    const char *name = json_string_value(json_object_get(t, "name"));
    json_int_t parts = json_integer_value(json_object_get(t, "partitions"));
    json_t *ret = json_object_get(t, "retention_ms");
    const char *cleanup = json_string_value(json_object_get(t, "cleanup_policy"));
    char e[256], v[32];
    if (!name || parts < 1 || parts > 10000) {
        snprintf(err, errlen, "topic catalogue: entry without a name or valid partitions");
        return NULL;
    }
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, (int)parts, 1, e, sizeof e);
    if (!nt) {
        snprintf(err, errlen, "topic %s: %s", name, e);
        return NULL;
    }
    if (json_is_integer(ret)) {
        snprintf(v, sizeof v, "%lld", (long long)json_integer_value(ret));
        rd_kafka_NewTopic_set_config(nt, "retention.ms", v);
    }
    if (cleanup)
        rd_kafka_NewTopic_set_config(nt, "cleanup.policy", cleanup);
    rd_kafka_NewTopic_set_config(nt, "min.insync.replicas", "1");
    return nt;
}

static int kafka_topics_result(rd_kafka_event_t *ev, char *err, size_t errlen)
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
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            log_info("topic %s created", name);
        else if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            log_info("topic %s already exists", name);
        else {
            snprintf(err, errlen, "topic %s: %s", name, rd_kafka_topic_result_error_string(tr[i]));
            rc = -1;
        }
    }
    return rc;
}

int kafka_topics_create(const char *brokers, const char *schema_dir, int timeout_ms, char *err,
                        size_t errlen)
{
    char path[4096], e[512];
    json_error_t je;
    int rc = -1;
    size_t n = 0;
    rd_kafka_NewTopic_t *nts[64];
    rd_kafka_t *rk = NULL;
    rd_kafka_queue_t *q = NULL;
    snprintf(path, sizeof path, "%s/topics.json", schema_dir);
    json_t *root = json_load_file(path, 0, &je), *arr = json_object_get(root, "topics");
    if (!json_is_array(arr) || json_array_size(arr) > 64) {
        snprintf(err, errlen, "%s: %s", path, root ? "no \"topics\" array" : je.text);
        goto out;
    }
    for (n = 0; n < json_array_size(arr); n++)
        if (!(nts[n] = kafka_topic_from(json_array_get(arr, n), err, errlen)))
            goto out;
    rd_kafka_conf_t *conf = kafka_conf_new(brokers, "wf4-topics", err, errlen);
    if (!conf)
        goto out;
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e))) {
        snprintf(err, errlen, "cannot create Kafka admin client: %s", e);
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opt, timeout_ms, e, sizeof e);
    rd_kafka_AdminOptions_set_request_timeout(opt, timeout_ms, e, sizeof e);
    rd_kafka_CreateTopics(rk, nts, n, opt, q);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
    if (!ev)
        snprintf(err, errlen, "CreateTopics: no answer from %s within %d ms", brokers, timeout_ms);
    else if (rd_kafka_event_error(ev)) /* the request itself failed: no topic result */
        snprintf(err, errlen, "WF4_KAFKA_BROKERS: CreateTopics at %s: %s", brokers,
                 rd_kafka_event_error_string(ev));
    else {
        rc = kafka_topics_result(ev, err, errlen);
        rd_kafka_event_destroy(ev);
    }
out:
    if (n)
        rd_kafka_NewTopic_destroy_array(nts, n);
    if (q)
        rd_kafka_queue_destroy(q);
    if (rk)
        rd_kafka_destroy(rk);
    json_decref(root);
    return rc;
}
