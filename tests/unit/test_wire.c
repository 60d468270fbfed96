/* Unit tests of common/wire*.c and msg.c: canonical form, round trips, resolution, hostile input,
 * interop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "msg.h"
#include "wire_internal.h"

#define D1 "0b6f3c2e-8a1d-4c5e-9f00-1234567890ab"
#define C1 "5d2e7f10-3b4c-4d5e-8f6a-7b8c9d0e1f2a"
#define T1 "c0ffee00-1111-4222-8333-444455556666"
#define E1 "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

static char errbuf[512];

static wire *new_wire(const char *dir, const char *registry)
{
    wire *w = wire_new(dir, registry, errbuf, sizeof errbuf);
    if (!w)
        fail_msg("wire_new(%s): %s", dir, errbuf);
    return w;
}

/* ---- samples: the same values as tests/data/gen_interop.py ---- */

static void sample_claim(const char *name, msg_claim *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->domain_id, D1);
    strcpy(c->claim_id, C1);
    if (strcmp(name, "claim_full") == 0) {
        strcpy(c->tenant_id, T1);
        c->domain = strdup("example.com");
        c->attempt = 1;
        c->claimed_at_ms = 1795427200000;
        c->lease_expires_at_ms = 1795427500000;
        strcpy(c->tier, "render");
        c->credits_ceiling = 1250;
        c->credits_ceiling_until_ms = 1795478400000; /* the next UTC midnight */
    } else {
        c->domain = strdup("b\xc3\xbc"
                           "cher.example");
        c->attempt = 2147483647;
        c->claimed_at_ms = -1;
        c->lease_expires_at_ms = 0;
    }
}

static void sample_meta(meta_page *m)
{
    m->title = strdup("Caf\xc3\xa9 \xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80");
    m->description = strdup("B\xc3\xbc"
                            "cher & more");
    m->favicon_url = strdup("https://example.com/favicon.ico");
    m->language = strdup("de-DE");
    m->is_wordpress = true;
    m->wordpress_version = strdup("6.4.2");
    assert_int_equal(strlist_push(&m->tech_stack, "WordPress"), 0);
    assert_int_equal(strlist_push(&m->tech_stack, "PHP"), 0);
    assert_int_equal(strlist_push(&m->tech_stack, "jQuery"), 0);
    assert_int_equal(strlist_push(&m->email_addresses, "info@example.com"), 0);
    m->facebook_url = strdup("https://facebook.com/example");
    m->youtube_url = strdup("https://youtube.com/@ex");
}

static void sample_result(const char *name, msg_result *r)
{
    memset(r, 0, sizeof *r);
    strcpy(r->domain_id, D1);
    strcpy(r->claim_id, C1);
    r->domain = strdup("example.com");
    if (strcmp(name, "result_success") == 0) {
        r->attempt = 3;
        r->outcome = RESULT_SUCCESS;
        r->http_status = 200;
        r->scraped_at_ms = 1795427203456;
        r->api_ms = 2345;
        r->credits = 35;
        strcpy(r->tier, "ultra_premium");
        r->has_meta = true;
        sample_meta(&r->meta);
    } else {
        r->attempt = 5;
        r->outcome = RESULT_FAILURE;
        r->error = strdup("timeout after 70000 ms");
        r->retryable = true;
        r->scraped_at_ms = 1795427270000;
        r->api_ms = 70001;
    }
}

static void sample_handoff(const char *name, msg_handoff *h)
{
    memset(h, 0, sizeof *h);
    strcpy(h->event_id, E1);
    strcpy(h->domain_id, D1);
    strcpy(h->claim_id, C1);
    if (strcmp(name, "handoff_full") == 0) {
        strcpy(h->tenant_id, T1);
        h->domain = strdup("example.com");
        h->completed_at_ms = 1795427204000;
    } else {
        h->domain = strdup("\xd0\xb4\xd0\xbe\xd0\xbc\xd0\xb5\xd0\xbd.\xd1\x80\xd1\x84");
        h->completed_at_ms = INT64_MAX;
    }
}

/* ---- comparisons ---- */

