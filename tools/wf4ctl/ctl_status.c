/* wf4ctl status: domain counts, claims, outbox, consumer lag and DLQ sizes, as a table or JSON. */
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_credits.h"
#include "ctl_ops.h"
#include "kafka.h"

#define STATUS_KAFKA_TIMEOUT_MS 5000

/* The consumer group that reads each source topic (see schemas/topics.json). */
static const struct {
    const char *group, *topic;
} status_groups[] = {
    {"wf4-scraper", "wf4.domain.claims"},
    {"wf4-committer", "wf4.domain.results"},
};

static const char status_claims_sql[] =
    "SELECT count(*),"
    " count(*) FILTER (WHERE status = 'processing'),"
    " round(extract(epoch FROM now() - min(claimed_at) FILTER (WHERE status = 'processing'))"
    "       ::numeric, 1),"
    " count(*) FILTER (WHERE status = 'processing' AND lease_expires_at < now()),"
    " count(*) FILTER (WHERE status = 'pending' AND next_attempt_at <= now()),"
    " count(*) FILTER (WHERE status = 'pending' AND next_attempt_at > now())"
    " FROM domains";

static const char status_outbox_sql[] =
    "SELECT coalesce(sum(cardinality(event_ids)), 0),"
    " round(extract(epoch FROM now() - min(created_at))::numeric, 1)"
    " FROM wf5_outbox"; /* one row per applied batch: the backlog counts events */

/* Every value of an enum column, with the NULLs counted under "none". */
static const char status_enum_sql[] =
    "SELECT coalesce(e.v::text, 'none'), count(d.id)"
    " FROM (SELECT unnest(enum_range(NULL::%s)) AS v UNION ALL SELECT NULL) e"
    " LEFT JOIN domains d ON d.%s IS NOT DISTINCT FROM e.v"
    " GROUP BY e.v ORDER BY e.v NULLS LAST";

/* ScraperAPI credits the database recorded: spent today (UTC, the attempts scraped since
 * midnight; the claimed_at bound lets the BRIN index skip older pages) and in all. */
static const char status_credits_sql[] =
    "WITH day AS (SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS t)"
    " SELECT (SELECT coalesce(sum(credits), 0) FROM domain_attempts, day"
    "         WHERE claimed_at >= day.t - interval '1 day' AND scraped_at >= day.t),"
    " (SELECT coalesce(sum(credits_spent), 0) FROM domains)";

static void status_error(json_t *root, const char *fmt, const char *detail)
{
    char msg[1024];
    snprintf(msg, sizeof msg, fmt, detail);
    json_array_append_new(json_object_get(root, "errors"), json_string(msg));
}

static json_t *status_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return json_null();
    return json_integer(strtoll(PQgetvalue(r, row, col), NULL, 10));
}

static json_t *status_real(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return json_null();
    return json_real(strtod(PQgetvalue(r, row, col), NULL));
}

/* Counts of every value of enum type `type` in column `col`, into root[key]. */
static int status_enum_counts(db *d, const char *type, const char *col, json_t *root,
                              const char *key)
{
    char sql[512];
    snprintf(sql, sizeof sql, status_enum_sql, type, col);
    PGresult *r = db_query(d, sql, 0, NULL);
    if (!r) {
        status_error(root, "cannot count domains by %s (see log)", col);
        return -1;
    }
    json_t *o = json_object();
    for (int i = 0; i < PQntuples(r); i++)
        json_object_set_new(o, PQgetvalue(r, i, 0), status_int(r, i, 1));
    json_object_set_new(root, key, o);
    PQclear(r);
    return 0;
}

static int status_claims(db *d, json_t *root)
{
    PGresult *r = db_query(d, status_claims_sql, 0, NULL);
    if (!r) {
        status_error(root, "cannot read %s (see log)", "claims");
        return -1;
    }
    json_t *o = json_object();
    json_object_set_new(o, "domains_total", status_int(r, 0, 0));
    json_object_set_new(o, "in_flight", status_int(r, 0, 1));
    json_object_set_new(o, "oldest_claim_age_s", status_real(r, 0, 2));
    json_object_set_new(o, "expired_leases", status_int(r, 0, 3));
    json_object_set_new(o, "pending_due_now", status_int(r, 0, 4));
    json_object_set_new(o, "pending_later", status_int(r, 0, 5));
    json_object_set_new(root, "claims", o);
    PQclear(r);
    return 0;
}

