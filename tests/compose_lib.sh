# What the compose tests share (source it): a run's project, deadline and checks, the engine,
# the base image and the images, `up` until healthy, domains selected and followed to the end,
# the handoff checks (database and WF5 topic), and `docker-compose down -v` in a trap that
# also checks nothing of the project is left.
# shellcheck shell=bash
#
#   compose_setup NAME BUDGET_S FILE...   project NAME$$, deadline, $TMP, DC=(docker-compose
#                                         --env-file empty -p PROJECT -f FILE...), the trap
#   say / ok / bad / check_eq / timing / fail_now / bounded CAP CMD... / left
#   psql_q SQL                            one query as the superuser in the postgres container
#   compose_engine / compose_build SVC... / compose_up WANT_HEALTHY UP_ARGS...
#   compose_domains N OUT                 N domain names (demo/domains.txt first)
#   compose_select FILE / compose_wait_terminal N   (sets n_completed, n_error, run_s)
#   compose_check_handoffs                one handoff per completed domain, in the database
#                                         and on wf5.domain.handoffs (read as TOOL_SVC)
#   tool CMD...                           a one-off container of TOOL_SVC (default claimer)
#   compose_note_restarts                 containers restarted (shown, not failed)
# Figures for the summary: FIGURES+=("$(printf '%-34s %d' "what" N)").

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/compose-env.sh
. "$ROOT/scripts/compose-env.sh"
DOCKER=/usr/bin/docker
TOOL_SVC=${TOOL_SVC:-claimer}
export BASE_IMAGE=${BASE_IMAGE:-local/debian:bookworm-slim}
PASSED=0 FAILED=0 UP=0
declare -a FIGURES=() TIMINGS=()

compose_setup() { # NAME BUDGET_S FILE...
    local name=$1 f
    BUDGET_S=$2
    shift 2
    T_START=$(date +%s)
    DEADLINE=$((T_START + BUDGET_S))
    PROJECT=$name$$
    TMP=$(mktemp -d "/tmp/$name.XXXXXX")
    # The run's own settings: an empty env file, so that a developer's .env does not leak in.
    : >"$TMP/empty.env"
    DC=(docker-compose --env-file "$TMP/empty.env" -p "$PROJECT")
    for f in "$@"; do DC+=(-f "$ROOT/$f"); done
    trap compose_cleanup EXIT
    trap 'say "interrupted"; exit 130' INT TERM
}

say() { printf '[compose %4ds] %s\n' "$(($(date +%s) - T_START))" "$*"; }
left() { local l=$((DEADLINE - $(date +%s))); [ "$l" -gt 1 ] && echo "$l" || echo 1; }
# bounded CAP CMD...: runs CMD with the time left before the deadline (at most CAP s when CAP > 0).
bounded() {
    local cap=$1 l
    shift
    l=$(left)
    if [ "$cap" -gt 0 ] && [ "$cap" -lt "$l" ]; then l=$cap; fi
    timeout --foreground -k 10 "$l" "$@"
}
ok() { PASSED=$((PASSED + 1)); say "ok: $*"; }
bad() { FAILED=$((FAILED + 1)); say "FAIL: $*"; }
check_eq() { if [ "$1" = "$2" ]; then ok "$3 ($1)"; else bad "$3: got '$1', want '$2'"; fi; }
timing() { TIMINGS+=("$(printf '%-11s %5d s' "$1" "$2")"); say "time: $1 $2 s"; }
fail_now() { bad "$*"; exit 1; }

psql_q() { # psql_q SQL: one query as the superuser (socket), unaligned, tuples only
    "${DC[@]}" exec -T postgres psql -U postgres -d wf4 -v ON_ERROR_STOP=1 -qAt -F ' ' -c "$1"
}

