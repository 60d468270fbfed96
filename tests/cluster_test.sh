#!/usr/bin/env bash
# The pipeline on a three-broker KRaft cluster (its own stack) through broker loss: the
# catalogue's topics have 3 replicas and min.insync.replicas=2; mid-run the broker leading
# the most partitions is SIGKILLed and later restarted, then two brokers are stopped at once
# (writes wait under min.insync.replicas=2) and brought back. Every domain must end
# completed, handed to WF5 once, none lost, none applied twice; it prints the longest pause
# in progress after each loss. CLUSTER_DOMAINS (3000) sizes the run.
set -euo pipefail
WF4_SRC=${WF4_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
: "${WF4_STACK_DIR:?WF4_STACK_DIR: the stack directory of this test (set by tests/cluster.cmake)}"
STACK=$WF4_SRC/scripts/stack.sh
n_domains=${CLUSTER_DOMAINS:-3000}

# Its own three-node stack (the shared fixture is a single node); lib.sh needs its env file.
trap '"$STACK" down >/dev/null 2>&1 || "$STACK" down' EXIT
t_up=$SECONDS
"$STACK" up --brokers 3 >/dev/null
. "$WF4_SRC/tests/lib.sh"
on_exit "$STACK" down
say "three-broker stack up in $((SECONDS - t_up)) s: $WF4_KAFKA_BROKERS"
TOPICS=(wf4.domain.claims wf4.domain.results wf5.domain.handoffs wf4.domain.claims.dlq wf4.domain.results.dlq)

# ---- the topics as wf4ctl topics made them: replicas (metadata) and min.insync.replicas (admin API)
# metadata_knows_topics: every broker's metadata lists every topic (a broker learns of a new
# topic from the controller a moment after wf4ctl topics returns; kcat asks any one of them).
metadata_knows_topics() {
    local b
    for b in ${WF4_KAFKA_BROKERS//,/ }; do
        kcat -b "$b" -L -J 2>/dev/null >"$TEST_TMP/md.json" || return 1
        jq -e --argjson want "$(printf '%s\n' "${TOPICS[@]}" | jq -R . | jq -s .)" \
            '[.topics[] | select((.partitions | length) > 0) | .topic] as $have
             | all($want[]; . as $t | $have | index($t))' "$TEST_TMP/md.json" >/dev/null || return 1
    done
}
wait_until 30 metadata_knows_topics || say "not every broker lists every topic after 30 s"
for t in "${TOPICS[@]}"; do
    reps=$(jq -r --arg t "$t" '[.topics[] | select(.topic == $t) | .partitions[] | (.replicas | length)] | unique | map(tostring) | join(",")' "$TEST_TMP/md.json")
    check_eq "$reps" 3 "$t: every partition has 3 replicas (kcat -L)"
done
java -Xmx256m -XX:TieredStopAtLevel=1 -cp "$WF4_KAFKA_JARS/*" \
    -Dlog4j.configuration="file:$WF4_STACK_DIR/kafka/tools-log4j.properties" \
    kafka.admin.ConfigCommand --bootstrap-server "$WF4_KAFKA_BROKERS" --entity-type topics \
    --describe >"$TEST_TMP/configs.txt" 2>&1 || fail "kafka-configs --describe: $(tail -3 "$TEST_TMP/configs.txt")"
for t in "${TOPICS[@]}"; do
    misr=$(awk -v t="$t" '/^Dynamic configs for topic / {cur = $5} cur == t && $1 ~ /^min\.insync\.replicas=/ {split($1, a, "="); print a[2]}' "$TEST_TMP/configs.txt")
    check_eq "$misr" 2 "$t: min.insync.replicas (kafka-configs --describe, the admin API)"
done
grep -h 'broker(s)' "$WF4_STACK_DIR/logs/topics.log" | jq -r '"    wf4ctl topics: " + .msg'

# ---- the pipeline: ~40 domains/s (60 calls in flight, 1-2 s each), so the losses land mid-run
# The lease outlasts the outages: a lease that expires while Kafka cannot take the result is
# claimed again, and the stale claims then take the scraper's capacity from the fresh ones.
export WF4_METRICS_PORT=0 WF4_KAFKA_PROPS=session.timeout.ms=6000 WF4_RETRY_BASE_S=1 \
    WF4_RETRY_CAP_S=4 WF4_LEASE_SECONDS=900
KEY=$(random_hex 12)
STANDIN_KEY=$KEY
standin_start standin STANDIN_LATENCY_MIN_MS=1000 STANDIN_LATENCY_MAX_MS=2000 STANDIN_CONCURRENCY=200
port=$STANDIN_LISTEN_PORT
export SCRAPERAPI_URL="http://127.0.0.1:$port/" SCRAPERAPI_KEY="$KEY"
svc_start claimer env WF4_INSTANCE_ID=claimer1 "$WF4_BIN/claimer"
svc_start scraper env WF4_INSTANCE_ID=scraper1 WF4_SCRAPER_CONCURRENCY=60 "$WF4_BIN/scraper"
svc_start committer env WF4_INSTANCE_ID=committer1 "$WF4_BIN/committer"

# Half the domains now, half once the killed broker is back (its restart takes 15-170 s,
# with the machine's load), so that the two-broker outage lands mid-run whatever that took.
half=$((n_domains / 2))
seq 1 "$n_domains" | sed 's/^/shop/; s/$/.wf4cluster.com/' >"$TEST_TMP/domains"
select_part() { # select_part FROM TO (line numbers)
    sed -n "$1,$2p" "$TEST_TMP/domains" >"$TEST_TMP/part"
    "$WF4_BIN/wf4ctl" select --file "$TEST_TMP/part" >>"$TEST_TMP/select.log" 2>&1 || fatal "select: $(cat "$TEST_TMP/select.log")"
}
select_part 1 "$half"
t0=$(now_ms)

# Progress sampler: "ms-since-start terminal-count" every 0.5 s.
terminal_now() { psql_admin -c "SELECT count(*) FROM domains WHERE status IN ('completed', 'error')"; }
(while :; do echo "$(($(now_ms) - t0)) $(terminal_now 2>/dev/null || echo -1)"; sleep 0.5; done) >"$TEST_TMP/progress" &
sampler=$!
stop_sampler() { kill "$sampler" 2>/dev/null || true; }
on_exit stop_sampler
event() { # event NAME: its time in the progress file's clock
    echo "$(($(now_ms) - t0)) $1" >>"$TEST_TMP/events"
    say "event: $1"
}
at_least() { [[ $(terminal_now) -ge $1 ]]; }

# The broker that leads the most partitions of the pipeline's topics.
busiest_leader() {
    kcat -b "$WF4_KAFKA_BROKERS" -L -J 2>/dev/null | jq -r '[.topics[] | select(.topic | test("^wf[45]\\.")) |
        .partitions[].leader] | group_by(.) | map([.[0], length]) | max_by(.[1]) | "\(.[0]) \(.[1])"'
}

wait_until 300 at_least $((half * 30 / 100)) || fatal "30 % of the first half not terminal after 300 s"
read -r victim led <<<"$(busiest_leader)"
say "broker $victim leads $led partitions: SIGKILL"
"$STACK" stop-kafka --kill --node "$victim"
event "kill-$victim"
sleep 15
"$STACK" start-kafka --node "$victim"
event "restart-$victim"
select_part $((half + 1)) "$n_domains"
say "the second half selected"

wait_until 600 at_least $((half + (n_domains - half) * 20 / 100)) || fatal "a fifth of the second half not terminal after 600 s"
pair=$(printf '%s\n' 1 2 3 | grep -vx "$victim" | tr '\n' ' ')
read -r b1 b2 <<<"$pair"
mid=$(terminal_now)
"$STACK" stop-kafka --node "$b1" --node "$b2"
event "stop-$b1-$b2"
sleep 20
during=$(terminal_now)
"$STACK" start-kafka --node "$b1" --node "$b2"
event "start-$b1-$b2"
say "while two of three brokers were down: $((during - mid)) domains became terminal (the ones already on their way to the database)"

# stuck_story: wf4ctl trace of up to three domains not terminal (claims, results, offsets).
stuck_story() {
    local d
    for d in $(psql_admin -c "SELECT domain FROM domains WHERE status NOT IN ('completed', 'error') ORDER BY domain LIMIT 3"); do
        say "---- wf4ctl trace $d"
        "$WF4_BIN/wf4ctl" trace "$d" 2>&1 | sed 's/^/    /' >&2 || true
    done
}
wait_until 420 at_least "$n_domains" || {
    fail "not every domain terminal: $(psql_admin -c "SELECT status, count(*) FROM domains GROUP BY 1" | tr '\n' ' ')"
    stuck_story
}
elapsed=$(($(now_ms) - t0))
sleep 3
stop_sampler

# ---- pauses: the longest time the terminal count did not grow, from each loss to the next event
say "longest pause in progress after each loss (run $((elapsed / 1000)) s, $n_domains domains):"
awk 'NR == FNR {ev[++ne] = $1; name[ne] = $2; next}
     {t[++n] = $1; c[n] = $2}
     END {
       for (e = 1; e <= ne; e++) {
         if (name[e] !~ /^(kill|stop)/) continue
         from = ev[e]; to = (e + 2 <= ne) ? ev[e + 2] : t[n]
         last = from; lastc = -1; best = 0; end = from
         for (i = 1; i <= n; i++) {
           if (t[i] < from || t[i] > to || c[i] < 0) continue
           end = t[i]
           if (lastc < 0) { lastc = c[i]; last = from; continue }
           if (c[i] > lastc) { if (t[i] - last > best) best = t[i] - last; last = t[i]; lastc = c[i] }
         }
         if (end - last > best) best = end - last
         printf "    after %s: longest pause %.1f s (window %.1f s)\n", name[e], best / 1000, (to - from) / 1000
       }
     }' "$TEST_TMP/events" "$TEST_TMP/progress" | tee "$TEST_TMP/pauses"

# ---- asserts
read -r done err proc <<<"$(psql_admin -F' ' -c "SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'error'), count(*) FILTER (WHERE status NOT IN ('completed', 'error')) FROM domains")"
say "$n_domains domains: $done completed, $err error, $proc other"
check "[[ $proc == 0 && $((done + err)) == $n_domains ]]" "every domain terminal"
check "[[ $done == $n_domains ]]" "none lost: every domain completed ($err error)"
((err == 0)) || psql_admin -c "SELECT left(error_message, 80), count(*) FROM domains WHERE status = 'error' GROUP BY 1" | sed 's/^/    /'
read -r handoffs distinct queued <<<"$(psql_admin -F' ' -c "SELECT count(handoff_event_id), count(DISTINCT handoff_event_id), count(*) FILTER (WHERE sitemap_analysis_status = 'queued') FROM domains WHERE status = 'completed'")"
check "[[ $handoffs == $done && $distinct == $done && $queued == $done ]]" "one handoff per completed domain ($handoffs events, $distinct distinct, $queued queued)"
wait_until 60 bash -c "[[ \$(\"$WF4_PG_BIN/psql\" -X -qAt \"$WF4_ADMIN_DATABASE_URL\" -c 'SELECT count(*) FROM wf5_outbox') == 0 ]]" ||
    fail "outbox not drained"
