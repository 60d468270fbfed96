#!/usr/bin/env bash
# Every tracked C/C++ source is formatted as .clang-format says: fails naming the files that are not.
set -uo pipefail
cd "${WF4_SRC:?}" || exit 1
command -v clang-format >/dev/null || { echo "FAIL: clang-format not installed (scripts/install.sh)"; exit 1; }
mapfile -t files < <(git ls-files '*.c' '*.h' '*.cc' 2>/dev/null || find . -name '*.[ch]' -o -name '*.cc')
((${#files[@]} > 0)) || { echo "FAIL: no source files found"; exit 1; }
bad=()
for f in "${files[@]}"; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
    echo "FAIL: ${#bad[@]} of ${#files[@]} files differ from .clang-format (fix: clang-format -i FILE):"
    printf '  %s\n' "${bad[@]}"
    exit 1
fi
echo "format: ${#files[@]} files as .clang-format says"
