#!/bin/sh
# add-ca-certs BASE64_PEM: write each certificate of the (base64-encoded) PEM bundle to
# /usr/local/share/ca-certificates/wf4-extra-N.crt. Nothing to do when the argument is empty.
# Run it before installing ca-certificates (or run update-ca-certificates afterwards).
set -eu
[ -n "${1:-}" ] || exit 0
dir=/usr/local/share/ca-certificates
mkdir -p "$dir"
printf '%s' "$1" | base64 -d | awk -v dir="$dir" '
  /-----BEGIN CERTIFICATE-----/ { n++; f = sprintf("%s/wf4-extra-%d.crt", dir, n) }
  f { print > f }
  /-----END CERTIFICATE-----/ { close(f); f = "" }'
if command -v update-ca-certificates >/dev/null 2>&1; then update-ca-certificates >/dev/null 2>&1 || true; fi
echo "add-ca-certs: $(ls "$dir"/wf4-extra-*.crt 2>/dev/null | wc -l) certificate(s) added" >&2