"$WF4_BIN/wf4-inspect" -o beginning wf5.domain.handoffs 2>"$TEST_TMP/inspect.err" |
    jq -r '"\(.value.domain_id) \(.value.event_id)"' | sort >"$TEST_TMP/topic_events"
psql_admin -c "SELECT id || ' ' || handoff_event_id FROM domains WHERE status = 'completed'" | sort >"$TEST_TMP/db_events"
missing=$(sort -u "$TEST_TMP/topic_events" | comm -23 "$TEST_TMP/db_events" - | wc -l)
stray=$(sort -u "$TEST_TMP/topic_events" | comm -13 "$TEST_TMP/db_events" - | wc -l)
twice=$(sort -u "$TEST_TMP/topic_events" | awk '{print $1}' | uniq -d | wc -l)
repub=$(($(wc -l <"$TEST_TMP/topic_events") - $(sort -u "$TEST_TMP/topic_events" | wc -l)))
check "[[ $missing == 0 && $stray == 0 ]]" "wf5.domain.handoffs holds every handoff event ($missing missing, $stray not in the database)"
check "[[ $twice == 0 ]]" "no domain handed off under two event ids ($twice)"
say "handoff messages republished with the same event id (WF5 deduplicates them): $repub"

# No duplicate applied: the committer completed each domain once.
mport=$(grep -o 'serving /metrics[^0-9]*[0-9]*' "$(svc_log committer)" | grep -o '[0-9]*$' | head -1)
applied=$(curl -sf --max-time 5 "http://127.0.0.1:$mport/metrics" | awk '/^wf4_committer_results_total\{outcome="completed"\}/ {print int($2)}')
superseded=$(curl -sf --max-time 5 "http://127.0.0.1:$mport/metrics" | awk '/^wf4_committer_results_total\{outcome="superseded"\}/ {print int($2)}')
check "[[ ${applied:-x} == $done ]]" "the committer applied each completion once (${applied:-?} applied, $done completed; ${superseded:-0} replays fenced off)"
claims=$(topic_end_offsets wf4.domain.claims)
say "claims on Kafka: $claims for $n_domains domains (a lease that expired during the outage is claimed again)"
# The services stop before the stack does (on_exit stops the stack first).
for name in claimer scraper committer; do svc_kill "$name"; done
grep -h -o '"msg":"librdkafka [^"]*' "$TEST_TMP"/claimer.log "$TEST_TMP"/scraper.log "$TEST_TMP"/committer.log 2>/dev/null |
    cut -c8-90 | sort | uniq -c | sort -rn | head -5 | sed 's/^/    /' || true
