/* wf4ctl requeue: re-drive error domains, or re-publish a DLQ topic's messages to their source. */
#include <ctype.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_ops.h"
#include "kafka.h"
#include "log.h"

#define REQUEUE_DB_BATCH 5000
#define REQUEUE_KAFKA_BATCH 256
#define REQUEUE_TIMEOUT_MS 10000
#define REQUEUE_IDLE_MS 15000
#define REQUEUE_GROUP "wf4ctl-requeue"
#define REQUEUE_HDR_PREFIX "wf4.dlq."

/* Error domains back to pending as if freshly selected; $2 NULL = every error domain. */
static const char requeue_errors_sql[] =
    "WITH picked AS ("
    "  SELECT id FROM domains WHERE status = 'error'"
    "   AND ($2::text[] IS NULL OR domain = ANY ($2::text[]))"
    "  ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)"
    " UPDATE domains d SET status = 'pending', attempts = 0, next_attempt_at = now(),"
    "  error_message = NULL, lease_expires_at = NULL,"
    "  sitemap_curation_status = 'Selected', updated_at = now()"
    " FROM picked WHERE d.id = picked.id";

typedef struct requeue_errors {
    const char *names; /* PostgreSQL array literal, or NULL for all */
    long batch;
    long requeued; /* output of one attempt */
} requeue_errors;

static int requeue_errors_tx(db_tx *tx, void *arg)
{
    requeue_errors *a = arg;
    char batch[24];
    a->requeued = 0;
    snprintf(batch, sizeof batch, "%ld", a->batch);
    const char *p[] = {batch, a->names};
    PGresult *r = db_exec(tx, requeue_errors_sql, 2, p);
    if (!r)
        return -1;
    a->requeued = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    if (a->requeued == 0)
        return 0;
    r = db_exec(tx, "SELECT pg_notify('wf4_domains_pending', '')", 0, NULL);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

static int requeue_run_errors(const ctl_settings *s, ctl_strlist *names)
{
    requeue_errors a = {NULL, REQUEUE_DB_BATCH, 0};
    char *array = NULL;
    long total = 0;
    int rc = 1;
    if (names->n > 0 && !(array = db_text_array(names->v, names->n))) {
        fprintf(stderr, "wf4ctl requeue: out of memory\n");
        return 1;
    }
    a.names = array;
    db *d = ctl_db_open(s, "wf4ctl-requeue");
    if (!d) {
        rc = 2;
        goto cleanup;
    }
    do {
        if (db_transaction(d, "requeue_errors", 10000, requeue_errors_tx, &a) != 0)
            goto cleanup;
        total += a.requeued;
    } while (a.requeued == a.batch);
    rc = 0;
cleanup:
    if (rc != 2)
        printf("requeue --errors: %ld error domain(s) back to pending%s\n", total,
               rc ? " before a transaction failed" : "");
    if (names->n > 0 && rc == 0)
        printf("requeue --errors: %zu domain(s) named, %zu of them not in error\n", names->n,
               names->n - (size_t)total);
    db_close(d);
    free(array);
    return rc;
}

/* One consumed DLQ message on its way back; the delivery report fills err and done. */
typedef struct requeue_slot {
    rd_kafka_message_t *rkm; /* owned; destroyed when the batch is settled */
    rd_kafka_resp_err_t err;
    int done, skipped;
} requeue_slot;

typedef struct requeue_dlq {
    const char *topic;
    long max; /* 0 = no limit */
    rd_kafka_t *consumer, *producer;
    int32_t nparts;
    int64_t *high;   /* high watermark per partition when the run started */
    char *part_done; /* 1 once the partition reached high or its end */
    requeue_slot batch[REQUEUE_KAFKA_BATCH];
    int nbatch;
    long consumed, republished, skipped, failed;
} requeue_dlq;

static void requeue_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    requeue_slot *slot = rkm->_private;
    (void)rk;
    (void)opaque;
    if (!slot)
        return;
    slot->err = rkm->err;
    slot->done = 1;
}

