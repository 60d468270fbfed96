/* wf4ctl trace: finds one domain's messages on a topic within a time window. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_trace.h"
#include "kafka.h"
#include "service.h"
#include "trace.h"
#include "wire.h"

#define TRACE_KAFKA_TIMEOUT_MS 10000
#define TRACE_SCAN_MAX_MS 60000

/* A consumer without a group subscription: partitions assigned by hand, nothing committed. */
static rd_kafka_t *trace_consumer(const ctl_settings *s)
{
    char err[512];
    rd_kafka_conf_t *conf = kafka_conf_new(s->kafka_brokers, "wf4ctl-trace", err, sizeof err);
    if (!conf) {
        fprintf(stderr, "wf4ctl trace: %s\n", err);
        return NULL;
    }
    if (rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) !=
            RD_KAFKA_CONF_OK ||
        /* librdkafka 2.0 refuses assign() without a group.id; nothing is ever committed. */
        rd_kafka_conf_set(conf, "group.id", "wf4ctl-trace", err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "wf4ctl trace: kafka conf: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "wf4ctl trace: rd_kafka_new: %s\n", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* Every partition of topic, each at its first offset at or after from_ms; partitions with
 * nothing that late are left out. NULL on error (printed). */
static rd_kafka_topic_partition_list_t *trace_partitions(rd_kafka_t *rk, const char *topic,
                                                         int64_t from_ms)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (!rkt) {
        fprintf(stderr, "wf4ctl trace: topic %s: %s\n", topic,
                rd_kafka_err2str(rd_kafka_last_error()));
        return NULL;
    }
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, TRACE_KAFKA_TIMEOUT_MS);
    rd_kafka_topic_partition_list_t *all = NULL, *list = NULL;
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 && !md->topics[0].err) {
        all = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
        for (int i = 0; i < md->topics[0].partition_cnt; i++)
            rd_kafka_topic_partition_list_add(all, topic, md->topics[0].partitions[i].id)->offset =
                from_ms;
        e = rd_kafka_offsets_for_times(rk, all, TRACE_KAFKA_TIMEOUT_MS);
    } else if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        e = md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "wf4ctl trace: topic %s: %s\n", topic, rd_kafka_err2str(e));
    } else {
        list = rd_kafka_topic_partition_list_new(all->cnt);
        for (int i = 0; i < all->cnt; i++)
            if (!all->elems[i].err && all->elems[i].offset >= 0)
                rd_kafka_topic_partition_list_add(list, topic, all->elems[i].partition)->offset =
                    all->elems[i].offset;
    }
    if (all)
        rd_kafka_topic_partition_list_destroy(all);
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return list;
}

static int trace_msgs_push(trace_msgs *out, const trace_msg *m)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        trace_msg *v = realloc(out->v, cap * sizeof *v);
        if (!v)
            return -1;
        out->v = v;
        out->cap = cap;
    }
    out->v[out->n++] = *m;
    return 0;
}

/* The id a message of kind carries; -1 when it does not decode. */
static int trace_decode_id(wire *w, trace_topic_kind kind, const rd_kafka_message_t *rkm, char *id)
{
    char err[256];
    int rc = -1;
    if (kind == TRACE_HANDOFFS) {
        msg_handoff h;
        if ((rc = msg_handoff_decode(w, rkm->payload, rkm->len, &h, err, sizeof err)) == 0)
            memcpy(id, h.event_id, MSG_UUID_LEN);
        msg_handoff_free(&h);
    } else if (kind == TRACE_CLAIMS) {
        msg_claim c;
        if ((rc = msg_claim_decode(w, rkm->payload, rkm->len, &c, err, sizeof err)) == 0)
            memcpy(id, c.claim_id, MSG_UUID_LEN);
        msg_claim_free(&c);
    } else {
        msg_result r;
        if ((rc = msg_result_decode(w, rkm->payload, rkm->len, &r, err, sizeof err)) == 0)
            memcpy(id, r.claim_id, MSG_UUID_LEN);
        msg_result_free(&r);
    }
    return rc;
}

/* Handles one message; sets *part_done when its partition reached its end or passed to_ms.
 * Returns -1 when out of memory. */
