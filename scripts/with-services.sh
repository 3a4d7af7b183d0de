#!/usr/bin/env bash
# Runs a command with Kafka and Redis available: starts each one that is not already answering,
# and stops exactly what it started (by pid) when the command ends, even when it fails.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REDIS_PORT="${REDIS_PORT:-6379}"
started_kafka=0
redis_pid=""

cleanup() {
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; echo "[services] stopped redis (pid $redis_pid)" >&2; fi
  if [ "$started_kafka" = 1 ]; then bash "$ROOT/scripts/kafka.sh" stop; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

KAFKA_PORT="${KAFKA_PORT:-9092}"
export KAFKA_BROKER="127.0.0.1:$KAFKA_PORT"
# A broker that already answers on the port (ours or the developer's) is used as it is.
if ! kcat -b "$KAFKA_BROKER" -L -m 2 >/dev/null 2>&1; then
  bash "$ROOT/scripts/kafka.sh" start || exit 1
  started_kafka=1
fi

if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
  command -v redis-server >/dev/null || { echo "[services] redis-server is not installed" >&2; exit 1; }
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --daemonize no \
    --logfile "$ROOT/.cache/redis-test.log" &
  redis_pid=$!
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
  echo "[services] started redis (pid $redis_pid)" >&2
fi

"$@"
