#!/usr/bin/env bash
# The secrets of the secured compose stack (compose.secure.yaml), made where missing:
# random passwords for PostgreSQL's superuser and the services' role, the database URLs built
# from them (sslmode=verify-full against the `certs` service's CA), one Kafka password per
# principal (scripts/lib/kafka-sasl.sh), and the ScraperAPI key ($SCRAPERAPI_KEY).
# Usage: scripts/compose-secrets.sh [DIR]   (default $WF4_SECRETS_DIR, else <repo>/secrets)
# Existing files are kept: a password changed after the first `up` needs `docker-compose down -v`.
# DIR is mode 700; its files 644, because docker-compose (without swarm) bind-mounts a secret
# with the file's own owner and mode, and each service reads it as its image's user.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/kafka-sasl.sh
. "$ROOT/scripts/lib/kafka-sasl.sh"
DIR=${1:-${WF4_SECRETS_DIR:-$ROOT/secrets}}
if [ ! -s "$DIR/scraperapi_key" ] && [ -z "${SCRAPERAPI_KEY:-}" ]; then
  echo "compose-secrets.sh: SCRAPERAPI_KEY is not set (the key, or any value with the stand-in)" >&2
  exit 1
fi
mkdir -p "$DIR"
chmod 700 "$DIR"

made=()
# secret NAME VALUE: DIR/NAME holds VALUE unless it exists already.
secret() {
  [ -s "$DIR/$1" ] && return 0
  printf '%s\n' "$2" >"$DIR/$1"
  made+=("$1")
}
rand() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

secret postgres_password "$(rand)"
secret wf4_db_password "$(rand)"
db=${POSTGRES_DB:-wf4} user=${WF4_DB_USER:-wf4}
tls="sslmode=verify-full&sslrootcert=/tls/ca.pem"
secret wf4_database_url "postgresql://$user:$(cat "$DIR/wf4_db_password")@postgres:5432/$db?$tls"
secret wf4_admin_database_url "postgresql://postgres:$(cat "$DIR/postgres_password")@postgres:5432/$db?$tls"
before=$(ls "$DIR")
kafka_sasl_passwords "$DIR/kafka_%s_password"
for f in $(ls "$DIR"); do grep -qx "$f" <<<"$before" || made+=("$f"); done
secret scraperapi_key "$SCRAPERAPI_KEY"
chmod 644 "$DIR"/*
echo "compose-secrets.sh: secrets in $DIR${made[*]:+ (made now: ${made[*]})}" >&2
