#!/usr/bin/env bash
# Start Apicurio, wait until it answers, set the global compatibility rule (its default is
# NONE; storage is in memory, so on every start), then wait for it, passing signals on.
set -euo pipefail
cd /opt/apicurio
# shellcheck disable=SC2086
java ${REGISTRY_HEAP_OPTS:-} -Djava.awt.headless=true \
  -Dquarkus.http.host=0.0.0.0 -Dquarkus.http.port=8080 \
  -Dregistry.ccompat.use-canonical-hash=true \
  ${REGISTRY_JVM_OPTS:-} -jar /opt/apicurio/registry-runner.jar &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT

if [ -n "${REGISTRY_COMPATIBILITY:-}" ]; then
  body="{\"compatibility\":\"$REGISTRY_COMPATIBILITY\"}"
  for _ in $(seq 1 240); do
    kill -0 "$pid" 2>/dev/null || break
    if http-check 8080 /apis/ccompat/v7/subjects; then
      if http-check 8080 /apis/ccompat/v7/config PUT "$body"; then
        echo "registry-entrypoint: global compatibility $REGISTRY_COMPATIBILITY" >&2
      else
        echo "registry-entrypoint: could not set compatibility $REGISTRY_COMPATIBILITY" >&2
      fi
      break
    fi
    sleep 0.5
  done
fi
set +e
wait "$pid"; rc=$?
# wait returns early when a trapped signal arrives: wait again for the JVM to finish.
while kill -0 "$pid" 2>/dev/null; do wait "$pid"; rc=$?; done
exit "$rc"
