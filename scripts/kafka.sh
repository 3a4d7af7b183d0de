#!/usr/bin/env bash
# Runs a real single-node Apache Kafka broker (KRaft) on 127.0.0.1:9092 without Docker.
# The broker jars come from Maven Central (scripts/kafka/pom.xml) into .cache/ (git-ignored).
#   scripts/kafka.sh fetch|start|stop|status|logs
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

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status)
    if is_running; then echo "running (pid $(cat "$PID_FILE")) on 127.0.0.1:$PORT"; else echo "stopped"; exit 3; fi ;;
  logs) tail -n "${2:-100}" "$LOG" ;;
  reset) stop; rm -rf "$DATA_DIR" ;;
  *) echo "usage: $0 fetch|start|stop|status|logs [n]|reset" >&2; exit 2 ;;
esac
