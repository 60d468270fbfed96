#!/usr/bin/env bash
# The compose stack, built and run for real (CTest label "compose").
#
# Installs and starts what is missing (docker.io, docker-compose, debootstrap, dockerd), builds
# the local base image once (reused afterwards), builds every image of compose.yaml, brings the
# stack up with the ScraperAPI stand-in and --scale scraper=3 --scale committer=2
# --scale claimer=2, selects 500 domains, waits until every one is completed or error, then
# checks from outside the containers:
#   - each completed domain was handed to WF5 exactly once (handoff_event_id set and unique);
#   - the WF5 topic holds one event per completed domain (distinct event ids = the DB's);
#   - /metrics of every service container answers (each scaled instance);
#   - profile "monitoring": Prometheus (its HTTP API) has every service instance and the
#     exporter as a target, all up, every rule of deploy/prometheus/alerts.yml loaded and
#     evaluated without error, no alert firing, and the exporter's reads succeeding;
#   - messages on the claims topic carry the registry's schema ids (magic byte 0 + an id that
#     GET /apis/ccompat/v7/schemas/ids/{id} knows) and decode with wf4-inspect.
# `docker-compose down -v` runs in a trap whether the test passed or not, and the test checks
# that no container, volume or network of its project is left.
#
# Environment: WF4_COMPOSE_DOMAINS (500), WF4_COMPOSE_BUDGET_S (1380: the whole test's deadline,
# below CTest's TIMEOUT so that the trap always runs), WF4_COMPOSE_KEEP=1 (leave the stack up
# on failure, for a look; still removed on success), BASE_IMAGE (local/debian:bookworm-slim).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/compose-env.sh
. "$ROOT/scripts/compose-env.sh"

N_DOMAINS=${WF4_COMPOSE_DOMAINS:-500}
BUDGET_S=${WF4_COMPOSE_BUDGET_S:-1380}
T_START=$(date +%s)
DEADLINE=$((T_START + BUDGET_S))
PROJECT=wf4test$$
TMP=$(mktemp -d /tmp/wf4-compose-test.XXXXXX)
DOCKER=/usr/bin/docker

# The run's own settings: an empty env file, so that a developer's .env does not leak in.
: >"$TMP/empty.env"
export BASE_IMAGE=${BASE_IMAGE:-local/debian:bookworm-slim}
export COMPOSE_PROFILES=standin,monitoring
# Prometheus's host port: a free one, so that a host Prometheus or another run does not clash.
WF4_PROMETHEUS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export WF4_PROMETHEUS_PORT
export SCRAPERAPI_KEY=compose-test-key-$$
export SCRAPERAPI_URL=http://standin:8099/
export STANDIN_LATENCY_MIN_MS=200 STANDIN_LATENCY_MAX_MS=400
export STANDIN_CONCURRENCY=60 WF4_SCRAPER_CONCURRENCY=20
# A few failures, so that both outcomes are exercised: 404 is final, malformed HTML parses.
export STANDIN_RATE_404=0.02 STANDIN_RATE_MALFORMED=0.02
export WF4_SCRAPER_TIMEOUT_MS=15000 WF4_RETRY_BASE_S=1 WF4_RETRY_CAP_S=4
export WF4_SCRAPER_RETRY_BASE_MS=100 WF4_SCRAPER_RETRY_CAP_MS=1000
export POSTGRES_PASSWORD=pg-$$ WF4_DB_PASSWORD=wf4-$$
export WF4_LOG_LEVEL=${WF4_LOG_LEVEL:-info}
DC=(docker-compose --env-file "$TMP/empty.env" -p "$PROJECT" -f "$ROOT/compose.yaml")

say() { printf '[compose %4ds] %s\n' "$(($(date +%s) - T_START))" "$*"; }
left() { local l=$((DEADLINE - $(date +%s))); [ "$l" -gt 1 ] && echo "$l" || echo 1; }
# bounded CMD...: runs CMD with the time left before the deadline (at most $1 s when $1 > 0).
bounded() {
  local cap=$1; shift
  local l; l=$(left)
  if [ "$cap" -gt 0 ] && [ "$cap" -lt "$l" ]; then l=$cap; fi
  timeout --foreground -k 10 "$l" "$@"
}

