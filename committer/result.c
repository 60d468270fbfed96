/* Applying results: one short, set-based, fenced transaction per batch. */
#include "result.h"

#include <endian.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "outbox.h"

/* result_fence_note: the fence, "still processing under this claim", is one join condition
 * and never a condition on d alone, which the planner would estimate from statistics that
 * are stale exactly when it matters (a quadratic nested loop: bench/README.md, "The fence
 * and stale statistics, again"); a row that is not processing gives NULL, which equals
 * nothing. Both statements join on it: RESULT_FENCE. */
/* clang-format off: the SQL reads as SQL */
#define RESULT_FENCE            \
    " WHERE d.id = r.domain_id" \
    "  AND CASE WHEN d.status = 'processing' THEN d.claim_id END = r.claim_id"

/* Attempt history (schemas/sql/006_domain_attempts.sql), CTEs of both statements: what
 * the scraper said ($k.. the RESULT_ATT_COLS arrays, r.scraper .. r.tier), recorded on the
 * applied result's attempt (from upd, by its primary key) and, as superseded, on the
 * attempt of a result the fence turned away (evaluated on the statement's snapshot, like
 * the fence itself; a replay of an applied result finds its attempt done and changes
 * nothing). */
#define RESULT_ATT_SET(src)                                                 \
    " scraper_instance = " src ".scraper, api_status = " src ".api_status," \
    " retries = " src ".retries, api_ms = " src ".api_ms,"                  \
    " credits = " src ".credits, tier = " src ".tier,"                      \
    " scraped_at = to_timestamp(" src ".scraped_ms / 1000.0), applied_at = now()"
#define RESULT_ATT_RETURNING \
    ", r.scraper, r.api_status, r.retries, r.api_ms, r.scraped_ms, r.credits, r.tier"

/* Credits (schemas/sql/009_credits_tier.sql): a stale result's calls were paid too, so its
 * credits count on the domain, once: when its attempt is first marked superseded (a replay
 * finds it marked). They are summed per domain (stale_credits) and added by upd to a row
 * this statement applies a result to, else by stale_dom: a row is updated once a statement.
 * RESULT_ATT_STALE comes before upd, RESULT_STALE_DOM after it. */
#define RESULT_ATT_STALE                                                                        \
    " att_stale AS (UPDATE domain_attempts a SET" RESULT_ATT_SET(                               \
        "r") ","                                                                                \
             "  outcome = 'superseded', reason = 'superseded: stale claim'"                     \
             "  FROM r LEFT JOIN domains d ON d.id = r.domain_id"                               \
             "  WHERE a.claim_id = r.claim_id AND (a.outcome IS NULL OR a.outcome = 'expired')" \
             "  AND CASE WHEN d.status = 'processing' THEN d.claim_id END IS DISTINCT FROM "    \
             "r.claim_id"                                                                       \
             "  RETURNING a.domain_id, r.credits),"                                             \
             " stale_credits AS (SELECT domain_id, sum(credits) AS credits FROM att_stale"      \
             "  WHERE credits > 0 GROUP BY domain_id),"
#define RESULT_CREDITS_SET                                                  \
    " credits_spent = d.credits_spent + coalesce(r.credits, 0) + coalesce(" \
    "  (SELECT s.credits FROM stale_credits s WHERE s.domain_id = d.id), 0),"
#define RESULT_STALE_DOM                                                              \
    " stale_dom AS (UPDATE domains d SET credits_spent = d.credits_spent + s.credits" \
    "  FROM stale_credits s WHERE d.id = s.domain_id"                                 \
    "  AND NOT EXISTS (SELECT 1 FROM upd WHERE upd.id = s.domain_id))"

/* Successes: fenced on (processing, claim_id); the batch's handoff events go into one outbox
 * row (schemas/sql/004_outbox_batches.sql), whose batch_id comes back with every row.
 * The batch travels as one binary array per column (db_array): the server parses no text;
 * a list column travels as one array literal per row. The statement is built once from
 * META_FIELDS: $1-$3 are the batch index, domain_id and claim_id, then one parameter per
 * field in its order, then the acknowledged outbox rows. The arrays are unnested in the
 * select list, in step (they have the same length), not in FROM, which would materialize
 * every column first (bench/README.md, "Statement shapes in committer/result.c"). */
enum { RESULT_KEY_COLS = 3, RESULT_SQL_MAX = 6144, RESULT_OID_INT8 = 20 };

