#!/usr/bin/env bash
# wf4ctl requeue --dlq: garbage in wf4.domain.claims.dlq goes back to wf4.domain.claims unchanged.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CTL=$WF4_BIN/wf4ctl
DLQ=wf4.domain.claims.dlq
SRC=wf4.domain.claims
KCAT=(kcat -b "$WF4_KAFKA_BROKERS")

requeue() {
    rc=0
    out=$("$CTL" requeue "$@" 2>"$TEST_TMP/requeue.err") || rc=$?
    say "wf4ctl requeue $*: $out"
}

# dlq_put KEY FILE [HEADER...]: one message with the bytes of FILE.
dlq_put() {
    local key=$1 file=$2 h=()
    shift 2
    for x in "$@"; do h+=(-H "$x"); done
    "${KCAT[@]}" -P -t "$DLQ" -k "$key" "${h[@]}" "$file"
}

# find_in_src KEY: "partition offset" of the message with that key in the source topic.
find_in_src() {
    "${KCAT[@]}" -C -t "$SRC" -o beginning -e -q -f '%k %p %o\n' | awk -v k="$1" '$1 == k {print $2, $3}'
}

# Whatever earlier tests left in the DLQ goes back first, so that the counts below are exact.
requeue --dlq "$DLQ" >/dev/null || true

run=$RANDOM$RANDOM
printf 'not avro \x00\x01\x02\xff\xfe garbage\n\ttail' >"$TEST_TMP/garbage"
head -c 3000 /dev/urandom >"$TEST_TMP/random"
dlq_put "g1-$run" "$TEST_TMP/garbage" "wf4.dlq.topic=$SRC" "wf4.dlq.error=cannot decode" \
    "wf4.dlq.partition=3" "wf4.dlq.offset=42" "trace=abc"
dlq_put "g2-$run" "$TEST_TMP/random" "wf4.dlq.topic=$SRC"
check_eq "$("$CTL" status --json | jq -r --arg t "$DLQ" '.dlq[$t] > 0')" true "status counts the DLQ"

requeue --dlq "$DLQ"
check_eq "$rc" 0 "requeue --dlq exits 0"
check 'grep -q "2 consumed, 2 re-published" <<<"$out"' "both messages re-published"
for key in "g1-$run:garbage" "g2-$run:random"; do
    k=${key%%:*} f=$TEST_TMP/${key#*:}
    read -r p o <<<"$(find_in_src "$k")"
    if [[ -z ${p:-} ]]; then
        fail "$k is not in $SRC"
        continue
    fi
    "${KCAT[@]}" -C -t "$SRC" -p "$p" -o "$o" -c 1 -e -q -f '%s' >"$TEST_TMP/back"
    check 'cmp -s "$f" "$TEST_TMP/back"' "$k is back in $SRC byte for byte"
    hdrs=$("${KCAT[@]}" -C -t "$SRC" -p "$p" -o "$o" -c 1 -e -q -f '%h')
    [[ $k != g1-* ]] || check_eq "$hdrs" "trace=abc" "$k keeps its own headers, without wf4.dlq.*"
done

requeue --dlq "$DLQ"
check 'grep -q "0 consumed" <<<"$out"' "a second run sends nothing again (offsets committed)"

say "--max and a message without a source"
for i in 1 2 3; do echo "m$i" >"$TEST_TMP/m$i"; dlq_put "m$i-$run" "$TEST_TMP/m$i" "wf4.dlq.topic=$SRC"; done
requeue --dlq "$DLQ" --max 2
check 'grep -q "2 consumed, 2 re-published" <<<"$out"' "--max 2 stops after two"
echo orphan >"$TEST_TMP/orphan"
dlq_put "o-$run" "$TEST_TMP/orphan"
requeue --dlq "$DLQ"
check_eq "$rc" 1 "a skipped message makes the run exit 1"
check 'grep -q "2 consumed, 1 re-published to their source topic, 1 skipped" <<<"$out"' \
    "the rest re-published, the message without wf4.dlq.topic skipped"
check_eq "$(find_in_src "o-$run")" "" "the orphan was not published anywhere it could guess"

requeue --dlq wf4.domain.claims
check_eq "$rc" 2 "--dlq refuses a topic that is not a DLQ"
requeue --dlq no.such.topic.dlq
check_eq "$rc" 1 "--dlq of a missing topic fails"