/* Copies of rkm's headers without the wf4.dlq.* ones the DLQ added: the message goes back
 * as it was first consumed. Returns NULL when out of memory. */
static rd_kafka_headers_t *requeue_headers(const rd_kafka_message_t *rkm)
{
    rd_kafka_headers_t *in = NULL;
    const char *name;
    const void *val;
    size_t size;
    if (rd_kafka_message_headers(rkm, &in) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return rd_kafka_headers_new(0);
    rd_kafka_headers_t *out = rd_kafka_headers_new(rd_kafka_header_cnt(in));
    for (size_t i = 0; rd_kafka_header_get_all(in, i, &name, &val, &size) == 0; i++) {
        if (strncmp(name, REQUEUE_HDR_PREFIX, strlen(REQUEUE_HDR_PREFIX)) == 0)
            continue;
        rd_kafka_resp_err_t e = rd_kafka_header_add(out, name, -1, val, (ssize_t)size);
        if (e) {
            fprintf(stderr, "wf4ctl requeue: header %s: %s\n", name, rd_kafka_err2str(e));
            rd_kafka_headers_destroy(out);
            return NULL;
        }
    }
    return out;
}

/* The source topic named by the wf4.dlq.topic header into buf; returns 0, or -1 when the
 * header is missing, too long, or names a DLQ itself (which would loop). */
static int requeue_source(const rd_kafka_message_t *rkm, char *buf, size_t len)
{
    rd_kafka_headers_t *h = NULL;
    const void *val;
    size_t size;
    if (rd_kafka_message_headers(rkm, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, "wf4.dlq.topic", &val, &size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        !val || size == 0 || size >= len)
        return -1;
    memcpy(buf, val, size);
    buf[size] = '\0';
    return size > 4 && strcmp(buf + size - 4, ".dlq") == 0 ? -1 : 0;
}

/* Sends one slot's message to its source topic; a message that cannot be sent back is
 * reported and skipped (its offset is still committed: it stays in the DLQ topic). */
static void requeue_produce(requeue_dlq *q, requeue_slot *slot)
{
    char target[256];
    const rd_kafka_message_t *m = slot->rkm;
    if (requeue_source(m, target, sizeof target) != 0) {
        fprintf(stderr,
                "wf4ctl requeue: %s[%d]@%lld has no usable wf4.dlq.topic header: "
                "skipped\n",
                q->topic, m->partition, (long long)m->offset);
        slot->skipped = slot->done = 1;
        return;
    }
    rd_kafka_headers_t *h = requeue_headers(m);
    if (!h) {
        slot->err = RD_KAFKA_RESP_ERR__FAIL;
        slot->done = 1;
        return;
    }
    rd_kafka_resp_err_t e = rd_kafka_producev(
        q->producer, RD_KAFKA_V_TOPIC(target), RD_KAFKA_V_KEY(m->key, m->key_len),
        RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(slot), RD_KAFKA_V_END);
    if (e) {
        fprintf(stderr, "wf4ctl requeue: cannot publish to %s: %s\n", target, rd_kafka_err2str(e));
        rd_kafka_headers_destroy(h);
        slot->err = e;
        slot->done = 1;
    }
}

/* Offsets to commit: per partition, past the last message delivered (or skipped) before
 * the first failure. Returns the list (caller destroys). */
static rd_kafka_topic_partition_list_t *requeue_offsets(requeue_dlq *q)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(q->nparts);
    for (int i = 0; i < q->nbatch; i++) {
        requeue_slot *s = &q->batch[i];
        rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(l, q->topic,
                                                                           s->rkm->partition);
        int ok = s->done && !s->err;
        if (s->skipped)
            q->skipped++;
        else if (ok)
            q->republished++;
        else
            q->failed++;
        if (p && p->err) /* this partition had a failure earlier in the batch */
            continue;
        if (!p)
            p = rd_kafka_topic_partition_list_add(l, q->topic, s->rkm->partition);
        p->offset = ok ? s->rkm->offset + 1 : s->rkm->offset;
        p->err = ok ? RD_KAFKA_RESP_ERR_NO_ERROR : RD_KAFKA_RESP_ERR__FAIL;
    }
    for (int i = 0; i < l->cnt; i++)
        l->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
    return l;
}

/* Waits for every delivery report of the batch, then commits the consumer's offsets.
 * Returns 0, or -1 when a message was not delivered or the commit failed. */
static int requeue_settle(requeue_dlq *q)
{
    long failed_before = q->failed;
    int rc = 0;
    if (q->nbatch == 0)
        return 0;
    if (kafka_drain(q->producer, REQUEUE_TIMEOUT_MS * 3) != 0)
        fprintf(stderr, "wf4ctl requeue: some messages were not acknowledged in time\n");
    rd_kafka_topic_partition_list_t *l = requeue_offsets(q);
    rd_kafka_resp_err_t e = rd_kafka_commit(q->consumer, l, 0);
    if (e) {
        fprintf(stderr, "wf4ctl requeue: cannot commit offsets of group %s: %s\n", REQUEUE_GROUP,
                rd_kafka_err2str(e));
        rc = -1;
    }
    rd_kafka_topic_partition_list_destroy(l);
    for (int i = 0; i < q->nbatch; i++) {
        requeue_slot *s = &q->batch[i];
        if (s->done && s->err)
            fprintf(stderr, "wf4ctl requeue: %s[%d]@%lld not delivered: %s\n", q->topic,
                    s->rkm->partition, (long long)s->rkm->offset, rd_kafka_err2str(s->err));
        rd_kafka_message_destroy(s->rkm);
    }
    q->nbatch = 0;
    return q->failed > failed_before ? -1 : rc;
}

static int requeue_all_done(const requeue_dlq *q)
{
    for (int32_t i = 0; i < q->nparts; i++)
        if (!q->part_done[i])
            return 0;
    return 1;
}

/* Takes one consumer event. Returns 1 when a message joined the batch, 0 for an event that
 * ends nothing, -1 on a consumer error (printed). Takes ownership of rkm. */
static int requeue_take(requeue_dlq *q, rd_kafka_message_t *rkm)
{
    int32_t p = rkm->partition;
    if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (p >= 0 && p < q->nparts)
            q->part_done[p] = 1;
        rd_kafka_message_destroy(rkm);
        return 0;
    }
    if (rkm->err) {
        fprintf(stderr, "wf4ctl requeue: consumer: %s\n", rd_kafka_message_errstr(rkm));
        rd_kafka_message_destroy(rkm);
        return -1;
    }
    if (p < 0 || p >= q->nparts || rkm->offset >= q->high[p]) {
        /* written after the run started: left for the next run */
        if (p >= 0 && p < q->nparts)
            q->part_done[p] = 1;
        rd_kafka_message_destroy(rkm);
        return 0;
    }
    requeue_slot *slot = &q->batch[q->nbatch++];
    *slot = (requeue_slot){rkm, RD_KAFKA_RESP_ERR_NO_ERROR, 0, 0};
    q->consumed++;
    requeue_produce(q, slot);
    if (rkm->offset + 1 >= q->high[p])
        q->part_done[p] = 1;
    return 1;
}