static void assert_str_eq_null(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_list_eq(const strlist *a, const strlist *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        assert_string_equal(a->v[i], b->v[i]);
}

static void assert_claim_eq(const msg_claim *a, const msg_claim *b)
{
    assert_string_equal(a->domain_id, b->domain_id);
    assert_string_equal(a->claim_id, b->claim_id);
    assert_string_equal(a->tenant_id, b->tenant_id);
    assert_string_equal(a->domain, b->domain);
    assert_int_equal(a->attempt, b->attempt);
    assert_int_equal(a->claimed_at_ms, b->claimed_at_ms);
    assert_int_equal(a->lease_expires_at_ms, b->lease_expires_at_ms);
    assert_string_equal(a->tier, b->tier);
    assert_int_equal(a->credits_ceiling, b->credits_ceiling);
    assert_int_equal(a->credits_ceiling_until_ms, b->credits_ceiling_until_ms);
}

static void assert_meta_eq(const meta_page *a, const meta_page *b)
{
    assert_str_eq_null(a->title, b->title);
    assert_str_eq_null(a->description, b->description);
    assert_str_eq_null(a->favicon_url, b->favicon_url);
    assert_str_eq_null(a->logo_url, b->logo_url);
    assert_str_eq_null(a->language, b->language);
    assert_int_equal(a->is_wordpress, b->is_wordpress);
    assert_str_eq_null(a->wordpress_version, b->wordpress_version);
    assert_int_equal(a->has_elementor, b->has_elementor);
    assert_list_eq(&a->tech_stack, &b->tech_stack);
    assert_list_eq(&a->email_addresses, &b->email_addresses);
    assert_list_eq(&a->phone_numbers, &b->phone_numbers);
    assert_str_eq_null(a->facebook_url, b->facebook_url);
    assert_str_eq_null(a->twitter_url, b->twitter_url);
    assert_str_eq_null(a->linkedin_url, b->linkedin_url);
    assert_str_eq_null(a->instagram_url, b->instagram_url);
    assert_str_eq_null(a->youtube_url, b->youtube_url);
}

static void assert_result_eq(const msg_result *a, const msg_result *b)
{
    assert_string_equal(a->domain_id, b->domain_id);
    assert_string_equal(a->claim_id, b->claim_id);
    assert_string_equal(a->domain, b->domain);
    assert_int_equal(a->attempt, b->attempt);
    assert_int_equal(a->outcome, b->outcome);
    assert_str_eq_null(a->error, b->error);
    assert_int_equal(a->retryable, b->retryable);
    assert_int_equal(a->http_status, b->http_status);
    assert_int_equal(a->scraped_at_ms, b->scraped_at_ms);
    assert_int_equal(a->api_ms, b->api_ms);
    assert_int_equal(a->credits, b->credits);
    assert_string_equal(a->tier, b->tier);
    assert_int_equal(a->has_meta, b->has_meta);
    assert_meta_eq(&a->meta, &b->meta);
}

static void assert_handoff_eq(const msg_handoff *a, const msg_handoff *b)
{
    assert_string_equal(a->event_id, b->event_id);
    assert_string_equal(a->domain_id, b->domain_id);
    assert_string_equal(a->claim_id, b->claim_id);
    assert_string_equal(a->tenant_id, b->tenant_id);
    assert_string_equal(a->domain, b->domain);
    assert_int_equal(a->completed_at_ms, b->completed_at_ms);
}

/* Encodes sample name with w, decodes it back, compares; returns the bytes (caller frees). */
static void *roundtrip(wire *w, const char *name, size_t *len)
{
    void *buf = NULL;
    if (strncmp(name, "claim", 5) == 0) {
        msg_claim a, b;
        sample_claim(name, &a);
        assert_int_equal(msg_claim_encode(w, &a, &buf, len, errbuf, sizeof errbuf), 0);
        if (msg_claim_decode(w, buf, *len, &b, errbuf, sizeof errbuf) != 0)
            fail_msg("%s: %s", name, errbuf);
        assert_claim_eq(&a, &b);
        msg_claim_free(&a);
        msg_claim_free(&b);
    } else if (strncmp(name, "result", 6) == 0) {
        msg_result a, b;
        sample_result(name, &a);
        assert_int_equal(msg_result_encode(w, &a, &buf, len, errbuf, sizeof errbuf), 0);
        if (msg_result_decode(w, buf, *len, &b, errbuf, sizeof errbuf) != 0)
            fail_msg("%s: %s", name, errbuf);
        assert_result_eq(&a, &b);
        msg_result_free(&a);
        msg_result_free(&b);
    } else {
        msg_handoff a, b;
        sample_handoff(name, &a);
        assert_int_equal(msg_handoff_encode(w, &a, &buf, len, errbuf, sizeof errbuf), 0);
        if (msg_handoff_decode(w, buf, *len, &b, errbuf, sizeof errbuf) != 0)
            fail_msg("%s: %s", name, errbuf);
        assert_handoff_eq(&a, &b);
        msg_handoff_free(&a);
        msg_handoff_free(&b);
    }
    return buf;
}

static const char *const sample_names[] = {"claim_full",     "claim_nulls",  "result_success",
                                           "result_failure", "handoff_full", "handoff_nulls"};
#define NSAMPLES (sizeof sample_names / sizeof sample_names[0])

/* ---- Parsing Canonical Form: the Avro project's vectors ---- */

/* Reads the next "<<TAG value" (one line) or "<<TAG\n...\nTAG" block; value malloc'ed. */
static char *vec_block(FILE *f, char *tag, size_t taglen)
{
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "<<", 2) != 0)
            continue;
        line[strcspn(line, "\n")] = '\0';
        char *sp = strchr(line + 2, ' ');
        if (sp) {
            *sp = '\0';
            snprintf(tag, taglen, "%.31s", line + 2);
            return strdup(sp + 1);
        }
        snprintf(tag, taglen, "%.31s", line + 2);
        size_t cap = 8192, len = 0;
        char *val = calloc(1, cap);
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, tag, strlen(tag)) == 0 && line[strlen(tag)] == '\n')
                break;
            assert_true(len + strlen(line) + 1 < cap);
            strcpy(val + len, line);
            len += strlen(line);
        }
        return val;
    }
    return NULL;
}

static void test_canonical_vectors(void **state)
{
    (void)state;
    char tag[32], *input = NULL, *val;
    char *canon = NULL;
    int ncanon = 0, nfp = 0;
    FILE *f = fopen(WF4_TEST_DATA "/avro-schema-tests.txt", "r");
    assert_non_null(f);
    while ((val = vec_block(f, tag, sizeof tag))) {
        if (strcmp(tag, "INPUT") == 0) {
            free(input);
            input = val;
            continue;
        }
        assert_non_null(input);
        uint64_t fp;
        if (strcmp(tag, "canonical") == 0) {
            free(canon);
            canon = NULL;
            if (wire_fingerprint(input, &fp, &canon, errbuf, sizeof errbuf) != 0)
                fail_msg("%s: %s", input, errbuf);
            assert_string_equal(canon, val);
            ncanon++;
        } else if (strcmp(tag, "fingerprint") == 0) {
            assert_int_equal(wire_fingerprint(input, &fp, NULL, errbuf, sizeof errbuf), 0);
            assert_int_equal((long long)(int64_t)fp, strtoll(val, NULL, 10));
            nfp++;
        }
        free(val);
    }
    free(input);
    free(canon);
    fclose(f);
    print_message("checked %d canonical forms and %d fingerprints\n", ncanon, nfp);
    assert_true(ncanon >= 30 && nfp >= 15);
}

