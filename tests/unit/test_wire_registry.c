/* Registry check against a real Confluent-compatible registry (Apicurio): register, encode, decode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "wire_internal.h"

#define D1 "0b6f3c2e-8a1d-4c5e-9f00-1234567890ab"
#define C1 "5d2e7f10-3b4c-4d5e-8f6a-7b8c9d0e1f2a"

static int failures;

static void check(int ok, const char *what, const char *err)
{
    printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what, err && !ok ? ": " : "",
           err && !ok ? err : "");
    failures += !ok;
}

/* Encodes a claim with the registered id; a second wire that knows no ids decodes it by
 * fetching the schema from the registry. */
static void check_claim(wire *w, const char *schema_dir, const char *url)
{
    char err[512] = "";
    msg_claim c = {.domain_id = D1,
                   .claim_id = C1,
                   .attempt = 2,
                   .claimed_at_ms = 1,
                   .lease_expires_at_ms = 2},
              out;
    c.domain = "registry.example";
    void *buf = NULL;
    size_t len = 0;
    int rc = msg_claim_encode(w, &c, &buf, &len, err, sizeof err);
    check(rc == 0 && len > 5 && ((unsigned char *)buf)[0] == 0, "encode claim, Confluent framing",
          err);
    if (rc != 0)
        return;
    wire *fresh = wire_new(schema_dir, url, err, sizeof err);
    check(fresh != NULL, "second wire", err);
    if (fresh) {
        rc = msg_claim_decode(fresh, buf, len, &out, err, sizeof err);
        check(rc == 0 && strcmp(out.domain, "registry.example") == 0,
              "decode through GET /schemas/ids/{id}", err);
        if (rc == 0)
            msg_claim_free(&out);
        char *json = NULL;
        rc = wire_decode_json(fresh, buf, len, &json, err, sizeof err);
        check(rc == 0, "wire_decode_json of a registry-framed message", err);
        if (json)
            printf("     %s\n", json);
        free(json);
        unsigned char unknown[] = {0, 0x7f, 0xff, 0xff, 0xf0, 0};
        rc = msg_claim_decode(fresh, unknown, sizeof unknown, &out, err, sizeof err);
        check(rc != 0 && strstr(err, "unknown schema id"), "unknown id rejected", err);
        wire_free(fresh);
    }
    free(buf);
}

int main(int argc, char **argv)
{
    char err[512] = "", topic[128];
    const char *url = getenv("WF4_SCHEMA_REGISTRY_URL");
    const char *dir = argc > 1 ? argv[1] : WF4_SCHEMA_DIR_DEFAULT;
    if (!url || !*url) {
        fprintf(stderr, "WF4_SCHEMA_REGISTRY_URL is not set\n");
        return 2;
    }
    wire *w = wire_new(dir, url, err, sizeof err);
    if (!w) {
        fprintf(stderr, "wire_new: %s\n", err);
        return 1;
    }
    long run = (long)time(NULL);
    static const char *const names[] = {"claims", "results", "handoffs"};
    int32_t first[WIRE_NSCHEMAS];
    for (int s = 0; s < WIRE_NSCHEMAS; s++) {
        snprintf(topic, sizeof topic, "wf4test.%ld.%s", run, names[s]);
        int rc = wire_register(w, (wire_schema)s, topic, err, sizeof err);
        check(rc == 0, topic, err);
        first[s] = w->own_id[s];
        rc = wire_register(w, (wire_schema)s, topic, err, sizeof err);
        check(rc == 0 && w->own_id[s] == first[s], "same schema -> same id", err);
    }
    check_claim(w, dir, url);
    /* BACKWARD: a new version with a required field and no default is refused. */
    int32_t id;
    snprintf(topic, sizeof topic, "wf4test.%ld.claims-value", run);
    int rc = wire_registry_post(
        w->registry_url, topic,
        "{\"type\":\"record\",\"name\":\"DomainClaim\",\"namespace\":"
        "\"com.scrapersky.wf4\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}",
        &id, err, sizeof err);
    check(rc != 0, "incompatible schema refused", "accepted");
    if (rc != 0)
        printf("     (%s)\n", err);
    wire_free(w);
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
