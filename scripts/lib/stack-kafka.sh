# The Kafka part of scripts/stack.sh: one KRaft node or a cluster of combined broker+controller
# nodes, plain or secured (SASL_SSL with SCRAM-SHA-512, ACLs, a CA made at start).
# shellcheck shell=bash
# Sourced by scripts/stack.sh after it set D, LOGS, STATE and the state_* helpers. Node i
# (1..KAFKA_NODES) lives in kafka_dir i; node 1 keeps the single node's names (directory
# $D/kafka, log kafka.log, state KAFKA_PORT/KAFKA_CTRL_PORT/KAFKA_PID), node i > 1 adds _i.

# The secured broker's properties, SCRAM credentials and clients' properties (shared with the
# compose stack); KAFKA_SASL_USERS: the administrator and one principal per service.
# shellcheck source=scripts/lib/kafka-sasl.sh
source "$WF4_ROOT/scripts/lib/kafka-sasl.sh"

kafka_dir() { if (($1 == 1)); then echo "$D/kafka"; else echo "$D/kafka$1"; fi; }
kafka_logfile() { if (($1 == 1)); then echo "$LOGS/kafka.log"; else echo "$LOGS/kafka$1.log"; fi; }
kafka_key() { if (($2 == 1)); then echo "$1"; else echo "${1}_$2"; fi; } # kafka_key KAFKA_PORT 2
kafka_get() { # kafka_get NAME NODE: a node's state value
    local k
    k=$(kafka_key "$1" "$2")
    echo "${!k:-}"
}
kafka_put() { # kafka_put NAME NODE VALUE: in the state file and in this shell
    local k
    k=$(kafka_key "$1" "$2")
    state_set "$k" "$3"
    printf -v "$k" '%s' "$3"
}

kafka_nodes() { echo "${KAFKA_NODES:-1}"; }

kafka_bootstrap() { # every node's client listener, comma-separated
    local i out=''
    for ((i = 1; i <= $(kafka_nodes); i++)); do out+="${out:+,}127.0.0.1:$(kafka_get KAFKA_PORT "$i")"; done
    echo "$out"
}

kafka_password() { # kafka_password USER (secured stack)
    cat "$D/tls/kafka-$1.password"
}

# librdkafka properties of a client of the secured cluster as USER (comma-separated).
kafka_client_props() {
    kafka_sasl_client_props "$1" "$D/tls/ca.pem" "$(kafka_password "$1")"
}

kafka_kcat_args() { # kcat's -X options (administrator) on the secured cluster; none when plain
    local p
    [[ ${KAFKA_SECURE:-0} == 1 ]] || return 0
    for p in $(kafka_client_props admin | tr ',' ' '); do printf -- '-X\n%s\n' "$p"; done
}

