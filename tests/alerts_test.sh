#!/usr/bin/env bash
# Alerting rules: promtool checks and unit-tests deploy/prometheus/alerts.yml, every alert has a
# firing and a quiet case, and every metric the rules read is one the code exports.
set -euo pipefail

src=${WF4_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
dir=$src/deploy/prometheus
rules=$dir/alerts.yml
tests=$dir/alerts_test.yml
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

if ! command -v promtool >/dev/null; then
    echo "FAIL: promtool not found (Debian package prometheus: scripts/install.sh installs it)"
    exit 1
fi
promtool check rules "$rules" || fail "promtool check rules"
(cd "$dir" && promtool test rules "$(basename "$tests")") || fail "promtool test rules"

# Firing and quiet cases per alert, from the tests' "alertname: X" / "exp_alerts:" pairs.
mapfile -t alerts < <(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\).*/\1/p' "$rules")
cases=$(awk '/^ *alertname:/ {a = $2} /^ *exp_alerts:/ {print a, ($2 == "[]" ? "quiet" : "fires")}' \
    "$tests")
nfire=0 nquiet=0
for a in "${alerts[@]}"; do
    f=$(grep -c "^$a fires$" <<<"$cases" || true)
    q=$(grep -c "^$a quiet$" <<<"$cases" || true)
    ((f > 0)) || fail "$a: no test case where it fires"
    ((q > 0)) || fail "$a: no test case where it stays quiet"
    nfire=$((nfire + f)) nquiet=$((nquiet + q))
done
unknown=$(awk '{print $1}' <<<"$cases" | sort -u | grep -vxF -f <(printf '%s\n' "${alerts[@]}") || true)
[[ -z $unknown ]] || fail "tests name alerts that alerts.yml lacks: $unknown"

# Metric names in the rules' expressions, without a histogram's suffixes, found in the C code.
mapfile -t names < <(grep -o 'wf4_[a-z0-9_]*' "$rules" | sed -E 's/_(bucket|count|sum)$//' |
    sort -u)
nfound=0
for n in "${names[@]}"; do
    if grep -rqF "\"$n" --include='*.c' "$src/common" "$src/claimer" "$src/scraper" \
        "$src/committer" "$src/tools"; then
        nfound=$((nfound + 1))
    else
        fail "$n: used by a rule, exported by no service nor wf4ctl exporter"
    fi
done

echo "alerts: ${#alerts[@]} alerts, $nfire firing cases, $nquiet quiet cases;" \
    "${#names[@]} metric names, $nfound found in the code"
if ((failures > 0)); then
    echo "alerts_test: $failures failure(s)"
    exit 1
fi
echo "alerts_test: OK"