/* Consumes up to the high watermarks seen at the start (or --max), re-publishing in batches
 * and committing after each batch is delivered. Returns 0 or -1. */
static int requeue_loop(requeue_dlq *q)
{
    int idle_ms = 0;
    while (!requeue_all_done(q) && (q->max == 0 || q->consumed < q->max)) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(q->consumer, 500);
        rd_kafka_poll(q->producer, 0);
        if (!rkm) {
            idle_ms += 500;
            if (requeue_settle(q) != 0)
                return -1;
            if (idle_ms >= REQUEUE_IDLE_MS) {
                fprintf(stderr, "wf4ctl requeue: nothing received for %d s: stopping\n",
                        REQUEUE_IDLE_MS / 1000);
                return -1;
            }
            continue;
        }
        idle_ms = 0;
        if (requeue_take(q, rkm) < 0)
            return -1;
        if (q->nbatch == REQUEUE_KAFKA_BATCH && requeue_settle(q) != 0)
            return -1;
    }
    return requeue_settle(q);
}

static int requeue_clients(requeue_dlq *q, const ctl_settings *s)
{
    char err[512];
    rd_kafka_conf_t *conf = kafka_conf_new(s->kafka_brokers, "wf4ctl-requeue", err, sizeof err);
    if (!conf)
        goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, requeue_dr_cb);
    if (!(q->producer = kafka_producer_new(conf, err, sizeof err)))
        goto fail;
    if (!(conf = kafka_conf_new(s->kafka_brokers, "wf4ctl-requeue", err, sizeof err)))
        goto fail;
    if (rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    if (!(q->consumer = kafka_consumer_new(conf, REQUEUE_GROUP, err, sizeof err)))
        goto fail;
    return 0;
fail:
    fprintf(stderr, "wf4ctl requeue: %s\n", err);
    return -1;
}

