#!/usr/bin/env bash
# KRaft single node: write server.properties from the environment, format the storage on the
# first start (--ignore-formatted afterwards), then exec the broker (it gets the signals).
# KAFKA_SASL_SSL=1 (compose.secure.yaml): the client listener on SASL_SSL (SCRAM-SHA-512),
# ACLs, the controller on mutual TLS (scripts/lib/kafka-sasl.sh); the keystore and CA from
# KAFKA_TLS_DIR (the `certs` service's volume), the principals' passwords from the files
# KAFKA_SASL_PASSWORD_FILES names (printf pattern, one per user: Docker secrets), stored as
# SCRAM credentials when the storage is formatted.
set -euo pipefail
# shellcheck source=scripts/lib/kafka-sasl.sh
. /usr/local/lib/wf4/kafka-sasl.sh

LIBS=/opt/kafka/libs
DATA=/var/lib/kafka/data
CONF=/var/lib/kafka/server.properties
CP="$LIBS/*"
TLS=${KAFKA_TLS_DIR:-/tls}
PWFILES=${KAFKA_SASL_PASSWORD_FILES:-/run/secrets/kafka_%s_password}
umask 077 # server.properties holds the keystore's and the administrator's passwords

listeners() {
  if [ "${KAFKA_SASL_SSL:-0}" = 1 ]; then
    local adv=${KAFKA_ADVERTISED_LISTENERS:-SASL_SSL://kafka:9092}
    kafka_sasl_server_conf 0.0.0.0:9092 "${adv#*://}" 127.0.0.1:9093 "$TLS/wf4-broker.p12" \
      "$(cat "$TLS/wf4-broker.p12.password")" "$TLS/ca.pem" "$(cat "$(printf "$PWFILES" admin)")"
    return 0
  fi
  cat <<PROPS
listeners=PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=${KAFKA_ADVERTISED_LISTENERS:-PLAINTEXT://kafka:9092}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
PROPS
}

cat >"$CONF" <<PROPS
process.roles=broker,controller
node.id=${KAFKA_NODE_ID:-1}
controller.quorum.voters=${KAFKA_NODE_ID:-1}@127.0.0.1:9093
controller.listener.names=CONTROLLER
$(listeners)
log.dirs=$DATA
num.partitions=${KAFKA_NUM_PARTITIONS:-12}
offsets.topic.replication.factor=1
offsets.topic.num.partitions=${KAFKA_OFFSETS_PARTITIONS:-12}
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=${KAFKA_AUTO_CREATE_TOPICS:-false}
log.retention.hours=${KAFKA_LOG_RETENTION_HOURS:-168}
PROPS
# Any KAFKA_CFG_SOME_NAME=value adds some.name=value.
while IFS='=' read -r name value; do
  case $name in
    KAFKA_CFG_*) key=${name#KAFKA_CFG_}; key=${key,,}; echo "${key//_/.}=$value" >>"$CONF" ;;
  esac
done < <(env)

JAVA_TOOL=(java -Xmx128m -Dlog4j.configuration=file:/etc/kafka/tools-log4j.properties -cp "$CP")
if [ ! -f "$DATA/meta.properties" ]; then
  id=${KAFKA_CLUSTER_ID:-$("${JAVA_TOOL[@]}" kafka.tools.StorageTool random-uuid)}
  scram=()
  if [ "${KAFKA_SASL_SSL:-0}" = 1 ]; then
    mapfile -t scram < <(kafka_sasl_format_args "$PWFILES")
    [ "${#scram[@]}" -gt 0 ] || { echo "kafka-entrypoint: no SCRAM credentials" >&2; exit 1; }
  fi
  echo "kafka-entrypoint: formatting $DATA (cluster id $id${scram[*]:+, SCRAM-SHA-512 users ${KAFKA_SASL_USERS[*]}})" >&2
  "${JAVA_TOOL[@]}" kafka.tools.StorageTool format -t "$id" -c "$CONF" --ignore-formatted "${scram[@]}" >&2
fi

# shellcheck disable=SC2086
exec java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
  -Dlog4j.configuration=file:/etc/kafka/log4j.properties -Dkafka.logs.dir=/var/lib/kafka \
  ${KAFKA_JVM_OPTS:-} -cp "$CP" kafka.Kafka "$CONF"
