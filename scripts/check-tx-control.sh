#!/usr/bin/env bash
# Fails when transaction control SQL or raw libpq execution appears outside common/db*.c.
# Usage: scripts/check-tx-control.sh [ROOT]   (ROOT defaults to the repository)
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

# C sources of the project, except the one module that owns transactions and the
# benchmark that reproduces the incident's anti-pattern on purpose.
# (and the db module's own test, which checks that db_exec/db_query refuse them; and the
# fault-injecting proxy, which looks for COMMIT in the bytes it forwards and issues no SQL).
mapfile -t files < <(find . \( -path ./build -o -path './build-*' -o -path ./.cache -o -path ./.git \
    -o -path ./tests/data \) -prune -o \( -name '*.c' -o -name '*.h' \) -print |
    grep -v -E '^\./common/db(_[a-z]+)?\.[ch]$' | grep -v -E '^\./bench/antipattern/' |
    grep -v -E '^\./tests/integration/test_db\.c$' | grep -v -E '^\./tools/netproxy/' | sort)

bad=0
# 1. Transaction control keywords inside C string literals.
if grep -n -E '"[^"]*\b(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|START TRANSACTION|END TRANSACTION|ABORT)\b' \
    "${files[@]}" /dev/null; then
    echo "check-tx-control: transaction control SQL outside common/db.c (above)" >&2
    bad=1
fi
# 2. Raw libpq execution: everything goes through db_transaction/db_exec/db_query.
if grep -n -E '\bPQ(exec|execParams|execPrepared|prepare|sendQuery|sendQueryParams|sendPrepare)\s*\(' \
    "${files[@]}" /dev/null; then
    echo "check-tx-control: raw libpq execution outside common/db.c (above)" >&2
    bad=1
fi
if [ "$bad" = 0 ]; then
    echo "check-tx-control: ${#files[@]} files checked, transaction control only in common/db.c"
fi
exit "$bad"