static int trace_take(wire *w, const char *topic, trace_topic_kind kind, const char *domain_id,
                      int64_t to_ms, const rd_kafka_message_t *rkm, int *part_done, trace_msgs *out)
{
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(rkm, &tt);
    size_t klen = strlen(domain_id);
    if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF || (!rkm->err && ts > to_ms)) {
        *part_done = 1;
    } else if (rkm->err) {
        fprintf(stderr, "wf4ctl trace: %s: %s\n", topic, rd_kafka_message_errstr(rkm));
    } else if (rkm->key_len == klen && memcmp(rkm->key, domain_id, klen) == 0) {
        trace_msg m = {.kind = kind,
                       .topic = topic,
                       .partition = rkm->partition,
                       .offset = rkm->offset,
                       .ts_ms = ts};
        (void)trace_header_get(rkm, TRACE_HEADER, m.traceparent, sizeof m.traceparent);
        if (trace_decode_id(w, kind, rkm, m.id) == 0)
            return trace_msgs_push(out, &m);
    }
    return 0;
}

/* Reads the assigned partitions until each reached its end or passed to_ms. */
static int trace_read(rd_kafka_t *rk, wire *w, const char *topic, trace_topic_kind kind,
                      const char *domain_id, int64_t to_ms,
                      const rd_kafka_topic_partition_list_t *list, trace_msgs *out)
{
    int done = 0, maxp = 0, rc = 0;
    for (int i = 0; i < list->cnt; i++)
        if (list->elems[i].partition > maxp)
            maxp = list->elems[i].partition;
    char *finished = calloc((size_t)maxp + 1, 1);
    if (!finished)
        return -1;
    int64_t deadline = service_mono_ms() + TRACE_SCAN_MAX_MS;
    while (rc == 0 && done < list->cnt && service_mono_ms() < deadline) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 500);
        if (!rkm)
            continue;
        if (rkm->partition >= 0 && rkm->partition <= maxp && !finished[rkm->partition]) {
            int part_done = 0;
            rc = trace_take(w, topic, kind, domain_id, to_ms, rkm, &part_done, out);
            if (part_done) {
                finished[rkm->partition] = 1;
                done++;
            }
        }
        rd_kafka_message_destroy(rkm);
    }
    if (done < list->cnt)
        fprintf(stderr, "wf4ctl trace: %s: scan stopped after %d s (%d of %d partitions read)\n",
                topic, TRACE_SCAN_MAX_MS / 1000, done, list->cnt);
    free(finished);
    return rc;
}

int trace_kafka_scan(const ctl_settings *s, const char *topic, trace_topic_kind kind,
                     const char *domain_id, int64_t from_ms, int64_t to_ms, trace_msgs *out)
{
    char err[512];
    int rc = -1;
    wire *w = wire_new(s->schema_dir, s->registry_url, err, sizeof err);
    rd_kafka_t *rk = w ? trace_consumer(s) : NULL;
    rd_kafka_topic_partition_list_t *list = rk ? trace_partitions(rk, topic, from_ms) : NULL;
    if (!w)
        fprintf(stderr, "wf4ctl trace: WF4_SCHEMA_DIR/WF4_SCHEMA_REGISTRY_URL: %s\n", err);
    if (list && list->cnt == 0) {
        rc = 0; /* nothing on this topic since from_ms */
    } else if (list) {
        rd_kafka_resp_err_t ae = rd_kafka_assign(rk, list);
        if (ae)
            fprintf(stderr, "wf4ctl trace: assign %s: %s\n", topic, rd_kafka_err2str(ae));
        else
            rc = trace_read(rk, w, topic, kind, domain_id, to_ms, list, out);
    }
    if (list)
        rd_kafka_topic_partition_list_destroy(list);
    if (rk) {
        rd_kafka_resp_err_t e = rd_kafka_consumer_close(rk);
        if (e)
            fprintf(stderr, "wf4ctl trace: consumer close: %s\n", rd_kafka_err2str(e));
        rd_kafka_destroy(rk);
    }
    wire_free(w);
    return rc;
}
