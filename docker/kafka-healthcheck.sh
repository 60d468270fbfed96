#!/usr/bin/env bash
# Healthy when the broker answers an ApiVersions v0 request on its client port (no JVM start:
# bash /dev/tcp, well under 0.1 s). Response: int32 size, int32 correlation id, int16 error.
set -u
PORT=${1:-9092}
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
# size=12, api_key=18 (ApiVersions), api_version=0, correlation_id=0x57463401, client_id="hc"
printf '\x00\x00\x00\x0c\x00\x12\x00\x00\x57\x46\x34\x01\x00\x02hc' >&3
reply=$(timeout 2 head -c 10 <&3 | od -An -tx1 | tr -d ' \n')
exec 3<&- 3>&-
# bytes 4..7: correlation id, bytes 8..9: error code 0
[ "${reply:8:8}" = "57463401" ] && [ "${reply:16:4}" = "0000" ]
