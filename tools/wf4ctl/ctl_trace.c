/* wf4ctl trace DOMAIN: selected -> each claim -> each scrape -> applied -> WF5 handoff. */
#include "ctl_trace.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_ops.h"
#include "trace.h"

/* How far around the database's timestamps the topics are scanned (clock skew, linger). */
#define TRACE_WINDOW_MS 60000

#define TRACE_MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"

/* clang-format off */
static const char trace_domain_sql[] =
    "SELECT id, domain, coalesce(status::text, ''), sitemap_curation_status::text,"
    " " TRACE_MS("selected_at") ", coalesce(error_message, ''),"
    " coalesce(handoff_event_id::text, ''), " TRACE_MS("handed_off_at") ","
    " credits_spent, scrape_tier"
    " FROM domains WHERE domain = $1"
    "  OR id = CASE WHEN $1 ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' THEN $1::uuid END"
    " LIMIT 1";

static const char trace_attempts_sql[] =
    "SELECT claim_id, attempt, claimer_instance, " TRACE_MS("claimed_at") ","
    " scraper_instance, api_status, retries, api_ms, " TRACE_MS("scraped_at") ","
    " outcome, reason, " TRACE_MS("applied_at") ", handoff_event_id, tier, credits"
    " FROM domain_attempts WHERE domain_id = $1 ORDER BY claimed_at, attempt";
/* clang-format on */

static json_t *trace_col_int(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? json_null()
                                    : json_integer(strtoll(PQgetvalue(r, row, col), NULL, 10));
}

static json_t *trace_col_str(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? json_null() : json_string(PQgetvalue(r, row, col));
}

/* A step of the timeline: {"step", "at_ms", ...fields}; NULL at_ms steps are kept, undated. */
static json_t *trace_step(const char *name, json_t *at_ms)
{
    json_t *o = json_object();
    json_object_set_new(o, "step", json_string(name));
    json_object_set_new(o, "at_ms", at_ms);
    return o;
}

/* The message of kind with id among the found ones, as {"topic","partition","offset",...}. */
static json_t *trace_kafka_ref(const trace_msgs *m, trace_topic_kind kind, const char *id)
{
    json_t *a = json_array();
    for (size_t i = 0; i < m->n; i++) {
        const trace_msg *x = &m->v[i];
        if (x->kind != kind || strcmp(x->id, id) != 0)
            continue;
        json_array_append_new(a, json_pack("{s:s,s:i,s:I,s:I,s:s?}", "topic", x->topic, "partition",
                                           (int)x->partition, "offset", (json_int_t)x->offset,
                                           "timestamp_ms", (json_int_t)x->ts_ms, "traceparent",
                                           x->traceparent[0] ? x->traceparent : NULL));
    }
    return a;
}

/* The earliest Kafka timestamp of refs, as the step's time when the database has none. */
static json_t *trace_first_ts(json_t *refs)
{
    json_t *v = json_array_size(refs) ? json_object_get(json_array_get(refs, 0), "timestamp_ms")
                                      : NULL;
    return v ? json_copy(v) : json_null();
}

