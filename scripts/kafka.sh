#!/usr/bin/env bash
# Runs a real single-node Apache Kafka broker (KRaft) on 127.0.0.1:9092 without Docker.
# The broker jars come from Maven Central (scripts/kafka/pom.xml) into .cache/ (git-ignored).
#   scripts/kafka.sh fetch|start|stop|status|logs
# A 3-broker KRaft cluster (each node broker + controller, replication factor 3, min ISR 2) from the
# same jars, on other ports (KAFKA_CLUSTER_PORT, default 19092: brokers 19092-19094, controllers
# 19192-19194), its data in .cache/kafka-cluster (bench:e2e's broker failover):
#   scripts/kafka.sh cluster-start|cluster-stop|cluster-status|cluster-reset
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
CACHE_DIR="${KAFKA_CACHE_DIR:-$ROOT/.cache}"
LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
RUN_DIR="${KAFKA_RUN_DIR:-$ROOT/.cache/kafka-run}"
DATA_DIR="$RUN_DIR/data"
CONFIG="$RUN_DIR/server.properties"
LOG4J="$RUN_DIR/log4j2.properties"
LOG="$RUN_DIR/kafka.log"
PID_FILE="$RUN_DIR/kafka.pid"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"

log() { echo "[kafka] $*" >&2; }

