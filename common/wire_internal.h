/* Internals shared by wire*.c and msg.c: schema cache, guard, registry client. */
#ifndef WF4_WIRE_INTERNAL_H
#define WF4_WIRE_INTERNAL_H

#include <avro.h>
#include <stdint.h>

#include "wire.h"

#define WIRE_MAX_MSG (1024 * 1024) /* overall size cap of one framed message */
#define WIRE_MAX_DEPTH 32          /* nesting limit of the validating walker */
#define WIRE_MAX_ITEMS 65536       /* array/map elements in one message */
#define WIRE_MAX_WRITERS 256       /* writer schemas cached (own, history, registry) */

/* One writer schema known by fingerprint and, when fetched or registered, registry id. */
typedef struct wire_writer {
    uint64_t fp;
    char *json;                                  /* schema text as loaded */
    char *fullname;                              /* of the top-level named type, or "" */
    avro_schema_t schema;                        /* owned reference */
    avro_value_iface_t *generic;                 /* lazily created, for wire_decode_json */
    avro_value_iface_t *resolved[WIRE_NSCHEMAS]; /* writer -> reader s, lazily */
    avro_schema_t reduced[WIRE_NSCHEMAS];        /* reader without fields writer lacks */
    avro_value_iface_t *reduced_iface[WIRE_NSCHEMAS];
} wire_writer;

struct wire {
    char *registry_url;              /* NULL = single-object encoding */
    wire_writer *own[WIRE_NSCHEMAS]; /* the reader/writer schemas of this build */
    int32_t own_id[WIRE_NSCHEMAS];   /* registry id once registered, else -1 */
    avro_value_iface_t *own_iface[WIRE_NSCHEMAS];
    wire_writer *writers[WIRE_MAX_WRITERS];
    size_t nwriters;
    struct {
        int32_t id;
        wire_writer *wr;
    } ids[WIRE_MAX_WRITERS]; /* registry id -> writer */
    size_t nids;
    int32_t missing_ids[64]; /* registry ids that the registry did not know */
    size_t nmissing;
};

/* Validates buf against the writer schema before avro-c sees it: lengths, varints,
 * unions, booleans, enums, UTF-8, depth, trailing bytes. Returns 0 or -1 with err. */
int wire_guard(avro_schema_t writer, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Registry client (libcurl). POST the schema under subject, return its id. */
int wire_registry_post(const char *url, const char *subject, const char *schema_json, int32_t *id,
                       char *err, size_t errlen);
/* GET /schemas/ids/{id}: *schema_json malloc'ed. Returns 0, 1 when the id is unknown
 * (HTTP 404), -1 on other errors. */
int wire_registry_get(const char *url, int32_t id, char **schema_json, char *err, size_t errlen);

/* Adds a writer schema from its JSON text; returns the cached entry (existing one when
 * the fingerprint is known) or NULL with err. */
wire_writer *wire_writer_add(wire *w, const char *json, size_t len, char *err, size_t errlen);

/* Decodes a framed message written with a schema compatible with reader s. On success
 * out->value is a record of the reader schema, except that record fields the writer
 * lacks are left out (avro-c 1.11 cannot fill defaults): the caller reads fields by name
 * and applies the reader default, which the .avsc declares, for a missing one.
 * Free with wire_decoded_free. Returns 0 or -1 with err. */
typedef struct wire_decoded {
    avro_value_t value;
    avro_value_iface_t *iface; /* reference held for value */
} wire_decoded;
int wire_decode_value(wire *w, wire_schema s, const void *buf, size_t len, wire_decoded *out,
                      char *err, size_t errlen);
void wire_decoded_free(wire_decoded *d);

/* Reads the framing, finds the writer schema (fetching an unknown registry id once) and
 * runs wire_guard over the payload. *hdr = framing length. Returns 0 or -1 with err. */
int wire_locate(wire *w, const void *buf, size_t len, wire_writer **wr, size_t *hdr, char *err,
                size_t errlen);

/* A fresh generic value of the pipeline's own schema s, to fill and encode. */
int wire_value_new(wire *w, wire_schema s, wire_decoded *out, char *err, size_t errlen);
/* Frames and encodes v (of own schema s): *buf malloc'ed. */
int wire_encode_value(wire *w, wire_schema s, avro_value_t *v, void **buf, size_t *len, char *err,
                      size_t errlen);

/* Test hook: records a registry id for own schema s without any HTTP (unit tests). */
int wire_test_set_id(wire *w, wire_schema s, int32_t id);

/* UTF-8 validity (strict: no overlongs, surrogates, > U+10FFFF, NUL). */
int wire_utf8_valid(const uint8_t *s, size_t n);

#endif
