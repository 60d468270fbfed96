#!/usr/bin/env bash
# Build the local base image `local/debian:bookworm-slim` (debootstrap + docker import) for
# machines where Docker Hub cannot be reached. Skips when the image already exists.
# Usage: scripts/compose-base-image.sh [IMAGE]   (default local/debian:bookworm-slim)
set -euo pipefail

DOCKER=/usr/bin/docker
IMAGE=${1:-${WF4_BASE_IMAGE_TAG:-local/debian:bookworm-slim}}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

log() { printf 'compose-base-image.sh: %s\n' "$*" >&2; }

if "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  log "$IMAGE exists, reusing it"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends debootstrap >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y --no-install-recommends debootstrap >/dev/null; }
fi

ROOTFS=$(mktemp -d /tmp/wf4-rootfs.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT
log "debootstrap bookworm (minbase) into $ROOTFS"
start=$(date +%s)
debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 || {
  tail -n 30 "$ROOTFS.log" >&2; rm -f "$ROOTFS.log"; exit 1; }
rm -f "$ROOTFS.log"
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
# Same apt behaviour as the host (snapshot-era mirrors may serve stale Release files).
printf 'Acquire::Check-Valid-Until "false";\n' >"$ROOTFS/etc/apt/apt.conf.d/99wf4-no-valid-until"
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
  >"$ROOTFS/etc/apt/apt.conf.d/99wf4-no-recommends"
tar -C "$ROOTFS" -c . | "$DOCKER" import -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' - "$IMAGE" >/dev/null
log "$IMAGE built in $(( $(date +%s) - start )) s"
