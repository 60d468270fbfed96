#!/usr/bin/env python3
"""Poison messages for the chaos test, crafted from one valid claim and one valid result.

usage: chaos_poison.py CLAIM.bin RESULT.bin OUTDIR
Writes OUTDIR/<claims|results>.<kind>.bin for every kind in KINDS, each a message that a
consumer of that topic must send to its dead-letter topic:
  random        random bytes (not a known framing)
  truncated     a valid message cut in the middle of its Avro body
  unknown_fp    single-object framing (C3 01) with a fingerprint no schema has
  unknown_id    Confluent framing (00) with a schema id the registry does not know
  wrong_schema  a valid message of the other topic's schema
  oversized     a valid message padded past the decoder's 1 MiB cap
  bad_utf8      a valid message whose host name string holds invalid UTF-8
"""
import os
import struct
import sys

KINDS = ["random", "truncated", "unknown_fp", "unknown_id", "wrong_schema", "oversized",
         "bad_utf8"]
OVERSIZED = 1024 * 1024 + 64 * 1024


def framing(msg):
    """(header length, body) of a framed message, either framing."""
    if msg[:2] == b"\xc3\x01":
        return 10, msg[10:]
    if msg[:1] == b"\x00":
        return 5, msg[5:]
    raise SystemExit("captured message has no known framing: %r" % msg[:16])


def varint(buf, pos):
    """Zig-zag varint at pos: (value, next position)."""
    shift = v = 0
    while True:
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return (v >> 1) ^ -(v & 1), pos


def skip_string(buf, pos):
    n, pos = varint(buf, pos)
    return pos + n


def host_span(msg, is_claim):
    """(start, length) of the host name string's bytes: claim = domain_id, claim_id,
    tenant_id (union), domain; result = domain_id, claim_id, domain."""
    pos, _ = framing(msg)
    pos = skip_string(msg, skip_string(msg, pos))
    if is_claim:
        branch, pos = varint(msg, pos)
        if branch == 1:
            pos = skip_string(msg, pos)
    n, pos = varint(msg, pos)
    if n < 2:
        raise SystemExit("host name too short to corrupt")
    return pos, n


def poison(valid, other, is_claim):
    hlen, body = framing(valid)
    start, n = host_span(valid, is_claim)
    bad = bytearray(valid)
    bad[start] = 0xC3  # lead byte of a 2-byte sequence...
    bad[start + 1] = 0x28  # ...followed by no continuation byte
    rnd = bytearray(os.urandom(200))
    rnd[0] = 0x7E  # neither 0x00 nor 0xC3
    return {
        "random": bytes(rnd),
        "truncated": valid[: hlen + len(body) // 2],
        "unknown_fp": b"\xc3\x01" + os.urandom(8) + body,
        "unknown_id": b"\x00" + struct.pack(">i", 0x7FFFFF00) + body,
        "wrong_schema": other,
        "oversized": valid + b"\x00" * (OVERSIZED - len(valid)),
        "bad_utf8": bytes(bad),
    }


def main():
    claim = open(sys.argv[1], "rb").read()
    result = open(sys.argv[2], "rb").read()
    out = sys.argv[3]
    for topic, valid, other, is_claim in (("claims", claim, result, True),
                                          ("results", result, claim, False)):
        for kind, data in poison(valid, other, is_claim).items():
            with open(os.path.join(out, "%s.%s.bin" % (topic, kind)), "wb") as f:
                f.write(data)
    print(" ".join(KINDS))


if __name__ == "__main__":
    main()
