#!/usr/bin/env bash
# Make a Docker engine and docker-compose available on this machine (Debian bookworm, root).
#  - installs Debian's docker.io (engine + 20.10 client with BuildKit) and docker-compose 1.29.2
#    when missing;
#  - starts dockerd in the background when `docker info` does not answer (no systemd here).
# Idempotent: a second run with a running engine returns at once.
# Uses /usr/bin/docker explicitly: another `docker` client earlier on the PATH may lack buildx.
set -euo pipefail

DOCKER=/usr/bin/docker
LOG=${DOCKERD_LOG:-/var/log/wf4-dockerd.log}

log() { printf 'dockerd.sh: %s\n' "$*" >&2; }

need=()
[ -x "$DOCKER" ] && command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
[ -x /usr/bin/docker-compose ] || need+=(docker-compose)
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

if "$DOCKER" info >/dev/null 2>&1; then
  exit 0
fi

# dockerd needs iptables, containerd; docker.io pulls them in. Start it by hand.
if ! pgrep -x dockerd >/dev/null 2>&1; then
  log "starting dockerd (log: $LOG)"
  mkdir -p "$(dirname "$LOG")"
  # setsid: the engine outlives the shell that started it (a test's trap, a CI step).
  setsid nohup dockerd >"$LOG" 2>&1 </dev/null &
fi
for _ in $(seq 1 120); do
  if "$DOCKER" info >/dev/null 2>&1; then
    log "engine ready"
    exit 0
  fi
  sleep 0.5
done
log "dockerd did not answer within 60 s; last lines of $LOG:"
tail -n 20 "$LOG" >&2 || true
exit 1