PASSED=0 FAILED=0
declare -a FIGURES=() TIMINGS=()
ok() { PASSED=$((PASSED + 1)); say "ok: $*"; }
bad() { FAILED=$((FAILED + 1)); say "FAIL: $*"; }
check_eq() { if [ "$1" = "$2" ]; then ok "$3 ($1)"; else bad "$3: got '$1', want '$2'"; fi; }
timing() { TIMINGS+=("$(printf '%-11s %5d s' "$1" "$2")"); say "time: $1 $2 s"; }
fail_now() { bad "$*"; exit 1; }

psql_q() { # psql_q SQL: one query as the superuser, unaligned, tuples only
  "${DC[@]}" exec -T postgres psql -U postgres -d wf4 -v ON_ERROR_STOP=1 -qAt -F ' ' -c "$1"
}

UP=0
cleanup() {
  local rc=$? t0 leftovers
  trap - EXIT INT TERM
  set +e
  if [ "$UP" = 1 ]; then
    if [ "$FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
      say "logs of the run (last 40 lines per service) in $TMP/logs.txt"
      timeout 60 "${DC[@]}" logs --no-color --tail=40 >"$TMP/logs.txt" 2>&1
      tail -n 150 "$TMP/logs.txt"
      timeout 30 "${DC[@]}" ps
      if [ "${WF4_COMPOSE_KEEP:-0}" = 1 ]; then
        say "WF4_COMPOSE_KEEP=1: stack $PROJECT left up; remove it with: docker-compose -p $PROJECT down -v"
        print_summary "$rc"
        exit 1
      fi
    fi
  fi
  t0=$(date +%s)
  timeout 180 "${DC[@]}" down -v --remove-orphans --timeout 15 >"$TMP/down.log" 2>&1 \
    || { say "docker-compose down failed:"; cat "$TMP/down.log"; }
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
  print_summary "$rc"
  rm -rf "$TMP"
  if [ "$rc" -eq 0 ] && [ "$FAILED" -gt 0 ]; then rc=1; fi
  exit "$rc"
}
print_summary() {
  echo "== compose test summary (project $PROJECT, exit ${1:-?})"
  local line
  for line in "${TIMINGS[@]}"; do echo "  time  $line"; done
  for line in "${FIGURES[@]}"; do echo "  count $line"; done
  echo "  total       $(( $(date +%s) - T_START )) s"
  echo "compose: $PASSED passed, $FAILED failed"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
say "engine"
t0=$(date +%s)
bounded 300 bash "$ROOT/scripts/dockerd.sh" || fail_now "no Docker engine"
timing engine $(($(date +%s) - t0))

t0=$(date +%s)
if [ "$BASE_IMAGE" = local/debian:bookworm-slim ]; then
  if $DOCKER image inspect "$BASE_IMAGE" >/dev/null 2>&1; then cached=" (cached)"; else cached=""; fi
  bounded 600 bash "$ROOT/scripts/compose-base-image.sh" "$BASE_IMAGE" || fail_now "base image"
  timing "base-image" $(($(date +%s) - t0))
  say "base image $BASE_IMAGE$cached"
fi

say "build (docker-compose build, BASE_IMAGE=$BASE_IMAGE)"
t0=$(date +%s)
# The services image is shared by init, claimer, scraper, committer and standin: build it once
# through "init"; the others then hit the cache.
for svc in postgres kafka registry init claimer scraper committer standin exporter prometheus; do
  if ! bounded 0 nice "${DC[@]}" build "$svc" >"$TMP/build-$svc.log" 2>&1; then
    tail -n 60 "$TMP/build-$svc.log"
    fail_now "docker-compose build $svc"
  fi
done
timing build $(($(date +%s) - t0))
# The previous builds of these images, now untagged (not those a container still uses).
$DOCKER image prune -f --filter label=org.wf4.image >/dev/null 2>&1 || true

say "up --scale scraper=3 --scale committer=2 --scale claimer=2 (profile standin)"
t0=$(date +%s)
UP=1
if ! bounded 400 "${DC[@]}" up -d --no-build --scale scraper=3 --scale committer=2 --scale claimer=2 \
    >"$TMP/up.log" 2>&1; then
  cat "$TMP/up.log"
  fail_now "docker-compose up"
fi
# Wait until every long-running container is healthy (init has completed by now).
want_healthy=$(( 1 + 1 + 1 + 2 + 3 + 2 + 1 + 2 )) # ... + standin + exporter and prometheus
while :; do
  healthy=0 unhealthy=""
  for c in $("${DC[@]}" ps -q); do
    st=$($DOCKER inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c")
    case $st in
      *" running healthy") healthy=$((healthy + 1)) ;;
      *" exited "*) case $st in *_init_*) ;; *) unhealthy="$unhealthy ${st%% *}(exited)";; esac ;;
    esac
  done
  [ "$healthy" -ge "$want_healthy" ] && break
  [ -n "$unhealthy" ] && fail_now "containers exited:$unhealthy"
  [ "$(left)" -le 1 ] && fail_now "only $healthy of $want_healthy containers healthy"
  [ $(($(date +%s) - t0)) -gt 300 ] && fail_now "only $healthy of $want_healthy containers healthy after 300 s"
  sleep 2
