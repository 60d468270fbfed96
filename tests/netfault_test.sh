#!/usr/bin/env bash
# Network faults, injected by wf4-netproxy between the services and PostgreSQL (one proxy for
# the claimer, one for the committer) and between every service and Kafka (one proxy on the
# broker's advertised FAULT listener: clients reconnect to what the broker advertises, so
# the Kafka faults strike the three services at once). A stream of domains flows through
# the whole run; one fault at a time strikes it. For each: the service notices within the
# bound and logs it, recovers by itself, and the run ends with every domain completed or
# error with a reason, one handoff event per completed domain, no result applied twice, no
# process exit, no backend left idle in transaction past the server's timeout, and never 60 s
# without progress while work waits. Prints fault x service -> detect, recover, affected.
# NETFAULT_FIRST_WAVE (default 1200) sizes the stream's first wave; 400 follow whenever
# fewer than 300 are pending before a fault.
. "$WF4_SRC/tests/lib.sh"

RUN_ID="$(date +%s)$$"
CLAIMS="t.nf.$RUN_ID.claims" RESULTS="t.nf.$RUN_ID.results" HANDOFFS="t.nf.$RUN_ID.handoffs"
KEY="nf$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
STMT_MS=5000 IDLE_TX_MS=5000 SOCKET_MS=10000
PG_BOUND=$((STMT_MS / 1000 + 5))       # the statement timeout plus 5 s
KAFKA_BOUND=$((SOCKET_MS / 1000 + 5))  # librdkafka's socket.timeout.ms plus 5 s
FIRST_WAVE=${NETFAULT_FIRST_WAVE:-1200}
export WF4_SCRAPER_GROUP="g.$RUN_ID.scraper" WF4_COMMITTER_GROUP="g.$RUN_ID.committer" \
    WF4_METRICS_PORT=0 WF4_KAFKA_PROPS=session.timeout.ms=10000 \
    WF4_DB_STATEMENT_TIMEOUT_MS=$STMT_MS WF4_DB_IDLE_TX_TIMEOUT_MS=$IDLE_TX_MS \
    WF4_LEASE_SECONDS=90 WF4_MAX_IN_FLIGHT=150 WF4_CLAIM_INTERVAL_MS=500 WF4_RETRY_BASE_S=1 \
    WF4_RETRY_CAP_S=4 WF4_SCRAPER_RETRY_BASE_MS=100 WF4_SCRAPER_RETRY_CAP_MS=1000

private_topics "$TEST_TMP/schemas" "$CLAIMS" "$RESULTS" "$HANDOFFS" "$TEST_TMP/topics.log" ||
    fatal "cannot create topics: $(cat "$TEST_TMP/topics.log")"

# proxy NAME LISTEN TARGET_HOST TARGET_PORT: a wf4-netproxy; its ports in P_<NAME>/C_<NAME>.
proxy() {
    svc_start "proxy_$1" "$WF4_BIN/wf4-netproxy" "$2" "$3" "$4" 0
    wait_until 10 grep -q 'listening on port' "$(svc_log "proxy_$1")" || fatal "proxy $1 did not start"
    read -r _ _ _ port _ ctl <"$(svc_log "proxy_$1")"
    printf -v "P_$1" %s "$port"
    printf -v "C_$1" %s "$ctl"
}
# ctl NAME COMMAND: one command to proxy NAME; prints its answer.
ctl() {
    local port="C_$1" answer
    exec 9<>"/dev/tcp/127.0.0.1/${!port}"
    printf '%s\n' "$2" >&9
    answer=$(cat <&9)
    exec 9>&-
    say "proxy $1: $2 -> $answer"
}

pg_port=$("$WF4_PG_BIN/psql" -X -qAt "$WF4_DATABASE_URL" -c "SELECT current_setting('port')")
proxy pgc 0 127.0.0.1 "$pg_port"
proxy pgm 0 127.0.0.1 "$pg_port"
proxy kafka "$WF4_STACK_KAFKA_FAULT_ADVERTISED" 127.0.0.1 "$WF4_STACK_KAFKA_FAULT_PORT"
via() { # via PORT: WF4_DATABASE_URL through 127.0.0.1:PORT
    local sep='?'
    [[ $WF4_DATABASE_URL == *\?* ]] && sep='&'
    echo "${WF4_DATABASE_URL}${sep}host=127.0.0.1&port=$1"
}
KAFKA_VIA=127.0.0.1:$WF4_STACK_KAFKA_FAULT_ADVERTISED

