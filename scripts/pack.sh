#!/usr/bin/env bash
# Builds both libraries (CommonJS + .d.ts, libs/<lib>/tsconfig.build.json → libs/<lib>/dist) and
# writes their npm tarballs to dist/packages/ — exactly one .tgz per library, nothing else.
#
# libs/common (@nest-resilience/common, private, never published) is built first; each library is
# compiled against its declarations and gets a compiled copy in dist/vendor/common, to which
# scripts/vendor-common.mjs points the library's imports of it (see libs/common/README.md).
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
TMP="$(mktemp -d)"

cleanup() {
  for lib in "${LIBS[@]}" common; do rm -rf "$ROOT/libs/$lib/dist"; done
  rm -rf "$TMP"
}
trap cleanup EXIT

rm -rf "$OUT"
mkdir -p "$OUT"
rm -rf libs/common/dist
tsc -p libs/common/tsconfig.build.json
for lib in "${LIBS[@]}"; do
  rm -rf "libs/$lib/dist" # a clean build: files deleted from src/ must not linger in the tarball
  # The library's build config, with @nest-resilience/common resolved to its built declarations.
  cat >"$TMP/tsconfig.$lib.json" <<JSON
{
  "extends": "$ROOT/libs/$lib/tsconfig.build.json",
  "compilerOptions": {
    "typeRoots": ["$ROOT/node_modules/@types"],
    "paths": { "@nest-resilience/common": ["$ROOT/libs/common/dist/index.d.ts"] }
  }
}
JSON
  tsc -p "$TMP/tsconfig.$lib.json"
  node scripts/vendor-common.mjs "libs/$lib"
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
