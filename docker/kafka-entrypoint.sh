#!/usr/bin/env bash
# KRaft single node: write server.properties from the environment, format the storage on the
# first start (--ignore-formatted afterwards), then exec the broker (it gets the signals).
set -euo pipefail

LIBS=/opt/kafka/libs
DATA=/var/lib/kafka/data
CONF=/var/lib/kafka/server.properties
CP="$LIBS/*"

cat >"$CONF" <<PROPS
process.roles=broker,controller
node.id=${KAFKA_NODE_ID:-1}
controller.quorum.voters=${KAFKA_NODE_ID:-1}@127.0.0.1:9093
listeners=PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=${KAFKA_ADVERTISED_LISTENERS:-PLAINTEXT://kafka:9092}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
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
  echo "kafka-entrypoint: formatting $DATA (cluster id $id)" >&2
  "${JAVA_TOOL[@]}" kafka.tools.StorageTool format -t "$id" -c "$CONF" --ignore-formatted >&2
fi

# shellcheck disable=SC2086
exec java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
  -Dlog4j.configuration=file:/etc/kafka/log4j.properties -Dkafka.logs.dir=/var/lib/kafka \
  ${KAFKA_JVM_OPTS:-} -cp "$CP" kafka.Kafka "$CONF"