STANDIN_KEY=$KEY
standin_start standin STANDIN_LATENCY_MIN_MS=1000 STANDIN_LATENCY_MAX_MS=2000 STANDIN_RATE_500=0.02 \
    STANDIN_CONCURRENCY=100
port=$STANDIN_LISTEN_PORT
export SCRAPERAPI_URL="http://127.0.0.1:$port/" SCRAPERAPI_KEY="$KEY"

db_reset
svc_start claimer env WF4_INSTANCE_ID=nf-claimer WF4_DATABASE_URL="$(via "$P_pgc")" \
    WF4_KAFKA_BROKERS="$KAFKA_VIA" "$WF4_BIN/claimer"
svc_start scraper env WF4_INSTANCE_ID=nf-scraper WF4_KAFKA_BROKERS="$KAFKA_VIA" \
    WF4_SCRAPER_CONCURRENCY=20 "$WF4_BIN/scraper"
svc_start committer env WF4_INSTANCE_ID=nf-committer WF4_DATABASE_URL="$(via "$P_pgm")" \
    WF4_KAFKA_BROKERS="$KAFKA_VIA" "$WF4_BIN/committer"
metrics_port() { grep -o 'serving /metrics, /healthz, /readyz on port [0-9]*' "$(svc_log "$1")" | grep -o '[0-9]*$' | head -1; }
for s in claimer scraper committer; do
    wait_until 60 bash -c "grep -q 'on port [0-9]' '$(svc_log $s)'" || fatal "$s did not start: $(tail -3 "$(svc_log $s)")"
    printf -v "M_$s" %s "$(metrics_port $s)"
done

count() { psql_admin -c "SELECT count(*) FROM domains WHERE $1"; }
terminal() { count "status IN ('completed', 'error')"; }
# The stream: domains selected in waves, topped up before each fault while few are pending,
# so that every fault strikes a running pipeline and the stream ends soon after the last.
n_domains=0
feed() {
    seq $((n_domains + 1)) $((n_domains + $1)) | sed "s/.*/nf&-$RUN_ID.example.com/" >"$TEST_TMP/domains"
    "$WF4_BIN/wf4ctl" select --file "$TEST_TMP/domains" >"$TEST_TMP/select.log" 2>&1 || fatal "select: $(cat "$TEST_TMP/select.log")"
    n_domains=$((n_domains + $1))
    echo "$n_domains" >"$TEST_TMP/total"
}
top_up() {
    if [[ $(count "status = 'pending'") -lt 300 ]]; then feed 400; fi
}
T0=$SECONDS
feed "$FIRST_WAVE"


# Background samplers: the longest idle in transaction of this pipeline's backends, and
# progress (a hang is a failure: 60 s without a domain finishing while work waits).
(
    while :; do
        psql_admin -c "SELECT coalesce(max(extract(epoch FROM now() - state_change)), 0)::numeric(6,1)
            FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND application_name LIKE 'wf4-%'" \
            >>"$TEST_TMP/idle.samples" 2>/dev/null || true
        sleep 0.5
    done
) &
SAMPLER=$!
stop_bg() { kill "$1" 2>/dev/null || true; }
on_exit stop_bg "$SAMPLER"
(
    last=-1 since=$SECONDS
    while :; do
        t=$(terminal 2>/dev/null) || { sleep 1; continue; }
        [[ $t -ge $(cat "$TEST_TMP/total") ]] && [[ -f $TEST_TMP/faults.done ]] && exit 0
        if [[ $t != "$last" ]]; then last=$t since=$SECONDS; fi
        if ((SECONDS - since >= 60)); then
            echo "no progress for 60 s at $t of $(cat "$TEST_TMP/total") terminal" >"$TEST_TMP/hang"
            exit 1
        fi
        sleep 1
    done
) &
WATCHDOG=$!
on_exit stop_bg "$WATCHDOG"

# readyz_watch PORT FILE: appends "<seconds> <code>" every 0.5 s until killed.
readyz_watch() {
    while :; do
        echo "$SECONDS $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz")" >>"$2"
        sleep 0.5
    done
}
# log_mark NAME: the log's size now; log_since NAME OFFSET PATTERN: matching lines after it.
log_mark() { stat -c %s "$(svc_log "$1")"; }
log_since() { tail -c +"$(($2 + 1))" "$(svc_log "$1")" | grep -E "$3" || true; }