kafka_java() { # kafka_java CLASS ARGS...: a short-lived Kafka tool with its own quiet log4j
    java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$WF4_KAFKA_JARS_DIR/*" -Dlog4j.configuration="file:$D/kafka/tools-log4j.properties" "$@"
}

# ---------------------------------------------------------------- TLS (secured stack)

# A CA made now (scripts/tls-make.sh), a certificate for the brokers (CN=wf4-broker: also
# their principal on the controller listener, which authenticates by certificate) and one for
# PostgreSQL; every server name is 127.0.0.1/localhost, so that clients verify names as in
# production. The principals' passwords beside them.
tls_make() {
    local t=$D/tls
    rm -rf "$t"
    "$WF4_ROOT/scripts/tls-make.sh" "$t" wf4-broker=IP:127.0.0.1,DNS:localhost \
        localhost=IP:127.0.0.1,DNS:localhost >>"$LOGS/tls.log" 2>&1 || part_failed tls "$LOGS/tls.log" "tls-make.sh failed"
    kafka_sasl_passwords "$t/kafka-%s.password"
    log "tls: CA and certificates made in $t"
}

# ---------------------------------------------------------------- configuration

kafka_voters() {
    local i out=''
    for ((i = 1; i <= $(kafka_nodes); i++)); do out+="${out:+,}$i@127.0.0.1:$(kafka_get KAFKA_CTRL_PORT "$i")"; done
    echo "$out"
}

# kafka_listeners_conf NODE: the listener lines, plain or secured.
kafka_listeners_conf() {
    local port ctrl
    port=$(kafka_get KAFKA_PORT "$1")
    ctrl=$(kafka_get KAFKA_CTRL_PORT "$1")
    if [[ ${KAFKA_SECURE:-0} != 1 ]]; then
        cat <<EOF
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctrl,FAULT://127.0.0.1:$(kafka_get KAFKA_FAULT_PORT "$1")
advertised.listeners=PLAINTEXT://127.0.0.1:$port,FAULT://127.0.0.1:$(kafka_get KAFKA_FAULT_ADV "$1")
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,FAULT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
EOF
        return 0
    fi
    kafka_sasl_server_conf "127.0.0.1:$port" "127.0.0.1:$port" "127.0.0.1:$ctrl" "$D/tls/wf4-broker.p12" \
        "$(cat "$D/tls/wf4-broker.p12.password")" "$D/tls/ca.pem" "$(kafka_password admin)"
}

# kafka_server_conf NODE: server.properties. A cluster of three or more keeps its internal
# topics (offsets, transactions) at replication 3 and min.insync.replicas 2, as production.
kafka_server_conf() {
    local i=$1 rf=1 misr=1
    (($(kafka_nodes) >= 3)) && rf=3 misr=2
    (($(kafka_nodes) == 2)) && rf=2
    cat <<EOF
# wf4 test stack (scripts/stack.sh): KRaft node $i of $(kafka_nodes), broker+controller
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$(kafka_voters)
controller.listener.names=CONTROLLER
$(kafka_listeners_conf "$i")
log.dirs=$(kafka_dir "$i")/data
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$misr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$misr
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=6000
EOF
}

kafka_log4j_conf() { # kafka_log4j_conf LOGFILE
    cat <<EOF
# Broker log: INFO to a file of the state dir (Kafka's own config writes into its install dir).
log4j.rootLogger=INFO, F
log4j.appender.F=org.apache.log4j.FileAppender
log4j.appender.F.File=$1
log4j.appender.F.Append=true
log4j.appender.F.layout=org.apache.log4j.PatternLayout
log4j.appender.F.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel\$=WARN
log4j.logger.org.apache.kafka.controller=INFO
log4j.logger.state.change.logger=WARN
EOF
}

# kafka_format NODE CLUSTER_ID: the node's storage, with the SCRAM credentials when secured.
kafka_format() {
    local i=$1 dir scram=()
    dir=$(kafka_dir "$i")
    [[ ${KAFKA_SECURE:-0} != 1 ]] || mapfile -t scram < <(kafka_sasl_format_args "$D/tls/kafka-%s.password")
    (cd "$dir" && kafka_java kafka.tools.StorageTool format -t "$2" -c "$dir/server.properties" "${scram[@]}") \
        >>"$(kafka_logfile "$i")" 2>&1
}

kafka_configure() {
    local i id n dir pids=() rc=0
    n=$(kafka_nodes)
    for ((i = 1; i <= n; i++)); do
        kafka_put KAFKA_PORT "$i" "$(free_port)"
        kafka_put KAFKA_CTRL_PORT "$i" "$(free_port)"
        # A second listener advertising a port nobody binds but a fault-injecting proxy
        # (tests/netfault_test.sh): clients reconnect to what the broker advertises.
        kafka_put KAFKA_FAULT_PORT "$i" "$(free_port)"
        kafka_put KAFKA_FAULT_ADV "$i" "$(free_port)"
    done
    rm -rf "$D"/kafka "$D"/kafka[0-9]*
    mkdir -p "$D/kafka"
    cat >"$D/kafka/tools-log4j.properties" <<'EOF'
# Kafka's command-line tools: warnings only, on stderr (never into the broker's log).
log4j.rootLogger=WARN, E
log4j.appender.E=org.apache.log4j.ConsoleAppender
log4j.appender.E.Target=System.err
log4j.appender.E.layout=org.apache.log4j.PatternLayout
log4j.appender.E.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
    id=$(cd "$D/kafka" && kafka_java kafka.tools.StorageTool random-uuid 2>>"$LOGS/kafka.log") ||
        part_failed kafka "$LOGS/kafka.log" "StorageTool random-uuid failed"
    for ((i = 1; i <= n; i++)); do
        dir=$(kafka_dir "$i")
        mkdir -p "$dir/data"
        : >"$(kafka_logfile "$i")"
        kafka_server_conf "$i" >"$dir/server.properties"
        kafka_log4j_conf "$(kafka_logfile "$i")" >"$dir/log4j.properties"
        kafka_format "$i" "$id" &
        pids+=($!)
    done
    for ((i = 1; i <= n; i++)); do
        wait "${pids[i - 1]}" || part_failed kafka "$(kafka_logfile "$i")" "StorageTool format of node $i failed"
    done
}

# ---------------------------------------------------------------- processes

kafka_stdout() { if (($1 == 1)); then echo "$LOGS/kafka.stdout"; else echo "$LOGS/kafka$1.stdout"; fi; }

kafka_launch() { # kafka_launch NODE
    local i=$1 dir out
    dir=$(kafka_dir "$i")
    out=$(kafka_stdout "$i")
    : >"$out"
    cd "$dir"
    # shellcheck disable=SC2086 # WF4_STACK_KAFKA_JAVA_OPTS: words on purpose
    setsid java -Xmx512m -Xms256m -XX:+UseG1GC -Djava.awt.headless=true ${WF4_STACK_KAFKA_JAVA_OPTS:-} \
        -Dlog4j.configuration="file:$dir/log4j.properties" -Dkafka.logs.dir="$LOGS" \
        -cp "$WF4_KAFKA_JARS_DIR/*" kafka.Kafka "$dir/server.properties" \
        </dev/null >>"$out" 2>&1 &
    kafka_put KAFKA_PID "$i" "$!"
    cd - >/dev/null
}

KAFKA_WAIT_NODE=1
kafka_answers() { # the node KAFKA_WAIT_NODE answers, and sees every node that runs
    local n i running=0 args=()
    mapfile -t args < <(kafka_kcat_args)
    n=$(kcat -b "127.0.0.1:$(kafka_get KAFKA_PORT "$KAFKA_WAIT_NODE")" "${args[@]}" -L -m 2 -J 2>/dev/null |
        jq '.brokers | length' 2>/dev/null) || return 1
    for ((i = 1; i <= $(kafka_nodes); i++)); do
        pid_alive "$(kafka_get KAFKA_PID "$i")" && running=$((running + 1))
    done
    [[ -n $n ]] && ((n >= running))
}

kafka_wait() { # kafka_wait NODE
    KAFKA_WAIT_NODE=$1
    wait_for kafka "$(kafka_logfile "$1")" "${WF4_STACK_KAFKA_WAIT_S:-60}" "$(kafka_get KAFKA_PID "$1")" kafka_answers
}

kafka_stop_node() { # kafka_stop_node NODE [TERM|KILL]
    local i=$1 sig=${2:-TERM} pid dir
    pid=$(kafka_get KAFKA_PID "$i")
    dir=$(kafka_dir "$i")
    [[ -n $pid ]] || return 0
    if [[ $sig == KILL ]] && pid_is_ours "$pid" "$dir"; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    stop_pid "kafka node $i" "$pid" "$dir" 30
}

kafka_stop() { # kafka_stop [TERM|KILL]: every node at once
    local i pids=() rc=0
    for ((i = 1; i <= $(kafka_nodes); i++)); do
        kafka_stop_node "$i" "${1:-TERM}" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || rc=1; done
    return $rc
}

# kafka_start_node NODE: launches a stopped node on its ports and data, waits for it.
kafka_start_node() {
    local i=$1 j
    if pid_is_ours "$(kafka_get KAFKA_PID "$i")" "$(kafka_dir "$i")"; then
        log "kafka: node $i runs already (pid $(kafka_get KAFKA_PID "$i"))"
        return 0
    fi
    # The old listener may linger a moment after a kill.
    for ((j = 0; j < 50; j++)); do
        port_listening "$(kafka_get KAFKA_PORT "$i")" || port_listening "$(kafka_get KAFKA_CTRL_PORT "$i")" ||
            port_listening "$(kafka_get KAFKA_FAULT_PORT "$i")" || break
        sleep 0.1
    done
    kafka_launch "$i"
}

kafka_version() {
    local i v
    for ((i = 0; i < 50; i++)); do
        v=$(sed -n 's/.*Kafka version: \([^ ]*\).*/\1/p' "$LOGS/kafka.log" | head -n1)
        [[ -n $v ]] && { echo "$v"; return 0; }
        sleep 0.1
    done
    echo unknown
}