static int status_outbox(db *d, json_t *root)
{
    PGresult *r = db_query(d, status_outbox_sql, 0, NULL);
    if (!r) {
        status_error(root, "cannot read %s (see log)", "wf5_outbox");
        return -1;
    }
    json_t *o = json_object();
    json_object_set_new(o, "backlog", status_int(r, 0, 0));
    json_object_set_new(o, "oldest_age_s", status_real(r, 0, 1));
    json_object_set_new(root, "outbox", o);
    PQclear(r);
    return 0;
}

static int status_credits(db *d, json_t *root)
{
    PGresult *r = db_query(d, status_credits_sql, 0, NULL);
    if (!r) {
        status_error(root, "cannot read %s (see log)", "credits spent");
        return -1;
    }
    json_object_set_new(
        root, "credits_spent",
        json_pack("{s:o, s:o}", "today_utc", status_int(r, 0, 0), "total", status_int(r, 0, 1)));
    PQclear(r);
    return 0;
}

static int status_database(const ctl_settings *s, json_t *root)
{
    db *d = ctl_db_open(s, "wf4ctl-status");
    if (!d) {
        status_error(root, "cannot connect to %s", "PostgreSQL");
        return -1;
    }
    int rc = 0;
    rc |= status_enum_counts(d, "domain_status", "status", root, "by_status");
    rc |= status_enum_counts(d, "sitemap_analysis_status", "sitemap_analysis_status", root,
                             "by_sitemap_analysis_status");
    rc |= status_enum_counts(d, "sitemap_curation_status", "sitemap_curation_status", root,
                             "by_curation_status");
    rc |= status_claims(d, root);
    rc |= status_outbox(d, root);
    rc |= status_credits(d, root);
    db_close(d);
    return rc;
}

/* A consumer of `group` that never subscribes: it only reads committed offsets and
 * watermarks. The caller closes and destroys it. */
static rd_kafka_t *status_consumer(const ctl_settings *s, const char *group, json_t *root)
{
    char err[512];
    rd_kafka_conf_t *conf = kafka_conf_new(s->kafka_brokers, "wf4ctl-status", err, sizeof err);
    rd_kafka_t *rk = conf ? kafka_consumer_new(conf, group, err, sizeof err) : NULL;
    if (!rk)
        status_error(root, "Kafka: %s", err);
    return rk;
}

static void status_consumer_free(rd_kafka_t *rk)
{
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(rk);
    if (e)
        fprintf(stderr, "wf4ctl status: Kafka consumer close: %s\n", rd_kafka_err2str(e));
    rd_kafka_destroy(rk);
}

static const rd_kafka_metadata_topic_t *status_md_topic(const rd_kafka_metadata_t *md,
                                                        const char *topic)
{
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0 && !md->topics[i].err)
            return &md->topics[i];
    return NULL;
}

/* Lag of one partition: what is retained past the committed offset (all of it when the
 * group has committed nothing, as auto.offset.reset is earliest). */
static json_t *status_partition_lag(rd_kafka_t *rk, const rd_kafka_topic_partition_t *p,
                                    long long *total, json_t *root)
{
    int64_t lo, hi;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, p->topic, p->partition, &lo, &hi,
                                                             STATUS_KAFKA_TIMEOUT_MS);
    if (e) {
        status_error(root, "Kafka watermarks: %s", rd_kafka_err2str(e));
        return NULL;
    }
    int64_t from = p->offset < 0 ? lo : (p->offset > lo ? p->offset : lo);
    long long lag = hi > from ? (long long)(hi - from) : 0;
    *total += lag;
    return json_pack("{s:i, s:o, s:I, s:I, s:I}", "partition", (int)p->partition, "committed",
                     p->offset < 0 ? json_null() : json_integer(p->offset), "low", (json_int_t)lo,
                     "high", (json_int_t)hi, "lag", (json_int_t)lag);
}