/* %d: the first of the RESULT_ATT_COLS parameters. */
static const char result_att_unnest[] =
    ", unnest($%d::text[]) AS scraper, unnest($%d::int4[]) AS api_status,"
    " unnest($%d::int4[]) AS retries, unnest($%d::int8[]) AS api_ms,"
    " unnest($%d::int8[]) AS scraped_ms, unnest($%d::int8[]) AS credits,"
    " unnest($%d::text[]) AS tier";

static const char result_success_head[] =
    "WITH r AS (SELECT unnest($1::int4[]) AS idx, unnest($2::uuid[]) AS domain_id,"
    " unnest($3::uuid[]) AS claim_id";
static const char result_success_set[] = RESULT_ATT_STALE
    " upd AS (UPDATE domains d SET status = 'completed', error_message = NULL";
/* %d: the parameter of the acknowledged outbox rows. */
static const char result_success_tail[] =
    "," RESULT_CREDITS_SET " scrape_tier = coalesce(r.tier, d.scrape_tier),"
    "  sitemap_analysis_status = 'queued', sitemap_analysis_error = NULL,"
    "  handoff_event_id = gen_random_uuid(), handed_off_at = now(), completed_at = now(),"
    "  lease_expires_at = NULL, next_attempt_at = NULL, updated_at = now()"
    "  FROM r" RESULT_FENCE
    "  RETURNING r.idx, d.id, d.claim_id, d.tenant_id, d.domain, d.handoff_event_id,"
    "  d.completed_at" RESULT_ATT_RETURNING "),"
    /* A data-modifying CTE always runs to completion: no join back to it is needed
     * (joining made the batch quadratic). */
    " ins AS (INSERT INTO wf5_outbox (event_ids, domain_ids, claim_ids, tenant_ids, domains,"
    "  completed_at)"
    "  SELECT array_agg(handoff_event_id), array_agg(id), array_agg(claim_id),"
    "  array_agg(tenant_id), array_agg(domain), min(completed_at) FROM upd HAVING count(*) > 0"
    "  RETURNING batch_id),"
    /* The outbox rows whose events Kafka acknowledged since: one round trip less. */
    " del AS (DELETE FROM wf5_outbox WHERE batch_id = ANY($%d::uuid[])),"
    " att_ok AS (UPDATE domain_attempts a SET" RESULT_ATT_SET(
        "upd") ","
               "  outcome = 'completed', reason = NULL, handoff_event_id = upd.handoff_event_id"
               "  FROM upd WHERE a.claim_id = upd.claim_id)," RESULT_STALE_DOM
               " SELECT upd.handoff_event_id, upd.id, upd.claim_id, coalesce(upd.tenant_id::text, "
               "''),"
               "  upd.domain, (extract(epoch FROM upd.completed_at) * 1000)::bigint, upd.idx,"
               "  (SELECT batch_id FROM ins)"
               " FROM upd";
/* clang-format on */

static char result_success_sql[RESULT_SQL_MAX];
static pthread_once_t result_success_once = PTHREAD_ONCE_INIT;

/* How a field of kind k travels: its parameter's element type (name and OID) and the value
 * its column is set to, from r.<column>. No default: a new kind must be added here. */
typedef struct result_kind {
    const char *elem;
    uint32_t oid;
    const char *set; /* format: column, column */
} result_kind;

static result_kind result_kind_of(meta_kind k)
{
    switch (k) {
    case META_TEXT: break; /* below, also for a value outside the enum */
    case META_BOOL: return (result_kind){"bool", DB_OID_BOOL, ", %s = r.%s"};
    case META_LIST: return (result_kind){"text", DB_OID_TEXT, ", %s = r.%s::text[]"};
    case META_JSON_LIST: return (result_kind){"text", DB_OID_TEXT, ", %s = to_jsonb(r.%s::text[])"};
    }
    return (result_kind){"text", DB_OID_TEXT, ", %s = r.%s"};
}

static void result_success_build(void)
{
    char *b = result_success_sql;
    size_t cap = sizeof result_success_sql, n = 0;
    n += (size_t)snprintf(b + n, cap - n, "%s", result_success_head);
    for (int i = 0; i < META_NFIELDS && n < cap; i++)
        n += (size_t)snprintf(b + n, cap - n, ", unnest($%d::%s[]) AS %s", RESULT_KEY_COLS + 1 + i,
                              result_kind_of(meta_fields[i].kind).elem, meta_fields[i].column);
    int k = RESULT_KEY_COLS + META_NFIELDS + 1;
    if (n < cap)
        n += (size_t)snprintf(b + n, cap - n, result_att_unnest, k, k + 1, k + 2, k + 3, k + 4,
                              k + 5, k + 6);
    if (n < cap)
        n += (size_t)snprintf(b + n, cap - n, "),%s", result_success_set);
    for (int i = 0; i < META_NFIELDS && n < cap; i++)
        n += (size_t)snprintf(b + n, cap - n, result_kind_of(meta_fields[i].kind).set,
                              meta_fields[i].column, meta_fields[i].column);
    if (n < cap)
        n += (size_t)snprintf(b + n, cap - n, result_success_tail, RESULT_SUCCESS_COLS + 1);
    if (n >= cap)
        b[0] = '\0'; /* an empty statement fails loudly; RESULT_SQL_MAX is far above the text */
}

