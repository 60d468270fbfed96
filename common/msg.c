/* Typed messages of the pipeline's topics: struct <-> Avro generic value, validated. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "wire_internal.h"

/* ---- validation ---- */

static int msg_uuid_valid(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

static int msg_bad(char *err, size_t errlen, const char *field, const char *why)
{
    snprintf(err, errlen, "field %s: %s", field, why);
    return -1;
}

/* ---- encoding helpers: each sets one field of record rec ---- */

static int enc_field(avro_value_t *rec, const char *name, avro_value_t *f, char *err, size_t errlen)
{
    if (avro_value_get_by_name(rec, name, f, NULL) != 0)
        return msg_bad(err, errlen, name, avro_strerror());
    return 0;
}

static int enc_str(avro_value_t *rec, const char *name, const char *s, char *err, size_t errlen)
{
    avro_value_t f;
    if (!s)
        return msg_bad(err, errlen, name, "required string is NULL");
    if (!wire_utf8_valid((const uint8_t *)s, strlen(s)))
        return msg_bad(err, errlen, name, "not valid UTF-8");
    if (enc_field(rec, name, &f, err, errlen) != 0 || avro_value_set_string(&f, s) != 0)
        return msg_bad(err, errlen, name, avro_strerror());
    return 0;
}

static int enc_uuid(avro_value_t *rec, const char *name, const char *s, char *err, size_t errlen)
{
    if (!msg_uuid_valid(s))
        return msg_bad(err, errlen, name, "not a UUID");
    return enc_str(rec, name, s, err, errlen);
}

/* ["null", T] union: branch 1 when present. Returns the branch in *b. */
static int enc_branch(avro_value_t *rec, const char *name, int present, avro_value_t *b, char *err,
                      size_t errlen)
{
    avro_value_t f;
    if (enc_field(rec, name, &f, err, errlen) != 0 ||
        avro_value_set_branch(&f, present ? 1 : 0, b) != 0)
        return msg_bad(err, errlen, name, avro_strerror());
    if (!present && avro_value_set_null(b) != 0)
        return msg_bad(err, errlen, name, avro_strerror());
    return 0;
}

static int enc_opt_str(avro_value_t *rec, const char *name, const char *s, char *err, size_t errlen)
{
    avro_value_t b;
    if (s && !wire_utf8_valid((const uint8_t *)s, strlen(s)))
        return msg_bad(err, errlen, name, "not valid UTF-8");
    if (enc_branch(rec, name, s != NULL, &b, err, errlen) != 0)
        return -1;
    if (s && avro_value_set_string(&b, s) != 0)
        return msg_bad(err, errlen, name, avro_strerror());
    return 0;
}

static int enc_opt_uuid(avro_value_t *rec, const char *name, const char *s, char *err,
                        size_t errlen)
{
    if (*s && !msg_uuid_valid(s))
        return msg_bad(err, errlen, name, "not a UUID");
    return enc_opt_str(rec, name, *s ? s : NULL, err, errlen);
}

/* ["null", long] union: null when v is 0 (the field's "none"). */
static int enc_opt_long(avro_value_t *rec, const char *name, int64_t v, char *err, size_t errlen)
{
    avro_value_t b;
    if (enc_branch(rec, name, v != 0, &b, err, errlen) != 0)
        return -1;
    if (v != 0 && avro_value_set_long(&b, v) != 0)
        return msg_bad(err, errlen, name, avro_strerror());
    return 0;
}

static int enc_int(avro_value_t *rec, const char *name, int32_t v, char *err, size_t errlen)
{
    avro_value_t f;
    if (enc_field(rec, name, &f, err, errlen) != 0 || avro_value_set_int(&f, v) != 0)
        return msg_bad(err, errlen, name, avro_strerror());
    return 0;
}

static int enc_long(avro_value_t *rec, const char *name, int64_t v, char *err, size_t errlen)
{
    avro_value_t f;
    if (enc_field(rec, name, &f, err, errlen) != 0 || avro_value_set_long(&f, v) != 0)
        return msg_bad(err, errlen, name, avro_strerror());
    return 0;
}

static int enc_bool(avro_value_t *rec, const char *name, bool v, char *err, size_t errlen)
{
    avro_value_t f;
    if (enc_field(rec, name, &f, err, errlen) != 0 || avro_value_set_boolean(&f, v) != 0)
        return msg_bad(err, errlen, name, avro_strerror());
    return 0;
}

static int enc_list(avro_value_t *rec, const char *name, const strlist *l, char *err, size_t errlen)
{
    avro_value_t f, e;
    if (enc_field(rec, name, &f, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < l->n; i++) {
        if (!l->v[i] || !wire_utf8_valid((const uint8_t *)l->v[i], strlen(l->v[i])))
            return msg_bad(err, errlen, name, "element NULL or not valid UTF-8");
        if (avro_value_append(&f, &e, NULL) != 0 || avro_value_set_string(&e, l->v[i]) != 0)
            return msg_bad(err, errlen, name, avro_strerror());
    }
    return 0;
}

/* Encodes the filled value of schema s and frees it. */
static int enc_finish(wire *w, wire_schema s, wire_decoded *d, int rc, void **buf, size_t *len,
                      char *err, size_t errlen)
{
    if (rc == 0)
        rc = wire_encode_value(w, s, &d->value, buf, len, err, errlen);
    wire_decoded_free(d);
    return rc;
}

/* The day's credit ceiling and its end: both set, or both null. */
static int enc_ceiling(avro_value_t *rec, const msg_claim *c, char *err, size_t errlen)
{
    if (c->credits_ceiling < 0)
        return msg_bad(err, errlen, "credits_ceiling", "negative");
    if (c->credits_ceiling > 0 && c->credits_ceiling_until_ms <= 0)
        return msg_bad(err, errlen, "credits_ceiling_until", "missing beside credits_ceiling");
    return enc_opt_long(rec, "credits_ceiling", c->credits_ceiling, err, errlen) ||
                   enc_opt_long(rec, "credits_ceiling_until",
                                c->credits_ceiling > 0 ? c->credits_ceiling_until_ms : 0, err,
                                errlen)
               ? -1
               : 0;
}

int msg_claim_encode(wire *w, const msg_claim *c, void **buf, size_t *len, char *err, size_t errlen)
{
    wire_decoded d;
    if (wire_value_new(w, WIRE_CLAIM, &d, err, errlen) != 0)
        return -1;
    avro_value_t *r = &d.value;
    int rc = enc_uuid(r, "domain_id", c->domain_id, err, errlen) ||
                     enc_uuid(r, "claim_id", c->claim_id, err, errlen) ||
                     enc_opt_uuid(r, "tenant_id", c->tenant_id, err, errlen) ||
                     enc_str(r, "domain", c->domain, err, errlen) ||
                     enc_int(r, "attempt", c->attempt, err, errlen) ||
                     enc_long(r, "claimed_at", c->claimed_at_ms, err, errlen) ||
                     enc_long(r, "lease_expires_at", c->lease_expires_at_ms, err, errlen) ||
                     enc_opt_str(r, "tier", c->tier[0] ? c->tier : NULL, err, errlen) ||
                     enc_ceiling(r, c, err, errlen)
                 ? -1
                 : 0;
    return enc_finish(w, WIRE_CLAIM, &d, rc, buf, len, err, errlen);
}

int msg_handoff_encode(wire *w, const msg_handoff *h, void **buf, size_t *len, char *err,
                       size_t errlen)
{
    wire_decoded d;
    if (wire_value_new(w, WIRE_HANDOFF, &d, err, errlen) != 0)
        return -1;
    avro_value_t *r = &d.value;
    int rc = enc_uuid(r, "event_id", h->event_id, err, errlen) ||
                     enc_uuid(r, "domain_id", h->domain_id, err, errlen) ||
                     enc_uuid(r, "claim_id", h->claim_id, err, errlen) ||
                     enc_opt_uuid(r, "tenant_id", h->tenant_id, err, errlen) ||
                     enc_str(r, "domain", h->domain, err, errlen) ||
                     enc_long(r, "completed_at", h->completed_at_ms, err, errlen)
                 ? -1
                 : 0;
    return enc_finish(w, WIRE_HANDOFF, &d, rc, buf, len, err, errlen);
}

static int enc_meta_text(avro_value_t *m, const char *name, char *const *v, char *err,
                         size_t errlen)
{
    return enc_opt_str(m, name, *v, err, errlen);
}

static int enc_meta_bool(avro_value_t *m, const char *name, const bool *v, char *err, size_t errlen)
{
    return enc_bool(m, name, *v, err, errlen);
}

/* The fields of META_FIELDS, each by the encoder of its C type. */
static int enc_meta(avro_value_t *res, const msg_result *r, char *err, size_t errlen)
{
    avro_value_t m;
    const meta_page *p = &r->meta;
    if (enc_branch(res, "metadata", r->has_meta, &m, err, errlen) != 0)
        return -1;
    if (!r->has_meta)
        return 0;
#define ENC_META(member, kind, avro, column)                                                 \
    if (_Generic(&p->member, char *const *: enc_meta_text, const bool *: enc_meta_bool,    \
                 const strlist *: enc_list)(&m, avro, &p->member, err, errlen) != 0) \
        return -1;
    META_FIELDS(ENC_META)
#undef ENC_META
    return 0;
}

static int enc_status(avro_value_t *rec, int32_t status, char *err, size_t errlen)
{
    avro_value_t b;
    if (enc_branch(rec, "http_status", status != 0, &b, err, errlen) != 0)
        return -1;
    if (status != 0 && avro_value_set_int(&b, status) != 0)
        return msg_bad(err, errlen, "http_status", avro_strerror());
    return 0;
}

static int enc_outcome(avro_value_t *rec, result_outcome o, char *err, size_t errlen)
{
    avro_value_t f;
    if (o != RESULT_SUCCESS && o != RESULT_FAILURE)
        return msg_bad(err, errlen, "outcome", "neither SUCCESS nor FAILURE");
    if (enc_field(rec, "outcome", &f, err, errlen) != 0 || avro_value_set_enum(&f, (int)o) != 0)
        return msg_bad(err, errlen, "outcome", avro_strerror());
    return 0;
}

int msg_result_encode(wire *w, const msg_result *res, void **buf, size_t *len, char *err,
                      size_t errlen)
{
    wire_decoded d;
    if (wire_value_new(w, WIRE_RESULT, &d, err, errlen) != 0)
        return -1;
    avro_value_t *r = &d.value;
    int rc = enc_uuid(r, "domain_id", res->domain_id, err, errlen) ||
                     enc_uuid(r, "claim_id", res->claim_id, err, errlen) ||
                     enc_str(r, "domain", res->domain, err, errlen) ||
                     enc_int(r, "attempt", res->attempt, err, errlen) ||
                     enc_outcome(r, res->outcome, err, errlen) ||
                     enc_opt_str(r, "error", res->error, err, errlen) ||
                     enc_bool(r, "retryable", res->retryable, err, errlen) ||
                     enc_status(r, res->http_status, err, errlen) ||
                     enc_long(r, "scraped_at", res->scraped_at_ms, err, errlen) ||
                     enc_long(r, "api_ms", res->api_ms, err, errlen) ||
                     enc_long(r, "credits", res->credits, err, errlen) ||
                     enc_opt_str(r, "tier", res->tier[0] ? res->tier : NULL, err, errlen) ||
                     enc_meta(r, res, err, errlen)
                 ? -1
                 : 0;
    return enc_finish(w, WIRE_RESULT, &d, rc, buf, len, err, errlen);
}

/* ---- decoding helpers: a field the writer lacked is absent, and takes the default that
 * the .avsc declares (null, false, 0, []); a required field must be present ---- */

/* 0: found, 1: absent. Unwraps a union to its current branch. */
static int dec_field(avro_value_t *rec, const char *name, avro_value_t *f)
{
    avro_value_t u;
    if (avro_value_get_by_name(rec, name, &u, NULL) != 0)
        return 1;
    if (avro_value_get_type(&u) != AVRO_UNION) {
        *f = u;
        return 0;
    }
    if (avro_value_get_current_branch(&u, f) != 0)
        return 1;
    return 0;
}

/* *out malloc'ed, NULL for absent or null (an error when required). */
static int dec_str(avro_value_t *rec, const char *name, int required, char **out, char *err,
                   size_t errlen)
{
    avro_value_t f;
    const char *s = NULL;
    size_t n = 0;
    *out = NULL;
    if (dec_field(rec, name, &f) != 0 || avro_value_get_type(&f) == AVRO_NULL)
        return required ? msg_bad(err, errlen, name, "missing") : 0;
    if (avro_value_get_type(&f) != AVRO_STRING || avro_value_get_string(&f, &s, &n) != 0)
        return msg_bad(err, errlen, name, "not a string");
    if (!(*out = strndup(s, n > 0 ? n - 1 : 0)))
        return msg_bad(err, errlen, name, "out of memory");
    return 0;
}

static int dec_uuid(avro_value_t *rec, const char *name, int required, char out[MSG_UUID_LEN],
                    char *err, size_t errlen)
{
    char *s = NULL;
    out[0] = '\0';
    if (dec_str(rec, name, required, &s, err, errlen) != 0)
        return -1;
    if (s && !msg_uuid_valid(s)) {
        free(s);
        return msg_bad(err, errlen, name, "not a 36-character UUID");
    }
    if (s)
        memcpy(out, s, MSG_UUID_LEN);
    free(s);
    return 0;
}

/* Numbers and booleans: absent or null leaves *out (already the default). */
static int dec_num(avro_value_t *rec, const char *name, avro_type_t t, void *out, char *err,
                   size_t errlen)
{
    avro_value_t f;
    int b;
    if (dec_field(rec, name, &f) != 0 || avro_value_get_type(&f) == AVRO_NULL)
        return 0;
    if (avro_value_get_type(&f) != t)
        return msg_bad(err, errlen, name, "unexpected type");
    int rc = t == AVRO_INT32   ? avro_value_get_int(&f, out)
             : t == AVRO_INT64 ? avro_value_get_long(&f, out)
             : t == AVRO_ENUM  ? avro_value_get_enum(&f, out)
                               : avro_value_get_boolean(&f, &b);
    if (rc != 0)
        return msg_bad(err, errlen, name, avro_strerror());
    if (t == AVRO_BOOLEAN)
        *(bool *)out = b != 0;
    return 0;
}

static int dec_list(avro_value_t *rec, const char *name, strlist *l, char *err, size_t errlen)
{
    avro_value_t f, e;
    size_t n = 0;
    if (dec_field(rec, name, &f) != 0)
        return 0;
    if (avro_value_get_type(&f) != AVRO_ARRAY || avro_value_get_size(&f, &n) != 0)
        return msg_bad(err, errlen, name, "not an array");
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t sn;
        if (avro_value_get_by_index(&f, i, &e, NULL) != 0 ||
            avro_value_get_type(&e) != AVRO_STRING || avro_value_get_string(&e, &s, &sn) != 0)
            return msg_bad(err, errlen, name, "element not a string");
        if (strlist_push(l, s) != 0)
            return msg_bad(err, errlen, name, "out of memory");
    }
    return 0;
}

/* A tier name ("" when absent or null); one longer than any tier's name is refused. */
static int dec_tier(avro_value_t *rec, char out[MSG_TIER_LEN], char *err, size_t errlen)
{
    char *s = NULL;
    out[0] = '\0';
    if (dec_str(rec, "tier", 0, &s, err, errlen) != 0)
        return -1;
    if (s && strlen(s) >= MSG_TIER_LEN) {
        free(s);
        return msg_bad(err, errlen, "tier", "longer than any tier's name");
    }
    if (s)
        memcpy(out, s, strlen(s) + 1);
    free(s);
    return 0;
}

/* The day's credit ceiling (0 when absent or null); a ceiling without its end, or a
 * negative one, is refused. */
static int dec_ceiling(avro_value_t *rec, msg_claim *out, char *err, size_t errlen)
{
    if (dec_num(rec, "credits_ceiling", AVRO_INT64, &out->credits_ceiling, err, errlen) != 0 ||
        dec_num(rec, "credits_ceiling_until", AVRO_INT64, &out->credits_ceiling_until_ms, err,
                errlen) != 0)
        return -1;
    if (out->credits_ceiling < 0)
        return msg_bad(err, errlen, "credits_ceiling", "negative");
    if (out->credits_ceiling > 0 && out->credits_ceiling_until_ms <= 0)
        return msg_bad(err, errlen, "credits_ceiling_until", "missing beside credits_ceiling");
    if (out->credits_ceiling == 0)
        out->credits_ceiling_until_ms = 0;
    return 0;
}

static int dec_domain(avro_value_t *rec, char **out, char *err, size_t errlen)
{
    if (dec_str(rec, "domain", 1, out, err, errlen) != 0)
        return -1;
    return **out ? 0 : msg_bad(err, errlen, "domain", "empty");
}

int msg_claim_decode(wire *w, const void *buf, size_t len, msg_claim *out, char *err, size_t errlen)
{
    wire_decoded d;
    memset(out, 0, sizeof *out);
    if (wire_decode_value(w, WIRE_CLAIM, buf, len, &d, err, errlen) != 0)
        return -1;
    avro_value_t *r = &d.value;
    int rc = dec_uuid(r, "domain_id", 1, out->domain_id, err, errlen) ||
                     dec_uuid(r, "claim_id", 1, out->claim_id, err, errlen) ||
                     dec_uuid(r, "tenant_id", 0, out->tenant_id, err, errlen) ||
                     dec_domain(r, &out->domain, err, errlen) ||
                     dec_num(r, "attempt", AVRO_INT32, &out->attempt, err, errlen) ||
                     dec_num(r, "claimed_at", AVRO_INT64, &out->claimed_at_ms, err, errlen) ||
                     dec_num(r, "lease_expires_at", AVRO_INT64, &out->lease_expires_at_ms, err,
                             errlen) ||
                     dec_tier(r, out->tier, err, errlen) || dec_ceiling(r, out, err, errlen)
                 ? -1
                 : 0;
    wire_decoded_free(&d);
    if (rc != 0)
        msg_claim_free(out);
    return rc;
}

int msg_handoff_decode(wire *w, const void *buf, size_t len, msg_handoff *out, char *err,
                       size_t errlen)
{
    wire_decoded d;
    memset(out, 0, sizeof *out);
    if (wire_decode_value(w, WIRE_HANDOFF, buf, len, &d, err, errlen) != 0)
        return -1;
    avro_value_t *r = &d.value;
    int rc = dec_uuid(r, "event_id", 1, out->event_id, err, errlen) ||
                     dec_uuid(r, "domain_id", 1, out->domain_id, err, errlen) ||
                     dec_uuid(r, "claim_id", 1, out->claim_id, err, errlen) ||
                     dec_uuid(r, "tenant_id", 0, out->tenant_id, err, errlen) ||
                     dec_domain(r, &out->domain, err, errlen) ||
                     dec_num(r, "completed_at", AVRO_INT64, &out->completed_at_ms, err, errlen)
                 ? -1
                 : 0;
    wire_decoded_free(&d);
    if (rc != 0)
        msg_handoff_free(out);
    return rc;
}

static int dec_meta_text(avro_value_t *m, const char *name, char **out, char *err, size_t errlen)
{
    return dec_str(m, name, 0, out, err, errlen);
}

static int dec_meta_bool(avro_value_t *m, const char *name, bool *out, char *err, size_t errlen)
{
    return dec_num(m, name, AVRO_BOOLEAN, out, err, errlen);
}

/* The fields of META_FIELDS, each by the decoder of its C type. */
static int dec_meta(avro_value_t *res, msg_result *out, char *err, size_t errlen)
{
    avro_value_t m;
    meta_page *p = &out->meta;
    if (dec_field(res, "metadata", &m) != 0 || avro_value_get_type(&m) == AVRO_NULL)
        return 0;
    if (avro_value_get_type(&m) != AVRO_RECORD)
        return msg_bad(err, errlen, "metadata", "not a record");
    out->has_meta = true;
#define DEC_META(member, kind, avro, column)                                                 \
    if (_Generic(&p->member, char **: dec_meta_text, bool *: dec_meta_bool,                \
                 strlist *: dec_list)(&m, avro, &p->member, err, errlen) != 0) \
        return -1;
    META_FIELDS(DEC_META)
#undef DEC_META
    return 0;
}

int msg_result_decode(wire *w, const void *buf, size_t len, msg_result *out, char *err,
                      size_t errlen)
{
    wire_decoded d;
    int outcome = -1;
    memset(out, 0, sizeof *out);
    if (wire_decode_value(w, WIRE_RESULT, buf, len, &d, err, errlen) != 0)
        return -1;
    avro_value_t *r = &d.value;
    int rc = dec_uuid(r, "domain_id", 1, out->domain_id, err, errlen) ||
                     dec_uuid(r, "claim_id", 1, out->claim_id, err, errlen) ||
                     dec_domain(r, &out->domain, err, errlen) ||
                     dec_num(r, "attempt", AVRO_INT32, &out->attempt, err, errlen) ||
                     dec_num(r, "outcome", AVRO_ENUM, &outcome, err, errlen) ||
                     dec_str(r, "error", 0, &out->error, err, errlen) ||
                     dec_num(r, "retryable", AVRO_BOOLEAN, &out->retryable, err, errlen) ||
                     dec_num(r, "http_status", AVRO_INT32, &out->http_status, err, errlen) ||
                     dec_num(r, "scraped_at", AVRO_INT64, &out->scraped_at_ms, err, errlen) ||
                     dec_num(r, "api_ms", AVRO_INT64, &out->api_ms, err, errlen) ||
                     dec_num(r, "credits", AVRO_INT64, &out->credits, err, errlen) ||
                     dec_tier(r, out->tier, err, errlen) || dec_meta(r, out, err, errlen)
                 ? -1
                 : 0;
    if (rc == 0 && outcome != RESULT_SUCCESS && outcome != RESULT_FAILURE)
        rc = msg_bad(err, errlen, "outcome", "missing or unknown");
    if (rc == 0 && out->credits < 0)
        rc = msg_bad(err, errlen, "credits", "negative");
    out->outcome = outcome == RESULT_FAILURE ? RESULT_FAILURE : RESULT_SUCCESS;
    wire_decoded_free(&d);
    if (rc != 0)
        msg_result_free(out);
    return rc;
}

void msg_claim_free(msg_claim *c)
{
    free(c->domain);
    memset(c, 0, sizeof *c);
}

void msg_result_free(msg_result *r)
{
    free(r->domain);
    free(r->error);
    meta_page_free(&r->meta);
    memset(r, 0, sizeof *r);
}

void msg_handoff_free(msg_handoff *h)
{
    free(h->domain);
    memset(h, 0, sizeof *h);
}
