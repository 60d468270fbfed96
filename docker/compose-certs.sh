#!/usr/bin/env bash
# The secured compose stack's one-shot `certs` service (compose.secure.yaml), run as root in
# the Kafka image: a CA and the servers' certificates (scripts/tls-make.sh) in the volume
# mounted at TLS_DIR, made on the first start and kept afterwards (`down -v` makes new ones).
# The broker's keystore goes to the image's user kafka; PostgreSQL's entrypoint (root) copies
# its key for its own user; the services read only ca.pem.
set -euo pipefail
TLS_DIR=${TLS_DIR:-/tls}
wf4-tls-make --keep --days "${WF4_TLS_DAYS:-365}" "$TLS_DIR" \
  wf4-broker=DNS:kafka,DNS:localhost,IP:127.0.0.1 postgres=DNS:postgres,DNS:localhost
chown kafka:kafka "$TLS_DIR/wf4-broker.p12" "$TLS_DIR/wf4-broker.p12.password"
chmod 0755 "$TLS_DIR"
echo "compose-certs: CA $(openssl x509 -noout -fingerprint -sha256 -in "$TLS_DIR/ca.pem")" >&2