/* Partition count of q->topic into q->nparts (and the per-partition arrays). */
static int requeue_partitions(requeue_dlq *q)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(q->consumer, 1, NULL, &md, REQUEUE_TIMEOUT_MS);
    if (e) {
        fprintf(stderr, "wf4ctl requeue: Kafka metadata: %s\n", rd_kafka_err2str(e));
        return -1;
    }
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, q->topic) == 0 && !md->topics[i].err)
            q->nparts = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
    if (q->nparts <= 0) {
        fprintf(stderr, "wf4ctl requeue: topic %s does not exist\n", q->topic);
        return -1;
    }
    q->high = calloc((size_t)q->nparts, sizeof *q->high);
    q->part_done = calloc((size_t)q->nparts, 1);
    if (!q->high || !q->part_done) {
        fprintf(stderr, "wf4ctl requeue: out of memory\n");
        return -1;
    }
    return 0;
}

/* Snapshots each partition's high watermark, marks the partitions the group has already
 * read to the end, and assigns all of them from the group's committed offsets. */
static int requeue_assign(requeue_dlq *q)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(q->nparts);
    int rc = -1;
    int64_t lo[1];
    for (int32_t i = 0; i < q->nparts; i++)
        rd_kafka_topic_partition_list_add(l, q->topic, i);
    rd_kafka_resp_err_t e = rd_kafka_committed(q->consumer, l, REQUEUE_TIMEOUT_MS);
    for (int32_t i = 0; !e && i < q->nparts; i++) {
        e = rd_kafka_query_watermark_offsets(q->consumer, q->topic, i, lo, &q->high[i],
                                             REQUEUE_TIMEOUT_MS);
        int64_t from = l->elems[i].offset >= 0 ? l->elems[i].offset : lo[0];
        q->part_done[i] = from >= q->high[i];
        l->elems[i].offset = RD_KAFKA_OFFSET_STORED;
    }
    if (e) {
        fprintf(stderr, "wf4ctl requeue: offsets of %s: %s\n", q->topic, rd_kafka_err2str(e));
        goto cleanup;
    }
    if ((e = rd_kafka_assign(q->consumer, l)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "wf4ctl requeue: assign %s: %s\n", q->topic, rd_kafka_err2str(e));
        goto cleanup;
    }
    rc = 0;
cleanup:
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

static void requeue_teardown(requeue_dlq *q)
{
    if (q->nbatch > 0)
        (void)requeue_settle(q);
    if (q->consumer) {
        rd_kafka_resp_err_t e = rd_kafka_consumer_close(q->consumer);
        if (e)
            fprintf(stderr, "wf4ctl requeue: consumer close: %s\n", rd_kafka_err2str(e));
        rd_kafka_destroy(q->consumer);
    }
    if (q->producer) {
        if (kafka_drain(q->producer, REQUEUE_TIMEOUT_MS) != 0)
            fprintf(stderr, "wf4ctl requeue: producer closed with messages undelivered\n");
        rd_kafka_destroy(q->producer);
    }
    free(q->high);
    free(q->part_done);
}

