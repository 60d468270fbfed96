#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_wire from tests/data/wire-interop.txt: every sample in the
single-object framing and in the Confluent framing (ids 1..3 = claim, result, handoff, as
fuzz_wire.c registers them), plus a few malformed messages.

    python3 tests/fuzz/make_corpus.py tests/data/wire-interop.txt tests/fuzz/corpus
"""
import os
import sys

IDS = {"claim": 1, "result": 2, "handoff": 3}


def main(src, out):
    os.makedirs(out, exist_ok=True)
    seeds = {}
    for line in open(src):
        parts = line.split()
        if len(parts) != 4 or parts[0] != "msg":
            continue
        _, name, schema, hexs = parts
        b = bytes.fromhex(hexs)
        seeds[f"so_{name}"] = b
        seeds[f"cf_{name}"] = b"\x00" + IDS[schema].to_bytes(4, "big") + b[10:]
    claim = seeds["so_claim_full"]
    seeds["bad_magic"] = b"\x01" + claim[1:]
    seeds["bad_truncated"] = claim[: len(claim) // 2]
    seeds["bad_trailing"] = claim + b"\x00"
    seeds["bad_neg_length"] = claim[:10] + b"\x01"
    seeds["bad_union_m1"] = claim[:84] + b"\x01" + claim[85:]
    seeds["bad_unknown_id"] = b"\x00\x00\x00\x00\x63" + claim[10:]
    for k, v in sorted(seeds.items()):
        with open(os.path.join(out, k), "wb") as f:
            f.write(v)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
