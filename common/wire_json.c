/* Decoding any known-schema message to JSON (jansson), for inspection. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire_internal.h"

static json_t *json_hex(const void *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *b = p;
    char *s = malloc(2 * n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[b[i] >> 4];
        s[2 * i + 1] = digits[b[i] & 15];
    }
    json_t *j = json_stringn(s, 2 * n);
    free(s);
    return j;
}

static json_t *json_from_value(avro_value_t *v, int depth);

/* Records and maps: object of name -> value; arrays: list. */
static json_t *json_from_container(avro_value_t *v, avro_type_t t, int depth)
{
    size_t n = 0;
    json_t *out = t == AVRO_ARRAY ? json_array() : json_object();
    if (!out || avro_value_get_size(v, &n) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        avro_value_t child;
        const char *name = NULL;
        if (avro_value_get_by_index(v, i, &child, &name) != 0)
            goto fail;
        json_t *c = json_from_value(&child, depth + 1);
        if (!c)
            goto fail;
        if (t == AVRO_ARRAY ? json_array_append_new(out, c) != 0
                            : json_object_set_new(out, name ? name : "", c) != 0)
            goto fail;
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

static json_t *json_from_scalar(avro_value_t *v, avro_type_t t)
{
    const void *p = NULL;
    size_t n = 0;
    int32_t i32;
    int64_t i64;
    float f;
    double d;
    int b, e;
    switch (t) {
    case AVRO_NULL: return json_null();
    case AVRO_BOOLEAN: return avro_value_get_boolean(v, &b) ? NULL : json_boolean(b);
    case AVRO_INT32: return avro_value_get_int(v, &i32) ? NULL : json_integer(i32);
    case AVRO_INT64: return avro_value_get_long(v, &i64) ? NULL : json_integer(i64);
    case AVRO_FLOAT: return avro_value_get_float(v, &f) ? NULL : json_real(f);
    case AVRO_DOUBLE: return avro_value_get_double(v, &d) ? NULL : json_real(d);
    case AVRO_STRING:
        if (avro_value_get_string(v, (const char **)&p, &n) != 0)
            return NULL;
        return json_stringn(p, n > 0 ? n - 1 : 0);
    case AVRO_BYTES: return avro_value_get_bytes(v, &p, &n) ? NULL : json_hex(p, n);
    case AVRO_FIXED: return avro_value_get_fixed(v, &p, &n) ? NULL : json_hex(p, n);
    case AVRO_ENUM: {
        if (avro_value_get_enum(v, &e) != 0)
            return NULL;
        const char *sym = avro_schema_enum_get(avro_value_get_schema(v), e);
        return sym ? json_string(sym) : json_integer(e);
    }
    default: return NULL;
    }
}

static json_t *json_from_value(avro_value_t *v, int depth)
{
    avro_type_t t = avro_value_get_type(v);
    if (depth > WIRE_MAX_DEPTH + 2)
        return NULL;
    if (t == AVRO_RECORD || t == AVRO_MAP || t == AVRO_ARRAY)
        return json_from_container(v, t, depth);
    if (t == AVRO_UNION) {
        avro_value_t branch;
        if (avro_value_get_current_branch(v, &branch) != 0)
            return NULL;
        return json_from_value(&branch, depth + 1);
    }
    return json_from_scalar(v, t);
}

static int json_read_writer(wire_writer *wr, const uint8_t *p, size_t n, avro_value_t *v, char *err,
                            size_t errlen)
{
    if (!wr->generic && !(wr->generic = avro_generic_class_from_schema(wr->schema))) {
        snprintf(err, errlen, "avro_generic_class_from_schema: %s", avro_strerror());
        return -1;
    }
    if (avro_generic_value_new(wr->generic, v) != 0) {
        snprintf(err, errlen, "avro_generic_value_new: %s", avro_strerror());
        return -1;
    }
    avro_reader_t r = avro_reader_memory((const char *)p, (int64_t)n);
    if (!r || avro_value_read(r, v) != 0) {
        snprintf(err, errlen, "avro_value_read: %s", avro_strerror());
        if (r)
            avro_reader_free(r);
        avro_value_decref(v);
        return -1;
    }
    avro_reader_free(r);
    return 0;
}

int wire_decode_json(wire *w, const void *buf, size_t len, char **json, char *err, size_t errlen)
{
    wire_writer *wr;
    size_t hdr;
    avro_value_t v;
    *json = NULL;
    if (wire_locate(w, buf, len, &wr, &hdr, err, errlen) != 0 ||
        json_read_writer(wr, (const uint8_t *)buf + hdr, len - hdr, &v, err, errlen) != 0)
        return -1;
    json_t *j = json_from_value(&v, 0);
    avro_value_decref(&v);
    if (!j || !(*json = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY))) {
        snprintf(err, errlen, "cannot convert the value to JSON");
        json_decref(j);
        return -1;
    }
    json_decref(j);
    return 0;
}