/* ---- round trips in both framings ---- */

static void test_roundtrip_single_object(void **state)
{
    (void)state;
    wire *w = new_wire(WF4_SCHEMA_DIR_DEFAULT, NULL);
    for (size_t i = 0; i < NSAMPLES; i++) {
        size_t len;
        uint8_t *b = roundtrip(w, sample_names[i], &len);
        assert_int_equal(b[0], 0xC3);
        assert_int_equal(b[1], 0x01);
        free(b);
    }
    wire_free(w);
}

static void test_roundtrip_confluent(void **state)
{
    (void)state;
    /* An unreachable registry: ids come from the test hook, lookups must not be needed. */
    wire *w = new_wire(WF4_SCHEMA_DIR_DEFAULT, "http://127.0.0.1:9/apis/ccompat/v7");
    wire *plain = new_wire(WF4_SCHEMA_DIR_DEFAULT, NULL);
    for (int s = 0; s < WIRE_NSCHEMAS; s++)
        assert_int_equal(wire_test_set_id(w, (wire_schema)s, 41 + s), 0);
    for (size_t i = 0; i < NSAMPLES; i++) {
        size_t len, plen;
        uint8_t *b = roundtrip(w, sample_names[i], &len);
        uint8_t *p = roundtrip(plain, sample_names[i], &plen);
        assert_int_equal(b[0], 0);
        assert_int_equal(b[4], 41 + (sample_names[i][0] == 'r') + 2 * (sample_names[i][0] == 'h'));
        /* Same payload after either header; the plain wire also reads it back if it knows
         * the id, and the registry wire reads single-object messages. */
        assert_int_equal(len - 5, plen - 10);
        assert_memory_equal(b + 5, p + 10, len - 5);
        char *json = NULL;
        assert_int_equal(wire_decode_json(w, p, plen, &json, errbuf, sizeof errbuf), 0);
        free(json);
        assert_int_not_equal(wire_decode_json(plain, b, len, &json, errbuf, sizeof errbuf), 0);
        assert_non_null(strstr(errbuf, "no registry"));
        free(b);
        free(p);
    }
    /* Unknown id with an unreachable registry: a clean error. */
    uint8_t unk[] = {0, 0, 0, 3, 0xe7, 0};
    msg_claim c;
    assert_int_not_equal(msg_claim_decode(w, unk, sizeof unk, &c, errbuf, sizeof errbuf), 0);
    print_message("unknown id, registry down: %s\n", errbuf);
    wire_free(w);
    wire_free(plain);
}

static void test_result_empty_meta(void **state)
{
    (void)state;
    wire *w = new_wire(WF4_SCHEMA_DIR_DEFAULT, NULL);
    msg_result a, b;
    void *buf;
    size_t len;
    memset(&a, 0, sizeof a);
    strcpy(a.domain_id, D1);
    strcpy(a.claim_id, C1);
    a.domain = strdup("x.example");
    a.has_meta = true; /* every string null, every list empty */
    a.http_status = -1;
    assert_int_equal(msg_result_encode(w, &a, &buf, &len, errbuf, sizeof errbuf), 0);
    assert_int_equal(msg_result_decode(w, buf, len, &b, errbuf, sizeof errbuf), 0);
    assert_result_eq(&a, &b);
    char *json;
    assert_int_equal(wire_decode_json(w, buf, len, &json, errbuf, sizeof errbuf), 0);
    assert_non_null(strstr(json, "\"tech_stack\":[]"));
    assert_non_null(strstr(json, "\"outcome\":\"SUCCESS\""));
    free(json);
    free(buf);
    msg_result_free(&a);
    msg_result_free(&b);
    wire_free(w);
}

static void test_encode_rejects(void **state)
{
    (void)state;
    wire *w = new_wire(WF4_SCHEMA_DIR_DEFAULT, NULL);
    msg_claim c;
    void *buf = NULL;
    size_t len;
    sample_claim("claim_full", &c);
    strcpy(c.claim_id, "not-a-uuid");
    assert_int_not_equal(msg_claim_encode(w, &c, &buf, &len, errbuf, sizeof errbuf), 0);
    assert_non_null(strstr(errbuf, "claim_id"));
    strcpy(c.claim_id, C1);
    free(c.domain);
    c.domain = strdup("bad\xff");
    assert_int_not_equal(msg_claim_encode(w, &c, &buf, &len, errbuf, sizeof errbuf), 0);
    msg_claim_free(&c);
    sample_claim("claim_full", &c);
    c.credits_ceiling_until_ms = 0; /* a ceiling without the end of its day */
    assert_int_not_equal(msg_claim_encode(w, &c, &buf, &len, errbuf, sizeof errbuf), 0);
    assert_non_null(strstr(errbuf, "credits_ceiling_until"));
    msg_claim_free(&c);
    wire *r = new_wire(WF4_SCHEMA_DIR_DEFAULT, "http://127.0.0.1:9");
    sample_claim("claim_full", &c);
    assert_int_not_equal(msg_claim_encode(r, &c, &buf, &len, errbuf, sizeof errbuf), 0);
    assert_non_null(strstr(errbuf, "not registered"));
    msg_claim_free(&c);
    wire_free(r);
    wire_free(w);
}