fetch() {
  if [ -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" ] && [ -f "$LIBS/.complete" ]; then
    return 0
  fi
  command -v mvn >/dev/null || { log "Maven (mvn) is required to fetch the broker jars"; exit 1; }
  log "fetching Kafka $KAFKA_VERSION jars into $LIBS"
  local started=$SECONDS
  mkdir -p "$LIBS"
  mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS"
  touch "$LIBS/.complete"
  log "fetched in $((SECONDS - started))s"
}

is_running() {
  [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null
}

answers() {
  if command -v kcat >/dev/null; then
    kcat -b "127.0.0.1:$PORT" -L -m 2 >/dev/null 2>&1
  else
    grep -q "Kafka Server started" "$LOG" 2>/dev/null
  fi
}

write_config() {
  mkdir -p "$DATA_DIR"
  cat >"$CONFIG" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA_DIR
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
CONF
  cat >"$LOG4J" <<CONF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $LOG
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
CONF
}

start() {
  if is_running; then
    log "already running (pid $(cat "$PID_FILE"))"
    return 0
  fi
  fetch
  command -v java >/dev/null || { log "Java 17+ is required"; exit 1; }
  write_config
  local cp="$LIBS/*"
  local java_opts=(-Xms512m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$LOG4J" -cp "$cp")
  if [ ! -f "$DATA_DIR/meta.properties" ]; then
    local id
    id="$(java "${java_opts[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    java "${java_opts[@]}" kafka.tools.StorageTool format -t "$id" -c "$CONFIG" -g >>"$LOG" 2>&1
  fi
  local started=$SECONDS
  : >"$LOG"
  nohup java "${java_opts[@]}" kafka.Kafka "$CONFIG" >>"$RUN_DIR/kafka.out" 2>&1 &
  echo $! >"$PID_FILE"
  log "starting Kafka $KAFKA_VERSION (pid $!) on 127.0.0.1:$PORT"
  while ! answers; do
    if ! is_running; then
      log "broker exited during start-up; last log lines:"
      tail -n 40 "$LOG" "$RUN_DIR/kafka.out" >&2 || true
      rm -f "$PID_FILE"
      exit 1
    fi
    if [ $((SECONDS - started)) -ge "$START_TIMEOUT" ]; then
      log "broker did not answer within ${START_TIMEOUT}s; last log lines:"
      tail -n 40 "$LOG" "$RUN_DIR/kafka.out" >&2 || true
      stop
      exit 1
    fi
    sleep 0.5
  done
  log "ready in $((SECONDS - started))s"
}

stop() {
  if ! is_running; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  local pid
  pid="$(cat "$PID_FILE")"
  kill "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop in 30s, killing"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  log "stopped (pid $pid)"
}


# ---- 3-node cluster -------------------------------------------------------------------------
CLUSTER_DIR="${KAFKA_CLUSTER_DIR:-$ROOT/.cache/kafka-cluster}"
CLUSTER_PORT="${KAFKA_CLUSTER_PORT:-19092}"
CLUSTER_NODES=3

node_port() { echo $((CLUSTER_PORT + $1 - 1)); }
node_controller_port() { echo $((CLUSTER_PORT + 100 + $1 - 1)); }
node_dir() { echo "$CLUSTER_DIR/node-$1"; }
node_pid() { cat "$(node_dir "$1")/kafka.pid" 2>/dev/null; }
node_running() { local p; p="$(node_pid "$1")"; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

cluster_write_config() {
  local n=$1 dir voters=""
  dir="$(node_dir "$n")"
  mkdir -p "$dir/data"
  for i in $(seq 1 $CLUSTER_NODES); do
    voters="$voters${voters:+,}$i@127.0.0.1:$(node_controller_port "$i")"
  done
  cat >"$dir/server.properties" <<CONF
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(node_port "$n"),CONTROLLER://127.0.0.1:$(node_controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(node_port "$n")
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=3
offsets.topic.replication.factor=3
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
replica.lag.time.max.ms=10000
CONF
  sed -e "s#$LOG#$dir/kafka.log#" "$LOG4J" >"$dir/log4j2.properties"
}

cluster_java_opts() {
  echo "-Xms256m -Xmx384m -XX:+UseG1GC -Djava.awt.headless=true -Dlog4j2.configurationFile=$(node_dir "$1")/log4j2.properties"
}

# Starts node $1 (formatted on first start) without waiting.
cluster_node_start() {
  local n=$1 dir
  dir="$(node_dir "$n")"
  node_running "$n" && return 0
  cluster_write_config "$n"
  # shellcheck disable=SC2046
  if [ ! -f "$dir/data/meta.properties" ]; then
    java $(cluster_java_opts "$n") -cp "$LIBS/*" kafka.tools.StorageTool format \
      -t "$(cat "$CLUSTER_DIR/cluster.id")" -c "$dir/server.properties" -g >>"$dir/kafka.log" 2>&1
  fi
  # shellcheck disable=SC2046
  nohup java $(cluster_java_opts "$n") -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" >>"$dir/kafka.out" 2>&1 &
  echo $! >"$dir/kafka.pid"
  log "cluster node $n (pid $!) on 127.0.0.1:$(node_port "$n")"
}

cluster_start() {
  fetch
  command -v java >/dev/null || { log "Java 17+ is required"; exit 1; }
  mkdir -p "$CLUSTER_DIR"
  write_config # the single broker's log4j file is the template of the nodes'
  if [ ! -f "$CLUSTER_DIR/cluster.id" ]; then
    java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 >"$CLUSTER_DIR/cluster.id"
  fi
  for n in $(seq 1 $CLUSTER_NODES); do cluster_node_start "$n"; done
  local started=$SECONDS
  for n in $(seq 1 $CLUSTER_NODES); do
    until kcat -b "127.0.0.1:$(node_port "$n")" -L -m 2 2>/dev/null | grep -q "$CLUSTER_NODES brokers"; do
      if ! node_running "$n" || [ $((SECONDS - started)) -ge "$START_TIMEOUT" ]; then
        log "cluster node $n did not come up; last log lines:"
        tail -n 30 "$(node_dir "$n")/kafka.log" "$(node_dir "$n")/kafka.out" >&2 || true
        cluster_stop
        exit 1
      fi
      sleep 0.5
    done
  done
  log "cluster ready in $((SECONDS - started))s: 127.0.0.1:$(node_port 1),127.0.0.1:$(node_port 2),127.0.0.1:$(node_port 3)"
}

cluster_stop() {
  for n in $(seq 1 $CLUSTER_NODES); do
    local pid
    pid="$(node_pid "$n")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
      log "cluster node $n stopped (pid $pid)"
    fi
    rm -f "$(node_dir "$n")/kafka.pid"
  done
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status)
    if is_running; then echo "running (pid $(cat "$PID_FILE")) on 127.0.0.1:$PORT"; else echo "stopped"; exit 3; fi ;;
  logs) tail -n "${2:-100}" "$LOG" ;;
  reset) stop; rm -rf "$DATA_DIR" ;;
  cluster-start) cluster_start ;;
  cluster-node-start) cluster_node_start "${2:?node number}" ;;
  cluster-stop) cluster_stop ;;
  cluster-status)
    for n in $(seq 1 $CLUSTER_NODES); do
      if node_running "$n"; then echo "node $n running (pid $(node_pid "$n")) on 127.0.0.1:$(node_port "$n")"; else echo "node $n stopped"; fi
    done ;;
  cluster-reset) cluster_stop; rm -rf "$CLUSTER_DIR" ;;
  *) echo "usage: $0 fetch|start|stop|status|logs [n]|reset|cluster-start|cluster-node-start N|cluster-stop|cluster-status|cluster-reset" >&2; exit 2 ;;
esac
