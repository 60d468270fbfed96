/* wf4-resultcheck: test tool checking that every listed claim has exactly one result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kafka.h"
#include "log.h"
#include "msg.h"

/* One claim of the list (wf4-claimgen's output) and what the topic said about it. */
typedef struct rc_claim {
    char claim_id[MSG_UUID_LEN];
    char domain[256];
    int results, success, retryable;
    int32_t status;
    char error[160];
} rc_claim;

typedef struct rc_state {
    rc_claim *v;
    size_t n, seen;
    long extra, undecodable, secret_hits;
    const char *secret;
} rc_state;

static int rc_cmp(const void *a, const void *b)
{
    return strcmp(((const rc_claim *)a)->claim_id, ((const rc_claim *)b)->claim_id);
}

static int rc_load(const char *path, rc_state *st)
{
    FILE *f = fopen(path, "r");
    char line[512], did[64], cid[MSG_UUID_LEN], dom[256];
    size_t cap = 0;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%63s %36s %255s", did, cid, dom) != 3)
            continue;
        if (st->n == cap) {
            cap = cap ? cap * 2 : 1024;
            rc_claim *v = realloc(st->v, cap * sizeof *v);
            if (!v)
                break;
            st->v = v;
        }
        rc_claim *c = &st->v[st->n++];
        memset(c, 0, sizeof *c);
        snprintf(c->claim_id, sizeof c->claim_id, "%s", cid);
        snprintf(c->domain, sizeof c->domain, "%s", dom);
    }
    fclose(f);
    qsort(st->v, st->n, sizeof *st->v, rc_cmp);
    return 0;
}

static void rc_message(rc_state *st, wire *w, const rd_kafka_message_t *m)
{
    char err[256];
    msg_result r;
    if (st->secret && *st->secret && m->len >= strlen(st->secret) &&
        memmem(m->payload, m->len, st->secret, strlen(st->secret)))
        st->secret_hits++;
    if (msg_result_decode(w, m->payload, m->len, &r, err, sizeof err) != 0) {
        st->undecodable++;
        return;
    }
    rc_claim key = {0}, *c;
    snprintf(key.claim_id, sizeof key.claim_id, "%s", r.claim_id);
    c = bsearch(&key, st->v, st->n, sizeof *st->v, rc_cmp);
    if (!c) {
        st->extra++;
    } else {
        if (c->results++ == 0)
            st->seen++;
        c->success = r.outcome == RESULT_SUCCESS;
        c->retryable = r.retryable;
        c->status = r.http_status;
        snprintf(c->error, sizeof c->error, "%s", r.error ? r.error : "");
    }
    msg_result_free(&r);
}

/* Assigns every partition of topic from the beginning. */
static int rc_assign(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    if (e || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "wf4-resultcheck: metadata of %s: %s\n", topic,
                rd_kafka_err2str(e               ? e
                                 : md->topic_cnt ? md->topics[0].err
                                                 : e));
        if (md)
            rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        return -1;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[i].id)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    e = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e)
        fprintf(stderr, "wf4-resultcheck: assign: %s\n", rd_kafka_err2str(e));
    return e ? -1 : 0;
}

static void rc_report(const rc_state *st)
{
    long success = 0, fail_final = 0, fail_retry = 0, dup = 0, missing = 0, fail429 = 0;
    long fail_auth = 0;
    for (size_t i = 0; i < st->n; i++) {
        const rc_claim *c = &st->v[i];
        if (!c->results) {
            missing++;
            continue;
        }
        dup += c->results - 1;
        if (c->success)
            success++;
        else if (c->retryable)
            fail_retry++;
        else
            fail_final++;
        if (!c->success && (c->status == 429 || strstr(c->error, "429")))
            fail429++;
        if (!c->success && (c->status == 401 || c->status == 403))
            fail_auth++;
    }
    printf("claims=%zu with_result=%zu missing=%ld duplicates=%ld success=%ld "
           "failure_final=%ld failure_retryable=%ld failure_429=%ld failure_auth=%ld "
           "other_results=%ld "
           "undecodable=%ld secret_hits=%ld\n",
           st->n, st->seen, missing, dup, success, fail_final, fail_retry, fail429, fail_auth,
           st->extra, st->undecodable, st->secret_hits);
    for (size_t i = 0, shown = 0; i < st->n && shown < 5; i++)
        if (!st->v[i].results && ++shown)
            printf("missing: %s %s\n", st->v[i].claim_id, st->v[i].domain);
}

static int rc_consume(rd_kafka_t *rk, wire *w, rc_state *st, int wait_s)
{
    time_t deadline = time(NULL) + wait_s, quiet_until = 0;
    while (time(NULL) < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m) {
            /* everything seen and nothing new for 2 s: duplicates are counted too */
            if (st->seen == st->n && quiet_until && time(NULL) >= quiet_until)
                return 0;
            if (st->seen == st->n && !quiet_until)
                quiet_until = time(NULL) + 2;
            continue;
        }
        if (!m->err)
            rc_message(st, w, m);
        else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            fprintf(stderr, "wf4-resultcheck: %s\n", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        quiet_until = 0;
    }
    return st->seen == st->n ? 0 : 1;
}

int main(int argc, char **argv)
{
    char err[512], group[64];
    if (argc < 3 || strcmp(argv[1], "--help") == 0) {
        printf("usage: wf4-resultcheck TOPIC CLAIMS_FILE [WAIT_S] [SECRET]\n"
               "Reads TOPIC from the beginning until every claim of CLAIMS_FILE (wf4-claimgen's\n"
               "output) has a result or WAIT_S (default 120) passes; prints one line of counts\n"
               "(missing, duplicates, outcomes, results carrying SECRET). Exit 1 if any is "
               "missing.\n");
        return argc < 3 ? 2 : 0;
    }
    rc_state st = {.secret = argc > 4 ? argv[4] : NULL};
    const char *brokers = getenv("WF4_KAFKA_BROKERS"), *dir = getenv("WF4_SCHEMA_DIR");
    log_init("resultcheck", NULL, LOG_LEVEL_WARN);
    if (!brokers || rc_load(argv[2], &st) != 0) {
        fprintf(stderr, "wf4-resultcheck: need WF4_KAFKA_BROKERS and a readable %s\n", argv[2]);
        return 2;
    }
    wire *w = wire_new(dir && *dir ? dir : WF4_SCHEMA_DIR_DEFAULT,
                       getenv("WF4_SCHEMA_REGISTRY_URL"), err, sizeof err);
    rd_kafka_conf_t *conf = w ? kafka_conf_new(brokers, "wf4-resultcheck", err, sizeof err) : NULL;
    snprintf(group, sizeof group, "wf4-resultcheck-%d", (int)getpid());
    rd_kafka_t *rk = NULL;
    if (conf && rd_kafka_conf_set(conf, "group.id", group, err, sizeof err) == RD_KAFKA_CONF_OK &&
        rd_kafka_conf_set(conf, "isolation.level", "read_committed", err, sizeof err) ==
            RD_KAFKA_CONF_OK)
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    else if (conf)
        rd_kafka_conf_destroy(conf);
    int rc = 2;
    if (!rk) {
        fprintf(stderr, "wf4-resultcheck: %s\n", err);
    } else if (rc_assign(rk, argv[1]) == 0) {
        rc = rc_consume(rk, w, &st, argc > 3 ? atoi(argv[3]) : 120);
        rc_report(&st);
    }
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    wire_free(w);
    free(st.v);
    return rc;
}
