#!/usr/bin/env bash
# The scraper executable links no database library: no libpq in its dynamic section or
# its resolved libraries, and no PQ* symbol anywhere in it.
#   tests/scraper_nolibpq.sh path/to/scraper
set -euo pipefail
BIN=${1:?usage: scraper_nolibpq.sh path/to/scraper}
[[ -x $BIN ]] || { echo "FAIL: $BIN is not an executable"; exit 1; }
rc=0
if readelf -d "$BIN" | grep -i 'NEEDED' | grep -qi 'libpq'; then
    echo "FAIL: readelf -d shows libpq as NEEDED"; rc=1
else
    echo "ok: no libpq in readelf -d ($(readelf -d "$BIN" | grep -c NEEDED) NEEDED entries)"
fi
if ldd "$BIN" | grep -qi 'libpq'; then
    echo "FAIL: ldd resolves libpq"; rc=1
else
    echo "ok: ldd resolves no libpq"
fi
syms=$( { nm "$BIN" 2>/dev/null; nm -D "$BIN" 2>/dev/null; } | awk '{print $NF}' | grep -E '^PQ[a-zA-Z]' | sort -u || true)
if [[ -n $syms ]]; then
    echo "FAIL: PQ symbols in the binary: $(echo "$syms" | head -5 | tr '\n' ' ')"; rc=1
else
    echo "ok: nm shows no PQ* symbol"
fi
# The check itself must be able to see symbols: the binary is not stripped of its table.
if [[ $(nm "$BIN" 2>/dev/null | grep -c ' T scrape_run$' || true) -eq 0 ]]; then
    echo "FAIL: nm does not list scrape_run: the symbol check would prove nothing"; rc=1
fi
exit $rc
