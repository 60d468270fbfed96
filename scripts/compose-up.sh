#!/usr/bin/env bash
# Bring the compose stack up where Docker Hub cannot be reached: start the Docker engine
# (installing docker.io and docker-compose when missing), build the local base image once
# (debootstrap of bookworm + docker import), then build every image and start the stack.
# Arguments are passed to `docker-compose up -d --build`, e.g.
#   scripts/compose-up.sh --scale scraper=3
#   COMPOSE_PROFILES=standin SCRAPERAPI_URL=http://standin:8099/ SCRAPERAPI_KEY=dev scripts/compose-up.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/compose-env.sh
. "$ROOT/scripts/compose-env.sh"
export BASE_IMAGE=${BASE_IMAGE:-local/debian:bookworm-slim}

bash "$ROOT/scripts/dockerd.sh"
if [ "$BASE_IMAGE" = local/debian:bookworm-slim ]; then
  bash "$ROOT/scripts/compose-base-image.sh" "$BASE_IMAGE"
fi
# `up -d` returns once the dependencies are healthy and init has completed.
nice docker-compose build
docker-compose up -d "$@"
docker-compose ps
cat <<MSG

The stack is up (project $(basename "$ROOT")). Next:
  docker-compose exec claimer wf4ctl status
  docker-compose exec -T claimer wf4ctl select --file - < demo/domains.txt
  docker-compose exec claimer wf4-inspect -o beginning wf5.domain.handoffs
  docker-compose logs -f scraper
  docker-compose down -v        # stop and remove everything, data included
MSG
