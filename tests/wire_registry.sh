#!/usr/bin/env bash
# Wire format against the real Apicurio registry: register, same id twice, encode, fetch by id, decode.
source "$WF4_SRC/tests/lib.sh"

if [[ -z ${WF4_SCHEMA_REGISTRY_URL:-} ]]; then
    fatal "the stack runs without a registry (WF4_SCHEMA_REGISTRY_URL unset)"
fi
say "registry: $WF4_SCHEMA_REGISTRY_URL"
if "$WF4_BIN/wf4-wire-registry-check" "$WF4_SRC/schemas" >"$TEST_TMP/check.log" 2>&1; then
    check true "wf4-wire-registry-check passed"
else
    fail "wf4-wire-registry-check failed"
fi
cat "$TEST_TMP/check.log"
# The subjects are there, under <topic>-value.
subjects=$(curl -sf --max-time 5 "$WF4_SCHEMA_REGISTRY_URL/subjects" || true)
check '[[ $subjects == *"-value"* ]]' "subjects listed under <topic>-value"

