#!/usr/bin/env bash
# The main job: builds and starts the sample user-service against a real Kafka broker, produces
# user CDC events with kcat (an independent client) and shows the service consuming them.
# Installs what is missing and starts Kafka when it is not running; stops what it started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
export PATH="$ROOT/node_modules/.bin:$PATH"

TOPIC="${USER_EVENTS_TOPIC:-user-events}"
LOG="$ROOT/.cache/demo-user-service.log"
app_pid=""
started_kafka=0
cleanup() {
  if [ -n "$app_pid" ]; then kill "$app_pid" 2>/dev/null || true; wait "$app_pid" 2>/dev/null || true; fi
  if [ "$started_kafka" = 1 ]; then bash scripts/kafka.sh stop; fi
}
trap cleanup EXIT

if ! bash scripts/kafka.sh status >/dev/null 2>&1; then
  bash scripts/kafka.sh start
  started_kafka=1
fi

echo "[demo] building user-service"
npx nest build user-service >/dev/null

run_id="$(date +%s)"
echo "[demo] producing 3 user events with kcat (one is a redelivered copy)"
printf '{"id":"u-%s-1","op":"c","name":"Ada"}\n{"id":"u-%s-2","op":"u","name":"Grace"}\n' "$run_id" "$run_id" |
  kcat -b 127.0.0.1:9092 -P -t "$TOPIC" -H "event-id=evt-$run_id-a"
printf '{"id":"u-%s-1","op":"c","name":"Ada"}\n' "$run_id" |
  kcat -b 127.0.0.1:9092 -P -t "$TOPIC" -H "event-id=evt-$run_id-a"

echo "[demo] starting user-service (log: $LOG)"
USER_EVENTS_TOPIC="$TOPIC" KAFKA_GROUP_ID="user-service-demo-$run_id" KAFKAJS_NO_PARTITIONER_WARNING=1 \
  node --disable-warning=TimeoutNegativeWarning dist/apps/user-service/apps/user-service/src/main.js >"$LOG" 2>&1 &
app_pid=$!

deadline=$((SECONDS + 60))
while [ "$(grep -c "u-$run_id-" "$LOG" || true)" -lt 3 ]; do
  if ! kill -0 "$app_pid" 2>/dev/null; then echo "[demo] user-service exited:" >&2; tail -n 30 "$LOG" >&2; exit 1; fi
  if [ $SECONDS -ge $deadline ]; then echo "[demo] timed out waiting for the events:" >&2; tail -n 30 "$LOG" >&2; exit 1; fi
  sleep 0.5
done
echo "[demo] user-service consumed:"
grep "u-$run_id-" "$LOG" | sed 's/\x1b\[[0-9;]*m//g'
echo "[demo] done"
