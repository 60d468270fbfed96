/* Avro Parsing Canonical Form and the CRC-64-AVRO (Rabin) fingerprint. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define CANON_EMPTY 0xc15d213aa4d7a795ULL
#define CANON_MAX_DEPTH 64
#define CANON_MAX_NAMES 256

/* Growing output buffer plus the named types already written (written once in full). */
typedef struct canon {
    char *buf;
    size_t len, cap;
    char *names[CANON_MAX_NAMES];
    size_t nnames;
    char *err;
    size_t errlen;
} canon;

static int canon_fail(canon *c, const char *msg, const char *arg)
{
    snprintf(c->err, c->errlen, "canonical form: %s%s%s", msg, arg ? ": " : "", arg ? arg : "");
    return -1;
}

static int canon_put(canon *c, const char *s, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 256;
        while (cap < c->len + n + 1)
            cap *= 2;
        char *b = realloc(c->buf, cap);
        if (!b)
            return canon_fail(c, "out of memory", NULL);
        c->buf = b;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, s, n);
    c->len += n;
    c->buf[c->len] = '\0';
    return 0;
}

static int canon_puts(canon *c, const char *s)
{
    return canon_put(c, s, strlen(s));
}

/* STRINGS: a JSON string literal, non-ASCII written as UTF-8, only required escapes. */
static int canon_str(canon *c, const char *s)
{
    json_t *j = json_string(s);
    if (!j)
        return canon_fail(c, "string is not valid UTF-8", NULL);
    char *out = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(j);
    if (!out)
        return canon_fail(c, "out of memory", NULL);
    int rc = canon_puts(c, out);
    free(out);
    return rc;
}

static int canon_is_primitive(const char *t)
{
    static const char *const prims[] = {"null",  "boolean", "int",   "long",
                                        "float", "double",  "bytes", "string"};
    for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
        if (strcmp(t, prims[i]) == 0)
            return 1;
    return 0;
}

/* FULLNAMES: name qualified by ns unless it already holds a dot. Malloc'ed. */
static char *canon_fullname(const char *name, const char *ns)
{
    size_t n = strlen(name) + (ns ? strlen(ns) : 0) + 2;
    char *out = malloc(n);
    if (!out)
        return NULL;
    if (strchr(name, '.') || !ns || !*ns)
        snprintf(out, n, "%s", name);
    else
        snprintf(out, n, "%s.%s", ns, name);
    return out;
}

static int canon_seen(canon *c, const char *fullname)
{
    for (size_t i = 0; i < c->nnames; i++)
        if (strcmp(c->names[i], fullname) == 0)
            return 1;
    return 0;
}

static int canon_node(canon *c, json_t *s, const char *ns, int depth);

static int canon_reference(canon *c, const char *name, const char *ns)
{
    if (canon_is_primitive(name))
        return canon_str(c, name);
    char *full = canon_fullname(name, ns);
    if (!full)
        return canon_fail(c, "out of memory", NULL);
    int rc = canon_str(c, full);
    free(full);
    return rc;
}

static int canon_union(canon *c, json_t *s, const char *ns, int depth)
{
    size_t i;
    json_t *v;
    if (canon_puts(c, "[") != 0)
        return -1;
    json_array_foreach(s, i, v)
    {
        if ((i > 0 && canon_puts(c, ",") != 0) || canon_node(c, v, ns, depth + 1) != 0)
            return -1;
    }
    return canon_puts(c, "]");
}

static int canon_fields(canon *c, json_t *fields, const char *ns, int depth)
{
    size_t i;
    json_t *f;
    if (!json_is_array(fields))
        return canon_fail(c, "record without a fields array", NULL);
    if (canon_puts(c, ",\"fields\":[") != 0)
        return -1;
    json_array_foreach(fields, i, f)
    {
        const char *fname = json_string_value(json_object_get(f, "name"));
        json_t *ftype = json_object_get(f, "type");
        if (!fname || !ftype)
            return canon_fail(c, "field without name or type", NULL);
        if ((i > 0 && canon_puts(c, ",") != 0) || canon_puts(c, "{\"name\":") != 0 ||
            canon_str(c, fname) != 0 || canon_puts(c, ",\"type\":") != 0 ||
            canon_node(c, ftype, ns, depth + 1) != 0 || canon_puts(c, "}") != 0)
            return -1;
    }
    return canon_puts(c, "]");
}

static int canon_symbols(canon *c, json_t *syms)
{
    size_t i;
    json_t *v;
    if (!json_is_array(syms))
        return canon_fail(c, "enum without a symbols array", NULL);
    if (canon_puts(c, ",\"symbols\":[") != 0)
        return -1;
    json_array_foreach(syms, i, v)
    {
        if (!json_is_string(v))
            return canon_fail(c, "enum symbol is not a string", NULL);
        if ((i > 0 && canon_puts(c, ",") != 0) || canon_str(c, json_string_value(v)) != 0)
            return -1;
    }
    return canon_puts(c, "]");
}