done
timing up $(($(date +%s) - t0))
FIGURES+=("$(printf '%-34s %d' "healthy containers" "$healthy")")
init_rc=$($DOCKER inspect -f '{{.State.ExitCode}}' "$("${DC[@]}" ps -q init)")
check_eq "$init_rc" 0 "init (migrations, topics) exit status"

# ---------------------------------------------------------------------------------------------
# 500 domains: the demo set, completed with generated names of the same kind.
python3 - "$N_DOMAINS" "$ROOT/demo/domains.txt" >"$TMP/domains.txt" <<'PY'
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
n_selected=$(wc -l <"$TMP/domains.txt")
say "select $n_selected domains (wf4ctl select --file -, in a claimer container)"
t_run=$(date +%s)
if ! bounded 120 "${DC[@]}" exec -T --index=1 claimer wf4ctl select --file - <"$TMP/domains.txt" \
    >"$TMP/select.log" 2>&1; then
  cat "$TMP/select.log"
  fail_now "wf4ctl select"
fi
say "$(tail -n 1 "$TMP/select.log")"
FIGURES+=("$(printf '%-34s %d' "domains selected" "$n_selected")")

# ---------------------------------------------------------------------------------------------
say "waiting until every domain is completed or error"
last_print=0
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

# Each completed domain handed to WF5 exactly once.
read -r h_set h_distinct h_wrong <<<"$(psql_q "SELECT count(*) FILTER (WHERE status='completed' AND handoff_event_id IS NOT NULL),
       count(DISTINCT handoff_event_id) FILTER (WHERE status='completed'),
       count(*) FILTER (WHERE status<>'completed' AND handoff_event_id IS NOT NULL) FROM domains")"
check_eq "$h_set" "$n_completed" "completed domains with a handoff_event_id"
check_eq "$h_distinct" "$n_completed" "distinct handoff_event_ids of completed domains"
check_eq "$h_wrong" 0 "domains not completed with a handoff_event_id"
FIGURES+=("$(printf '%-34s %d' "handoff_event_id set (distinct)" "$h_distinct")")
psql_q "SELECT handoff_event_id FROM domains WHERE status='completed' ORDER BY 1" >"$TMP/db_events.txt"

# ---------------------------------------------------------------------------------------------
# Topics, read from a container on the compose network (the services image has wf4-inspect
# and kcat). A one-off container of the claimer service, no dependencies started.
tool() { bounded 180 "${DC[@]}" run --rm --no-deps -T claimer "$@"; }

# wf4-inspect reads from the beginning and stops at the end of the topic (bounded anyway).
inspect_topic() { # inspect_topic TOPIC OUT
  tool timeout 120 wf4-inspect -o beginning "$1" >"$2" 2>"$2.err" || true
}

# The WF5 topic: one event per completed domain. The outbox is published after commit: wait
# (bounded) until the topic has caught up.
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
w_raw=$(tool kcat -C -b kafka:9092 -t wf5.domain.handoffs -o beginning -e -q -f '%p:%o\n' 2>/dev/null | grep -c . || true)
FIGURES+=("$(printf '%-34s %d' "WF5 topic messages (kcat)" "$w_raw")")
outbox_left=$(psql_q "SELECT count(*) FROM wf5_outbox")
FIGURES+=("$(printf '%-34s %d' "WF5 outbox rows left" "$outbox_left")")

