#!/usr/bin/env bash
# Bring the compose stack up where Docker Hub cannot be reached: start the Docker engine
# (installing docker.io and docker-compose when missing), build the local base image once
# (debootstrap of bookworm + docker import), then build every image and start the stack.
# Without SCRAPERAPI_KEY (environment or .env) it runs the ScraperAPI stand-in (profile
# standin) and points the scraper at it. Arguments are passed to `docker-compose up -d`, e.g.
#   scripts/compose-up.sh --scale scraper=3
# --secure (first): the secured stack, compose.yaml with compose.secure.yaml (Kafka on
# SASL_SSL with a principal and ACLs per service, TLS everywhere, passwords as Docker
# secrets made by scripts/compose-secrets.sh in $WF4_SECRETS_DIR, default <repo>/secrets).
#   COMPOSE_PROFILES=standin SCRAPERAPI_URL=http://standin:8099/ SCRAPERAPI_KEY=dev scripts/compose-up.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/compose-env.sh
. "$ROOT/scripts/compose-env.sh"
export BASE_IMAGE=${BASE_IMAGE:-local/debian:bookworm-slim}
secure=0
if [ "${1:-}" = --secure ]; then
  secure=1
  shift
fi

# No ScraperAPI key (in the environment or .env): run the stand-in instead of failing.
if [ -z "${SCRAPERAPI_KEY:-}" ] && ! grep -Eq '^SCRAPERAPI_KEY=.+' "$ROOT/.env" 2>/dev/null; then
  echo "compose-up.sh: SCRAPERAPI_KEY is not set: using the ScraperAPI stand-in (profile standin)" >&2
  export COMPOSE_PROFILES=${COMPOSE_PROFILES:+$COMPOSE_PROFILES,}standin
  export SCRAPERAPI_URL=http://standin:8099/ SCRAPERAPI_KEY=standin-local
fi

if [ "$secure" = 1 ]; then
  export COMPOSE_FILE=compose.yaml:compose.secure.yaml
  # The key and the secrets' directory may be in .env, which only docker-compose reads.
  for v in SCRAPERAPI_KEY WF4_SECRETS_DIR; do
    [ -n "${!v:-}" ] || export "$v=$(sed -n "s/^$v=//p" "$ROOT/.env" 2>/dev/null | tail -n 1)"
  done
  bash "$ROOT/scripts/compose-secrets.sh"
fi

bash "$ROOT/scripts/dockerd.sh"
if [ "$BASE_IMAGE" = local/debian:bookworm-slim ]; then
  bash "$ROOT/scripts/compose-base-image.sh" "$BASE_IMAGE"
fi
# `up -d` returns once the dependencies are healthy and init has completed.
nice docker-compose build
docker image prune -f --filter label=org.wf4.image >/dev/null 2>&1 || true
docker-compose up -d "$@"
docker-compose ps
cat <<MSG

The stack is up (project $(basename "$ROOT")${COMPOSE_FILE:+, COMPOSE_FILE=$COMPOSE_FILE: export it for the commands below}). Next:
  docker-compose exec claimer wf4ctl status
  docker-compose exec -T claimer wf4ctl select --file - < demo/domains.txt
  docker-compose exec claimer wf4-inspect -o beginning wf5.domain.handoffs
  docker-compose logs -f scraper
  docker-compose down -v        # stop and remove everything, data included
MSG
