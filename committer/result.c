/* Applying results: one short, set-based, fenced transaction per batch. */
#include "result.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "outbox.h"

/* Successes: fenced on (processing, claim_id); the outbox row shares the handoff event id.
 * The batch travels as one json parameter, its JSON arrays read straight into text[]. */
static const char result_success_sql[] =
    "WITH r AS (SELECT * FROM json_to_recordset($1::json) AS x("
    "  idx int, domain_id uuid, claim_id uuid, title text, description text, favicon_url text,"
    "  logo_url text, language text, is_wordpress boolean, wordpress_version text,"
    "  has_elementor boolean, tech_stack jsonb, email_addresses text[], phone_numbers text[],"
    "  facebook_url text, twitter_url text, linkedin_url text, instagram_url text,"
    "  youtube_url text)),"
    " upd AS (UPDATE domains d SET status = 'completed', error_message = NULL,"
    "  title = r.title, description = r.description, favicon_url = r.favicon_url,"
    "  logo_url = r.logo_url, language = r.language, is_wordpress = r.is_wordpress,"
    "  wordpress_version = r.wordpress_version, has_elementor = r.has_elementor,"
    "  tech_stack = r.tech_stack,"
    "  email_addresses = r.email_addresses, phone_numbers = r.phone_numbers,"
    "  facebook_url = r.facebook_url, twitter_url = r.twitter_url,"
    "  linkedin_url = r.linkedin_url, instagram_url = r.instagram_url,"
    "  youtube_url = r.youtube_url,"
    "  sitemap_analysis_status = 'queued', sitemap_analysis_error = NULL,"
    "  handoff_event_id = gen_random_uuid(), handed_off_at = now(), completed_at = now(),"
    "  lease_expires_at = NULL, next_attempt_at = NULL, updated_at = now()"
    "  FROM r WHERE d.id = r.domain_id AND d.claim_id = r.claim_id"
    "  AND d.status = 'processing'"
    "  RETURNING r.idx, d.id, d.claim_id, d.tenant_id, d.domain, d.handoff_event_id,"
    "  d.completed_at),"
    /* A data-modifying CTE always runs to completion: no join back to it is needed
     * (joining made the batch quadratic). */
    " ins AS (INSERT INTO wf5_outbox (event_id, domain_id, claim_id, tenant_id, domain,"
    "  completed_at)"
    "  SELECT handoff_event_id, id, claim_id, tenant_id, domain, completed_at FROM upd),"
    /* The outbox rows of handoffs Kafka acknowledged since: one round trip less. */
    " del AS (DELETE FROM wf5_outbox WHERE event_id = ANY($2::uuid[]))"
    " SELECT upd.handoff_event_id, upd.id, upd.claim_id, coalesce(upd.tenant_id::text, ''),"
    "  upd.domain, (extract(epoch FROM upd.completed_at) * 1000)::bigint, upd.idx"
    " FROM upd";

/* Failures: back to pending with a jittered exponential backoff, or error with the reason. */
static const char result_failure_sql[] =
    "WITH r AS (SELECT * FROM json_to_recordset($1::json) AS x("
    "  idx int, domain_id uuid, claim_id uuid, error text, retryable boolean,"
    "  http_status int))"
    " UPDATE domains d SET"
    "  status = CASE WHEN r.retryable AND d.attempts < $2 THEN 'pending'::domain_status"
    "           ELSE 'error'::domain_status END,"
    "  error_message = CASE WHEN r.retryable AND d.attempts < $2 THEN r.error"
    "           WHEN r.retryable THEN format('claimed %s times, giving up; last failure: %s',"
    "                                         d.attempts, r.error)"
    "           ELSE r.error END,"
    "  next_attempt_at = CASE WHEN r.retryable AND d.attempts < $2 THEN now() +"
    "     make_interval(secs => least($3::float8 * power(2, greatest(d.attempts - 1, 0)),"
    "     $4::float8) * (0.5 + random() / 2)) END,"
    "  lease_expires_at = NULL, updated_at = now()"
    " FROM r WHERE d.id = r.domain_id AND d.claim_id = r.claim_id"
    "  AND d.status = 'processing'"
    " RETURNING d.id, d.claim_id, d.status = 'pending', r.idx";

static json_t *result_str(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

static json_t *result_list(const strlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->n; i++)
        json_array_append_new(a, result_str(l->v[i]));
    return a;
}

static json_t *result_success_json(const msg_result *r, size_t idx)
{
    const meta_page *m = &r->meta;
    json_t *o = json_object();
    json_object_set_new(o, "idx", json_integer((json_int_t)idx));
    json_object_set_new(o, "domain_id", json_string(r->domain_id));
    json_object_set_new(o, "claim_id", json_string(r->claim_id));
    if (!r->has_meta)
        return o;
    json_object_set_new(o, "title", result_str(m->title));
    json_object_set_new(o, "description", result_str(m->description));
    json_object_set_new(o, "favicon_url", result_str(m->favicon_url));
    json_object_set_new(o, "logo_url", result_str(m->logo_url));
    json_object_set_new(o, "language", result_str(m->language));
    json_object_set_new(o, "is_wordpress", json_boolean(m->is_wordpress));
    json_object_set_new(o, "wordpress_version", result_str(m->wordpress_version));
    json_object_set_new(o, "has_elementor", json_boolean(m->has_elementor));
    json_object_set_new(o, "tech_stack", result_list(&m->tech_stack));
    json_object_set_new(o, "email_addresses", result_list(&m->email_addresses));
    json_object_set_new(o, "phone_numbers", result_list(&m->phone_numbers));
    json_object_set_new(o, "facebook_url", result_str(m->facebook_url));
    json_object_set_new(o, "twitter_url", result_str(m->twitter_url));
    json_object_set_new(o, "linkedin_url", result_str(m->linkedin_url));
    json_object_set_new(o, "instagram_url", result_str(m->instagram_url));
    json_object_set_new(o, "youtube_url", result_str(m->youtube_url));
    return o;
}