# ---------------------------------------------------------------------------------------------
# /metrics of every service container (each scaled instance), fetched inside the container.
say "/metrics of every service container"
n_metrics_ok=0 n_metrics=0
for svc_port in claimer:9101 scraper:9102 committer:9103; do
  svc=${svc_port%%:*} port=${svc_port##*:}
  for c in $("${DC[@]}" ps -q "$svc"); do
    n_metrics=$((n_metrics + 1))
    name=$($DOCKER inspect -f '{{.Name}}' "$c"); name=${name#/}
    if out=$(timeout 20 $DOCKER exec "$c" http-check "$port" /metrics -v) \
        && grep -q '^# TYPE ' <<<"$out"; then
      samples=$(grep -c -v -e '^#' -e '^$' <<<"$out" || true)
      n_metrics_ok=$((n_metrics_ok + 1))
      say "  $name: /metrics answers ($samples samples)"
    else
      bad "$name: /metrics did not answer with Prometheus text"
    fi
  done
done
check_eq "$n_metrics_ok" 7 "service containers whose /metrics answers (2 claimers, 3 scrapers, 2 committers)"
FIGURES+=("$(printf '%-34s %d/%d' "/metrics answering" "$n_metrics_ok" "$n_metrics")")

# ---------------------------------------------------------------------------------------------
# Prometheus (profile "monitoring"), through its HTTP API inside its container.
say "Prometheus: targets, rules, alerts"
prom_c=$("${DC[@]}" ps -q prometheus)
prom() { timeout 20 $DOCKER exec "$prom_c" http-check 9090 "$1" -v; }
n_rules_want=$(grep -c '^ *- alert:' "$ROOT/deploy/prometheus/alerts.yml")
# targets: "up down" counts of the wf4-* jobs; rules: "alerting ok unknown error" counts.
prom_targets() {
  prom /api/v1/targets | python3 -c '
import json, sys
t = [x for x in json.load(sys.stdin)["data"]["activeTargets"] if x["labels"]["job"].startswith("wf4-")]
print(sum(x["health"] == "up" for x in t), sum(x["health"] != "up" for x in t),
      " ".join(sorted(x["labels"]["job"] + "@" + x["labels"]["instance"] for x in t if x["health"] != "up")))'
}
prom_rules() {
  prom /api/v1/rules | python3 -c '
import json, sys
r = [x for g in json.load(sys.stdin)["data"]["groups"] for x in g["rules"] if x["type"] == "alerting"]
print(len(r), sum(x["health"] == "ok" for x in r), sum(x["health"] == "unknown" for x in r),
      sum(x["health"] == "err" for x in r), " ".join(x["name"] + ":" + x.get("lastError", "") for x in r if x["health"] == "err"))'
}
t0=$(date +%s)
while :; do
  read -r t_up t_down t_which <<<"$(prom_targets 2>/dev/null || echo "0 0 unreadable")"
  read -r r_n r_ok r_unknown r_err r_which <<<"$(prom_rules 2>/dev/null || echo "0 0 0 0 unreadable")"
  if [ "$t_up" = 8 ] && [ "$t_down" = 0 ] && [ "$r_unknown" = 0 ] && [ "$r_n" -gt 0 ]; then break; fi
  if [ $(($(date +%s) - t0)) -gt 120 ]; then
    say "after 120 s: targets up $t_up, not up $t_down ($t_which); rules $r_n, unevaluated $r_unknown"
    break
  fi
  sleep 3
done
timing prometheus $(($(date +%s) - t0))
check_eq "$t_up" 8 "Prometheus targets up (2 claimers, 3 scrapers, 2 committers, 1 exporter)"
check_eq "$t_down" 0 "Prometheus targets not up${t_which:+ ($t_which)}"
check_eq "$r_n" "$n_rules_want" "alerting rules loaded (as many as deploy/prometheus/alerts.yml has)"
check_eq "$r_ok" "$n_rules_want" "alerting rules evaluated without error${r_which:+ ($r_which)}"
firing=$(prom /api/v1/alerts | python3 -c '
import json, sys
print(" ".join(sorted(a["labels"]["alertname"] for a in json.load(sys.stdin)["data"]["alerts"] if a["state"] == "firing")))')
check_eq "${firing:-none}" none "alerts firing after a healthy run"
collect_ok=$(prom '/api/v1/query?query=min(wf4_exporter_collect_ok)' | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "absent")')
check_eq "$collect_ok" 1 "wf4ctl exporter read the database and Kafka (min of wf4_exporter_collect_ok)"
FIGURES+=("$(printf '%-34s %d/%d' "Prometheus targets up" "$t_up" "$((t_up + t_down))")")
FIGURES+=("$(printf '%-34s %d/%d' "alerting rules loaded, healthy" "$r_ok" "$r_n")")

# ---------------------------------------------------------------------------------------------
# The claims topic: raw bytes with kcat (length-prefixed payloads), the registry's ids, decoding.
say "claims topic: Confluent framing, schema ids in the registry, decoding"
tool kcat -C -b kafka:9092 -t wf4.domain.claims -o beginning -e -q -f '%R%s' >"$TMP/claims.bin" \
  2>"$TMP/claims.err" || { head -n 5 "$TMP/claims.err"; bad "kcat could not read wf4.domain.claims"; }
python3 - "$TMP/claims.bin" >"$TMP/claims.ids" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
i = 0; msgs = 0; framed = 0; ids = {}
while i + 4 <= len(data):
    (n,) = struct.unpack(">i", data[i:i + 4]); i += 4
    if n < 0:
        msgs += 1; continue
    v = data[i:i + n]; i += n; msgs += 1
    if len(v) >= 5 and v[0] == 0:
        framed += 1
        sid = struct.unpack(">I", v[1:5])[0]
        ids[sid] = ids.get(sid, 0) + 1
print(msgs, framed, " ".join(str(k) for k in sorted(ids)))
PY
read -r c_msgs c_framed c_ids <"$TMP/claims.ids" || true
c_msgs=${c_msgs:-0} c_framed=${c_framed:-0}
FIGURES+=("$(printf '%-34s %d' "claims topic messages" "$c_msgs")")
FIGURES+=("$(printf '%-34s %d' "claims with magic byte 0 + id" "$c_framed")")
[ "$c_msgs" -ge "$n_selected" ] && ok "claims topic holds at least one message per domain ($c_msgs)" \
  || bad "claims topic holds $c_msgs messages for $n_selected domains"
check_eq "$c_framed" "$c_msgs" "claims in the Confluent wire format"
reg=$("${DC[@]}" ps -q registry)
n_ids=0 n_ids_ok=0
for sid in $c_ids; do
  n_ids=$((n_ids + 1))
  if body=$(timeout 20 $DOCKER exec "$reg" http-check 8080 "/apis/ccompat/v7/schemas/ids/$sid" -v) \
      && grep -q '"schema"' <<<"$body"; then
    n_ids_ok=$((n_ids_ok + 1))
    say "  schema id $sid: known to the registry ($(grep -o '"name[^,]*' <<<"$body" | head -n 1))"
  else
    bad "schema id $sid is not in the registry"
  fi
done
[ "$n_ids" -gt 0 ] || bad "no schema id on the claims topic"
check_eq "$n_ids_ok" "$n_ids" "claims schema ids known to the registry"
FIGURES+=("$(printf '%-34s %s' "claims schema id(s) in registry" "${c_ids:-none}")")

inspect_topic wf4.domain.claims "$TMP/claims.jsonl"
read -r d_ok d_bad <<<"$(python3 - "$TMP/claims.jsonl" <<'PY'
import json, sys
ok = bad = 0
for line in open(sys.argv[1], errors="replace"):
    line = line.strip()
    if not line:
        continue
    try:
        o = json.loads(line)
    except ValueError:
        bad += 1; continue
    v = o.get("value")
    if isinstance(v, dict) and "undecodable" not in v and "claim_id" in json.dumps(v):
        ok += 1
    else:
        bad += 1
print(ok, bad)
PY
)"
FIGURES+=("$(printf '%-34s %d' "claims decoded by wf4-inspect" "$d_ok")")
check_eq "$d_ok" "$c_msgs" "claims decoded by wf4-inspect"
check_eq "$d_bad" 0 "claims wf4-inspect could not decode"
if [ "$d_ok" = 0 ]; then head -n 5 "$TMP/claims.jsonl.err" "$TMP/claims.jsonl" 2>/dev/null; fi

# Restarts (restart: unless-stopped hides a crash; shown, not failed).
restarts=0
for c in $("${DC[@]}" ps -q); do
  r=$($DOCKER inspect -f '{{.RestartCount}}' "$c")
  if [ "$r" -gt 0 ]; then
    say "note: $($DOCKER inspect -f '{{.Name}}' "$c") restarted $r time(s); first error:"
    $DOCKER logs "$c" 2>&1 | grep -m 1 -E '"level":"(error|fatal)"|error' | cut -c1-300 || true
  fi
  restarts=$((restarts + r))
done
FIGURES+=("$(printf '%-34s %d' "container restarts" "$restarts")")

say "checks done"
[ "$FAILED" -eq 0 ]