static int status_group_lag(rd_kafka_t *rk, const rd_kafka_metadata_t *md, const char *group,
                            const char *topic, json_t *root)
{
    const rd_kafka_metadata_topic_t *t = status_md_topic(md, topic);
    if (!t) {
        status_error(root, "Kafka: topic %s does not exist", topic);
        return -1;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(t->partition_cnt);
    for (int i = 0; i < t->partition_cnt; i++)
        rd_kafka_topic_partition_list_add(l, topic, t->partitions[i].id);
    int rc = -1;
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, l, STATUS_KAFKA_TIMEOUT_MS);
    if (e) {
        status_error(root, "Kafka committed offsets: %s", rd_kafka_err2str(e));
        goto cleanup;
    }
    json_t *parts = json_array();
    long long total = 0;
    for (int i = 0; i < l->cnt; i++) {
        json_t *p = status_partition_lag(rk, &l->elems[i], &total, root);
        if (!p) {
            json_decref(parts);
            goto cleanup;
        }
        json_array_append_new(parts, p);
    }
    json_array_append_new(json_object_get(root, "consumer_lag"),
                          json_pack("{s:s, s:s, s:I, s:o}", "group", group, "topic", topic, "lag",
                                    (json_int_t)total, "partitions", parts));
    rc = 0;
cleanup:
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Messages retained in every *.dlq topic (high minus low watermark, summed over partitions). */
static int status_dlq(rd_kafka_t *rk, const rd_kafka_metadata_t *md, json_t *root)
{
    json_t *o = json_object();
    json_object_set_new(root, "dlq", o);
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        size_t len = strlen(t->topic);
        if (len < 4 || strcmp(t->topic + len - 4, ".dlq") != 0)
            continue;
        long long n = 0;
        for (int j = 0; j < t->partition_cnt; j++) {
            int64_t lo, hi;
            rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
                rk, t->topic, t->partitions[j].id, &lo, &hi, STATUS_KAFKA_TIMEOUT_MS);
            if (e) {
                status_error(root, "Kafka watermarks: %s", rd_kafka_err2str(e));
                return -1;
            }
            n += hi - lo;
        }
        json_object_set_new(o, t->topic, json_integer(n));
    }
    return 0;
}

int ctl_status_kafka(const ctl_settings *s, json_t *root)
{
    const rd_kafka_metadata_t *md = NULL;
    int rc = -1;
    rd_kafka_t *rk = status_consumer(s, status_groups[0].group, root);
    if (!rk)
        return -1;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, STATUS_KAFKA_TIMEOUT_MS);
    if (e) {
        status_error(root, "Kafka metadata: %s", rd_kafka_err2str(e));
        goto cleanup;
    }
    rc = status_dlq(rk, md, root);
    for (size_t i = 0; i < sizeof status_groups / sizeof *status_groups; i++) {
        rd_kafka_t *g = i == 0 ? rk : status_consumer(s, status_groups[i].group, root);
        if (!g) {
            rc = -1;
            continue;
        }
        rc |= status_group_lag(g, md, status_groups[i].group, status_groups[i].topic, root);
        if (g != rk)
            status_consumer_free(g);
    }
cleanup:
    if (md)
        rd_kafka_metadata_destroy(md);
    status_consumer_free(rk);
    return rc;
}

static void status_print_value(const char *label, json_t *v, const char *unit)
{
    if (json_is_integer(v))
        printf("  %-24s %12lld%s\n", label, (long long)json_integer_value(v), unit);
    else if (json_is_real(v))
        printf("  %-24s %12.1f%s\n", label, json_real_value(v), unit);
    else
        printf("  %-24s %12s\n", label, "-");
}

static void status_print_counts(const char *title, json_t *o)
{
    const char *k;
    json_t *v;
    if (!o)
        return;
    printf("%s\n", title);
    json_object_foreach(o, k, v) status_print_value(k, v, "");
}

static void status_print_partition(const char *grp, const char *topic, json_t *p)
{
    char committed[24] = "-";
    json_t *c = json_object_get(p, "committed");
    long long lag = json_integer_value(json_object_get(p, "lag"));
    if (lag == 0 && json_is_null(c))
        return; /* a partition nothing was ever written to: nothing to say */
    if (!json_is_null(c))
        snprintf(committed, sizeof committed, "%lld", (long long)json_integer_value(c));
    printf("  %-14s %-20s %9lld %10s %10lld %8lld\n", grp, topic,
           (long long)json_integer_value(json_object_get(p, "partition")), committed,
           (long long)json_integer_value(json_object_get(p, "high")), lag);
}