static json_t *result_failure_json(const msg_result *r, size_t idx)
{
    json_t *o = json_object();
    json_object_set_new(o, "idx", json_integer((json_int_t)idx));
    json_object_set_new(o, "domain_id", json_string(r->domain_id));
    json_object_set_new(o, "claim_id", json_string(r->claim_id));
    json_object_set_new(o, "error", result_str(r->error ? r->error : "unknown failure"));
    json_object_set_new(o, "retryable", json_boolean(r->retryable));
    json_object_set_new(o, "http_status",
                        r->http_status ? json_integer(r->http_status) : json_null());
    return o;
}

/* Serializes the successes or the failures of the batch; NULL when there are none. */
static char *result_batch_json(const msg_result *v, size_t n, result_outcome which,
                               size_t *count)
{
    json_t *a = json_array();
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].outcome != which)
            continue;
        json_array_append_new(a, which == RESULT_SUCCESS ? result_success_json(&v[i], i)
                                                         : result_failure_json(&v[i], i));
        (*count)++;
    }
    char *s = *count ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return s;
}

typedef struct result_tx_arg {
    const result_opts *o;
    const char *success_json, *failure_json, *outbox_done;
    size_t n;
    result_stats *out;
} result_tx_arg;

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
    for (int i = 0; i < n; i++) {
        msg_handoff *h = &out->handoffs[i];
        snprintf(h->event_id, sizeof h->event_id, "%s", PQgetvalue(r, i, 0));
        snprintf(h->domain_id, sizeof h->domain_id, "%s", PQgetvalue(r, i, 1));
        snprintf(h->claim_id, sizeof h->claim_id, "%s", PQgetvalue(r, i, 2));
        snprintf(h->tenant_id, sizeof h->tenant_id, "%s", PQgetvalue(r, i, 3));
        h->domain = strdup(PQgetvalue(r, i, 4));
        h->completed_at_ms = strtoll(PQgetvalue(r, i, 5), NULL, 10);
        out->nhandoffs++;
        result_mark(out, PQgetvalue(r, i, 6));
        if (!h->domain)
            return -1;
    }
    out->completed = n;
    return 0;
}

/* The transaction body; it may be retried whole, so it starts from empty stats. */
static int result_tx(db_tx *tx, void *arg)
{
    result_tx_arg *a = arg;
    result_stats_clear(a->out);
    a->out->napplied = a->n;
    if (!(a->out->applied = calloc(a->n ? a->n : 1, 1)))
        return -1;
    /* Without successes the outbox rows go in a statement of their own. */
    if (!a->success_json && a->outbox_done && outbox_delete_in(tx, a->outbox_done) != 0)
        return -1;
    if (a->success_json) {
        const char *p[] = {a->success_json, a->outbox_done ? a->outbox_done : "{}"};
        PGresult *r = db_exec(tx, result_success_sql, 2, p);
        if (!r)
            return -1;
        int rc = result_collect_handoffs(a->out, r);
        PQclear(r);
        if (rc != 0)
            return -1;
    }
    if (a->failure_json) {
        char cap[24], base[24], max[24];
        snprintf(cap, sizeof cap, "%ld", a->o->max_attempts);
        snprintf(base, sizeof base, "%ld", a->o->retry_base_s);
        snprintf(max, sizeof max, "%ld", a->o->retry_cap_s);
        const char *p[] = {a->failure_json, cap, base, max};
        PGresult *r = db_exec(tx, result_failure_sql, 4, p);
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
    p->success_json = result_batch_json(v, n, RESULT_SUCCESS, &p->nsuccess);
    p->failure_json = result_batch_json(v, n, RESULT_FAILURE, &p->nfailure);
    if ((p->nsuccess && !p->success_json) || (p->nfailure && !p->failure_json)) {
        log_error("cannot serialize a batch of %zu results", n);
        result_prepared_free(p);
        return -1;
    }
    return 0;
}

void result_prepared_free(result_prepared *p)
{
    free(p->success_json);
    free(p->failure_json);
    memset(p, 0, sizeof *p);
}

int result_apply(db *d, const result_opts *o, const result_prepared *p, const char *outbox_done,
                 result_stats *out)
{
    memset(out, 0, sizeof *out);
    if ((p->nsuccess && !p->success_json) || (p->nfailure && !p->failure_json))
        return -1;
    result_tx_arg a = {o, p->success_json, p->failure_json, outbox_done, p->n, out};
    int rc = db_transaction(d, "apply_results", (int)o->budget_ms, result_tx, &a);
    if (rc == 0)
        out->superseded = (long)p->n - out->completed - out->retried - out->failed;
    else
        result_stats_clear(out);
    return rc;
}
