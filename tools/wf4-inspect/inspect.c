/* wf4-inspect: reads a pipeline topic from an offset or a time and prints JSON lines. */
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "inspect.h"
#include "kafka.h"
#include "log.h"
#include "wire.h"
#include "wire_internal.h"

#define INSPECT_TIMEOUT_MS 10000
#define INSPECT_IDLE_MS 10000 /* without --follow: stop when nothing arrives for this long */
#define INSPECT_MAX_PARTS 1024

static volatile sig_atomic_t inspect_run = 1;

static void inspect_stop(int sig)
{
    (void)sig;
    inspect_run = 0;
}

static json_t *inspect_hex(const void *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = p;
    char *s = malloc(2 * n + 1);
    if (!s)
        return json_null();
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[b[i] >> 4];
        s[2 * i + 1] = digits[b[i] & 15];
    }
    json_t *j = json_stringn(s, 2 * n);
    free(s);
    return j ? j : json_null();
}

/* Text when the bytes are UTF-8 without NUL, else {"hex": ...}; null when absent. */
static json_t *inspect_bytes(const void *p, size_t n)
{
    if (!p)
        return json_null();
    if (wire_utf8_valid(p, n))
        return json_stringn(p, n);
    return json_pack("{s:o}", "hex", inspect_hex(p, n));
}

static json_t *inspect_headers(const rd_kafka_message_t *rkm)
{
    rd_kafka_headers_t *hdrs = NULL;
    json_t *out = json_object();
    const char *name;
    const void *val;
    size_t size;
    if (rd_kafka_message_headers(rkm, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return out;
    for (size_t i = 0;
         rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
        json_object_set_new(out, name, inspect_bytes(val, size));
    return out;
}

static json_t *inspect_value(wire *w, const rd_kafka_message_t *rkm)
{
    char err[512], *text = NULL;
    if (!rkm->payload)
        return json_null();
    if (wire_decode_json(w, rkm->payload, rkm->len, &text, err, sizeof err) == 0) {
        json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
        free(text);
        if (v)
            return v;
        snprintf(err, sizeof err, "decoded value is not JSON");
    }
    return json_pack("{s:s,s:o}", "undecodable", err, "hex", inspect_hex(rkm->payload, rkm->len));
}

static void inspect_print(wire *w, const rd_kafka_message_t *rkm)
{
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(rkm, &tstype);
    json_t *line = json_pack(
        "{s:s,s:i,s:I,s:o,s:o,s:o,s:o}", "topic", rd_kafka_topic_name(rkm->rkt), "partition",
        (int)rkm->partition, "offset", (json_int_t)rkm->offset, "timestamp",
        ts >= 0 ? json_integer(ts) : json_null(), "key", inspect_bytes(rkm->key, rkm->key_len),
        "headers", inspect_headers(rkm), "value", inspect_value(w, rkm));
    char *s = line ? json_dumps(line, JSON_COMPACT) : NULL;
    if (s) {
        puts(s);
        fflush(stdout);
    } else {
        log_error("cannot print message at %s [%d] offset %lld", rd_kafka_topic_name(rkm->rkt),
                  (int)rkm->partition, (long long)rkm->offset);
    }
    free(s);
    json_decref(line);
}

/* A consumer without a group: partitions are assigned by hand, nothing is committed. */
static rd_kafka_t *inspect_consumer(const char *brokers)
{
    char err[512];
    rd_kafka_conf_t *conf = kafka_conf_new(brokers, "wf4-inspect", err, sizeof err);
    if (!conf) {
        log_error("kafka conf: %s", err);
        return NULL;
    }
    if (rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) !=
            RD_KAFKA_CONF_OK ||
        /* librdkafka 2.0 refuses assign() without a group.id; nothing is ever committed. */
        rd_kafka_conf_set(conf, "group.id", "wf4-inspect", err, sizeof err) != RD_KAFKA_CONF_OK) {
        log_error("kafka conf: %s", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        log_error("rd_kafka_new: %s", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* The partitions to read: -p, or all from the topic's metadata. */
static rd_kafka_topic_partition_list_t *inspect_partitions(rd_kafka_t *rk, const inspect_opts *o)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, o->topic, NULL);
    rd_kafka_topic_partition_list_t *list = NULL;
    if (!rkt) {
        log_error("rd_kafka_topic_new %s: %s", o->topic, rd_kafka_err2str(rd_kafka_last_error()));
        return NULL;
    }
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, INSPECT_TIMEOUT_MS);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("WF4_KAFKA_BROKERS: metadata of %s: %s", o->topic, rd_kafka_err2str(e));
    } else if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error(
            "topic %s: %s", o->topic,
            rd_kafka_err2str(md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
    } else if (o->partition >= md->topics[0].partition_cnt) {
        log_error("topic %s has %d partitions, no partition %d", o->topic,
                  md->topics[0].partition_cnt, (int)o->partition);
    } else {
        list = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
        for (int i = 0; i < md->topics[0].partition_cnt; i++)
            if (o->partition < 0 || o->partition == md->topics[0].partitions[i].id)
                rd_kafka_topic_partition_list_add(list, o->topic, md->topics[0].partitions[i].id);
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return list;
}

/* Start offsets; --since goes through rd_kafka_offsets_for_times (no message: the end). */
static int inspect_offsets(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *list,
                           const inspect_opts *o)
{
    for (int i = 0; i < list->cnt; i++) {
        rd_kafka_topic_partition_t *p = &list->elems[i];
        p->offset = o->from == INSPECT_BEGINNING ? RD_KAFKA_OFFSET_BEGINNING
                    : o->from == INSPECT_END     ? RD_KAFKA_OFFSET_END
                    : o->from == INSPECT_TAIL    ? RD_KAFKA_OFFSET_TAIL(o->offset)
                                                 : o->offset;
    }
    if (o->from != INSPECT_TIME)
        return 0;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, list, INSPECT_TIMEOUT_MS);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("rd_kafka_offsets_for_times: %s", rd_kafka_err2str(e));
        return -1;
    }
    for (int i = 0; i < list->cnt; i++)
        if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR || list->elems[i].offset < 0)
            list->elems[i].offset = RD_KAFKA_OFFSET_END;
    return 0;
}

/* Reads until the count, the end of every partition (unless following), or a signal. */
static int inspect_loop(rd_kafka_t *rk, wire *w, const inspect_opts *o, int nparts)
{
    long printed = 0;
    int at_end = 0, idle_ms = 0;
    while (inspect_run && (o->count == 0 || printed < o->count)) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 200);
        if (!rkm) {
            idle_ms += 200;
            if (!o->follow && idle_ms >= INSPECT_IDLE_MS)
                break;
            continue;
        }
        idle_ms = 0;
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            at_end++;
        } else if (rkm->err) {
            log_warn("consume: %s", rd_kafka_message_errstr(rkm));
        } else {
            inspect_print(w, rkm);
            printed++;
        }
        rd_kafka_message_destroy(rkm);
        if (!o->follow && at_end >= nparts)
            break;
    }
    return 0;
}