static void status_print_lag(json_t *groups)
{
    size_t i, j;
    json_t *g, *p;
    printf("CONSUMER LAG\n  %-14s %-20s %9s %10s %10s %8s\n", "group", "topic", "partition",
           "committed", "high", "lag");
    json_array_foreach(groups, i, g)
    {
        const char *grp = json_string_value(json_object_get(g, "group"));
        const char *topic = json_string_value(json_object_get(g, "topic"));
        json_array_foreach(json_object_get(g, "partitions"), j, p)
            status_print_partition(grp, topic, p);
        printf("  %-14s %-20s %9s %10s %10s %8lld\n", grp, topic, "total", "", "",
               (long long)json_integer_value(json_object_get(g, "lag")));
    }
}

static void status_print_human(json_t *root)
{
    json_t *c = json_object_get(root, "claims"), *o = json_object_get(root, "outbox");
    size_t i;
    json_t *v;
    status_print_counts("DOMAINS BY STATUS (none = never selected)",
                        json_object_get(root, "by_status"));
    status_print_counts("DOMAINS BY SITEMAP ANALYSIS STATUS",
                        json_object_get(root, "by_sitemap_analysis_status"));
    if (c) {
        printf("CLAIMS\n");
        status_print_value("domains total", json_object_get(c, "domains_total"), "");
        status_print_value("in flight (processing)", json_object_get(c, "in_flight"), "");
        status_print_value("oldest claim age", json_object_get(c, "oldest_claim_age_s"), " s");
        status_print_value("expired leases", json_object_get(c, "expired_leases"), "");
        status_print_value("pending, due now", json_object_get(c, "pending_due_now"), "");
        status_print_value("pending, retry later", json_object_get(c, "pending_later"), "");
    }
    if (o) {
        printf("WF5 OUTBOX\n");
        status_print_value("backlog", json_object_get(o, "backlog"), "");
        status_print_value("oldest event age", json_object_get(o, "oldest_age_s"), " s");
    }
    status_print_counts("SCRAPERAPI CREDITS SPENT (database)",
                        json_object_get(root, "credits_spent"));
    if (json_array_size(json_object_get(root, "consumer_lag")) > 0)
        status_print_lag(json_object_get(root, "consumer_lag"));
    status_print_counts("DLQ (messages retained)", json_object_get(root, "dlq"));
    ctl_status_credits_print(root);
    json_array_foreach(json_object_get(root, "errors"), i, v)
        printf("ERROR %s\n", json_string_value(v));
}

static int status_usage(int rc)
{
    fprintf(rc ? stderr : stdout,
            "Usage: wf4ctl status [--json]\n"
            "Counts of domains by status and sitemap analysis status, claims in flight, the\n"
            "oldest claim, expired leases, pending domains due now, ScraperAPI credits spent\n"
            "today (UTC) and in all, consumer lag per group and partition, the WF5 outbox\n"
            "backlog and the size of every *.dlq topic.\n"
            "  --json  one JSON object instead of the table\n"
            "With SCRAPERAPI_KEY: the credits /account says are left, the credit budget's state.\n"
            "Exit status: 0, or 1 when part of the report could not be read.\n");
    return rc;
}

int ctl_status(const ctl_settings *s, int argc, char **argv)
{
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return status_usage(0);
        else
            return status_usage(2);
    }
    json_t *root = json_pack("{s:[], s:[]}", "errors", "consumer_lag");
    if (!root) {
        fprintf(stderr, "wf4ctl status: out of memory\n");
        return 1;
    }
    int rc = status_database(s, root);
    rc |= ctl_status_kafka(s, root);
    rc |= ctl_status_credits(s, root);
    if (as_json) {
        if (json_dumpf(root, stdout, JSON_COMPACT) != 0)
            fprintf(stderr, "wf4ctl status: cannot write JSON\n");
        putchar('\n');
    } else {
        status_print_human(root);
    }
    json_decref(root);
    return rc ? 1 : 0;
}
