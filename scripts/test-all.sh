#!/usr/bin/env bash
# Every test: lint + typecheck + unit + e2e (real Kafka, real Redis, real gRPC servers).
# Installs what is missing and starts the services it needs, then stops what it started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
export PATH="$ROOT/node_modules/.bin:$PATH"
npm run lint
npm run typecheck
npm run test:unit
npm run test:e2e
