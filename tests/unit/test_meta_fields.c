/* Unit tests of common/meta_fields.h: the one field table against the Avro schema, the SQL
 * migrations and the committer's statement, and every field through Avro and the columns. */
#include <ctype.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "msg.h"
#include "result.h"

#define D1 "0b6f3c2e-8a1d-4c5e-9f00-1234567890ab"
#define C1 "5d2e7f10-3b4c-4d5e-8f6a-7b8c9d0e1f2a"

/* ---- the schema side ---- */

static json_t *avsc_metadata_fields(json_t **root)
{
    json_error_t je;
    *root = json_load_file(WF4_SCHEMA_DIR_DEFAULT "/avro/result.avsc", 0, &je);
    if (!*root)
        fail_msg("result.avsc: %s (line %d)", je.text, je.line);
    json_t *f, *fields = json_object_get(*root, "fields");
    size_t i;
    json_array_foreach(fields, i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "name")), "metadata") != 0)
            continue;
        json_t *rec = json_array_get(json_object_get(f, "type"), 1);
        assert_string_equal(json_string_value(json_object_get(rec, "name")), "PageMetadata");
        return json_object_get(rec, "fields");
    }
    fail_msg("result.avsc has no field metadata");
    return NULL;
}

/* The Avro type and default a field of kind k must have, as JSON. */
static const char *kind_avro(meta_kind k)
{
    switch (k) {
    case META_TEXT: return "{\"type\": [\"null\", \"string\"], \"default\": null}";
    case META_BOOL: return "{\"type\": \"boolean\", \"default\": false}";
    case META_LIST:
    case META_JSON_LIST:
        return "{\"type\": {\"type\": \"array\", \"items\": \"string\"}, \"default\": []}";
    }
    fail_msg("kind %d has no Avro type in this test", (int)k);
    return NULL;
}

static void assert_kind_matches(const meta_field *m, json_t *field)
{
    json_error_t je;
    json_t *want = json_loads(kind_avro(m->kind), 0, &je);
    assert_non_null(want);
    if (!json_equal(json_object_get(field, "type"), json_object_get(want, "type")) ||
        !json_equal(json_object_get(field, "default"), json_object_get(want, "default"))) {
        char *got = json_dumps(field, JSON_COMPACT);
        fail_msg("%s: kind %d wants %s, result.avsc says %s", m->member, (int)m->kind,
                 kind_avro(m->kind), got);
    }
    json_decref(want);
}

/* Every table row is the PageMetadata field at the same position, with its kind's type. */
static void test_table_is_the_schema(void **state)
{
    (void)state;
    json_t *root, *fields = avsc_metadata_fields(&root);
    printf("# %d fields in META_FIELDS, %zu in PageMetadata\n", META_NFIELDS,
           json_array_size(fields));
    for (size_t i = 0; i < META_NFIELDS; i++) {
        json_t *f = json_array_get(fields, i);
        if (!f)
            fail_msg("%s is in META_FIELDS but not in result.avsc", meta_fields[i].avro);
        const char *name = json_string_value(json_object_get(f, "name"));
        if (strcmp(name, meta_fields[i].avro) != 0)
            fail_msg("position %zu: META_FIELDS has %s, result.avsc %s", i, meta_fields[i].avro,
                     name);
        assert_kind_matches(&meta_fields[i], f);
    }
    for (size_t i = META_NFIELDS; i < json_array_size(fields); i++)
        fail_msg("%s is in result.avsc but not in META_FIELDS",
                 json_string_value(json_object_get(json_array_get(fields, i), "name")));
    json_decref(root);
}

/* ---- the SQL side: every column declared by a migration with its kind's type ---- */

static char *read_migrations(void)
{
    const char *dir = WF4_SCHEMA_DIR_DEFAULT "/sql";
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *all = calloc(1, 1), path[512];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".sql") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char buf[4096];
        for (size_t got; (got = fread(buf, 1, sizeof buf, f)) > 0; n += got) {
            all = realloc(all, n + got + 1);
            memcpy(all + n, buf, got);
        }
        all[n] = '\0';
        fclose(f);
    }
    closedir(d);
    for (char *p = all; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return all;
}

static const char *kind_sql(meta_kind k)
{
    switch (k) {
    case META_TEXT: return "text";
    case META_BOOL: return "boolean";
    case META_LIST: return "text[]";
    case META_JSON_LIST: return "jsonb";
    }
    fail_msg("kind %d has no SQL type in this test", (int)k);
    return NULL;
}

/* The type after the first "<column> " that starts a declaration (a whole word). */
static int declared_as(const char *sql, const char *column, const char *type)
{
    size_t cl = strlen(column), tl = strlen(type);
    for (const char *p = strstr(sql, column); p; p = strstr(p + 1, column)) {
        if ((p > sql && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) || p[cl] != ' ')
            continue;
        const char *t = p + cl;
        while (*t == ' ')
            t++;
        if (strncmp(t, type, tl) == 0 &&
            (t[tl] == ',' || t[tl] == '\n' || t[tl] == ' ' || t[tl] == ';' || t[tl] == ')'))
            return 1;
    }
    return 0;
}

static void test_columns_are_migrated(void **state)
{
    (void)state;
    char *sql = read_migrations();
    for (size_t i = 0; i < META_NFIELDS; i++)
        if (!declared_as(sql, meta_fields[i].column, kind_sql(meta_fields[i].kind)))
            fail_msg("no migration in schemas/sql declares column %s %s", meta_fields[i].column,
                     kind_sql(meta_fields[i].kind));
    printf("# %d columns declared with their kind's type in schemas/sql\n", META_NFIELDS);
    free(sql);
}

/* ---- the committer's statement: one parameter per field, numbered in the table's order ---- */

