#!/usr/bin/env bash
# THE test command: install, build build-test/ (clang, ASan+UBSan, libFuzzer), run ctest against a real stack.
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
WF4_LOG_TAG='test'

usage() {
    cat <<'EOF_USAGE'
Usage: scripts/test.sh [CTEST_ARGS...]

  1. scripts/install.sh (cached after the first run)
  2. cmake -G Ninja -DWF4_SANITIZE=ON -DWF4_FUZZ=ON -DCMAKE_C_COMPILER=clang in build-test/
  3. build, then ctest --output-on-failure CTEST_ARGS... in build-test/
     (integration tests start the stack once through the "stack" fixture:
      state in build-test/stack, binaries from build-test/bin)
  4. print the PostgreSQL and Kafka versions the run talked to, and the total time

Exits with ctest's status. No stack process survives: the fixture's cleanup runs
scripts/stack.sh down, and so does this script on exit.

Examples:  scripts/test.sh                 everything
           scripts/test.sh -L unit         unit tests only (no stack)
           scripts/test.sh -R stack_smoke  one test (and its fixture)
Environment: WF4_TEST_BUILD_DIR (default <repo>/build-test), CTEST_PARALLEL_LEVEL.
EOF_USAGE
}

case "${1:-}" in -h | --help) usage; exit 0 ;; esac

BUILD=${WF4_TEST_BUILD_DIR:-$WF4_ROOT/build-test}
export WF4_STACK_DIR=$BUILD/stack WF4_BIN=$BUILD/bin
T0=$(now_ms)

stack_down() {
    "$WF4_ROOT/scripts/stack.sh" down >/dev/null 2>&1 || "$WF4_ROOT/scripts/stack.sh" down || true
}
trap stack_down EXIT

"$WF4_ROOT/scripts/install.sh"

log "configure $BUILD"
cmake -S "$WF4_ROOT" -B "$BUILD" -G Ninja -DWF4_SANITIZE=ON -DWF4_FUZZ=ON -DCMAKE_C_COMPILER=clang >/dev/null
log "build"
cmake --build "$BUILD"

# A versions file left by an earlier run must not be mistaken for this run's.
rm -f "$WF4_STACK_DIR/versions"
rc=0
(cd "$BUILD" && ctest --output-on-failure "$@") || rc=$?
stack_down

if [[ -f $WF4_STACK_DIR/versions ]]; then
    log "this run talked to:"
    sed 's/^/    /' "$WF4_STACK_DIR/versions" >&2
else
    log "no stack was started in this run (no integration test selected)"
fi
log "total time $((($(now_ms) - T0) / 1000)) s, ctest exit status $rc"
exit "$rc"
