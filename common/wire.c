/* Avro wire format: schema cache, framing (single-object / Confluent), encode and decode. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire_internal.h"

static const char *const wire_names[WIRE_NSCHEMAS] = {"claim", "result", "handoff"};

static void wire_writer_free(wire_writer *wr)
{
    if (!wr)
        return;
    for (int s = 0; s < WIRE_NSCHEMAS; s++) {
        if (wr->resolved[s])
            avro_value_iface_decref(wr->resolved[s]);
        if (wr->reduced_iface[s])
            avro_value_iface_decref(wr->reduced_iface[s]);
        if (wr->reduced[s])
            avro_schema_decref(wr->reduced[s]);
    }
    if (wr->generic)
        avro_value_iface_decref(wr->generic);
    if (wr->schema)
        avro_schema_decref(wr->schema);
    free(wr->json);
    free(wr->fullname);
    free(wr);
}

static wire_writer *wire_find_fp(wire *w, uint64_t fp)
{
    for (size_t i = 0; i < w->nwriters; i++)
        if (w->writers[i]->fp == fp)
            return w->writers[i];
    return NULL;
}

/* "namespace.Name" of a named top-level schema, "" otherwise. Malloc'ed. */
static char *wire_schema_fullname(avro_schema_t s)
{
    const char *name = is_avro_named_type(s) ? avro_schema_name(s) : NULL;
    const char *ns = name ? avro_schema_namespace(s) : NULL;
    size_t n = (name ? strlen(name) : 0) + (ns ? strlen(ns) : 0) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s%s%s", ns && *ns ? ns : "", ns && *ns ? "." : "", name ? name : "");
    return out;
}

wire_writer *wire_writer_add(wire *w, const char *json, size_t len, char *err, size_t errlen)
{
    uint64_t fp;
    wire_writer *wr = calloc(1, sizeof *wr);
    if (!wr || !(wr->json = strndup(json, len))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (wire_fingerprint(wr->json, &fp, NULL, err, errlen) != 0)
        goto fail;
    wire_writer *known = wire_find_fp(w, fp);
    if (known) {
        wire_writer_free(wr);
        return known;
    }
    wr->fp = fp;
    if (avro_schema_from_json_length(wr->json, strlen(wr->json), &wr->schema) != 0) {
        snprintf(err, errlen, "avro schema: %s", avro_strerror());
        goto fail;
    }
    if (!(wr->fullname = wire_schema_fullname(wr->schema))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (w->nwriters == WIRE_MAX_WRITERS) {
        snprintf(err, errlen, "too many writer schemas (%d)", WIRE_MAX_WRITERS);
        goto fail;
    }
    w->writers[w->nwriters++] = wr;
    return wr;
fail:
    wire_writer_free(wr);
    return NULL;
}

static char *wire_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (*len = (size_t)ftell(f)) > WIRE_MAX_MSG ||
        fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, errlen, "%s: cannot size the file (or larger than 1 MiB)", path);
        goto cleanup;
    }
    if (!(buf = malloc(*len + 1)) || fread(buf, 1, *len, f) != *len) {
        snprintf(err, errlen, "%s: read failed", path);
        free(buf);
        buf = NULL;
        goto cleanup;
    }
    buf[*len] = '\0';
cleanup:
    fclose(f);
    return buf;
}

static wire_writer *wire_load_file(wire *w, const char *path, char *err, size_t errlen)
{
    size_t len;
    char e[256];
    char *text = wire_read_file(path, &len, err, errlen);
    if (!text)
        return NULL;
    wire_writer *wr = wire_writer_add(w, text, len, e, sizeof e);
    if (!wr)
        snprintf(err, errlen, "%s: %s", path, e);
    free(text);
    return wr;
}

/* Every *.avsc in dir becomes a known writer schema; a missing dir is fine. */
static int wire_load_dir(wire *w, const char *dir, char *err, size_t errlen)
{
    int rc = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", dir, strerror(errno)), -1);
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        char path[4096];
        if (n < 6 || strcmp(de->d_name + n - 5, ".avsc") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        rc = wire_load_file(w, path, err, errlen) ? 0 : -1;
    }
    closedir(d);
    return rc;
}