PG_PATTERN='no answer from PostgreSQL|connection to PostgreSQL lost|answer to COMMIT was lost|LISTEN connection lost'
KAFKA_PATTERN='"level":"(warn|error)".*librdkafka'
stage_count() { # what the stage behind a service has done so far
    case $1 in
    claimer) psql_admin -c "SELECT coalesce((extract(epoch FROM max(claimed_at)) * 1000)::bigint, 0) FROM domains" ;;
    *) terminal ;;
    esac
}

# claimer_sent_in_time STRUCK_MS T0_MS DUR_S: the claimer claimed after the fault was in
# place (STRUCK_MS: a claim acknowledged just before leaves nothing to time out), so
# produced, early enough for librdkafka's socket timeout to expire while the fault lasted
# (at any time when DUR_S is 0: the dead connections stay dead).
claimer_sent_in_time() {
    local first
    first=$(psql_admin -c "SELECT coalesce((extract(epoch FROM min(claimed_at)) * 1000)::bigint, 0)
                           FROM domains WHERE claimed_at > to_timestamp($1 / 1000.0)")
    ((first > 0)) && { (($3 == 0)) || ((first <= $2 + $3 * 1000 - SOCKET_MS)); }
}

# fault PROXY SERVICES FAULT DURATION_S: strikes, then measures for each service of the
# comma-separated SERVICES. DURATION_S: how long the condition lasts (0: a single event).
ROWS=()
fault() {
    local px=$1 svcs=${2//,/ } f=$3 dur=$4 pattern=$PG_PATTERN bound=$PG_BOUND expect=1 s
    [[ $px == kafka ]] && pattern=$KAFKA_PATTERN bound=$KAFKA_BOUND
    case $f in latency* | bandwidth*) expect=0 ;; esac
    local -A mark=() detect=() rw=() rf=()
    local affected t0 recover=- mp
    top_up
    affected=$(count "status = 'processing'")
    for s in $svcs; do
        mark[$s]=$(log_mark "$s") detect[$s]=- rf[$s]=$TEST_TMP/ready.$px.$s.$RANDOM mp="M_$s"
        readyz_watch "${!mp}" "${rf[$s]}" &
        rw[$s]=$!
    done
    local t0_ms t_struck
    t0=$SECONDS t0_ms=$(date +%s%3N)
    ctl "$px" "$f"
    t_struck=$(date +%s%3N)
    # Detection: each service's first log line naming the fault.
    while ((expect && SECONDS - t0 <= bound + 30)); do
        local left=0
        for s in $svcs; do
            [[ ${detect[$s]} != - ]] && continue
            if [[ -n $(log_since "$s" "${mark[$s]}" "$pattern") ]]; then detect[$s]=$((SECONDS - t0)); else left=1; fi
        done
        ((left)) || break
        sleep 0.5
    done
    # A client with nothing to send cannot see a dead broker connection: the claimer at its
    # in-flight cap claims nothing and so sends nothing, and only its next produce would notice.
    local idle=''
    [[ $px == kafka && ${detect[claimer]:-} == - ]] && ! claimer_sent_in_time "$t_struck" "$t0_ms" "$dur" &&
        idle=claimer
    while ((SECONDS < t0 + dur)); do sleep 0.5; done
    case $f in latency* | bandwidth*) ctl "$px" clear ;; esac
    # Recovery: the stage behind the service moves again after the fault's end.
    local before tr=$SECONDS first=${svcs%% *}
    [[ $px == kafka ]] && first=committer
    before=$(stage_count "$first")
    while ((SECONDS - tr < 90)); do
        if [[ $(stage_count "$first") -gt $before ]] || [[ $(terminal) -ge $n_domains ]]; then recover=$((SECONDS - tr)); break; fi
        sleep 0.5
    done
    # /readyz: up to 30 s more for a service that went unready to be ready again.
    local tw=$SECONDS
    for s in $svcs; do
        while ((SECONDS - tw < 30)) && awk '$2 != 200 {u = 1} u && $2 == 200 {r = 1} END {exit !(u && !r)}' "${rf[$s]}"; do
            sleep 0.5
        done
    done
    sleep 1
    for s in $svcs; do
        kill "${rw[$s]}" 2>/dev/null || true
        wait "${rw[$s]}" 2>/dev/null || true
        local e=$expect d=${detect[$s]}
        [[ $s == "$idle" ]] && e=0 d=idle
        fault_row "$px" "$s" "$f" "$t0" "$d" "$recover" "$affected" "${rf[$s]}" "$bound" "$e"
        log_since "$s" "${mark[$s]}" "$pattern" | head -2 | cut -c1-260 | sed 's/^/    /'
    done
}