static int requeue_run_dlq(const ctl_settings *s, const char *topic, long max)
{
    requeue_dlq *q = calloc(1, sizeof *q);
    int rc = 1;
    if (!q) {
        fprintf(stderr, "wf4ctl requeue: out of memory\n");
        return 1;
    }
    q->topic = topic;
    q->max = max;
    if (requeue_clients(q, s) != 0 || requeue_partitions(q) != 0 || requeue_assign(q) != 0)
        goto cleanup;
    rc = requeue_loop(q) == 0 && q->skipped == 0 ? 0 : 1;
cleanup:
    requeue_teardown(q);
    printf("requeue --dlq %s: %ld consumed, %ld re-published to their source topic, "
           "%ld skipped (no usable wf4.dlq.topic header), %ld failed (consumer group %s)\n",
           topic, q->consumed, q->republished, q->skipped, q->failed, REQUEUE_GROUP);
    free(q);
    return rc;
}

static int requeue_usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "Usage: wf4ctl requeue --errors [--domain NAME...]\n"
            "       wf4ctl requeue --dlq TOPIC.dlq [--max N]\n"
            "--errors: domains in error go back to pending (attempts 0, due now, error\n"
            "  cleared, curation Selected); --domain limits it to the names given.\n"
            "--dlq: the messages of a DLQ topic are published again, unchanged (key, value,\n"
            "  headers without the wf4.dlq.* ones), to the topic of their wf4.dlq.topic\n"
            "  header, by an idempotent producer; consumer group " REQUEUE_GROUP " commits\n"
            "  each batch after its delivery, so a second run only sends what came since.\n"
            "  Stops at the end of the topic as it was at the start, or after --max N.\n"
            "Exit status: 0, 1 when something failed or was skipped, 2 on a usage error.\n");
    return rc;
}

typedef struct requeue_opts {
    int errors;
    const char *dlq;
    long max;
    ctl_strlist domains;
} requeue_opts;

static int requeue_add_domain(requeue_opts *o, const char *name)
{
    char buf[256];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof buf) {
        fprintf(stderr, "wf4ctl requeue: \"%s\" is not a domain name\n", name);
        return 2;
    }
    for (size_t i = 0; i <= n; i++)
        buf[i] = (char)tolower((unsigned char)name[i]);
    if (ctl_strlist_add(&o->domains, buf) != 0) {
        fprintf(stderr, "wf4ctl requeue: out of memory\n");
        return 1;
    }
    return 0;
}

/* Returns 0 to run, -1 after --help, 2 on a usage error (printed). */
static int requeue_parse(int argc, char **argv, requeue_opts *o)
{
    int in_domains = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            requeue_usage(0);
            return -1;
        } else if (strcmp(a, "--errors") == 0) {
            o->errors = 1;
        } else if (strcmp(a, "--dlq") == 0 && v) {
            o->dlq = argv[++i];
        } else if (strcmp(a, "--max") == 0) {
            if (ctl_parse_long(a, v, 1, 1000000000L, &o->max) != 0)
                return 2;
            i++;
        } else if (strcmp(a, "--domain") == 0 && v) {
            in_domains = 1;
        } else if (in_domains && a[0] != '-') {
            if (requeue_add_domain(o, a) != 0)
                return 2;
        } else {
            return requeue_usage(2);
        }
    }
    if (o->errors == !!o->dlq || (o->dlq && o->domains.n) || (o->errors && o->max))
        return requeue_usage(2);
    size_t len = o->dlq ? strlen(o->dlq) : 0;
    if (o->dlq && (len <= 4 || strcmp(o->dlq + len - 4, ".dlq") != 0)) {
        fprintf(stderr, "wf4ctl requeue: --dlq takes a DLQ topic (NAME.dlq), not \"%s\"\n", o->dlq);
        return 2;
    }
    return 0;
}

int ctl_requeue(const ctl_settings *s, int argc, char **argv)
{
    requeue_opts o = {0};
    int rc = requeue_parse(argc, argv, &o);
    if (rc == 0)
        rc = o.errors ? requeue_run_errors(s, &o.domains) : requeue_run_dlq(s, o.dlq, o.max);
    ctl_strlist_free(&o.domains);
    return rc < 0 ? 0 : rc;
}