static void test_decode_json(void **state)
{
    (void)state;
    wire *w = new_wire(WF4_SCHEMA_DIR_DEFAULT, NULL);
    size_t len;
    void *b = roundtrip(w, "claim_full", &len);
    char *json;
    assert_int_equal(wire_decode_json(w, b, len, &json, errbuf, sizeof errbuf), 0);
    assert_string_equal(json, "{\"domain_id\":\"" D1 "\",\"claim_id\":\"" C1
                              "\",\"tenant_id\":\"" T1 "\",\"domain\":\"example.com\","
                              "\"attempt\":1,\"claimed_at\":1795427200000,"
                              "\"lease_expires_at\":1795427500000,\"tier\":\"render\","
                              "\"credits_ceiling\":1250,"
                              "\"credits_ceiling_until\":1795478400000}");
    free(json);
    free(b);
    wire_free(w);
}

/* ---- a byte builder for hand-made (and hostile) messages ---- */

typedef struct bb {
    uint8_t b[4096];
    size_t n;
} bb;

static void bb_raw(bb *x, const void *p, size_t n)
{
    assert_true(x->n + n <= sizeof x->b);
    memcpy(x->b + x->n, p, n);
    x->n += n;
}

static void bb_byte(bb *x, uint8_t v)
{
    bb_raw(x, &v, 1);
}

static void bb_long(bb *x, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z > 0x7f) {
        bb_byte(x, (uint8_t)(z | 0x80));
        z >>= 7;
    }
    bb_byte(x, (uint8_t)z);
}

static void bb_str(bb *x, const char *s)
{
    bb_long(x, (int64_t)strlen(s));
    bb_raw(x, s, strlen(s));
}

static void bb_header(bb *x, wire *w, wire_schema s)
{
    x->n = 0;
    bb_byte(x, 0xC3);
    bb_byte(x, 0x01);
    for (int i = 0; i < 8; i++)
        bb_byte(x, (uint8_t)(w->own[s]->fp >> (8 * i)));
}

/* Result prefix up to (not including) retryable: ids, domain, attempt, outcome, error. */
static void bb_result_head(bb *x, wire *w, int outcome)
{
    bb_header(x, w, WIRE_RESULT);
    bb_str(x, D1);
    bb_str(x, C1);
    bb_str(x, "a.example");
    bb_long(x, 1);
    bb_long(x, outcome);
    bb_long(x, 0); /* error: null */
}

/* Rest of a result after retryable, metadata given by the caller's bytes. */
static void bb_result_tail(bb *x)
{
    bb_long(x, 0); /* http_status: null */
    bb_long(x, 1000);
    bb_long(x, 10);
    bb_long(x, 0); /* credits */
    bb_long(x, 0); /* tier: null */
}

/* ---- writer/reader resolution ---- */

static char tmpdirs[2][64];

/* dir/avro/{claim,result,handoff}.avsc (claim from claim_src) + dir/avro/history/extra. */
static void make_schema_dir(char *dir, const char *claim_src, const char *extra)
{
    char cmd[2048];
    strcpy(dir, "/tmp/wf4-wire-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/avro/history && cp %s %s/avro/claim.avsc && "
             "cp %s/avro/result.avsc %s/avro/handoff.avsc %s/avro/ && cp %s %s/avro/history/",
             dir, claim_src, dir, WF4_SCHEMA_DIR_DEFAULT, WF4_SCHEMA_DIR_DEFAULT, dir, extra, dir);
    assert_int_equal(system(cmd), 0);
}

