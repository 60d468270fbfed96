/* Validating walker: checks Avro binary against the writer schema before avro-c reads it. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wire_internal.h"

/* Why: avro-c 1.11 trusts lengths, block counts and union indexes from the buffer (negative
 * or huge values corrupt memory), and independent implementations disagree on lax input.
 * Everything avro-c will read is checked here first; anything doubtful is rejected. */
typedef struct guard {
    const uint8_t *start, *p, *end;
    size_t items; /* array/map elements seen so far */
    char *err;
    size_t errlen;
} guard;

__attribute__((format(printf, 2, 3))) static int guard_fail(guard *g, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(g->err, g->errlen, "%s (at byte %td)", msg, g->p - g->start);
    return -1;
}

/* Zig-zag varint of at most maxbytes; for 10-byte longs the last byte may carry 1 bit. */
static int guard_varint(guard *g, int maxbytes, const char *what, int64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < maxbytes; i++) {
        if (g->p >= g->end)
            return guard_fail(g, "truncated %s", what);
        uint8_t b = *g->p++;
        if (i == 9 && b > 1)
            return guard_fail(g, "%s varint exceeds 64 bits", what);
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = (int64_t)((v >> 1) ^ (0 - (v & 1)));
            return 0;
        }
    }
    return guard_fail(g, "%s varint longer than %d bytes", what, maxbytes);
}

static int guard_int(guard *g, const char *what, int64_t *out)
{
    if (guard_varint(g, 5, what, out) != 0)
        return -1;
    if (*out < INT32_MIN || *out > INT32_MAX)
        return guard_fail(g, "%s out of int range (%" PRId64 ")", what, *out);
    return 0;
}

static int guard_skip(guard *g, int64_t n, const char *what)
{
    if (n < 0)
        return guard_fail(g, "negative %s length (%" PRId64 ")", what, n);
    if (n > g->end - g->p)
        return guard_fail(g, "%s length %" PRId64 " past the end of the message", what, n);
    g->p += n;
    return 0;
}

static int guard_bytes(guard *g, int is_string)
{
    int64_t n;
    const char *what = is_string ? "string" : "bytes";
    if (guard_varint(g, 10, what, &n) != 0)
        return -1;
    const uint8_t *start = g->p;
    if (guard_skip(g, n, what) != 0)
        return -1;
    if (is_string && !wire_utf8_valid(start, (size_t)n))
        return guard_fail(g, "%s is not valid UTF-8 (or holds NUL)", what);
    return 0;
}

static int guard_value(guard *g, avro_schema_t s, int depth);

/* Array or map blocks: count, [byte size when count < 0], items; 0 ends. */
static int guard_blocks(guard *g, avro_schema_t item, int is_map, int depth)
{
    const char *what = is_map ? "map block count" : "array block count";
    for (;;) {
        int64_t count, size;
        if (guard_varint(g, 10, what, &count) != 0)
            return -1;
        if (count == 0)
            return 0;
        if (count == INT64_MIN)
            return guard_fail(g, "invalid %s (%" PRId64 ")", what, count);
        if (count < 0) {
            count = -count;
            if (guard_varint(g, 10, "block byte size", &size) != 0)
                return -1;
            if (size < 0 || size > g->end - g->p)
                return guard_fail(g, "block byte size %" PRId64 " out of range", size);
        }
        if (count > WIRE_MAX_ITEMS || g->items + (size_t)count > WIRE_MAX_ITEMS)
            return guard_fail(g, "too many elements (%s %" PRId64 ")", what, count);
        g->items += (size_t)count;
        for (int64_t i = 0; i < count; i++) {
            if (is_map && guard_bytes(g, 1) != 0)
                return -1;
            if (guard_value(g, item, depth + 1) != 0)
                return -1;
        }
    }
}

static int guard_record(guard *g, avro_schema_t s, int depth)
{
    size_t n = avro_schema_record_size(s);
    for (size_t i = 0; i < n; i++) {
        avro_schema_t f = avro_schema_record_field_get_by_index(s, (int)i);
        if (!f || guard_value(g, f, depth + 1) != 0)
            return f ? -1 : guard_fail(g, "schema field %zu missing", i);
    }
    return 0;
}

static int guard_index(guard *g, const char *what, int64_t n)
{
    int64_t idx;
    if (guard_varint(g, 10, what, &idx) != 0)
        return -1;
    if (idx < 0 || idx >= n)
        return guard_fail(g, "%s out of range (%" PRId64 ")", what, idx);
    return (int)idx;
}

static int guard_value(guard *g, avro_schema_t s, int depth)
{
    int64_t v = 0;
    if (depth > WIRE_MAX_DEPTH)
        return guard_fail(g, "nesting deeper than %d", WIRE_MAX_DEPTH);
    switch (avro_typeof(s)) {
    case AVRO_NULL: return 0;
    case AVRO_BOOLEAN:
        if (g->p >= g->end)
            return guard_fail(g, "truncated boolean");
        if (*g->p > 1)
            return guard_fail(g, "boolean byte not 0 or 1 (%d)", *g->p);
        g->p++;
        return 0;
    case AVRO_INT32: return guard_int(g, "int", &v);
    case AVRO_INT64: return guard_varint(g, 10, "long", &v);
    case AVRO_FLOAT: return guard_skip(g, 4, "float");
    case AVRO_DOUBLE: return guard_skip(g, 8, "double");
    case AVRO_STRING: return guard_bytes(g, 1);
    case AVRO_BYTES: return guard_bytes(g, 0);
    case AVRO_FIXED: return guard_skip(g, avro_schema_fixed_size(s), "fixed");
    case AVRO_ENUM:
        return guard_index(g, "enum index", avro_schema_enum_number_of_symbols(s)) < 0 ? -1 : 0;
    case AVRO_RECORD: return guard_record(g, s, depth);
    case AVRO_ARRAY: return guard_blocks(g, avro_schema_array_items(s), 0, depth);
    case AVRO_MAP: return guard_blocks(g, avro_schema_map_values(s), 1, depth);
    case AVRO_UNION: {
        int i = guard_index(g, "union index", (int64_t)avro_schema_union_size(s));
        return i < 0 ? -1 : guard_value(g, avro_schema_union_branch(s, i), depth + 1);
    }
    case AVRO_LINK: return guard_value(g, avro_schema_link_target(s), depth + 1);
    default: return guard_fail(g, "unsupported schema type %d", (int)avro_typeof(s));
    }
}

int wire_guard(avro_schema_t writer, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    guard g = {.start = buf, .p = buf, .end = buf + len, .err = err, .errlen = errlen};
    if (len > WIRE_MAX_MSG) {
        snprintf(err, errlen, "message of %zu bytes exceeds the %d byte cap", len, WIRE_MAX_MSG);
        return -1;
    }
    if (guard_value(&g, writer, 0) != 0)
        return -1;
    if (g.p != g.end) {
        snprintf(err, errlen, "%td trailing bytes after the value", g.end - g.p);
        return -1;
    }
    return 0;
}

/* Strict UTF-8 (RFC 3629): no overlongs, surrogates, code points past U+10FFFF, or NUL. */
int wire_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            cp = c & 0x07;
        } else
            return 0;
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}
