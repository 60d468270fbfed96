#!/usr/bin/env bash
# Healthy when the broker answers an ApiVersions v0 request on its client port (no JVM start:
# bash /dev/tcp, well under 0.1 s). Response: int32 size, int32 correlation id, int16 error.
# `kafka-healthcheck.sh PORT tls`: the same over TLS (openssl s_client; ApiVersions is
# answered before SASL authentication; about 1 s: the request is followed by 1 s of open
# input), for the SASL_SSL listener of compose.secure.yaml.
set -u
PORT=${1:-9092}
# size=12, api_key=18 (ApiVersions), api_version=0, correlation_id=0x57463401, client_id="hc"
REQ='\x00\x00\x00\x0c\x00\x12\x00\x00\x57\x46\x34\x01\x00\x02hc'
if [ "${2:-}" = tls ]; then
  reply=$({ printf "$REQ"; sleep 1; } | timeout 3 openssl s_client -quiet -no_ign_eof \
    -connect "127.0.0.1:$PORT" 2>/dev/null | head -c 10 | od -An -tx1 | tr -d ' \n')
else
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
  printf "$REQ" >&3
  reply=$(timeout 2 head -c 10 <&3 | od -An -tx1 | tr -d ' \n')
  exec 3<&- 3>&-
fi
# bytes 4..7: correlation id, bytes 8..9: error code 0
[ "${reply:8:8}" = "57463401" ] && [ "${reply:16:4}" = "0000" ]