# fault_row PROXY SERVICE FAULT T0 DETECT RECOVER AFFECTED READY_FILE BOUND EXPECT
fault_row() {
    local px=$1 svc=$2 f=$3 t0=$4 detect=$5 recover=$6 affected=$7 unready ready rz=-
    unready=$(awk '$2 != 200 {print $1; exit}' "$8")
    ready=$(awk -v u="${unready:-x}" 'u != "x" && $1 > u && $2 == 200 {print $1; exit}' "$8")
    [[ -n $unready ]] && rz="unready +$((unready - t0))s, ready +$((${ready:-$SECONDS} - t0))s"
    [[ -n $unready && -z $ready ]] && rz="unready +$((unready - t0))s, never ready again"
    ROWS+=("$(printf '%-17s %-6s %-10s %-7s %-8s %-9s %s' "${f%% [a-z]*}" "$px" "$svc" "${detect/%[0-9]/&s}" "${recover}s" "$affected" "$rz")")
    say "fault $f on $px ($svc): detected ${detect}s (bound ${9}s), recovered ${recover}s after its end, $affected processing when it struck; readyz: $rz"
    if ((${10})); then
        check "[ '$detect' != - ] && [ '$detect' -le $9 ]" "$svc noticed $f on $px within ${9}s (${detect}s)"
    fi
    check "[ '$recover' != - ]" "$svc recovered by itself after $f on $px (${recover}s)"
    check "svc_alive $svc" "$svc still runs after $f"
    READY_SEEN+=" $svc:${unready:+u}${ready:+r}"
}

READY_SEEN=''
wait_until 60 bash -c "[ \$(\"$WF4_PG_BIN/psql\" -X -qAt \"$WF4_ADMIN_DATABASE_URL\" -c \"SELECT count(*) FROM domains WHERE status = 'completed'\") -gt 20 ]" ||
    fatal "the pipeline did not start: $(tail -2 "$(svc_log committer)")"
say "pipeline flowing: $(terminal) terminal after $((SECONDS - T0)) s; faults follow"

# The COMMIT cut lands on the transaction that matters: the committer's apply (its outbox
# insert) and the claimer's claim (its lease), not a housekeeping one.
for svc in committer claimer; do
    px=pgm word=sitemap_analysis_status
    [[ $svc == claimer ]] && px=pgc word=lease_expires_at
    fault $px $svc blackhole 0
    fault $px $svc "blackhole_all 20" 20
    fault $px $svc reset 0
    fault $px $svc "cut_after_commit $word" 0
    fault $px $svc "latency 200" 10
    fault $px $svc "bandwidth 20000" 10
done
KSVCS=claimer,scraper,committer
fault kafka $KSVCS blackhole 0
fault kafka $KSVCS "blackhole_all 20" 20
fault kafka $KSVCS reset 0
fault kafka $KSVCS "latency 200" 10
fault kafka $KSVCS "bandwidth 200000" 10
touch "$TEST_TMP/faults.done"

wait_until 300 bash -c "[ \$(\"$WF4_PG_BIN/psql\" -X -qAt \"$WF4_ADMIN_DATABASE_URL\" -c \"SELECT count(*) FROM domains WHERE status IN ('completed', 'error')\") -ge $n_domains ]" ||
    fail "not every domain terminal: $(psql_admin -c "SELECT status, count(*) FROM domains GROUP BY 1" | tr '\n' ' ')"
elapsed=$((SECONDS - T0))
[[ -f $TEST_TMP/hang ]] && fail "$(cat "$TEST_TMP/hang")"
check "[ ! -f '$TEST_TMP/hang' ]" "never 60 s without progress while work waited"
sleep 3

echo
echo "  fault x service  (detection bound: PostgreSQL ${PG_BOUND}s = statement timeout ${STMT_MS} ms + 5 s; Kafka ${KAFKA_BOUND}s = socket.timeout.ms + 5 s)"
printf '  %-17s %-6s %-10s %-7s %-8s %-9s %s\n' fault proxy service detect recover affected readyz
for r in "${ROWS[@]}"; do echo "  $r"; done
echo "  (detect: from the fault to the service's first log line about it (- : latency and bandwidth"
echo "   are not failures); recover: from the fault's end to the next claim (claimer) or the next"
echo "   finished domain (others); affected: domains processing when it struck; a Kafka fault"
echo "   strikes the three services at once: the broker advertises one address; idle: the"
echo "   claimer had nothing to send during the fault, so nothing could notice it)"
echo

