/* Avro wire format: single-object encoding or Confluent framing, and hostile-input decoding. */
#ifndef WF4_WIRE_H
#define WF4_WIRE_H

#include <stddef.h>
#include <stdint.h>

typedef struct wire wire;

/* The pipeline's value schemas, loaded from <schema_dir>/avro/<name>.avsc. */
typedef enum { WIRE_CLAIM = 0, WIRE_RESULT, WIRE_HANDOFF, WIRE_NSCHEMAS } wire_schema;

/* Loads the schemas. registry_url NULL or "" selects the single-object encoding
 * (C3 01 + CRC-64-AVRO fingerprint, little-endian); otherwise the Confluent framing
 * (0x00 + 4-byte big-endian id) against a Confluent-compatible registry such as
 * http://host:port/apis/ccompat/v7. Returns NULL with err on failure. Not thread-safe:
 * one wire per thread. */
wire *wire_new(const char *schema_dir, const char *registry_url, char *err, size_t errlen);
void wire_free(wire *w);

/* With a registry: registers schema s under "<topic>-value" (same schema -> same id) and
 * uses that id when encoding s. Without one: a no-op. Call at start-up for each topic the
 * process writes. Returns 0 or -1 with err. */
int wire_register(wire *w, wire_schema s, const char *topic, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Decodes any message written with a known schema (by fingerprint or registry id) to one
 * JSON value (malloc'ed, caller frees). For the inspection tool. */
int wire_decode_json(wire *w, const void *buf, size_t len, char **json, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* CRC-64-AVRO (Rabin) fingerprint of a schema's Parsing Canonical Form; the canonical form
 * is written to *canonical (malloc'ed, caller frees) when canonical is not NULL.
 * Returns 0 or -1 with err (schema JSON invalid). */
int wire_fingerprint(const char *schema_json, uint64_t *fp, char **canonical, char *err,
                     size_t errlen);

#endif
