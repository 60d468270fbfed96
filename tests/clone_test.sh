#!/usr/bin/env bash
# The README's commands from any directory: a clone of the commit under test in a fresh 0700
# directory (root's home on Debian is one) runs `scripts/stack.sh up` and `down` with the
# binaries already built (WF4_BIN). Up must bring PostgreSQL up (migrated, answering as the
# superuser and as the services' role) although the postgres user cannot enter the clone;
# down must leave no process of the stack, no listening port and no data directory behind.
# shellcheck source=tests/checks.sh
source "$(dirname "$0")/checks.sh"

[[ $(id -u) == 0 ]] || fatal "runs as root (the stack starts PostgreSQL as the postgres user)"
head=$(git -C "$WF4_SRC" rev-parse HEAD) || fatal "$WF4_SRC is not a git checkout"
home=$(mktemp -d "$TEST_TMP/home.XXXXXX")
chmod 0700 "$home"
check "! runuser -u postgres -- test -x '$home'" "the user postgres cannot enter the clone's parent ($home, mode $(stat -c %a "$home"))"

clone=$home/wf4
git clone --quiet --shared --no-checkout "$WF4_SRC" "$clone" && git -C "$clone" checkout --quiet --detach "$head" ||
    fatal "cannot clone $WF4_SRC at $head"
# The jars install.sh fetched for the tree under test (.cache may be a link to a shared cache).
ln -s "$(readlink -f "$WF4_SRC/.cache")" "$clone/.cache"
say "cloned $head into $clone"

stack=$clone/build/stack
stack_sh() { env -u WF4_STACK_DIR WF4_BIN="$WF4_BIN" "$clone/scripts/stack.sh" "$@"; }
on_exit stack_sh down
rc=0
stack_sh up >"$TEST_TMP/up.log" 2>&1 || rc=$?
check_eq "$rc" 0 "scripts/stack.sh up in the clone"
((rc == 0)) || { tail -n 30 "$TEST_TMP/up.log"; fatal "up failed"; }
check "[[ -f $stack/env && -f $stack/state ]]" "up wrote its env and state under the clone's build/stack"

# shellcheck source=/dev/null
(source "$stack/env"; env | grep -E '^(WF4_|SCRAPERAPI_|STANDIN_)') >"$TEST_TMP/stack.env"
get() { sed -n "s/^$1=//p" "$TEST_TMP/stack.env"; }
pgdata=$(get WF4_PG_DATA)
check "[[ -d $pgdata && \$(stat -c %U '$pgdata') == postgres && $pgdata != $home/* ]]" \
    "the server's data belongs to postgres, outside the clone ($pgdata)"
check_eq "$(WF4_PG_BIN=$(get WF4_PG_BIN) wf4_psql "$(get WF4_ADMIN_DATABASE_URL)" -c 'SELECT 1')" 1 \
    "PostgreSQL answers the superuser"
check "[[ \$(WF4_PG_BIN=$(get WF4_PG_BIN) wf4_psql '$(get WF4_DATABASE_URL)' -c 'SELECT count(*) FROM schema_migrations') -gt 0 ]]" \
    "the services' role logs in and the migrations are recorded"
check "kcat -b $(get WF4_KAFKA_BROKERS) -L -m 5 >/dev/null 2>&1" "Kafka answers"

# What down must stop and remove, as up recorded it.
cp "$stack/state" "$TEST_TMP/state"
# shellcheck source=/dev/null
pids=$(source "$TEST_TMP/state"; echo "$PG_PID $KAFKA_PID $STANDIN_PID")
ports=$(source "$TEST_TMP/state"; echo "$PG_PORT $KAFKA_PORT $KAFKA_CTRL_PORT $STANDIN_PORT_")
pgdir=$(source "$TEST_TMP/state"; echo "$PG_DIR")
say "stack up: pids $pids, ports $ports, PostgreSQL in $pgdir"
rc=0
stack_sh down >"$TEST_TMP/down.log" 2>&1 || rc=$?
check_eq "$rc" 0 "scripts/stack.sh down in the clone"

alive=()
for pid in $pids; do ! pid_alive "$pid" || alive+=("$pid"); done
check_eq "${alive[*]}" "" "no process of the stack left (pids $pids)"
listening=()
for port in $ports; do ! port_listening "$port" || listening+=("$port"); done
check_eq "${listening[*]}" "" "no port of the stack listening ($ports)"
inside=$(for d in /proc/[0-9]*; do readlink "$d/cwd" 2>/dev/null; done | grep -c -e "^$home/" -e "^$pgdir" || true)
check_eq "$inside" 0 "no process works in the clone or the server's directory"
check "[[ -n $pgdir && ! -e $pgdir ]]" "the server's directory is gone ($pgdir)"
check "[[ ! -e $stack/state && ! -e $stack/pg ]]" "no state and no data under the clone's build/stack"