static void test_statement_numbering(void **state)
{
    (void)state;
    const char *sql = result_success_statement();
    char want[256];
    assert_true(strlen(sql) > 0);
    for (size_t i = 0; i < META_NFIELDS; i++) {
        snprintf(want, sizeof want, "unnest($%zu::%s[]) AS %s,", i + 4,
                 meta_fields[i].kind == META_BOOL ? "bool" : "text", meta_fields[i].column);
        if (!strstr(sql, want))
            fail_msg("statement lacks \"%s\"", want);
        snprintf(want, sizeof want, ", %s = ", meta_fields[i].column);
        if (!strstr(sql, want))
            fail_msg("statement does not set %s", meta_fields[i].column);
    }
    /* the attempt history's columns follow the fields, then the arrays end */
    snprintf(want, sizeof want, "unnest($%d::text[]) AS scraper,",
             RESULT_SUCCESS_COLS - RESULT_ATT_COLS + 1);
    assert_non_null(strstr(sql, want));
    snprintf(want, sizeof want, "unnest($%d::text[]) AS tier)", RESULT_SUCCESS_COLS);
    assert_non_null(strstr(sql, want));
    snprintf(want, sizeof want, "batch_id = ANY($%d::uuid[])", RESULT_SUCCESS_COLS + 1);
    assert_non_null(strstr(sql, want));
    snprintf(want, sizeof want, "$%d", RESULT_SUCCESS_COLS + 2);
    assert_null(strstr(sql, want));
    printf("# statement: %zu bytes, parameters $1-$%d\n", strlen(sql), RESULT_SUCCESS_COLS + 1);
}

/* ---- every field through Avro and into its column ---- */

static int sample_n;

static void set_text(char **s)
{
    char buf[32];
    snprintf(buf, sizeof buf, "v%d", ++sample_n);
    *s = strdup(buf);
}

static void set_bool(bool *b)
{
    *b = true;
}

static void set_list(strlist *l)
{
    char buf[32];
    snprintf(buf, sizeof buf, "v%d", ++sample_n);
    assert_int_equal(strlist_push(l, buf), 0);
    assert_int_equal(strlist_push(l, "second \"quoted\""), 0);
}

/* A result whose every field is set, each to a value no other field has. */
static void sample_result(msg_result *r)
{
    memset(r, 0, sizeof *r);
    strcpy(r->domain_id, D1);
    strcpy(r->claim_id, C1);
    r->domain = strdup("example.com");
    r->attempt = 1;
    r->outcome = RESULT_SUCCESS;
    r->scraped_at_ms = 1795427200000;
    r->has_meta = true;
    meta_page *m = &r->meta;
#define SET(member, kind, avro, column) \
    _Generic(&m->member, char ** : set_text, bool * : set_bool, strlist * : set_list)(&m->member);
    META_FIELDS(SET)
#undef SET
}

static void eq_text(char *const *a, char *const *b, const char *name)
{
    if (!*a || !*b || strcmp(*a, *b) != 0)
        fail_msg("%s: \"%s\" != \"%s\"", name, *a ? *a : "(null)", *b ? *b : "(null)");
}

static void eq_bool(const bool *a, const bool *b, const char *name)
{
    if (*a != *b)
        fail_msg("%s: %d != %d", name, *a, *b);
}

static void eq_list(const strlist *a, const strlist *b, const char *name)
{
    if (a->n != b->n)
        fail_msg("%s: %zu != %zu elements", name, a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        eq_text(&a->v[i], &b->v[i], name);
}

static void test_every_field_round_trips(void **state)
{
    (void)state;
    char err[256];
    msg_result in, out;
    void *buf = NULL;
    size_t len = 0;
    wire *w = wire_new(WF4_SCHEMA_DIR_DEFAULT, NULL, err, sizeof err);
    if (!w)
        fail_msg("wire_new: %s", err);
    sample_result(&in);
    if (msg_result_encode(w, &in, &buf, &len, err, sizeof err) != 0)
        fail_msg("encode: %s", err);
    if (msg_result_decode(w, buf, len, &out, err, sizeof err) != 0)
        fail_msg("decode: %s", err);
    assert_true(out.has_meta);
#define EQ(member, kind, avro, column) \
    _Generic(&in.meta.member, char **: eq_text, bool *: eq_bool,                           \
             strlist *: eq_list)(&in.meta.member, &out.meta.member, #member);
    META_FIELDS(EQ)
#undef EQ
    printf("# %d fields round-trip through %zu bytes of Avro\n", META_NFIELDS, len);
    free(buf);
    msg_result_free(&in);
    msg_result_free(&out);
    wire_free(w);
}

/* Each field fills its own column with one non-NULL element of its kind's type. */
static void test_every_field_fills_its_column(void **state)
{
    (void)state;
    msg_result r;
    result_prepared p;
    sample_result(&r);
    assert_int_equal(result_prepare(&r, 1, &p), 0);
    for (size_t i = 0; i < META_NFIELDS; i++) {
        const db_array *a = &p.success[3 + i];
        uint32_t oid = meta_fields[i].kind == META_BOOL ? DB_OID_BOOL : DB_OID_TEXT;
        if (a->n != 1 || a->has_null || a->elem_oid != oid)
            fail_msg("%s: column %zu has %d elements (null: %d), element type %u, not %u",
                     meta_fields[i].member, i + 3, (int)a->n, a->has_null, (unsigned)a->elem_oid,
                     (unsigned)oid);
    }
    result_prepared_free(&p);
    msg_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_the_schema),
        cmocka_unit_test(test_columns_are_migrated),
        cmocka_unit_test(test_statement_numbering),
        cmocka_unit_test(test_every_field_round_trips),
        cmocka_unit_test(test_every_field_fills_its_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