# ---------------------------------------------------------------- topics and ACLs

kafka_topics() {
    local props=''
    if [[ ! -x $WF4_BIN/wf4ctl ]]; then
        log "kafka: WARNING $WF4_BIN/wf4ctl missing: topics of schemas/topics.json NOT created"
        return 0
    fi
    [[ ${KAFKA_SECURE:-0} != 1 ]] || props=$(kafka_client_props admin)
    WF4_KAFKA_PROPS=$props WF4_KAFKA_BROKERS=$(kafka_bootstrap) "$WF4_BIN/wf4ctl" topics >>"$LOGS/topics.log" 2>&1 ||
        part_failed kafka "$LOGS/topics.log" "wf4ctl topics failed"
    log "kafka: topics created with $WF4_BIN/wf4ctl topics"
}

# Each service may do what its place in the pipeline needs and nothing else: wf4ctl acls
# derives the ACLs from the catalogue (principals User:<service>, groups wf4-<service>).
kafka_acls() {
    WF4_KAFKA_PROPS=$(kafka_client_props admin) WF4_KAFKA_BROKERS=$(kafka_bootstrap) "$WF4_BIN/wf4ctl" acls \
        >>"$LOGS/acls.log" 2>&1 || part_failed kafka "$LOGS/acls.log" "wf4ctl acls failed"
    log "kafka: ACLs set by wf4ctl acls (claimer, scraper, committer; admin is a super user)"
}