read -r done err proc <<<"$(psql_admin -F' ' -c "SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'error'), count(*) FILTER (WHERE status NOT IN ('completed', 'error')) FROM domains")"
say "$n_domains domains in ${elapsed}s: $done completed, $err error, $proc other"
check "[ $proc = 0 ] && [ $((done + err)) = $n_domains ]" "every domain completed or error"
check "[ $(count "status = 'error' AND coalesce(error_message, '') = ''") = 0 ]" "every error has a reason"
psql_admin -c "SELECT left(error_message, 70), count(*) FROM domains WHERE status = 'error' GROUP BY 1 ORDER BY 2 DESC LIMIT 5" | sed 's/^/    /'
read -r handoffs distinct <<<"$(psql_admin -F' ' -c "SELECT count(handoff_event_id), count(DISTINCT handoff_event_id) FROM domains WHERE status = 'completed'")"
check "[ $handoffs = $done ] && [ $distinct = $done ]" "one handoff event id per completed domain ($handoffs)"
wait_until 60 bash -c "[ \"\$(\"$WF4_PG_BIN/psql\" -X -qAt \"$WF4_ADMIN_DATABASE_URL\" -c 'SELECT count(*) FROM wf5_outbox')\" = 0 ]" || fail "outbox not drained"
"$WF4_BIN/wf4-inspect" -o beginning "$HANDOFFS" 2>/dev/null | jq -r '[.value.event_id, .value.domain_id] | @tsv' >"$TEST_TMP/events"
psql_admin -c "SELECT handoff_event_id FROM domains WHERE status = 'completed'" | sort >"$TEST_TMP/db_events"
cut -f1 "$TEST_TMP/events" | sort -u >"$TEST_TMP/topic_events"
missing=$(comm -23 "$TEST_TMP/db_events" "$TEST_TMP/topic_events" | wc -l)
stray=$(comm -13 "$TEST_TMP/db_events" "$TEST_TMP/topic_events" | wc -l)
two=$(sort -u "$TEST_TMP/events" | cut -f2 | sort | uniq -d | wc -l)
say "WF5 topic: $(wc -l <"$TEST_TMP/events") messages, $(wc -l <"$TEST_TMP/topic_events") distinct events"
check "[ $missing = 0 ] && [ $stray = 0 ] && [ $two = 0 ]" \
    "the WF5 topic holds one handoff event per completed domain ($missing missing, $stray strays, $two domains with two events)"

# No result applied twice: the committer counted each completion once, in the attempt that
# committed (a replay is superseded by the fence, and counted so).
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" 'index($0, m) == 1 {s += $NF} END {print s + 0}'; }
applied=$(metric "$M_committer" 'wf4_committer_results_total{outcome="completed"}')
check "[ $applied = $done ]" "each completed domain applied once (committer counted $applied completions)"
for s in claimer committer; do
    mp="M_$s"
    say "$s: deadline exceeded $(metric "${!mp}" wf4_db_deadline_exceeded_total), COMMIT answers lost: committed $(metric "${!mp}" 'wf4_db_commit_unknown_total{outcome="committed"}'), aborted $(metric "${!mp}" 'wf4_db_commit_unknown_total{outcome="aborted"}'), unresolved $(metric "${!mp}" 'wf4_db_commit_unknown_total{outcome="unresolved"}'), reconnects $(metric "${!mp}" wf4_db_reconnects_total)"
done

idle_max=$(sort -n "$TEST_TMP/idle.samples" | tail -1)
say "longest idle in transaction seen (pipeline backends, sampled every 0.5 s): ${idle_max}s (idle_in_transaction_session_timeout ${IDLE_TX_MS} ms)"
check "awk -v m='$idle_max' -v t=$((IDLE_TX_MS / 1000 + 2)) 'BEGIN {exit !(m <= t)}'" "the server ended every backend idle in transaction within its timeout"
for s in claimer scraper committer; do check "svc_alive $s" "$s never exited"; done
never=$(printf '%s\n' "${ROWS[@]}" | grep -c 'never ready again' || true)
check "[ $never = 0 ]" "every service that went unready was ready again within 30 s of recovering ($never not)"
check "[[ '$READY_SEEN' == *committer:ur* ]] && [[ '$READY_SEEN' == *claimer:ur* ]]" \
    "/readyz went unready and ready again (claimer and committer)"
