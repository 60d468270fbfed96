#!/usr/bin/env bash
# http-check PORT PATH [METHOD [BODY]] [-v]: a tiny HTTP/1.0 client on 127.0.0.1 with bash
# /dev/tcp (no curl needed). Exit 0 on a 2xx answer. With HTTP_CHECK_PRINT=1 (or -v as the last
# argument) the response body is written to stdout.
set -u
print=${HTTP_CHECK_PRINT:-0}
if [ "${!#}" = "-v" ]; then print=1; set -- "${@:1:$(($#-1))}"; fi
PORT=${1:?port}; PATH_=${2:-/}; METHOD=${3:-GET}; BODY=${4:-}
HOST=${HTTP_CHECK_HOST:-127.0.0.1}
exec 3<>"/dev/tcp/$HOST/$PORT" || exit 2
if [ -n "$BODY" ]; then
  printf '%s %s HTTP/1.0\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$METHOD" "$PATH_" "$HOST" "${#BODY}" "$BODY" >&3
else
  printf '%s %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$METHOD" "$PATH_" "$HOST" >&3
fi
resp=$(timeout "${HTTP_CHECK_TIMEOUT:-5}" cat <&3; echo x)
resp=${resp%x}
exec 3<&- 3>&-
status_line=${resp%%$'\n'*}
code=$(printf '%s' "$status_line" | cut -d' ' -f2)
if [ "$print" = 1 ]; then
  printf '%s' "${resp#*$'\r\n\r\n'}"
fi
case $code in 2??) exit 0 ;; *) exit 1 ;; esac
