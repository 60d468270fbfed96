/* ACLs from the catalogue (schemas/topics.json): each service may do exactly its part. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "kafka.h"
#include "log.h"

#define KAFKA_ACLS_MAX 256

typedef struct {
    rd_kafka_AclBinding_t *b[KAFKA_ACLS_MAX];
    size_t n;
} kafka_acl_set;

/* A catalogue producer/consumer that is one of our services ("scraper"), not a prose name
 * such as "WF5 (sitemap analysis)". */
static int kafka_acl_is_service(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
            return 0;
    return 1;
}

static int kafka_acl_add(kafka_acl_set *set, rd_kafka_ResourceType_t type, const char *name,
                         const char *service, rd_kafka_AclOperation_t op, char *err, size_t errlen)
{
    char principal[128], e[256];
    if (set->n >= KAFKA_ACLS_MAX) {
        snprintf(err, errlen, "topic catalogue: more than %d ACLs", KAFKA_ACLS_MAX);
        return -1;
    }
    snprintf(principal, sizeof principal, "User:%s", service);
    set->b[set->n] = rd_kafka_AclBinding_new(type, name, RD_KAFKA_RESOURCE_PATTERN_LITERAL,
                                             principal, "*", op, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW,
                                             e, sizeof e);
    if (!set->b[set->n]) {
        snprintf(err, errlen, "ACL for %s on %s: %s", principal, name, e);
        return -1;
    }
    set->n++;
    return 0;
}

/* Producer: Write + Describe on the topic. Consumer: Read + Describe on the topic, Read on
 * its group "wf4-<service>" (the services' default group ids). */
static int kafka_acls_topic(kafka_acl_set *set, json_t *t, char *err, size_t errlen)
{
    const char *name = json_string_value(json_object_get(t, "name"));
    const char *prod = json_string_value(json_object_get(t, "producer"));
    json_t *cons = json_object_get(t, "consumers"), *c;
    size_t i;
    char group[128];
    if (!name) {
        snprintf(err, errlen, "topic catalogue: entry without a name");
        return -1;
    }
    if (kafka_acl_is_service(prod) && (kafka_acl_add(set, RD_KAFKA_RESOURCE_TOPIC, name, prod,
                                                     RD_KAFKA_ACL_OPERATION_WRITE, err, errlen) ||
                                       kafka_acl_add(set, RD_KAFKA_RESOURCE_TOPIC, name, prod,
                                                     RD_KAFKA_ACL_OPERATION_DESCRIBE, err, errlen)))
        return -1;
    json_array_foreach(cons, i, c)
    {
        const char *svc = json_string_value(c);
        if (!kafka_acl_is_service(svc))
            continue;
        snprintf(group, sizeof group, "wf4-%s", svc);
        if (kafka_acl_add(set, RD_KAFKA_RESOURCE_TOPIC, name, svc, RD_KAFKA_ACL_OPERATION_READ, err,
                          errlen) ||
            kafka_acl_add(set, RD_KAFKA_RESOURCE_TOPIC, name, svc, RD_KAFKA_ACL_OPERATION_DESCRIBE,
                          err, errlen) ||
            kafka_acl_add(set, RD_KAFKA_RESOURCE_GROUP, group, svc, RD_KAFKA_ACL_OPERATION_READ,
                          err, errlen))
            return -1;
    }
    return 0;
}

static int kafka_acls_load(const char *schema_dir, kafka_acl_set *set, char *err, size_t errlen)
{
    char path[4096];
    json_error_t je;
    size_t i;
    json_t *t;
    snprintf(path, sizeof path, "%s/topics.json", schema_dir);
    json_t *root = json_load_file(path, 0, &je), *arr = json_object_get(root, "topics");
    int rc = 0;
    if (!json_is_array(arr)) {
        snprintf(err, errlen, "%s: %s", path, root ? "no \"topics\" array" : je.text);
        rc = -1;
    }
    json_array_foreach(arr, i, t)
    {
        if (rc == 0 && kafka_acls_topic(set, t, err, errlen) != 0)
            rc = -1;
    }
    json_decref(root);
    return rc;
}

/* Logs each binding's outcome (an existing identical ACL is success for Kafka). */
static int kafka_acls_result(rd_kafka_event_t *ev, size_t want, char *err, size_t errlen)
{
    size_t n, ok = 0;
    const rd_kafka_CreateAcls_result_t *res = rd_kafka_event_CreateAcls_result(ev);
    if (!res) {
        snprintf(err, errlen, "CreateAcls: %s", rd_kafka_event_error_string(ev));
        return -1;
    }
    const rd_kafka_acl_result_t **ar = rd_kafka_CreateAcls_result_acls(res, &n);
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_error_t *e = rd_kafka_acl_result_error(ar[i]);
        if (e) {
            snprintf(err, errlen, "CreateAcls: ACL %zu of %zu: %s", i + 1, n,
                     rd_kafka_error_string(e));
            return -1;
        }
        ok++;
    }
    log_info("ACLs: %zu of %zu set (principals User:<service>, groups wf4-<service>)", ok, want);
    return ok == want ? 0 : -1;
}

int kafka_acls_create(const char *brokers, const char *schema_dir, int timeout_ms, char *err,
                      size_t errlen)
{
    char e[512];
    int rc = -1;
    kafka_acl_set set = {.n = 0};
    rd_kafka_queue_t *q = NULL;
    rd_kafka_event_t *ev = NULL;
    rd_kafka_t *rk = NULL;
    rd_kafka_conf_t *conf = kafka_conf_new(brokers, "wf4-acls", err, errlen);
    if (!conf || kafka_acls_load(schema_dir, &set, err, errlen) != 0)
        goto out;
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e))) {
        snprintf(err, errlen, "cannot create Kafka admin client: %s", e);
        goto out;
    }
    conf = NULL;
    q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATEACLS);
    if (rd_kafka_AdminOptions_set_request_timeout(opt, timeout_ms, e, sizeof e)) {
        snprintf(err, errlen, "CreateAcls options: %s", e);
        rd_kafka_AdminOptions_destroy(opt);
        goto out;
    }
    rd_kafka_CreateAcls(rk, set.b, set.n, opt, q);
    rd_kafka_AdminOptions_destroy(opt);
    if (!(ev = rd_kafka_queue_poll(q, timeout_ms + 2000)))
        snprintf(err, errlen, "CreateAcls: no answer from %s within %d ms", brokers, timeout_ms);
    else if (rd_kafka_event_error(ev))
        snprintf(err, errlen, "WF4_KAFKA_BROKERS: CreateAcls at %s: %s", brokers,
                 rd_kafka_event_error_string(ev));
    else
        rc = kafka_acls_result(ev, set.n, err, errlen);
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    for (size_t i = 0; i < set.n; i++)
        rd_kafka_AclBinding_destroy(set.b[i]);
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (q)
        rd_kafka_queue_destroy(q);
    if (rk)
        rd_kafka_destroy(rk);
    return rc;
}
