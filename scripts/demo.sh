#!/usr/bin/env bash
# The main job: builds and starts the sample user-service against a real Kafka broker, produces
# user CDC events with kcat (an independent client) and shows the service consuming them.
# Installs what is missing and starts Kafka when it is not running; stops what it started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
export PATH="$ROOT/node_modules/.bin:$PATH"

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
TOPIC="${USER_EVENTS_TOPIC:-user-events-$run_id}" # a fresh topic: the demo shows only its own events
echo "[demo] producing 3 user events with kcat (one is a redelivered copy)"
produce() { # <event id> <json value>
  printf '%s\n' "$2" | kcat -b 127.0.0.1:9092 -P -t "$TOPIC" -H "x-event-id=$1"
}
produce "evt-$run_id-a" "{\"id\":\"u-$run_id-1\",\"op\":\"c\",\"name\":\"Ada\"}"
produce "evt-$run_id-b" "{\"id\":\"u-$run_id-2\",\"op\":\"u\",\"name\":\"Grace\"}"
produce "evt-$run_id-a" "{\"id\":\"u-$run_id-1\",\"op\":\"c\",\"name\":\"Ada\"}" # CDC redelivery

echo "[demo] starting user-service (log: $LOG)"
HTTP_PORT="${HTTP_PORT:-3000}"
USER_EVENTS_TOPIC="$TOPIC" KAFKA_GROUP_ID="user-service-demo-$run_id" HTTP_PORT="$HTTP_PORT" KAFKAJS_NO_PARTITIONER_WARNING=1 \
  node --disable-warning=TimeoutNegativeWarning dist/apps/user-service/apps/user-service/src/main.js >"$LOG" 2>&1 &
app_pid=$!

deadline=$((SECONDS + 60))
skipped() {
  curl -s "http://127.0.0.1:$HTTP_PORT/metrics" 2>/dev/null |
    awk -v t="$TOPIC" '$1 ~ /^kafka_event_deduplicated_total/ && index($1, "topic=\""t"\"") { s += $2 } END { print s + 0 }'
}
while [ "$(grep -c "u-$run_id-" "$LOG" || true)" -lt 2 ] || [ "$(skipped)" -lt 1 ]; do
  if ! kill -0 "$app_pid" 2>/dev/null; then echo "[demo] user-service exited:" >&2; tail -n 30 "$LOG" >&2; exit 1; fi
  if [ $SECONDS -ge $deadline ]; then echo "[demo] timed out waiting for the events:" >&2; tail -n 30 "$LOG" >&2; exit 1; fi
  sleep 0.5
done
echo "[demo] user-service consumed (the redelivered copy of evt-$run_id-a was skipped):"
grep "u-$run_id-" "$LOG" | sed 's/\x1b\[[0-9;]*m//g'
echo "[demo] GET /metrics:"
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | grep -E '^kafka_(events_processed|event_deduplicated)_total' | grep "topic=\"$TOPIC\""
echo "[demo] done"
