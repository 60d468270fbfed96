/* Writer -> reader schema resolution (avro_resolved_writer) with defaults, and decoding. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire_internal.h"

/* Why: avro-c 1.11's resolved writer refuses a reader field the writer lacks, even with a
 * default. So the reader is reduced first: such fields (which must have defaults) are
 * removed, avro-c resolves the rest, and msg.c applies the default of a missing field. */
static int reduce_node(json_t *r, json_t *wn, int *dropped, char *err, size_t errlen, int depth);

static const char *reduce_type(json_t *n)
{
    return json_is_object(n) ? json_string_value(json_object_get(n, "type")) : NULL;
}

/* The writer's counterpart of reader node r: same record/enum name, or same container. */
static json_t *reduce_match(json_t *r, json_t *wn)
{
    if (json_is_object(wn) && json_is_object(json_object_get(wn, "type")))
        wn = json_object_get(wn, "type");
    if (json_is_array(wn)) {
        size_t i;
        json_t *b, *m;
        json_array_foreach(wn, i, b)
        {
            if ((m = reduce_match(r, b)))
                return m;
        }
        return NULL;
    }
    const char *rt = reduce_type(r), *wt = reduce_type(wn);
    if (!rt || !wt || strcmp(rt, wt) != 0)
        return NULL;
    if (strcmp(rt, "record") == 0) {
        const char *rn = json_string_value(json_object_get(r, "name"));
        const char *wnm = json_string_value(json_object_get(wn, "name"));
        return rn && wnm && strcmp(rn, wnm) == 0 ? wn : NULL;
    }
    return wn;
}

static json_t *reduce_field(json_t *fields, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n && strcmp(n, name) == 0)
            return f;
    }
    return NULL;
}