/* Record, enum or fixed: {"name":FULL,"type":T,<fields|symbols|size>} (ORDER, STRIP). */
static int canon_named(canon *c, json_t *s, const char *type, const char *ns, int depth)
{
    const char *name = json_string_value(json_object_get(s, "name"));
    if (!name)
        return canon_fail(c, "named type without a name", type);
    json_t *nsj = json_object_get(s, "namespace");
    const char *own_ns = json_is_string(nsj) ? json_string_value(nsj) : ns;
    char *full = canon_fullname(name, own_ns);
    if (!full)
        return canon_fail(c, "out of memory", NULL);
    if (canon_seen(c, full)) {
        int rc = canon_str(c, full);
        free(full);
        return rc;
    }
    if (c->nnames == CANON_MAX_NAMES) {
        free(full);
        return canon_fail(c, "too many named types", NULL);
    }
    c->names[c->nnames++] = full;
    /* The namespace of nested names: the one of this type's fullname. */
    char *dot = strrchr(full, '.');
    char *inner = strndup(full, dot ? (size_t)(dot - full) : 0);
    if (!inner)
        return canon_fail(c, "out of memory", NULL);
    int rc = -1;
    if (canon_puts(c, "{\"name\":") != 0 || canon_str(c, full) != 0 ||
        canon_puts(c, ",\"type\":") != 0 || canon_str(c, type) != 0)
        goto cleanup;
    if (strcmp(type, "enum") == 0) {
        rc = canon_symbols(c, json_object_get(s, "symbols"));
    } else if (strcmp(type, "fixed") == 0) {
        json_t *size = json_object_get(s, "size");
        char num[32];
        if (!json_is_integer(size) || json_integer_value(size) < 0) {
            rc = canon_fail(c, "fixed without a valid size", name);
            goto cleanup;
        }
        snprintf(num, sizeof num, ",\"size\":%lld", (long long)json_integer_value(size));
        rc = canon_puts(c, num); /* INTEGERS: no leading zeros */
    } else {
        rc = canon_fields(c, json_object_get(s, "fields"), inner, depth);
    }
    if (rc == 0)
        rc = canon_puts(c, "}");
cleanup:
    free(inner);
    return rc;
}

static int canon_object(canon *c, json_t *s, const char *ns, int depth)
{
    json_t *t = json_object_get(s, "type");
    if (json_is_object(t) || json_is_array(t))
        return canon_node(c, t, ns, depth + 1);
    const char *type = json_string_value(t);
    if (!type)
        return canon_fail(c, "object without a type", NULL);
    if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0 || strcmp(type, "enum") == 0 ||
        strcmp(type, "fixed") == 0)
        return canon_named(c, s, strcmp(type, "error") == 0 ? "record" : type, ns, depth);
    if (strcmp(type, "array") == 0 || strcmp(type, "map") == 0) {
        int arr = type[0] == 'a';
        json_t *sub = json_object_get(s, arr ? "items" : "values");
        if (!sub)
            return canon_fail(c, arr ? "array without items" : "map without values", NULL);
        if (canon_puts(c, arr ? "{\"type\":\"array\",\"items\":"
                              : "{\"type\":\"map\",\"values\":") != 0 ||
            canon_node(c, sub, ns, depth + 1) != 0)
            return -1;
        return canon_puts(c, "}");
    }
    return canon_reference(c, type, ns); /* PRIMITIVES, or a named reference */
}

static int canon_node(canon *c, json_t *s, const char *ns, int depth)
{
    if (depth > CANON_MAX_DEPTH)
        return canon_fail(c, "schema nested too deeply", NULL);
    if (json_is_string(s))
        return canon_reference(c, json_string_value(s), ns);
    if (json_is_array(s))
        return canon_union(c, s, ns, depth);
    if (json_is_object(s))
        return canon_object(c, s, ns, depth);
    return canon_fail(c, "schema is not a string, array or object", NULL);
}

/* The Rabin fingerprint of the Avro specification, table built on first use. */
static uint64_t canon_crc64(const unsigned char *p, size_t n)
{
    static uint64_t table[256];
    static int ready;
    if (!ready) {
        for (int i = 0; i < 256; i++) {
            uint64_t fp = (uint64_t)i;
            for (int j = 0; j < 8; j++)
                fp = (fp >> 1) ^ (CANON_EMPTY & (0 - (fp & 1)));
            table[i] = fp;
        }
        ready = 1;
    }
    uint64_t fp = CANON_EMPTY;
    for (size_t i = 0; i < n; i++)
        fp = (fp >> 8) ^ table[(fp ^ p[i]) & 0xff];
    return fp;
}

int wire_fingerprint(const char *schema_json, uint64_t *fp, char **canonical, char *err,
                     size_t errlen)
{
    canon c = {.err = err, .errlen = errlen};
    json_error_t jerr;
    int rc = -1;
    json_t *root = json_loads(schema_json, JSON_DECODE_ANY, &jerr);
    if (!root) {
        snprintf(err, errlen, "schema JSON: %s (line %d)", jerr.text, jerr.line);
        return -1;
    }
    if (canon_node(&c, root, "", 0) != 0 || canon_put(&c, "", 0) != 0)
        goto cleanup;
    *fp = canon_crc64((const unsigned char *)c.buf, c.len);
    if (canonical) {
        *canonical = c.buf;
        c.buf = NULL;
    }
    rc = 0;
cleanup:
    for (size_t i = 0; i < c.nnames; i++)
        free(c.names[i]);
    free(c.buf);
    json_decref(root);
    return rc;
}
