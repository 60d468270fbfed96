/* libFuzzer target: the three typed decoders and wire_decode_json over hostile bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "msg.h"
#include "wire_internal.h"

static wire *fuzz_w;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512];
    (void)argc;
    (void)argv;
    fuzz_w = wire_new(WF4_FUZZ_SCHEMA_DIR, NULL, err, sizeof err);
    if (!fuzz_w) {
        fprintf(stderr, "fuzz_wire: wire_new: %s\n", err);
        abort();
    }
    /* Registry framing too: the ids 1..3 stand for the three schemas, no HTTP. */
    for (int s = 0; s < WIRE_NSCHEMAS; s++)
        if (wire_test_set_id(fuzz_w, (wire_schema)s, s + 1) != 0)
            abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    char *json = NULL;
    msg_claim c;
    msg_result r;
    msg_handoff h;
    if (msg_claim_decode(fuzz_w, data, size, &c, err, sizeof err) == 0)
        msg_claim_free(&c);
    if (msg_result_decode(fuzz_w, data, size, &r, err, sizeof err) == 0)
        msg_result_free(&r);
    if (msg_handoff_decode(fuzz_w, data, size, &h, err, sizeof err) == 0)
        msg_handoff_free(&h);
    if (wire_decode_json(fuzz_w, data, size, &json, err, sizeof err) == 0)
        free(json);
    return 0;
}