static int reduce_record(json_t *r, json_t *wn, int *dropped, char *err, size_t errlen, int depth)
{
    json_t *rf = json_object_get(r, "fields"), *wf = json_object_get(wn, "fields");
    for (size_t i = json_array_size(rf); i-- > 0;) {
        json_t *f = json_array_get(rf, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        json_t *match = name ? reduce_field(wf, name) : NULL;
        if (match) {
            if (reduce_node(json_object_get(f, "type"), json_object_get(match, "type"), dropped,
                            err, errlen, depth + 1) != 0)
                return -1;
            continue;
        }
        if (!json_object_get(f, "default")) {
            snprintf(err, errlen, "writer schema lacks field %s, which has no default",
                     name ? name : "?");
            return -1;
        }
        if (json_array_remove(rf, i) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        *dropped = 1;
    }
    return 0;
}

static int reduce_node(json_t *r, json_t *wn, int *dropped, char *err, size_t errlen, int depth)
{
    if (depth > WIRE_MAX_DEPTH)
        return 0;
    if (json_is_array(r)) {
        size_t i;
        json_t *b;
        json_array_foreach(r, i, b)
        {
            if (reduce_node(b, wn, dropped, err, errlen, depth + 1) != 0)
                return -1;
        }
        return 0;
    }
    const char *t = reduce_type(r);
    if (json_is_object(json_object_get(r, "type")))
        return reduce_node(json_object_get(r, "type"), wn, dropped, err, errlen, depth + 1);
    json_t *m = t ? reduce_match(r, wn) : NULL;
    if (!m)
        return 0; /* primitives, references, or no counterpart: avro-c decides */
    if (strcmp(t, "record") == 0)
        return reduce_record(r, m, dropped, err, errlen, depth);
    if (strcmp(t, "array") == 0)
        return reduce_node(json_object_get(r, "items"), json_object_get(m, "items"), dropped, err,
                           errlen, depth + 1);
    if (strcmp(t, "map") == 0)
        return reduce_node(json_object_get(r, "values"), json_object_get(m, "values"), dropped, err,
                           errlen, depth + 1);
    return 0;
}

/* Reader schema for writer wr: own[s] itself, or own[s] without the fields wr lacks. */
static int resolve_reader(wire *w, wire_writer *wr, wire_schema s, char *err, size_t errlen)
{
    int dropped = 0, rc = -1;
    json_t *r = json_loads(w->own[s]->json, 0, NULL);
    json_t *wn = json_loads(wr->json, JSON_DECODE_ANY, NULL);
    char *text = NULL;
    if (!r || !wn) {
        snprintf(err, errlen, "cannot parse schema JSON for resolution");
        goto cleanup;
    }
    if (reduce_node(r, wn, &dropped, err, errlen, 0) != 0)
        goto cleanup;
    if (!dropped) {
        wr->reduced[s] = avro_schema_incref(w->own[s]->schema);
        wr->reduced_iface[s] = avro_value_iface_incref(w->own_iface[s]);
        rc = 0;
        goto cleanup;
    }
    if (!(text = json_dumps(r, JSON_COMPACT)) ||
        avro_schema_from_json_length(text, strlen(text), &wr->reduced[s]) != 0 ||
        !(wr->reduced_iface[s] = avro_generic_class_from_schema(wr->reduced[s]))) {
        snprintf(err, errlen, "reduced reader schema: %s", avro_strerror());
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(text);
    json_decref(r);
    json_decref(wn);
    return rc;
}

/* The resolved-writer iface for (wr, s), built once and cached in wr. */
static int resolve_iface(wire *w, wire_writer *wr, wire_schema s, char *err, size_t errlen)
{
    if (wr->resolved[s])
        return 0;
    if (strcmp(wr->fullname, w->own[s]->fullname) != 0) {
        snprintf(err, errlen, "message schema %s is not %s",
                 *wr->fullname ? wr->fullname : "(unnamed)", w->own[s]->fullname);
        return -1;
    }
    if (!wr->reduced_iface[s] && resolve_reader(w, wr, s, err, errlen) != 0)
        return -1;
    if (!(wr->resolved[s] = avro_resolved_writer_new(wr->schema, wr->reduced[s]))) {
        snprintf(err, errlen, "schema resolution: %s", avro_strerror());
        return -1;
    }
    return 0;
}

/* Frames, guards and reads with avro-c through the resolved writer into out. */
static int decode_read(avro_value_iface_t *rw, const uint8_t *p, size_t n, avro_value_t *dest,
                       char *err, size_t errlen)
{
    avro_value_t resolved;
    int rc = -1;
    if (avro_resolved_writer_new_value(rw, &resolved) != 0) {
        snprintf(err, errlen, "avro_resolved_writer_new_value: %s", avro_strerror());
        return -1;
    }
    avro_resolved_writer_set_dest(&resolved, dest);
    avro_reader_t r = avro_reader_memory((const char *)p, (int64_t)n);
    if (!r) {
        snprintf(err, errlen, "avro_reader_memory: %s", avro_strerror());
    } else if (avro_value_read(r, &resolved) != 0) {
        snprintf(err, errlen, "avro_value_read: %s", avro_strerror());
    } else {
        rc = 0;
    }
    if (r)
        avro_reader_free(r);
    avro_value_decref(&resolved);
    return rc;
}

int wire_decode_value(wire *w, wire_schema s, const void *buf, size_t len, wire_decoded *out,
                      char *err, size_t errlen)
{
    wire_writer *wr;
    size_t hdr;
    memset(out, 0, sizeof *out);
    if (wire_locate(w, buf, len, &wr, &hdr, err, errlen) != 0 ||
        resolve_iface(w, wr, s, err, errlen) != 0)
        return -1;
    if (avro_generic_value_new(wr->reduced_iface[s], &out->value) != 0) {
        snprintf(err, errlen, "avro_generic_value_new: %s", avro_strerror());
        return -1;
    }
    out->iface = avro_value_iface_incref(wr->reduced_iface[s]);
    if (decode_read(wr->resolved[s], (const uint8_t *)buf + hdr, len - hdr, &out->value, err,
                    errlen) != 0) {
        wire_decoded_free(out);
        return -1;
    }
    return 0;
}
