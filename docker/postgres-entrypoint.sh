#!/usr/bin/env bash
# First start: initdb (superuser password from POSTGRES_PASSWORD), accept password logins from
# the compose network, and create the services' login role WF4_DB_USER (IN ROLE wf4_service).
# Every start: run postgres as user postgres (exec, so it gets the signals), listening on all
# addresses. Extra `-c name=value` arguments are passed through to postgres.
# POSTGRES_PASSWORD_FILE and WF4_DB_PASSWORD_FILE (Docker secrets) may give the passwords.
# WF4_PG_TLS_DIR (compose.secure.yaml): TLS with DIR/postgres.pem and DIR/postgres.key, and
# every TCP connection without TLS refused (pg_hba.conf rewritten at each start).
set -euo pipefail

PGDATA=${PGDATA:-/var/lib/postgresql/data}
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups --)

log() { printf 'postgres-entrypoint: %s\n' "$*" >&2; }

# file_env VAR: VAR from the file VAR_FILE names, when that is set (an empty VAR counts as unset).
file_env() {
  local var=$1 file_var="${1}_FILE"
  [ -n "${!file_var:-}" ] || return 0
  [ -z "${!var:-}" ] || { log "$var and $file_var are both set: give one"; exit 1; }
  printf -v "$var" '%s' "$(cat "${!file_var}")"
  export "${var?}"
}
file_env POSTGRES_PASSWORD
file_env WF4_DB_PASSWORD

mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
chmod 0700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required to initialise the database}"
  log "initialising $PGDATA"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  chown postgres "$pwfile"
  "${AS_PG[@]}" "$BIN/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  {
    echo "host all all 0.0.0.0/0 scram-sha-256"
    echo "host all all ::/0 scram-sha-256"
  } >>"$PGDATA/pg_hba.conf"

  # A temporary server on the socket only, for the one-time SQL.
  "${AS_PG[@]}" "$BIN/pg_ctl" -D "$PGDATA" -w -t 60 -o "-c listen_addresses=''" start >/dev/null
  psql=("${AS_PG[@]}" "$BIN/psql" -h /run/postgresql -U postgres -v ON_ERROR_STOP=1 -q)
  if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
  fi
  if [ -n "${WF4_DB_USER:-}" ]; then
    : "${WF4_DB_PASSWORD:?WF4_DB_PASSWORD is required with WF4_DB_USER}"
    # The migrations create wf4_service too (IF NOT EXISTS) and grant it its privileges.
    "${psql[@]}" -d "${POSTGRES_DB:-postgres}" -v user="$WF4_DB_USER" -v pass="$WF4_DB_PASSWORD" <<'SQL'
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'wf4_service') AS need_group \gset
\if :need_group
CREATE ROLE wf4_service NOLOGIN;
\endif
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') AS need_user \gset
\if :need_user
CREATE ROLE :"user" LOGIN PASSWORD :'pass' IN ROLE wf4_service;
\else
ALTER ROLE :"user" LOGIN PASSWORD :'pass';
GRANT wf4_service TO :"user";
\endif
SQL
    log "login role $WF4_DB_USER created (IN ROLE wf4_service)"
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case $f in
      *.sql) log "running $f"; "${psql[@]}" -d "${POSTGRES_DB:-postgres}" -f "$f" ;;
      *.sh) log "running $f"; bash "$f" ;;
    esac
  done
  "${AS_PG[@]}" "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  log "initialised"
fi

tls=()
if [ -n "${WF4_PG_TLS_DIR:-}" ]; then
  install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/tls
  install -o postgres -g postgres -m 0600 "$WF4_PG_TLS_DIR/postgres.pem" /var/lib/postgresql/tls/server.pem
  install -o postgres -g postgres -m 0600 "$WF4_PG_TLS_DIR/postgres.key" /var/lib/postgresql/tls/server.key
  cat >"$PGDATA/pg_hba.conf" <<'HBA'
# Written by postgres-entrypoint.sh (WF4_PG_TLS_DIR): TLS or nothing over TCP.
local     all all              trust
hostnossl all all 0.0.0.0/0    reject
hostnossl all all ::/0         reject
hostssl   all all 0.0.0.0/0    scram-sha-256
hostssl   all all ::/0         scram-sha-256
HBA
  chown postgres:postgres "$PGDATA/pg_hba.conf"
  tls=(-c ssl=on -c ssl_cert_file=/var/lib/postgresql/tls/server.pem -c ssl_key_file=/var/lib/postgresql/tls/server.key)
  log "TLS on ($WF4_PG_TLS_DIR/postgres.pem); connections without TLS refused"
fi

exec "${AS_PG[@]}" "$BIN/postgres" -D "$PGDATA" -c listen_addresses='*' \
  -c unix_socket_directories=/run/postgresql "${tls[@]}" "$@"