compose_cleanup() {
    local rc=$? t0 leftovers
    trap - EXIT INT TERM
    set +e
    if [ "$UP" = 1 ] && { [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; }; then
        say "logs of the run (last 40 lines per service) in $TMP/logs.txt"
        timeout 60 "${DC[@]}" logs --no-color --tail=40 >"$TMP/logs.txt" 2>&1
        tail -n 150 "$TMP/logs.txt"
        timeout 30 "${DC[@]}" ps
        if [ "${WF4_COMPOSE_KEEP:-0}" = 1 ]; then
            say "WF4_COMPOSE_KEEP=1: stack $PROJECT left up; remove it with: ${DC[*]} down -v"
            compose_summary "$rc"
            exit 1
        fi
    fi
    t0=$(date +%s)
    timeout 180 "${DC[@]}" down -v --remove-orphans --timeout 15 >"$TMP/down.log" 2>&1 ||
        { say "docker-compose down failed:"; cat "$TMP/down.log"; }
    timing down $(($(date +%s) - t0))
    leftovers=$(
        $DOCKER ps -aq --filter "label=com.docker.compose.project=$PROJECT"
        $DOCKER volume ls -q --filter "label=com.docker.compose.project=$PROJECT"
        $DOCKER network ls -q --filter "label=com.docker.compose.project=$PROJECT"
    )
    if [ -n "$leftovers" ]; then
        bad "left behind by project $PROJECT: $(echo "$leftovers" | tr '\n' ' ')"
        # Remove them anyway, so that the machine is clean for the next run.
        $DOCKER ps -aq --filter "label=com.docker.compose.project=$PROJECT" | xargs -r $DOCKER rm -f -v >/dev/null
        $DOCKER volume ls -q --filter "label=com.docker.compose.project=$PROJECT" | xargs -r $DOCKER volume rm >/dev/null
        $DOCKER network ls -q --filter "label=com.docker.compose.project=$PROJECT" | xargs -r $DOCKER network rm >/dev/null
    else
        ok "no container, volume or network of $PROJECT left"
    fi
    compose_summary "$rc"
    rm -rf "$TMP"
    if [ "$rc" -eq 0 ] && [ "$FAILED" -gt 0 ]; then rc=1; fi
    exit "$rc"
}

compose_summary() {
    local line
    echo "== compose test summary (project $PROJECT, exit ${1:-?})"
    for line in "${TIMINGS[@]}"; do echo "  time  $line"; done
    for line in "${FIGURES[@]}"; do echo "  count $line"; done
    echo "  total       $(($(date +%s) - T_START)) s"
    echo "compose: $PASSED passed, $FAILED failed"
}

# The engine (installed and started when missing) and the local base image (made once).
compose_engine() {
    local t0 cached=""
    say "engine"
    t0=$(date +%s)
    bounded 300 bash "$ROOT/scripts/dockerd.sh" || fail_now "no Docker engine"
    timing engine $(($(date +%s) - t0))
    [ "$BASE_IMAGE" = local/debian:bookworm-slim ] || return 0
    t0=$(date +%s)
    if $DOCKER image inspect "$BASE_IMAGE" >/dev/null 2>&1; then cached=" (cached)"; fi
    bounded 600 bash "$ROOT/scripts/compose-base-image.sh" "$BASE_IMAGE" || fail_now "base image"
    timing "base-image" $(($(date +%s) - t0))
    say "base image $BASE_IMAGE$cached"
}

# compose_build SVC...: the images, in this order (the services image is shared by several
# services: built once through the first, the others hit the cache).
compose_build() {
    local t0 svc
    say "build (docker-compose build, BASE_IMAGE=$BASE_IMAGE)"
    t0=$(date +%s)
    for svc in "$@"; do
        if ! bounded 0 nice "${DC[@]}" build "$svc" >"$TMP/build-$svc.log" 2>&1; then
            tail -n 60 "$TMP/build-$svc.log"
            fail_now "docker-compose build $svc"
        fi
    done
    timing build $(($(date +%s) - t0))
    # The previous builds of these images, now untagged (not those a container still uses).
    $DOCKER image prune -f --filter label=org.wf4.image >/dev/null 2>&1 || true
}

# compose_up WANT_HEALTHY UP_ARGS...: `up -d --no-build UP_ARGS`, then until WANT_HEALTHY
# long-running containers are healthy (the one-shot init and certs have completed by then);
# checks init's exit status.
compose_up() {
    local want=$1 t0 c st healthy unhealthy init_rc
    shift
    say "up $*"
    t0=$(date +%s)
    UP=1
    if ! bounded 400 "${DC[@]}" up -d --no-build "$@" >"$TMP/up.log" 2>&1; then
        cat "$TMP/up.log"
        fail_now "docker-compose up"
    fi
    while :; do
        healthy=0 unhealthy=""
        for c in $("${DC[@]}" ps -q); do
            st=$($DOCKER inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c")
            case $st in
                *" running healthy") healthy=$((healthy + 1)) ;;
                *" exited "*) case $st in *_init_* | *_certs_*) ;; *) unhealthy="$unhealthy ${st%% *}(exited)" ;; esac ;;
            esac
        done
        [ "$healthy" -ge "$want" ] && break
        [ -n "$unhealthy" ] && fail_now "containers exited:$unhealthy"
        [ "$(left)" -le 1 ] && fail_now "only $healthy of $want containers healthy"
        [ $(($(date +%s) - t0)) -gt 300 ] && fail_now "only $healthy of $want containers healthy after 300 s"
        sleep 2
    done
    timing up $(($(date +%s) - t0))
    FIGURES+=("$(printf '%-34s %d' "healthy containers" "$healthy")")
    init_rc=$($DOCKER inspect -f '{{.State.ExitCode}}' "$("${DC[@]}" ps -q init)")
    check_eq "$init_rc" 0 "init (migrations, topics) exit status"
}