/* The claim, scrape, outcome and handoff steps of attempt row i. */
static void trace_attempt_steps(const PGresult *r, int i, const trace_msgs *m, json_t *steps)
{
    const char *claim = PQgetvalue(r, i, 0);
    char tid[33];
    trace_id_of_claim(claim, tid);
    json_t *c = trace_step("claim", trace_col_int(r, i, 3));
    json_object_set_new(c, "attempt", trace_col_int(r, i, 1));
    json_object_set_new(c, "claim_id", json_string(claim));
    json_object_set_new(c, "trace_id", json_string(tid));
    json_object_set_new(c, "claimer", trace_col_str(r, i, 2));
    json_object_set_new(c, "kafka", trace_kafka_ref(m, TRACE_CLAIMS, claim));
    json_array_append_new(steps, c);
    json_t *refs = trace_kafka_ref(m, TRACE_RESULTS, claim);
    if (!PQgetisnull(r, i, 8) || json_array_size(refs)) {
        json_t *s = trace_step("scrape", PQgetisnull(r, i, 8) ? trace_first_ts(refs)
                                                              : trace_col_int(r, i, 8));
        json_object_set_new(s, "attempt", trace_col_int(r, i, 1));
        json_object_set_new(s, "scraper", trace_col_str(r, i, 4));
        json_object_set_new(s, "api_status", trace_col_int(r, i, 5));
        json_object_set_new(s, "retries", trace_col_int(r, i, 6));
        json_object_set_new(s, "api_ms", trace_col_int(r, i, 7));
        json_object_set_new(s, "tier", trace_col_str(r, i, 13));
        json_object_set_new(s, "credits", trace_col_int(r, i, 14));
        json_object_set_new(s, "kafka", refs);
        json_array_append_new(steps, s);
    } else {
        json_decref(refs);
    }
    if (!PQgetisnull(r, i, 9)) {
        const char *out = PQgetvalue(r, i, 9);
        json_t *a = trace_step(strcmp(out, "completed") == 0 ? "applied" : out,
                               trace_col_int(r, i, 11));
        json_object_set_new(a, "attempt", trace_col_int(r, i, 1));
        json_object_set_new(a, "outcome", json_string(out));
        json_object_set_new(a, "reason", trace_col_str(r, i, 10));
        json_array_append_new(steps, a);
    }
    if (!PQgetisnull(r, i, 12)) {
        const char *ev = PQgetvalue(r, i, 12);
        json_t *hr = trace_kafka_ref(m, TRACE_HANDOFFS, ev);
        json_t *h = trace_step("handoff", trace_first_ts(hr));
        json_object_set_new(h, "attempt", trace_col_int(r, i, 1));
        json_object_set_new(h, "event_id", json_string(ev));
        json_object_set_new(h, "kafka", hr);
        json_array_append_new(steps, h);
    }
}

static int trace_step_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_t *tx = json_object_get(x, "at_ms"), *ty = json_object_get(y, "at_ms");
    if (!json_is_integer(tx) || !json_is_integer(ty))
        return 0;
    json_int_t d = json_integer_value(tx) - json_integer_value(ty);
    return d < 0 ? -1 : d > 0;
}

/* Orders the steps by time (stable for equal or missing times) and sets since_prev_ms. */
static json_t *trace_order(json_t *steps)
{
    size_t n = json_array_size(steps);
    json_t **v = calloc(n ? n : 1, sizeof *v);
    json_t *out = json_array();
    if (!v)
        return steps;
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(steps, i);
    for (size_t i = 1; i < n; i++) /* insertion sort: stable, and timelines are short */
        for (size_t j = i; j > 0 && trace_step_cmp(&v[j - 1], &v[j]) > 0; j--) {
            json_t *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    json_t *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *at = json_object_get(v[i], "at_ms");
        json_object_set_new(v[i], "since_prev_ms",
                            prev && json_is_integer(at)
                                ? json_integer(json_integer_value(at) - json_integer_value(prev))
                                : json_null());
        if (json_is_integer(at))
            prev = at;
        json_array_append(out, v[i]);
    }
    free(v);
    json_decref(steps);
    return out;
}

/* The window of the domain's messages: from its selection (or first claim) to its last
 * recorded step, widened by TRACE_WINDOW_MS; now when a claim has no outcome yet. */
static void trace_window(json_t *root, const PGresult *att, int64_t *from, int64_t *to)
{
    json_t *sel = json_object_get(root, "selected_at_ms");
    *from = json_is_integer(sel) ? json_integer_value(sel) : INT64_MAX;
    *to = 0;
    for (int i = 0; i < PQntuples(att); i++) {
        int64_t c = strtoll(PQgetvalue(att, i, 3), NULL, 10);
        int64_t a = PQgetisnull(att, i, 11) ? (int64_t)time(NULL) * 1000
                                            : strtoll(PQgetvalue(att, i, 11), NULL, 10);
        *from = c < *from ? c : *from;
        *to = a > *to ? a : *to;
    }
    *from -= TRACE_WINDOW_MS;
    *to += TRACE_WINDOW_MS;
}

static void trace_scan_all(const ctl_settings *s, json_t *root, const char *id, const PGresult *att,
                           trace_msgs *m)
{
    int64_t from, to;
    trace_window(root, att, &from, &to);
    json_t *errs = json_array();
    const char *topics[3] = {s->claims_topic, s->results_topic, s->handoff_topic};
    for (int k = 0; k < 3; k++)
        if (trace_kafka_scan(s, topics[k], (trace_topic_kind)k, id, from, to, m) != 0)
            json_array_append_new(errs, json_string(topics[k]));
    json_object_set_new(root, "kafka_unreadable", errs);
}