static void rm_dir(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Old writer (v0, no tenant_id) -> current reader: tenant_id takes its default (null). */
static void test_resolution_old_writer(void **state)
{
    (void)state;
    make_schema_dir(tmpdirs[0], WF4_SCHEMA_DIR_DEFAULT "/avro/claim.avsc",
                    WF4_TEST_DATA "/claim_v0.avsc");
    wire *w = new_wire(tmpdirs[0], NULL);
    wire *old = new_wire(tmpdirs[0], NULL);
    uint64_t fp0;
    char *canon;
    FILE *f = fopen(WF4_TEST_DATA "/claim_v0.avsc", "r");
    char text[4096] = "";
    assert_non_null(f);
    assert_true(fread(text, 1, sizeof text - 1, f) > 0);
    fclose(f);
    assert_int_equal(wire_fingerprint(text, &fp0, &canon, errbuf, sizeof errbuf), 0);
    free(canon);
    bb x = {.n = 0};
    bb_byte(&x, 0xC3);
    bb_byte(&x, 0x01);
    for (int i = 0; i < 8; i++)
        bb_byte(&x, (uint8_t)(fp0 >> (8 * i)));
    bb_str(&x, D1);
    bb_str(&x, C1);
    bb_str(&x, "old.example");
    bb_long(&x, 7);
    bb_long(&x, 1700000000000);
    bb_long(&x, 1700000300000);
    msg_claim c;
    if (msg_claim_decode(w, x.b, x.n, &c, errbuf, sizeof errbuf) != 0)
        fail_msg("v0 -> v1: %s", errbuf);
    assert_string_equal(c.domain_id, D1);
    assert_string_equal(c.tenant_id, "");
    assert_string_equal(c.domain, "old.example");
    assert_int_equal(c.attempt, 7);
    assert_int_equal(c.lease_expires_at_ms, 1700000300000);
    msg_claim_free(&c);
    /* A v0 message is not a result, whatever resolution would allow. */
    msg_result r;
    assert_int_not_equal(msg_result_decode(w, x.b, x.n, &r, errbuf, sizeof errbuf), 0);
    wire_free(old);
    wire_free(w);
    rm_dir(tmpdirs[0]);
}

/* New writer (current, with tenant_id) -> old reader (v0): the extra field is skipped. */
static void test_resolution_new_writer(void **state)
{
    (void)state;
    make_schema_dir(tmpdirs[1], WF4_TEST_DATA "/claim_v0.avsc",
                    WF4_SCHEMA_DIR_DEFAULT "/avro/claim.avsc");
    wire *cur = new_wire(WF4_SCHEMA_DIR_DEFAULT, NULL);
    wire *old = new_wire(tmpdirs[1], NULL);
    msg_claim a, b;
    void *buf;
    size_t len;
    sample_claim("claim_full", &a);
    assert_int_equal(msg_claim_encode(cur, &a, &buf, &len, errbuf, sizeof errbuf), 0);
    if (msg_claim_decode(old, buf, len, &b, errbuf, sizeof errbuf) != 0)
        fail_msg("v1 -> v0: %s", errbuf);
    strcpy(a.tenant_id, ""); /* the old reader has no such fields */
    strcpy(a.tier, "");
    a.credits_ceiling = a.credits_ceiling_until_ms = 0;
    assert_claim_eq(&a, &b);
    char *json;
    assert_int_equal(wire_decode_json(old, buf, len, &json, errbuf, sizeof errbuf), 0);
    assert_non_null(strstr(json, T1)); /* the writer's view */
    free(json);
    free(buf);
    msg_claim_free(&a);
    msg_claim_free(&b);
    wire_free(old);
    wire_free(cur);
    rm_dir(tmpdirs[1]);
}

/* A result written before credits and tier (schemas/avro/history/result_v1.avsc) -> the
 * current reader, which knows that writer from history/: credits 0, tier null. */
static void test_resolution_result_v1(void **state)
{
    (void)state;
    char dir[64], cmd[1024];
    strcpy(dir, "/tmp/wf4-wire-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/avro && cp %s/avro/claim.avsc %s/avro/handoff.avsc %s/avro/ && "
             "cp %s/avro/history/result_v1.avsc %s/avro/result.avsc",
             dir, WF4_SCHEMA_DIR_DEFAULT, WF4_SCHEMA_DIR_DEFAULT, dir, WF4_SCHEMA_DIR_DEFAULT, dir);
    assert_int_equal(system(cmd), 0);
    wire *cur = new_wire(WF4_SCHEMA_DIR_DEFAULT, NULL);
    wire *old = new_wire(dir, NULL);
    assert_true(old->own[WIRE_RESULT]->fp != cur->own[WIRE_RESULT]->fp);
    bb x;
    bb_result_head(&x, old, 0); /* framed with v1's fingerprint */
    bb_byte(&x, 0);             /* retryable */
    bb_long(&x, 1);             /* http_status: 200 */
    bb_long(&x, 200);
    bb_long(&x, 1000); /* scraped_at */
    bb_long(&x, 10);   /* api_ms */
    bb_long(&x, 0);    /* metadata: null */
    msg_result r;
    if (msg_result_decode(cur, x.b, x.n, &r, errbuf, sizeof errbuf) != 0)
        fail_msg("result v1 -> current: %s", errbuf);
    assert_int_equal(r.http_status, 200);
    assert_int_equal(r.api_ms, 10);
    assert_int_equal(r.credits, 0);
    assert_string_equal(r.tier, "");
    msg_result_free(&r);
    wire_free(old);
    wire_free(cur);
    rm_dir(dir);
}

/* A claim written before the credit ceiling (schemas/avro/history/claim_v2.avsc) -> the
 * current reader: no ceiling (0), the rest as written. */
static void test_resolution_claim_v2(void **state)
{
    (void)state;
    char dir[64], cmd[1024];
    strcpy(dir, "/tmp/wf4-wire-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/avro && cp %s/avro/result.avsc %s/avro/handoff.avsc %s/avro/ && "
             "cp %s/avro/history/claim_v2.avsc %s/avro/claim.avsc",
             dir, WF4_SCHEMA_DIR_DEFAULT, WF4_SCHEMA_DIR_DEFAULT, dir, WF4_SCHEMA_DIR_DEFAULT, dir);
    assert_int_equal(system(cmd), 0);
    wire *cur = new_wire(WF4_SCHEMA_DIR_DEFAULT, NULL);
    wire *old = new_wire(dir, NULL);
    assert_true(old->own[WIRE_CLAIM]->fp != cur->own[WIRE_CLAIM]->fp);
    msg_claim a, b;
    sample_claim("claim_full", &a);
    a.credits_ceiling = a.credits_ceiling_until_ms = 0; /* v2 has no such fields */
    bb x;
    bb_header(&x, old, WIRE_CLAIM); /* framed with v2's fingerprint */
    bb_str(&x, D1);
    bb_str(&x, C1);
    bb_long(&x, 0);
    bb_str(&x, "example.com");
    bb_long(&x, 1);
    bb_long(&x, 1795427200000);
    bb_long(&x, 1795427500000);
    bb_long(&x, 1); /* tier: "render" */
    bb_str(&x, "render");
    if (msg_claim_decode(cur, x.b, x.n, &b, errbuf, sizeof errbuf) != 0)
        fail_msg("claim v2 -> current: %s", errbuf);
    strcpy(a.tenant_id, "");
    assert_claim_eq(&a, &b);
    msg_claim_free(&a);
    msg_claim_free(&b);
    wire_free(old);
    wire_free(cur);
    rm_dir(dir);
}

/* ---- hostile input ---- */

static void claim_ids(bb *x, wire *w)
{
    bb_header(x, w, WIRE_CLAIM);
    bb_str(x, D1);
    bb_str(x, C1);
}

static void claim_valid(bb *x, wire *w)
{
    claim_ids(x, w);
    bb_long(x, 0);
    bb_str(x, "example.com");
    bb_long(x, 1);
    bb_long(x, 1000);
    bb_long(x, 2000);
    bb_long(x, 0); /* tier: null */
    bb_long(x, 0); /* credits_ceiling: null */
    bb_long(x, 0); /* credits_ceiling_until: null */
}

static void h_neg_len(bb *x, wire *w)
{
    bb_header(x, w, WIRE_CLAIM);
    bb_long(x, -1);
}
static void h_huge_len(bb *x, wire *w)
{
    bb_header(x, w, WIRE_CLAIM);
    bb_long(x, 1LL << 40);
}
static void h_union_m1(bb *x, wire *w)
{
    claim_ids(x, w);
    bb_long(x, -1);
}
static void h_union_2(bb *x, wire *w)
{
    claim_ids(x, w);
    bb_long(x, 2);
}
static void h_bool_2(bb *x, wire *w)
{
    bb_result_head(x, w, 0);
    bb_byte(x, 2);
    bb_result_tail(x);
    bb_long(x, 0);
}
static void claim_to_attempt(bb *x, wire *w)
{
    claim_ids(x, w);
    bb_long(x, 0);
    bb_str(x, "example.com");
}
static void h_int_33bit(bb *x, wire *w)
{
    claim_to_attempt(x, w);
    bb_long(x, 1LL << 32);
    bb_long(x, 1);
    bb_long(x, 2);
}
static void h_int_6bytes(bb *x, wire *w)
{
    claim_to_attempt(x, w);
    bb_raw(x, "\x82\x80\x80\x80\x80\x00", 6);
    bb_long(x, 1);
    bb_long(x, 2);
}
static void h_long_11bytes(bb *x, wire *w)
{
    claim_to_attempt(x, w);
    bb_long(x, 1);
    bb_raw(x, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11);
    bb_long(x, 2);
}
static void h_long_65bit(bb *x, wire *w)
{
    claim_to_attempt(x, w);
    bb_long(x, 1);
    bb_raw(x, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x03", 10);
    bb_long(x, 2);
}
static void h_truncated(bb *x, wire *w)
{
    claim_valid(x, w);
    x->n -= 3;
}
static void h_trailing(bb *x, wire *w)
{
    claim_valid(x, w);
    bb_byte(x, 0);
}
static void h_bad_magic(bb *x, wire *w)
{
    claim_valid(x, w);
    x->b[0] = 0x01;
}
static void h_unknown_fp(bb *x, wire *w)
{
    claim_valid(x, w);
    memset(x->b + 2, 0x11, 8);
}
static void h_unknown_id(bb *x, wire *w)
{
    bb y;
    claim_valid(&y, w);
    x->n = 0;
    bb_raw(x, "\x00\x00\x00\x00\x07", 5);
    bb_raw(x, y.b + 10, y.n - 10);
}
static void claim_domain(bb *x, wire *w, const char *domain)
{
    claim_ids(x, w);
    bb_long(x, 0);
    bb_str(x, domain);
    bb_long(x, 1);
    bb_long(x, 1000);
    bb_long(x, 2000);
    bb_long(x, 0); /* tier: null */
    bb_long(x, 0); /* credits_ceiling: null */
    bb_long(x, 0); /* credits_ceiling_until: null */
}
static void h_bad_utf8(bb *x, wire *w)
{
    claim_domain(x, w, "\xc3\x28.example");
}
static void h_overlong(bb *x, wire *w)
{
    claim_domain(x, w, "\xc0\xaf.example");
}
static void h_surrogate(bb *x, wire *w)
{
    claim_domain(x, w, "\xed\xa0\x80.example");
}
static void h_nul(bb *x, wire *w)
{
    claim_ids(x, w);
    bb_long(x, 0);
    bb_long(x, 3);
    bb_raw(x, "a\0b", 3);
    bb_long(x, 1);
    bb_long(x, 1000);
    bb_long(x, 2000);
    bb_long(x, 0); /* tier: null */
    bb_long(x, 0); /* credits_ceiling: null */
    bb_long(x, 0); /* credits_ceiling_until: null */
}
/* A claim whose ceiling is (ceiling, until), each null when given as 0. */
static void claim_ceiling(bb *x, wire *w, int64_t ceiling, int64_t until)
{
    claim_to_attempt(x, w);
    bb_long(x, 1);
    bb_long(x, 1000);
    bb_long(x, 2000);
    bb_long(x, 0); /* tier: null */
    bb_long(x, ceiling != 0);
    if (ceiling != 0)
        bb_long(x, ceiling);
    bb_long(x, until != 0);
    if (until != 0)
        bb_long(x, until);
}
static void h_ceiling_neg(bb *x, wire *w)
{
    claim_ceiling(x, w, -5, 86400000);
}
static void h_ceiling_alone(bb *x, wire *w)
{
    claim_ceiling(x, w, 1250, 0);
}
static void h_wrong_type(bb *x, wire *w)
{
    claim_valid(x, w);
}
static void h_not_uuid(bb *x, wire *w)
{
    bb_header(x, w, WIRE_CLAIM);
    bb_str(x, "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz");
    bb_str(x, C1);
    bb_long(x, 0);
    bb_str(x, "example.com");
    bb_long(x, 1);
    bb_long(x, 1000);
    bb_long(x, 2000);
    bb_long(x, 0); /* tier: null */
    bb_long(x, 0); /* credits_ceiling: null */
    bb_long(x, 0); /* credits_ceiling_until: null */
}
static void h_short_uuid(bb *x, wire *w)
{
    bb_header(x, w, WIRE_CLAIM);
    bb_str(x, D1);
    bb_str(x, "5d2e7f10");
    bb_long(x, 0);
    bb_str(x, "example.com");
    bb_long(x, 1);
    bb_long(x, 1000);
    bb_long(x, 2000);
    bb_long(x, 0); /* tier: null */
    bb_long(x, 0); /* credits_ceiling: null */
    bb_long(x, 0); /* credits_ceiling_until: null */
}
static void h_empty_domain(bb *x, wire *w)
{
    claim_domain(x, w, "");
}
static void h_enum_2(bb *x, wire *w)
{
    bb_result_head(x, w, 2);
    bb_byte(x, 0);
    bb_result_tail(x);
    bb_long(x, 0);
}
static void meta_to_tech(bb *x, wire *w)
{
    bb_result_head(x, w, 0);
    bb_byte(x, 0);
    bb_result_tail(x);
    bb_long(x, 1); /* metadata present */
    for (int i = 0; i < 5; i++)
        bb_long(x, 0);
    bb_byte(x, 0);
    bb_long(x, 0);
    bb_byte(x, 0);
}
static void h_block_neg_size(bb *x, wire *w)
{
    meta_to_tech(x, w);
    bb_long(x, -1);
    bb_long(x, 1LL << 40);
}
static void h_block_neg_count(bb *x, wire *w)
{
    meta_to_tech(x, w);
    bb_long(x, -1);
    bb_long(x, -5);
}
static void h_block_huge(bb *x, wire *w)
{
    meta_to_tech(x, w);
    bb_long(x, 1LL << 40);
}
static void h_block_min(bb *x, wire *w)
{
    meta_to_tech(x, w);
    bb_raw(x, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
}
static void h_empty(bb *x, wire *w)
{
    (void)w;
    x->n = 0;
}
static void h_header_only(bb *x, wire *w)
{
    bb_header(x, w, WIRE_CLAIM);
}
static void h_short_header(bb *x, wire *w)
{
    (void)w;
    x->n = 0;
    bb_raw(x, "\xc3\x01\x00", 3);
}
static void h_short_confluent(bb *x, wire *w)
{
    (void)w;
    x->n = 0;
    bb_raw(x, "\x00\x00\x01", 3);
}

typedef struct hostile {
    const char *name;
    void (*build)(bb *, wire *);
    wire_schema as;   /* decoder to run */
    int json_ok;      /* the bytes are sound Avro: only the typed decoder rejects them */
    const char *want; /* substring of the reason */
} hostile;

static const hostile hostiles[] = {
    {"negative length", h_neg_len, WIRE_CLAIM, 0, "negative string length"},
    {"huge length", h_huge_len, WIRE_CLAIM, 0, "past the end"},
    {"union index -1", h_union_m1, WIRE_CLAIM, 0, "union index out of range"},
    {"union index 2", h_union_2, WIRE_CLAIM, 0, "union index out of range"},
    {"boolean byte 2", h_bool_2, WIRE_RESULT, 0, "boolean"},
    {"int past 32 bits", h_int_33bit, WIRE_CLAIM, 0, "int range"},
    {"int in 6 bytes", h_int_6bytes, WIRE_CLAIM, 0, "longer than 5"},
    {"long in 11 bytes", h_long_11bytes, WIRE_CLAIM, 0, "long varint"},
    {"long past 64 bits", h_long_65bit, WIRE_CLAIM, 0, "64 bits"},
    {"truncated", h_truncated, WIRE_CLAIM, 0, "truncated"},
    {"trailing byte", h_trailing, WIRE_CLAIM, 0, "trailing"},
    {"bad magic", h_bad_magic, WIRE_CLAIM, 0, "bad magic"},
    {"unknown fingerprint", h_unknown_fp, WIRE_CLAIM, 0, "unknown schema fingerprint"},
    {"unknown schema id, no registry", h_unknown_id, WIRE_CLAIM, 0, "no registry"},
    {"invalid UTF-8", h_bad_utf8, WIRE_CLAIM, 0, "UTF-8"},
    {"overlong UTF-8", h_overlong, WIRE_CLAIM, 0, "UTF-8"},
    {"UTF-8 surrogate", h_surrogate, WIRE_CLAIM, 0, "UTF-8"},
    {"NUL in string", h_nul, WIRE_CLAIM, 0, "NUL"},
    {"wrong schema for the type", h_wrong_type, WIRE_RESULT, 1,
     "is not com.scrapersky.wf4.ScrapeResult"},
    {"domain_id not a UUID", h_not_uuid, WIRE_CLAIM, 1, "domain_id"},
    {"claim_id too short", h_short_uuid, WIRE_CLAIM, 1, "claim_id"},
    {"empty domain", h_empty_domain, WIRE_CLAIM, 1, "domain"},
    {"credits_ceiling negative", h_ceiling_neg, WIRE_CLAIM, 1, "credits_ceiling: negative"},
    {"credits_ceiling without its end", h_ceiling_alone, WIRE_CLAIM, 1, "credits_ceiling_until"},
    {"enum index 2", h_enum_2, WIRE_RESULT, 0, "enum index"},
    {"block byte size huge", h_block_neg_size, WIRE_RESULT, 0, "block byte size"},
    {"block byte size negative", h_block_neg_count, WIRE_RESULT, 0, "block byte size"},
    {"block count huge", h_block_huge, WIRE_RESULT, 0, "too many elements"},
    {"block count INT64_MIN", h_block_min, WIRE_RESULT, 0, "invalid"},
    {"empty buffer", h_empty, WIRE_CLAIM, 0, "empty"},
    {"header without payload", h_header_only, WIRE_CLAIM, 0, "truncated"},
    {"short single-object header", h_short_header, WIRE_CLAIM, 0, "truncated single-object"},
    {"short Confluent header", h_short_confluent, WIRE_CLAIM, 0, "truncated Confluent"},
};

static int decode_as(wire *w, wire_schema s, const void *b, size_t n)
{
    msg_claim c;
    msg_result r;
    msg_handoff h;
    int rc;
    if (s == WIRE_CLAIM) {
        rc = msg_claim_decode(w, b, n, &c, errbuf, sizeof errbuf);
        if (rc == 0)
            msg_claim_free(&c);
    } else if (s == WIRE_RESULT) {
        rc = msg_result_decode(w, b, n, &r, errbuf, sizeof errbuf);
        if (rc == 0)
            msg_result_free(&r);
    } else {
        rc = msg_handoff_decode(w, b, n, &h, errbuf, sizeof errbuf);
        if (rc == 0)
            msg_handoff_free(&h);
    }
    return rc;
}

static void test_hostile(void **state)
{
    (void)state;
    wire *w = new_wire(WF4_SCHEMA_DIR_DEFAULT, NULL);
    bb x;
    claim_valid(&x, w); /* the builder itself makes valid messages */
    assert_int_equal(decode_as(w, WIRE_CLAIM, x.b, x.n), 0);
    for (size_t i = 0; i < sizeof hostiles / sizeof hostiles[0]; i++) {
        const hostile *h = &hostiles[i];
        char *json = NULL;
        hostiles[i].build(&x, w);
        errbuf[0] = '\0';
        if (decode_as(w, h->as, x.b, x.n) == 0)
            fail_msg("%s: accepted", h->name);
        print_message("%-32s -> %s\n", h->name, errbuf);
        if (!strstr(errbuf, h->want))
            fail_msg("%s: reason \"%s\" lacks \"%s\"", h->name, errbuf, h->want);
        int rc = wire_decode_json(w, x.b, x.n, &json, errbuf, sizeof errbuf);
        assert_int_equal(rc == 0, h->json_ok);
        free(json);
        for (int s = 0; s < WIRE_NSCHEMAS; s++) /* no decoder crashes on any of them */
            (void)decode_as(w, (wire_schema)s, x.b, x.n);
    }
    size_t big = 2 * WIRE_MAX_MSG;
    uint8_t *huge = calloc(1, big);
    memcpy(huge, x.b, 10);
    bb_header(&x, w, WIRE_CLAIM);
    memcpy(huge, x.b, x.n);
    assert_int_not_equal(decode_as(w, WIRE_CLAIM, huge, big), 0);
    assert_non_null(strstr(errbuf, "cap"));
    free(huge);
    wire_free(w);
}

/* ---- interop with fastavro (tests/data/gen_interop.py) ---- */

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void interop_line(wire *w, char *line, int *nfp, int *nmsg)
{
    static const char *const names[] = {"claim", "result", "handoff"};
    static uint8_t buf[8192];
    char *kind = strtok(line, " "), *a = strtok(NULL, " "), *b = strtok(NULL, "\n");
    assert_non_null(b);
    int s = strcmp(a, "claim") == 0 ? 0 : strcmp(a, "result") == 0 ? 1 : 2;
    if (strcmp(kind, "fp") == 0) {
        assert_string_equal(names[s], a);
        assert_int_equal((long long)(int64_t)w->own[s]->fp, strtoll(b, NULL, 10));
        (*nfp)++;
    } else if (strcmp(kind, "canonical") == 0) {
        uint64_t fp;
        char *canon;
        assert_int_equal(wire_fingerprint(w->own[s]->json, &fp, &canon, errbuf, sizeof errbuf), 0);
        assert_string_equal(canon, b);
        free(canon);
    } else if (strcmp(kind, "msg") == 0) {
        char *schema = strtok(b, " "), *hex = strtok(NULL, " ");
        size_t n = unhex(hex, buf, sizeof buf), len;
        /* roundtrip() decodes our own bytes; here: ours must equal fastavro's, and
         * fastavro's must decode to the sample. */
        uint8_t *ours = roundtrip(w, a, &len);
        if (len != n || memcmp(ours, buf, n) != 0)
            fail_msg("%s (%s): our bytes differ from fastavro's", a, schema);
        free(ours);
        s = strcmp(schema, "claim") == 0 ? 0 : strcmp(schema, "result") == 0 ? 1 : 2;
        assert_int_equal(decode_as(w, (wire_schema)s, buf, n), 0);
        (*nmsg)++;
    }
}

static void test_interop_fastavro(void **state)
{
    (void)state;
    char line[16384];
    int nfp = 0, nmsg = 0;
    wire *w = new_wire(WF4_SCHEMA_DIR_DEFAULT, NULL);
    FILE *f = fopen(WF4_TEST_DATA "/wire-interop.txt", "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f))
        if (line[0] != '#')
            interop_line(w, line, &nfp, &nmsg);
    fclose(f);
    print_message("fastavro: %d fingerprints, %d messages identical\n", nfp, nmsg);
    assert_int_equal(nfp, 3);
    assert_int_equal(nmsg, (int)NSAMPLES);
    wire_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_vectors),
        cmocka_unit_test(test_roundtrip_single_object),
        cmocka_unit_test(test_roundtrip_confluent),
        cmocka_unit_test(test_result_empty_meta),
        cmocka_unit_test(test_encode_rejects),
        cmocka_unit_test(test_decode_json),
        cmocka_unit_test(test_resolution_old_writer),
        cmocka_unit_test(test_resolution_new_writer),
        cmocka_unit_test(test_resolution_result_v1),
        cmocka_unit_test(test_resolution_claim_v2),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_interop_fastavro),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
