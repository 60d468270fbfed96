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

# shellcheck source=tests/compose_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/compose_lib.sh"
N_DOMAINS=${WF4_COMPOSE_DOMAINS:-500}
compose_setup wf4test "${WF4_COMPOSE_BUDGET_S:-1380}" compose.yaml

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

# ---------------------------------------------------------------------------------------------
compose_engine
compose_build postgres kafka registry init claimer scraper committer standin exporter prometheus
# Healthy: postgres, kafka, registry, 2 claimers, 3 scrapers, 2 committers, standin, exporter
# and prometheus.
compose_up $((1 + 1 + 1 + 2 + 3 + 2 + 1 + 2)) --scale scraper=3 --scale committer=2 --scale claimer=2

# ---------------------------------------------------------------------------------------------
# 500 domains: the demo set, completed with generated names of the same kind.
compose_domains "$N_DOMAINS" "$TMP/domains.txt"
compose_select "$TMP/domains.txt"
compose_wait_terminal
compose_check_handoffs
w_raw=$(tool kcat -C -b kafka:9092 -t wf5.domain.handoffs -o beginning -e -q -f '%p:%o\n' 2>/dev/null | grep -c . || true)
FIGURES+=("$(printf '%-34s %d' "WF5 topic messages (kcat)" "$w_raw")")

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

compose_note_restarts

say "checks done"
[ "$FAILED" -eq 0 ]