/* The domain's row into root; 1 when there is none, -1 on error. */
static int trace_domain(db *d, const char *name, json_t *root)
{
    const char *p[] = {name};
    PGresult *r = db_query(d, trace_domain_sql, 1, p);
    if (!r)
        return -1;
    int rc = PQntuples(r) ? 0 : 1;
    if (rc == 0) {
        json_object_set_new(root, "domain_id", trace_col_str(r, 0, 0));
        json_object_set_new(root, "domain", trace_col_str(r, 0, 1));
        json_object_set_new(root, "status",
                            PQgetvalue(r, 0, 2)[0] ? trace_col_str(r, 0, 2) : json_null());
        json_object_set_new(root, "curation_status", trace_col_str(r, 0, 3));
        json_object_set_new(root, "selected_at_ms", trace_col_int(r, 0, 4));
        json_object_set_new(root, "error_message", trace_col_str(r, 0, 5));
        json_object_set_new(root, "handed_off_at_ms", trace_col_int(r, 0, 7));
        json_object_set_new(root, "credits_spent", trace_col_int(r, 0, 8));
        json_object_set_new(root, "scrape_tier", trace_col_str(r, 0, 9));
    }
    PQclear(r);
    return rc;
}

static void trace_fmt_time(json_t *at, char *buf, size_t n)
{
    if (!json_is_integer(at)) {
        snprintf(buf, n, "%-24s", "(time unknown)");
        return;
    }
    json_int_t ms = json_integer_value(at);
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + k, n - k, ".%03dZ", (int)(ms % 1000));
}

static const char *trace_str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "?";
}

/* What a step says, in one line of text (its Kafka messages follow). */
static void trace_fmt_detail(json_t *st, char *buf, size_t n)
{
    const char *name = json_string_value(json_object_get(st, "step"));
    json_int_t att = json_integer_value(json_object_get(st, "attempt"));
#define TRACE_S(k) trace_str(st, k)
    if (strcmp(name, "selected") == 0)
        snprintf(buf, n, "curation status %s", TRACE_S("curation_status"));
    else if (strcmp(name, "claim") == 0)
        snprintf(buf, n, "attempt %lld  claim %s  trace %s  by %s", (long long)att,
                 TRACE_S("claim_id"), TRACE_S("trace_id"), TRACE_S("claimer"));
    else if (strcmp(name, "scrape") == 0)
        snprintf(buf, n,
                 "attempt %lld  by %s  HTTP %lld  retries %lld  API %lld ms  tier %s  "
                 "credits %lld",
                 (long long)att, TRACE_S("scraper"),
                 (long long)json_integer_value(json_object_get(st, "api_status")),
                 (long long)json_integer_value(json_object_get(st, "retries")),
                 (long long)json_integer_value(json_object_get(st, "api_ms")),
                 json_is_string(json_object_get(st, "tier")) ? TRACE_S("tier") : "-",
                 (long long)json_integer_value(json_object_get(st, "credits")));
    else if (strcmp(name, "handoff") == 0)
        snprintf(buf, n, "attempt %lld  event %s", (long long)att, TRACE_S("event_id"));
    else if (!json_is_string(json_object_get(st, "reason")))
        snprintf(buf, n, "attempt %lld  %s", (long long)att, TRACE_S("outcome"));
    else if (strncmp(TRACE_S("reason"), TRACE_S("outcome"), strlen(TRACE_S("outcome"))) == 0)
        snprintf(buf, n, "attempt %lld  %s", (long long)att, TRACE_S("reason"));
    else
        snprintf(buf, n, "attempt %lld  %s: %s", (long long)att, TRACE_S("outcome"),
                 TRACE_S("reason"));
#undef TRACE_S
}