const char *result_success_statement(void)
{
    pthread_once(&result_success_once, result_success_build);
    return result_success_sql;
}

/* Failures: back to pending with a jittered exponential backoff, or error with the reason. */
/* clang-format off */
static const char result_failure_sql[] =
    "WITH r AS (SELECT unnest($1::int4[]) AS idx, unnest($2::uuid[]) AS domain_id,"
    "  unnest($3::uuid[]) AS claim_id, unnest($4::text[]) AS error,"
    "  unnest($5::bool[]) AS retryable, unnest($6::text[]) AS scraper,"
    "  unnest($7::int4[]) AS api_status, unnest($8::int4[]) AS retries,"
    "  unnest($9::int8[]) AS api_ms, unnest($10::int8[]) AS scraped_ms,"
    "  unnest($11::int8[]) AS credits, unnest($12::text[]) AS tier),"
    RESULT_ATT_STALE
    " upd AS (UPDATE domains d SET" RESULT_CREDITS_SET
    "  status = CASE WHEN r.retryable AND d.attempts < $13 THEN 'pending'::domain_status"
    "           ELSE 'error'::domain_status END,"
    "  error_message = CASE WHEN r.retryable AND d.attempts < $13 THEN r.error"
    "           WHEN r.retryable THEN format('claimed %s times, giving up; last failure: %s',"
    "                                         d.attempts, r.error)"
    "           ELSE r.error END,"
    "  next_attempt_at = CASE WHEN r.retryable AND d.attempts < $13 THEN now() +"
    "     make_interval(secs => least($14::float8 * power(2, greatest(d.attempts - 1, 0)),"
    "     $15::float8) * (0.5 + random() / 2)) END,"
    "  lease_expires_at = NULL, updated_at = now()"
    " FROM r" RESULT_FENCE
    " RETURNING d.id, d.claim_id, d.status = 'pending' AS retry, r.idx, d.error_message"
    RESULT_ATT_RETURNING "),"
    " att_ok AS (UPDATE domain_attempts a SET" RESULT_ATT_SET("upd") ","
    "  outcome = CASE WHEN upd.retry THEN 'retry' ELSE 'error' END, reason = upd.error_message"
    "  FROM upd WHERE a.claim_id = upd.claim_id)," RESULT_STALE_DOM
    " SELECT id, claim_id, retry, idx FROM upd";
/* clang-format on */

/* The failure statement's element types, in its parameter order. */
static const uint32_t result_failure_oids[RESULT_FAILURE_COLS] = {
    DB_OID_INT4, DB_OID_UUID, DB_OID_UUID,     DB_OID_TEXT,     DB_OID_BOOL,     DB_OID_TEXT,
    DB_OID_INT4, DB_OID_INT4, RESULT_OID_INT8, RESULT_OID_INT8, RESULT_OID_INT8, DB_OID_TEXT};

/* The attempt columns' element types (both statements end their arrays with them). */
static const uint32_t result_att_oids[RESULT_ATT_COLS] = {
    DB_OID_TEXT,     DB_OID_INT4,     DB_OID_INT4, RESULT_OID_INT8,
    RESULT_OID_INT8, RESULT_OID_INT8, DB_OID_TEXT};

/* The success statement's element types, in its parameter order. */
static uint32_t result_success_oid(int col)
{
    static const uint32_t key[RESULT_KEY_COLS] = {DB_OID_INT4, DB_OID_UUID, DB_OID_UUID};
    if (col < RESULT_KEY_COLS)
        return key[col];
    if (col >= RESULT_KEY_COLS + META_NFIELDS)
        return result_att_oids[col - RESULT_KEY_COLS - META_NFIELDS];
    return result_kind_of(meta_fields[col - RESULT_KEY_COLS].kind).oid;
}

static void result_add_text(db_array *a, char *const *s)
{
    db_array_add_text(a, *s);
}

static void result_add_bool(db_array *a, const bool *v)
{
    db_array_add_bool(a, *v);
}

static void result_add_list(db_array *a, const strlist *l)
{
    char *s = db_text_array(l->v, l->n);
    if (!s)
        a->failed = 1;
    else
        db_array_add_text(a, s);
    free(s);
}