static int wire_load_own(wire *w, const char *schema_dir, char *err, size_t errlen)
{
    char path[4096];
    for (int s = 0; s < WIRE_NSCHEMAS; s++) {
        snprintf(path, sizeof path, "%s/avro/%s.avsc", schema_dir, wire_names[s]);
        if (!(w->own[s] = wire_load_file(w, path, err, errlen)))
            return -1;
        if (!(w->own_iface[s] = avro_generic_class_from_schema(w->own[s]->schema))) {
            snprintf(err, errlen, "%s: avro_generic_class_from_schema: %s", path, avro_strerror());
            return -1;
        }
        w->own_id[s] = -1;
    }
    snprintf(path, sizeof path, "%s/avro", schema_dir);
    if (wire_load_dir(w, path, err, errlen) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/avro/history", schema_dir);
    return wire_load_dir(w, path, err, errlen);
}

wire *wire_new(const char *schema_dir, const char *registry_url, char *err, size_t errlen)
{
    wire *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (registry_url && *registry_url) {
        size_t n = strlen(registry_url);
        while (n > 0 && registry_url[n - 1] == '/')
            n--;
        if (!(w->registry_url = strndup(registry_url, n))) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    if (wire_load_own(w, schema_dir ? schema_dir : ".", err, errlen) != 0)
        goto fail;
    return w;
fail:
    wire_free(w);
    return NULL;
}

void wire_free(wire *w)
{
    if (!w)
        return;
    for (int s = 0; s < WIRE_NSCHEMAS; s++)
        if (w->own_iface[s])
            avro_value_iface_decref(w->own_iface[s]);
    for (size_t i = 0; i < w->nwriters; i++)
        wire_writer_free(w->writers[i]);
    free(w->registry_url);
    free(w);
}

static int wire_id_put(wire *w, int32_t id, wire_writer *wr)
{
    for (size_t i = 0; i < w->nids; i++)
        if (w->ids[i].id == id) {
            w->ids[i].wr = wr;
            return 0;
        }
    if (w->nids == WIRE_MAX_WRITERS)
        return -1;
    w->ids[w->nids].id = id;
    w->ids[w->nids++].wr = wr;
    return 0;
}

int wire_test_set_id(wire *w, wire_schema s, int32_t id)
{
    w->own_id[s] = id;
    return wire_id_put(w, id, w->own[s]);
}

int wire_register(wire *w, wire_schema s, const char *topic, char *err, size_t errlen)
{
    char subject[512];
    int32_t id;
    if (!w->registry_url)
        return 0;
    snprintf(subject, sizeof subject, "%s-value", topic);
    if (wire_registry_post(w->registry_url, subject, w->own[s]->json, &id, err, errlen) != 0)
        return -1;
    if (wire_test_set_id(w, s, id) != 0) {
        snprintf(err, errlen, "too many registry ids cached");
        return -1;
    }
    return 0;
}

/* Registry id -> writer: cache, else one GET (unknown ids are remembered too). */
static wire_writer *wire_find_id(wire *w, int32_t id, char *err, size_t errlen)
{
    char *json = NULL;
    for (size_t i = 0; i < w->nids; i++)
        if (w->ids[i].id == id)
            return w->ids[i].wr;
    for (size_t i = 0; i < w->nmissing; i++)
        if (w->missing_ids[i] == id) {
            snprintf(err, errlen, "unknown schema id %" PRId32, id);
            return NULL;
        }
    if (!w->registry_url) {
        snprintf(err, errlen, "unknown schema id %" PRId32 " (no registry configured)", id);
        return NULL;
    }
    int rc = wire_registry_get(w->registry_url, id, &json, err, errlen);
    if (rc == 1 && w->nmissing < sizeof w->missing_ids / sizeof w->missing_ids[0])
        w->missing_ids[w->nmissing++] = id;
    if (rc != 0)
        return NULL;
    wire_writer *wr = wire_writer_add(w, json, strlen(json), err, errlen);
    free(json);
    if (wr && wire_id_put(w, id, wr) != 0) {
        snprintf(err, errlen, "too many registry ids cached");
        return NULL;
    }
    return wr;
}

/* Reads the framing; returns the writer and the header length, or NULL with err. */
static wire_writer *wire_frame(wire *w, const uint8_t *b, size_t len, size_t *hdr, char *err,
                               size_t errlen)
{
    if (len > WIRE_MAX_MSG) {
        snprintf(err, errlen, "message of %zu bytes exceeds the %d byte cap", len, WIRE_MAX_MSG);
        return NULL;
    }
    if (len >= 2 && b[0] == 0xC3 && b[1] == 0x01) {
        uint64_t fp = 0;
        if (len < 10) {
            snprintf(err, errlen, "truncated single-object header (%zu bytes)", len);
            return NULL;
        }
        for (int i = 7; i >= 0; i--)
            fp = (fp << 8) | b[2 + i];
        *hdr = 10;
        wire_writer *wr = wire_find_fp(w, fp);
        if (!wr)
            snprintf(err, errlen, "unknown schema fingerprint 0x%016" PRIx64, fp);
        return wr;
    }
    if (len >= 1 && b[0] == 0x00) {
        if (len < 5) {
            snprintf(err, errlen, "truncated Confluent header (%zu bytes)", len);
            return NULL;
        }
        uint32_t id = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
        *hdr = 5;
        if (id > INT32_MAX) {
            snprintf(err, errlen, "invalid schema id %" PRIu32, id);
            return NULL;
        }
        return wire_find_id(w, (int32_t)id, err, errlen);
    }
    if (len == 0)
        snprintf(err, errlen, "empty message");
    else
        snprintf(err, errlen, "bad magic byte 0x%02x (neither C3 01 nor 00)", b[0]);
    return NULL;
}

int wire_value_new(wire *w, wire_schema s, wire_decoded *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (avro_generic_value_new(w->own_iface[s], &out->value) != 0) {
        snprintf(err, errlen, "avro_generic_value_new: %s", avro_strerror());
        return -1;
    }
    out->iface = avro_value_iface_incref(w->own_iface[s]);
    return 0;
}

void wire_decoded_free(wire_decoded *d)
{
    if (d->iface) {
        avro_value_decref(&d->value);
        avro_value_iface_decref(d->iface);
    }
    memset(d, 0, sizeof *d);
}

static size_t wire_header(wire *w, wire_schema s, uint8_t *h)
{
    if (w->registry_url) {
        uint32_t id = (uint32_t)w->own_id[s];
        h[0] = 0;
        h[1] = (uint8_t)(id >> 24), h[2] = (uint8_t)(id >> 16);
        h[3] = (uint8_t)(id >> 8), h[4] = (uint8_t)id;
        return 5;
    }
    h[0] = 0xC3;
    h[1] = 0x01;
    for (int i = 0; i < 8; i++)
        h[2 + i] = (uint8_t)(w->own[s]->fp >> (8 * i));
    return 10;
}

int wire_encode_value(wire *w, wire_schema s, avro_value_t *v, void **buf, size_t *len, char *err,
                      size_t errlen)
{
    uint8_t h[10];
    size_t size = 0;
    avro_writer_t aw = NULL;
    if (w->registry_url && w->own_id[s] < 0) {
        snprintf(err, errlen, "schema %s not registered (call wire_register)", wire_names[s]);
        return -1;
    }
    size_t hl = wire_header(w, s, h);
    if (avro_value_sizeof(v, &size) != 0) {
        snprintf(err, errlen, "avro_value_sizeof: %s", avro_strerror());
        return -1;
    }
    uint8_t *out = malloc(hl + size + 1);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(out, h, hl);
    if (!(aw = avro_writer_memory((const char *)out + hl, (int64_t)size)) ||
        avro_value_write(aw, v) != 0) {
        snprintf(err, errlen, "avro_value_write: %s", avro_strerror());
        if (aw)
            avro_writer_free(aw);
        free(out);
        return -1;
    }
    avro_writer_free(aw);
    *buf = out;
    *len = hl + size;
    return 0;
}

int wire_locate(wire *w, const void *buf, size_t len, wire_writer **wr, size_t *hdr, char *err,
                size_t errlen)
{
    const uint8_t *b = buf;
    if (!buf && len > 0) {
        snprintf(err, errlen, "no buffer");
        return -1;
    }
    if (!(*wr = wire_frame(w, b, len, hdr, err, errlen)))
        return -1;
    return wire_guard((*wr)->schema, b + *hdr, len - *hdr, err, errlen);
}
