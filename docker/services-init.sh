#!/usr/bin/env bash
# The compose stack's one-shot init: apply the migrations (as the admin role), then create the
# topics from the catalogue, and with WF4_COMPOSE_ACLS=1 (compose.secure.yaml) each service's
# ACLs (wf4ctl acls, as the Kafka administrator). Both are idempotent; retried while PostgreSQL or Kafka are still
# coming up (the healthchecks say "up", the first connection may still race).
set -uo pipefail
try() {
  local what=$1; shift
  for i in $(seq 1 "${WF4_INIT_TRIES:-20}"); do
    if "$@"; then echo "wf4-compose-init: $what done" >&2; return 0; fi
    echo "wf4-compose-init: $what failed (try $i), retrying in 2 s" >&2
    sleep 2
  done
  echo "wf4-compose-init: $what failed for good" >&2
  exit 1
}
try "migrate" wf4ctl migrate
try "topics" wf4ctl topics
[ "${WF4_COMPOSE_ACLS:-0}" != 1 ] || try "acls" wf4ctl acls