static void result_add_int8(db_array *a, int64_t v)
{
    uint64_t be = htobe64((uint64_t)v);
    db_array_add(a, &be, sizeof be);
}

/* The RESULT_ATT_COLS columns from c on: scraper instance, API status, retries (NULL when
 * unknown), API time, scraped at, credits, tier (NULL when no call was made). */
static void result_add_att(db_array *c, const msg_result *r)
{
    db_array_add_text(&c[0], r->scraper_instance[0] ? r->scraper_instance : NULL);
    if (r->http_status > 0)
        db_array_add_int4(&c[1], r->http_status);
    else
        db_array_add(&c[1], NULL, 0);
    if (r->retries >= 0)
        db_array_add_int4(&c[2], r->retries);
    else
        db_array_add(&c[2], NULL, 0);
    result_add_int8(&c[3], r->api_ms);
    result_add_int8(&c[4], r->scraped_at_ms);
    result_add_int8(&c[5], r->credits);
    db_array_add_text(&c[6], r->tier[0] ? r->tier : NULL);
}

static void result_add_success(db_array *c, const msg_result *r, size_t idx)
{
    const meta_page *m = r->has_meta ? &r->meta : NULL;
    db_array_add_int4(&c[0], (int32_t)idx);
    db_array_add_uuid(&c[1], r->domain_id);
    db_array_add_uuid(&c[2], r->claim_id);
    result_add_att(&c[RESULT_KEY_COLS + META_NFIELDS], r);
    if (!m) { /* no metadata: every column NULL */
        for (int i = RESULT_KEY_COLS; i < RESULT_KEY_COLS + META_NFIELDS; i++)
            db_array_add(&c[i], NULL, 0);
        return;
    }
    db_array *f = &c[RESULT_KEY_COLS];
#define RESULT_ADD(member, kind, avro, column) \
    _Generic(&m->member, char *const *: result_add_text, const bool *: result_add_bool,    \
             const strlist *: result_add_list)(f++, &m->member);
    META_FIELDS(RESULT_ADD)
#undef RESULT_ADD
}

static void result_add_failure(db_array *c, const msg_result *r, size_t idx)
{
    db_array_add_int4(&c[0], (int32_t)idx);
    db_array_add_uuid(&c[1], r->domain_id);
    db_array_add_uuid(&c[2], r->claim_id);
    db_array_add_text(&c[3], r->error ? r->error : "unknown failure");
    db_array_add_bool(&c[4], r->retryable);
    result_add_att(&c[5], r);
}

typedef struct result_tx_arg {
    const result_opts *o;
    const result_prepared *p;
    const outbox_ids *outbox_done;
    result_stats *out;
} result_tx_arg;

/* Runs sql with the n binary arrays cols and then the ntext text parameters. */
static PGresult *result_exec(db_tx *tx, const char *sql, const db_array *cols, int n,
                             const char *const *text, int ntext)
{
    const char *values[RESULT_SUCCESS_COLS + 4];
    int lengths[RESULT_SUCCESS_COLS + 4], formats[RESULT_SUCCESS_COLS + 4];
    for (int i = 0; i < n; i++) {
        values[i] = cols[i].buf;
        lengths[i] = (int)cols[i].len;
        formats[i] = 1;
    }
    for (int i = 0; i < ntext; i++) {
        values[n + i] = text[i];
        lengths[n + i] = 0;
        formats[n + i] = 0;
    }
    return db_exec_params(tx, sql, n + ntext, values, lengths, formats);
}

static void result_mark(result_stats *out, const char *idx)
{
    long i = strtol(idx, NULL, 10);
    if (out->applied && i >= 0 && (size_t)i < out->napplied)
        out->applied[i] = 1;
}

static int result_collect_handoffs(result_stats *out, PGresult *r)
{
    int n = PQntuples(r);
    if (n == 0)
        return 0;
    out->handoffs = calloc((size_t)n, sizeof *out->handoffs);
    if (!out->handoffs)
        return -1;
    snprintf(out->outbox_batch, sizeof out->outbox_batch, "%s", PQgetvalue(r, 0, 7));
    for (int i = 0; i < n; i++) {
        out->nhandoffs++;
        result_mark(out, PQgetvalue(r, i, 6));
        if (outbox_handoff_read(r, i, 0, &out->handoffs[i]) != 0)
            return -1;
    }
    out->completed = n;
    return 0;
}

