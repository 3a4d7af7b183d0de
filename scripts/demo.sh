#!/usr/bin/env bash
# `npm run demo [-- --json]`: builds user-service and auth-service, makes sure a Kafka broker
# answers on 127.0.0.1:${KAFKA_PORT:-9092} (starts one with scripts/kafka.sh when none does, and
# stops it at the end), then runs scripts/demo/demo.ts: a DNS server (dnsmasq) answering
# auth.demo.test with the addresses of 3 auth-service processes (127.0.0.2…4, one port),
# user-service reaching them by that name, a few thousand CDC events with ~20% redelivered copies,
# HTTP load while an auth process is SIGKILLed and restarted, a fourth joins DNS and a second
# leaves it before its SIGTERM, and a report. Exits non-zero when an invariant fails.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
export PATH="$ROOT/node_modules/.bin:$PATH"
mkdir -p .cache

KAFKA_PORT="${KAFKA_PORT:-9092}"
export KAFKA_PORT
started_kafka=0
kafka_env=()
if [ "$KAFKA_PORT" != 9092 ]; then
  # a broker of its own on another port keeps its own run directory and controller port
  kafka_env=(KAFKA_RUN_DIR="$ROOT/.cache/kafka-run-$KAFKA_PORT" KAFKA_CONTROLLER_PORT="$((KAFKA_PORT + 1))")
fi
cleanup() {
  if [ "$started_kafka" = 1 ]; then env "${kafka_env[@]}" bash scripts/kafka.sh stop; fi
}
trap cleanup EXIT

if ! kcat -b "127.0.0.1:$KAFKA_PORT" -L -m 2 >/dev/null 2>&1; then
  echo "[demo] no broker answers on 127.0.0.1:$KAFKA_PORT: starting one" >&2
  env "${kafka_env[@]}" bash scripts/kafka.sh start
  started_kafka=1
fi

echo "[demo] building auth-service and user-service" >&2
nest build auth-service >.cache/demo-build.log 2>&1 || [ -f dist/apps/auth-service/apps/auth-service/src/main.js ]
nest build user-service >>.cache/demo-build.log 2>&1 || [ -f dist/apps/user-service/apps/user-service/src/main.js ]

KAFKAJS_NO_PARTITIONER_WARNING=1 node --disable-warning=TimeoutNegativeWarning --import tsx scripts/demo/demo.ts "$@"
