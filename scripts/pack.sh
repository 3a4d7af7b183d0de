#!/usr/bin/env bash
# Builds both libraries (CommonJS + .d.ts, libs/<lib>/tsconfig.build.json → libs/<lib>/dist) and
# writes their npm tarballs to dist/packages/ — exactly one .tgz per library, nothing else.
#
# libs/<lib>/dist is deleted again afterwards: the workspace links node_modules/@nest-resilience/*
# to libs/*, and while a built dist/ exists there, `nest build` (which prefers an installed package
# over tsconfig `paths`) and Node would load that possibly stale build instead of the sources.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH"
OUT="$ROOT/dist/packages"
LIBS=(kafka-dedup grpc-pool)

cleanup() { for lib in "${LIBS[@]}"; do rm -rf "$ROOT/libs/$lib/dist"; done; }
trap cleanup EXIT

rm -rf "$OUT"
mkdir -p "$OUT"
for lib in "${LIBS[@]}"; do
  rm -rf "libs/$lib/dist" # a clean build: files deleted from src/ must not linger in the tarball
  tsc -p "libs/$lib/tsconfig.build.json"
  npm pack --workspace "libs/$lib" --pack-destination "$OUT" --silent >/dev/null
done

count=$(find "$OUT" -maxdepth 1 -name '*.tgz' | wc -l)
if [ "$count" != "${#LIBS[@]}" ]; then
  echo "[pack] expected ${#LIBS[@]} tarballs in $OUT, found $count" >&2
  exit 1
fi
for tgz in "$OUT"/*.tgz; do
  echo "[pack] $(basename "$tgz"): $(du -k "$tgz" | cut -f1) kB packed, $(tar tzf "$tgz" | wc -l) files"
done