/* The transaction body; it may be retried whole, so it starts from empty stats. */
static int result_tx(db_tx *tx, void *arg)
{
    result_tx_arg *a = arg;
    const result_prepared *p = a->p;
    result_stats_clear(a->out);
    a->out->napplied = p->n;
    if (!(a->out->applied = calloc(p->n ? p->n : 1, 1)))
        return -1;
    /* Without successes the outbox rows go in a statement of their own. */
    if (!p->nsuccess && a->outbox_done && a->outbox_done->n &&
        outbox_delete_in(tx, a->outbox_done) != 0)
        return -1;
    if (p->nsuccess) {
        const char *sql = result_success_statement();
        if (!*sql) {
            log_error("apply_results: the success statement does not fit RESULT_SQL_MAX");
            return -1;
        }
        db_array cols[RESULT_SUCCESS_COLS + 1]; /* the batch's columns and the done ids */
        memcpy(cols, p->success, sizeof p->success);
        if (outbox_ids_array(a->outbox_done, &cols[RESULT_SUCCESS_COLS]) != 0)
            return -1;
        PGresult *r = result_exec(tx, sql, cols, RESULT_SUCCESS_COLS + 1, NULL, 0);
        db_array_free(&cols[RESULT_SUCCESS_COLS]);
        if (!r)
            return -1;
        int rc = result_collect_handoffs(a->out, r);
        PQclear(r);
        if (rc != 0)
            return -1;
    }
    if (p->nfailure) {
        char cap[24], base[24], max[24];
        snprintf(cap, sizeof cap, "%ld", a->o->max_attempts);
        snprintf(base, sizeof base, "%ld", a->o->retry_base_s);
        snprintf(max, sizeof max, "%ld", a->o->retry_cap_s);
        const char *t[] = {cap, base, max};
        PGresult *r = result_exec(tx, result_failure_sql, p->failure, RESULT_FAILURE_COLS, t, 3);
        if (!r)
            return -1;
        for (int i = 0; i < PQntuples(r); i++) {
            result_mark(a->out, PQgetvalue(r, i, 3));
            if (strcmp(PQgetvalue(r, i, 2), "t") == 0)
                a->out->retried++;
            else
                a->out->failed++;
        }
        PQclear(r);
    }
    return 0;
}

void result_stats_clear(result_stats *s)
{
    for (size_t i = 0; i < s->nhandoffs; i++)
        msg_handoff_free(&s->handoffs[i]);
    free(s->handoffs);
    free(s->applied);
    memset(s, 0, sizeof *s);
}

int result_prepare(const msg_result *v, size_t n, result_prepared *p)
{
    memset(p, 0, sizeof *p);
    p->n = n;
    for (size_t i = 0; i < n; i++) {
        if (v[i].outcome == RESULT_SUCCESS)
            p->nsuccess++;
        else if (v[i].outcome == RESULT_FAILURE)
            p->nfailure++;
    }
    int failed = 0;
    for (int c = 0; c < RESULT_SUCCESS_COLS && p->nsuccess; c++)
        db_array_init(&p->success[c], result_success_oid(c));
    for (int c = 0; c < RESULT_FAILURE_COLS && p->nfailure; c++)
        db_array_init(&p->failure[c], result_failure_oids[c]);
    for (size_t i = 0; i < n; i++) {
        if (v[i].outcome == RESULT_SUCCESS)
            result_add_success(p->success, &v[i], i);
        else if (v[i].outcome == RESULT_FAILURE)
            result_add_failure(p->failure, &v[i], i);
    }
    for (int c = 0; c < RESULT_SUCCESS_COLS && p->nsuccess; c++)
        failed |= db_array_finish(&p->success[c]) != 0;
    for (int c = 0; c < RESULT_FAILURE_COLS && p->nfailure; c++)
        failed |= db_array_finish(&p->failure[c]) != 0;
    if (failed) {
        log_error("cannot serialize a batch of %zu results", n);
        result_prepared_free(p);
        return -1;
    }
    p->ready = 1;
    return 0;
}

void result_prepared_free(result_prepared *p)
{
    for (int c = 0; c < RESULT_SUCCESS_COLS; c++)
        db_array_free(&p->success[c]);
    for (int c = 0; c < RESULT_FAILURE_COLS; c++)
        db_array_free(&p->failure[c]);
    memset(p, 0, sizeof *p);
}

int result_apply(db *d, const result_opts *o, const result_prepared *p,
                 const outbox_ids *outbox_done, result_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!p->ready)
        return -1;
    result_tx_arg a = {o, p, outbox_done, out};
    int rc = db_transaction(d, "apply_results", (int)o->budget_ms, result_tx, &a);
    if (rc == 0)
        out->superseded = (long)p->n - out->completed - out->retried - out->failed;
    else
        result_stats_clear(out);
    return rc;
}
