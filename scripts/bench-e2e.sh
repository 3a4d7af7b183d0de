#!/usr/bin/env bash
# `npm run bench:e2e [-- --json] [-- --quick]`: installs what is missing (scripts/ensure-deps.sh),
# builds user-service and auth-service, and runs scripts/bench/e2e/e2e.bench.ts with Kafka, Redis
# and PostgreSQL available (scripts/with-services.sh starts each one that does not answer and stops
# it at the end). The 3-broker cluster of the failover part is started (and stopped) by the bench.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
export PATH="$ROOT/node_modules/.bin:$PATH"
mkdir -p .cache
echo "[bench:e2e] building auth-service and user-service" >&2
nest build auth-service >.cache/bench-e2e-build.log 2>&1
nest build user-service >>.cache/bench-e2e-build.log 2>&1
KAFKAJS_NO_PARTITIONER_WARNING=1 exec bash scripts/with-services.sh \
  node --disable-warning=TimeoutNegativeWarning --import tsx scripts/bench/e2e/e2e.bench.ts "$@"