static int inspect_run_topic(const inspect_opts *o, const char *brokers, wire *w)
{
    int rc = 1;
    rd_kafka_topic_partition_list_t *list = NULL;
    rd_kafka_t *rk = inspect_consumer(brokers);
    if (!rk)
        return 1;
    if (!(list = inspect_partitions(rk, o)) || inspect_offsets(rk, list, o) != 0)
        goto cleanup;
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, list);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("rd_kafka_assign: %s", rd_kafka_err2str(e));
        goto cleanup;
    }
    rc = inspect_loop(rk, w, o, list->cnt);
cleanup:
    if (list)
        rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_resp_err_t ce = rd_kafka_consumer_close(rk);
    if (ce != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_warn("rd_kafka_consumer_close: %s", rd_kafka_err2str(ce));
    rd_kafka_destroy(rk);
    return rc;
}

int main(int argc, char **argv)
{
    char *brokers = NULL, *schema_dir = NULL, *registry = NULL, err[512];
    char *cfg_argv[argc + 1];
    int cfg_argc, rc;
    inspect_opts o;
    const cfg_entry table[] = {
        {.env = "WF4_KAFKA_BROKERS",
         .type = CFG_STR,
         .def = "127.0.0.1:9092",
         .required = 1,
         .dst = &brokers,
         .help = "Kafka bootstrap servers"},
        {.env = "WF4_SCHEMA_DIR",
         .type = CFG_STR,
         .def = WF4_SCHEMA_DIR_DEFAULT,
         .required = 1,
         .dst = &schema_dir,
         .help = "directory holding avro/*.avsc (and avro/history/)"},
        {.env = "WF4_SCHEMA_REGISTRY_URL",
         .type = CFG_STR,
         .def = "",
         .dst = &registry,
         .help = "Confluent-compatible registry, to fetch schemas by id (empty: none)"},
    };
    size_t n = sizeof table / sizeof table[0];
    if (inspect_args(argc, argv, &o, &cfg_argc, cfg_argv) != 0)
        return 2;
    for (int i = 1; i < cfg_argc; i++)
        if (strcmp(cfg_argv[i], "-h") == 0 || strcmp(cfg_argv[i], "--help") == 0)
            inspect_usage();
    rc = config_load(table, n, cfg_argc, cfg_argv, "wf4-inspect",
                     "Prints the messages of a WF4 topic as JSON lines, decoded.");
    if (rc != 0) {
        config_free(table, n);
        return rc < 0 ? 2 : 0;
    }
    log_init("wf4-inspect", "cli", LOG_LEVEL_WARN);
    if (!o.topic) {
        fprintf(stderr, "wf4-inspect: no topic given (try --help)\n");
        config_free(table, n);
        return 2;
    }
    wire *w = wire_new(schema_dir, registry, err, sizeof err);
    if (!w) {
        log_error("schemas: %s", err);
        config_free(table, n);
        return 1;
    }
    signal(SIGINT, inspect_stop);
    signal(SIGTERM, inspect_stop);
    rc = inspect_run_topic(&o, brokers, w);
    wire_free(w);
    config_free(table, n);
    return rc;
}
