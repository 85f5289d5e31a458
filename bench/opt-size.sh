#!/usr/bin/env bash
# Optional, not part of `npm run bench`: wasm size of the release build with opt-level "s"
# (Cargo.toml) and "z", built from the committed tree (git archive HEAD) in a scratch
# directory with its own target dirs, so neither the repository's build/ nor target/ is touched.
# The "s" build starts from a copy of target/wasm32-unknown-unknown (cached dependencies);
# the "z" build recompiles everything (about 2 minutes on 2 cores).
# Each build is kept in <scratch>/build-s and <scratch>/build-z; `node bench/run.mjs
# --build=<scratch>/build-s` benchmarks the committed tree without touching build/.
#   bash bench/opt-size.sh [scratch dir, default /tmp/cti-opt-size]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${1:-/tmp/cti-opt-size}
COMMIT=$(git rev-parse --short HEAD)
rm -rf "$WORK/tree"
mkdir -p "$WORK/tree"
git archive HEAD | tar -x -C "$WORK/tree"
ln -s "$ROOT/node_modules" "$WORK/tree/node_modules"
if [ ! -d "$WORK/target-s" ] && [ -d target/wasm32-unknown-unknown ]; then
  mkdir -p "$WORK/target-s" && cp -r target/wasm32-unknown-unknown "$WORK/target-s/"
fi
for opt in s z; do
  rm -rf "$WORK/tree/build"
  ( cd "$WORK/tree" && CARGO_TARGET_DIR="$WORK/target-$opt" CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt \
      nice -n 10 bash scripts/build.sh >"$WORK/build-$opt.log" 2>&1 ) || { echo "build $opt failed: see $WORK/build-$opt.log" >&2; exit 1; }
  rm -rf "$WORK/build-$opt" && cp -r "$WORK/tree/build" "$WORK/build-$opt"
  node -e '
    const fs = require("fs"), zlib = require("zlib");
    const w = fs.readFileSync(process.argv[2] + "/index_bg.wasm");
    console.log(JSON.stringify({ opt: process.argv[1], commit: process.argv[3], wasmBytes: w.length, wasmGzipBytes: zlib.gzipSync(w).length }));
  ' "$opt" "$WORK/build-$opt" "$COMMIT" | tee "$WORK/size-$opt.json"
done