kafka_all() { # kafka_all NAME: the state value NAME of every node (pids, ports)
    local i
    for ((i = 1; i <= $(kafka_nodes); i++)); do kafka_get "$1" "$i"; done
}

# ---------------------------------------------------------------- the secured stack's rest

# PostgreSQL over TLS only: the stack's certificate, and TCP connections without TLS refused.
pg_tls() {
    install -o postgres -g postgres -m 600 "$D/tls/localhost.pem" "$PG_DIR/server.pem"
    install -o postgres -g postgres -m 600 "$D/tls/localhost.key" "$PG_DIR/server.key"
    cat >>"$PG_DATA/postgresql.conf" <<EOF
ssl = on
ssl_cert_file = '$PG_DIR/server.pem'
ssl_key_file = '$PG_DIR/server.key'
EOF
    cat >"$PG_DATA/pg_hba.conf" <<EOF
local all all trust
hostnossl all all 127.0.0.1/32 reject
hostssl all postgres 127.0.0.1/32 trust
hostssl all all 127.0.0.1/32 scram-sha-256
EOF
}

pg_url_tls() { # the database URLs' TLS options on the secured stack
    [[ ${KAFKA_SECURE:-0} == 1 ]] || return 0
    echo "?sslmode=verify-full&sslrootcert=$D/tls/ca.pem"
}

secure_env() { # the env file's lines of the secured stack
    local u args
    printf 'export %s=%q\n' WF4_TLS_CA "$D/tls/ca.pem"
    printf 'export %s=%q\n' WF4_KAFKA_PROPS "$(kafka_client_props admin)"
    for u in claimer scraper committer; do
        printf 'export %s=%q\n' "WF4_KAFKA_PROPS_${u^^}" "$(kafka_client_props "$u")"
    done
    args=$(kafka_kcat_args | tr '\n' ' ')
    printf 'export %s=%q\n' WF4_KAFKA_KCAT "$args"
}