static void trace_print_text(json_t *root)
{
    json_t *steps = json_object_get(root, "steps"), *st, *k;
    size_t i, j;
    json_t *tier = json_object_get(root, "scrape_tier");
    printf("domain %s (id %s), status %s, %lld credits spent, scrape tier %s\n",
           json_string_value(json_object_get(root, "domain")),
           json_string_value(json_object_get(root, "domain_id")),
           json_is_string(json_object_get(root, "status"))
               ? json_string_value(json_object_get(root, "status"))
               : "none",
           (long long)json_integer_value(json_object_get(root, "credits_spent")),
           json_is_string(tier) ? json_string_value(tier) : "none");
    json_array_foreach(steps, i, st)
    {
        char at[40], since[24] = "-", detail[512];
        json_t *d = json_object_get(st, "since_prev_ms");
        if (json_is_integer(d))
            snprintf(since, sizeof since, "+%.3fs", (double)json_integer_value(d) / 1000.0);
        trace_fmt_time(json_object_get(st, "at_ms"), at, sizeof at);
        trace_fmt_detail(st, detail, sizeof detail);
        printf("  %-10s %s  %-10s %s\n", since, at, json_string_value(json_object_get(st, "step")),
               detail);
        json_array_foreach(json_object_get(st, "kafka"), j, k)
        {
            const char *tp = json_string_value(json_object_get(k, "traceparent"));
            printf("  %-10s %-24s  %-10s kafka %s partition %lld offset %lld  traceparent %s\n", "",
                   "", "", json_string_value(json_object_get(k, "topic")),
                   (long long)json_integer_value(json_object_get(k, "partition")),
                   (long long)json_integer_value(json_object_get(k, "offset")), tp ? tp : "(none)");
        }
    }
}

/* The steps of the domain in root (selected, then each attempt's), messages found in m. */
static json_t *trace_steps(json_t *root, const PGresult *att, const trace_msgs *m)
{
    json_t *steps = json_array();
    json_t *sel = json_object_get(root, "selected_at_ms");
    if (json_is_integer(sel)) {
        json_t *s = trace_step("selected", json_copy(sel));
        json_object_set_new(s, "curation_status",
                            json_copy(json_object_get(root, "curation_status")));
        json_array_append_new(steps, s);
    }
    for (int i = 0; i < PQntuples(att); i++)
        trace_attempt_steps(att, i, m, steps);
    return trace_order(steps);
}

static int trace_usage(void)
{
    fprintf(stderr, "Usage: wf4ctl trace [--json] [--no-kafka] DOMAIN   (a name or an id)\n");
    return 2;
}

/* Looks the domain up and prints its timeline. Returns the exit status. */
static int trace_run(const ctl_settings *s, db *d, const char *name, int json, int kafka)
{
    json_t *root = json_object();
    int rc = trace_domain(d, name, root);
    if (rc != 0) {
        if (rc > 0)
            fprintf(stderr,
                    "wf4ctl trace: unknown domain \"%s\" (no such name or id in "
                    "domains)\n",
                    name);
        json_decref(root);
        return 1;
    }
    const char *p[] = {json_string_value(json_object_get(root, "domain_id"))};
    PGresult *att = db_query(d, trace_attempts_sql, 1, p);
    if (!att) {
        json_decref(root);
        return 1;
    }
    int never = !json_is_integer(json_object_get(root, "selected_at_ms")) && PQntuples(att) == 0;
    json_object_set_new(root, "selected", json_boolean(!never));
    trace_msgs m = {0};
    if (!never && kafka)
        trace_scan_all(s, root, p[0], att, &m);
    json_object_set_new(root, "steps", trace_steps(root, att, &m));
    if (json) {
        char *out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (out)
            puts(out);
        free(out);
    } else if (never) {
        printf("domain %s (id %s) has never been selected: no claim, nothing to trace\n",
               json_string_value(json_object_get(root, "domain")), p[0]);
    } else {
        trace_print_text(root);
    }
    free(m.v);
    PQclear(att);
    json_decref(root);
    return 0;
}

int ctl_trace(const ctl_settings *s, int argc, char **argv)
{
    int json = 0, kafka = 1;
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--no-kafka") == 0)
            kafka = 0;
        else if (argv[i][0] == '-' || name)
            return trace_usage();
        else
            name = argv[i];
    }
    if (!name)
        return trace_usage();
    db *d = ctl_db_open(s, "wf4ctl-trace");
    if (!d)
        return 1;
    int rc = trace_run(s, d, name, json, kafka);
    db_close(d);
    return rc;
}
