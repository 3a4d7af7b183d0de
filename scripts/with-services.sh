#!/usr/bin/env bash
# Runs a command with Kafka, Redis and PostgreSQL available: starts each one that is not already answering,
# and stops exactly what it started (by pid) when the command ends, even when it fails.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REDIS_PORT="${REDIS_PORT:-6379}"
started_kafka=0
redis_pid=""
PG_PORT="${PG_PORT:-5432}"
pg_pid=""

cleanup() {
  if [ -n "$pg_pid" ]; then
    kill -INT "$pg_pid" 2>/dev/null # fast shutdown of the cluster we started, by its postmaster pid
    for _ in $(seq 1 100); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
    echo "[services] stopped postgresql (pid $pg_pid)" >&2
  fi
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

# PostgreSQL (the kafka-dedup inbox store suites): a private cluster in .cache when none answers,
# on 127.0.0.1 with trust auth. initdb refuses to run as root: then it runs as the postgres user.
if ! pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; then
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -x "$pg_bin/initdb" ] || { echo "[services] PostgreSQL is not installed (Debian package postgresql)" >&2; exit 1; }
  pg_data="$ROOT/.cache/postgres-test"
  as_pg=()
  if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi
  if [ ! -f "$pg_data/PG_VERSION" ]; then
    mkdir -p "$pg_data"
    [ "$(id -u)" = 0 ] && chown postgres: "$pg_data"
    "${as_pg[@]}" "$pg_bin/initdb" -D "$pg_data" -A trust -U postgres -E UTF8 --no-sync >/dev/null || exit 1
  fi
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w -t 30 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pg_data -c fsync=off" start >/dev/null || exit 1
  pg_pid="$(head -n 1 "$pg_data/postmaster.pid")"
  echo "[services] started postgresql (pid $pg_pid)" >&2
fi

"$@"