# compose_domains N OUT: the demo set, completed with generated names of the same kind.
compose_domains() {
    python3 - "$1" "$ROOT/demo/domains.txt" >"$2" <<'PY'
import sys, os
n = int(sys.argv[1]); path = sys.argv[2]
names = []
if os.path.exists(path):
    for line in open(path):
        line = line.strip()
        if line and not line.startswith('#') and line not in names:
            names.append(line)
names = names[:n]
first = ["north", "river", "summit", "harbor", "maple", "cedar", "granite", "lakeside",
         "copper", "meadow", "pioneer", "silver", "oak", "bright", "coastal", "prairie"]
trade = ["bakery", "plumbing", "dental", "roofing", "florist", "tutoring", "catering",
         "fitness", "lawfirm", "auto", "landscaping", "printing", "cleaning", "vet"]
tail = ["co", "hq", "shop", "works", "group", "studio"]
tld = [".com", ".net", ".org", ".co.uk", ".com.au", ".ca", ".io"]
i = 0
seen = set(names)
while len(names) < n:
    a = first[i % len(first)]; b = trade[(i // len(first)) % len(trade)]
    c = tail[(i // (len(first) * len(trade))) % len(tail)]; t = tld[i % len(tld)]
    d = f"{a}{b}{c}{t}"
    if d not in seen:
        seen.add(d); names.append(d)
    i += 1
print("\n".join(names))
PY
}

# compose_select FILE: wf4ctl select in the first claimer container; sets n_selected, t_run.
compose_select() {
    n_selected=$(wc -l <"$1")
    say "select $n_selected domains (wf4ctl select --file -, in a claimer container)"
    t_run=$(date +%s)
    if ! bounded 120 "${DC[@]}" exec -T --index=1 claimer wf4ctl select --file - <"$1" >"$TMP/select.log" 2>&1; then
        cat "$TMP/select.log"
        fail_now "wf4ctl select"
    fi
    say "$(tail -n 1 "$TMP/select.log")"
    FIGURES+=("$(printf '%-34s %d' "domains selected" "$n_selected")")
}

# compose_wait_terminal: until every selected domain is completed or error; sets run_s,
# n_completed, n_error.
compose_wait_terminal() {
    local last_print=0 counts terminal now
    say "waiting until every domain is completed or error"
    while :; do
        counts=$(psql_q "SELECT coalesce(status::text,'none'), count(*) FROM domains GROUP BY 1 ORDER BY 1" | tr '\n' ' ')
        terminal=$(psql_q "SELECT count(*) FROM domains WHERE status IN ('completed','error')")
        now=$(date +%s)
        if [ $((now - last_print)) -ge 10 ]; then
            say "progress: $counts"
            last_print=$now
        fi
        [ "$terminal" -ge "$n_selected" ] && break
        if [ "$(left)" -le 120 ] || [ $((now - t_run)) -gt 900 ]; then
            fail_now "not every domain is terminal after $((now - t_run)) s: $counts"
        fi
        sleep 2
    done
    run_s=$(($(date +%s) - t_run))
    timing run "$run_s"
    read -r n_completed n_error <<<"$(psql_q "SELECT count(*) FILTER (WHERE status='completed'), count(*) FILTER (WHERE status='error') FROM domains")"
    FIGURES+=("$(printf '%-34s %d' "domains completed" "$n_completed")")
    FIGURES+=("$(printf '%-34s %d' "domains in error" "$n_error")")
    check_eq "$((n_completed + n_error))" "$n_selected" "every selected domain is completed or error"
    [ "$n_completed" -gt 0 ] || bad "no domain completed"
    say "throughput: $(awk -v n="$n_selected" -v s="$run_s" 'BEGIN{printf "%.1f", n / (s > 0 ? s : 1)}') domains/s"
}

# Topics, read from a container on the compose network (the services image has wf4-inspect
# and kcat): a one-off container of TOOL_SVC, no dependencies started.
tool() { bounded 180 "${DC[@]}" run --rm --no-deps -T "$TOOL_SVC" "$@"; }

# wf4-inspect reads from the beginning and stops at the end of the topic (bounded anyway).
inspect_topic() { # inspect_topic TOPIC OUT
    tool timeout 120 wf4-inspect -o beginning "$1" >"$2" 2>"$2.err" || true
}

# compose_check_handoffs: each completed domain handed to WF5 exactly once, in the database
# and on the WF5 topic (one event per completed domain).
compose_check_handoffs() {
    local h_set h_distinct h_wrong t0 w_msgs w_ids w_bad w_extra w_missing outbox_left
    read -r h_set h_distinct h_wrong <<<"$(psql_q "SELECT count(*) FILTER (WHERE status='completed' AND handoff_event_id IS NOT NULL),
       count(DISTINCT handoff_event_id) FILTER (WHERE status='completed'),
       count(*) FILTER (WHERE status<>'completed' AND handoff_event_id IS NOT NULL) FROM domains")"
    check_eq "$h_set" "$n_completed" "completed domains with a handoff_event_id"
    check_eq "$h_distinct" "$n_completed" "distinct handoff_event_ids of completed domains"
    check_eq "$h_wrong" 0 "domains not completed with a handoff_event_id"
    FIGURES+=("$(printf '%-34s %d' "handoff_event_id set (distinct)" "$h_distinct")")
    psql_q "SELECT handoff_event_id FROM domains WHERE status='completed' ORDER BY 1" >"$TMP/db_events.txt"

    # The outbox is published after commit: wait (bounded) until the topic has caught up.
    say "WF5 topic: distinct event ids (wf4-inspect)"
    t0=$(date +%s)
    while :; do
        inspect_topic wf5.domain.handoffs "$TMP/wf5.jsonl"
        python3 - "$TMP/wf5.jsonl" "$TMP/db_events.txt" >"$TMP/wf5.cmp" <<'PY'
import json, sys
def find(o, key):
    if isinstance(o, dict):
        if key in o and isinstance(o[key], str):
            return o[key]
        for v in o.values():
            r = find(v, key)
            if r: return r
    elif isinstance(o, list):
        for v in o:
            r = find(v, key)
            if r: return r
    return None
msgs = 0; bad = 0; ids = set()
for line in open(sys.argv[1], errors="replace"):
    line = line.strip()
    if not line.startswith("{"):
        continue
    try:
        o = json.loads(line)
    except ValueError:
        bad += 1; continue
    v = o.get("value")
    e = find(v, "event_id") if isinstance(v, dict) and "undecodable" not in v else None
    if e is None:
        bad += 1; continue
    msgs += 1; ids.add(e.lower())
db = set(l.strip().lower() for l in open(sys.argv[2]) if l.strip())
print(msgs, len(ids), bad, len(ids - db), len(db - ids))
PY
        read -r w_msgs w_ids w_bad w_extra w_missing <"$TMP/wf5.cmp"
        if [ "$w_missing" = 0 ] || [ $(($(date +%s) - t0)) -gt 90 ]; then break; fi
        sleep 5
    done
    FIGURES+=("$(printf '%-34s %d' "WF5 topic messages" "$w_msgs")")
    FIGURES+=("$(printf '%-34s %d' "WF5 topic distinct event ids" "$w_ids")")
    check_eq "$w_ids" "$n_completed" "distinct event ids on wf5.domain.handoffs = completed domains"
    check_eq "$w_missing" 0 "DB handoff events missing from the topic"
    check_eq "$w_extra" 0 "topic event ids unknown to the DB"
    check_eq "$w_bad" 0 "WF5 messages that did not decode to an event"
    if [ "$w_msgs" = 0 ]; then head -n 5 "$TMP/wf5.jsonl.err" 2>/dev/null; fi
    # Replays may publish an event again (same event_id, WF5 deduplicates): shown, not failed.
    if [ "$w_ids" -gt 0 ] && [ "$w_msgs" -gt "$w_ids" ]; then
        say "note: the WF5 topic holds $w_msgs messages for $w_ids events ($(awk -v m="$w_msgs" -v i="$w_ids" 'BEGIN{printf "%.2f", m / i}') copies each)"
    fi
    outbox_left=$(psql_q "SELECT count(*) FROM wf5_outbox")
    FIGURES+=("$(printf '%-34s %d' "WF5 outbox rows left" "$outbox_left")")
}

# Restarts (restart: unless-stopped hides a crash; shown, not failed).
compose_note_restarts() {
    local restarts=0 c r
    for c in $("${DC[@]}" ps -q); do
        r=$($DOCKER inspect -f '{{.RestartCount}}' "$c")
        if [ "$r" -gt 0 ]; then
            say "note: $($DOCKER inspect -f '{{.Name}}' "$c") restarted $r time(s); first error:"
            $DOCKER logs "$c" 2>&1 | grep -m 1 -E '"level":"(error|fatal)"|error' | cut -c1-300 || true
        fi
        restarts=$((restarts + r))
    done
    FIGURES+=("$(printf '%-34s %d' "container restarts" "$restarts")")
}
