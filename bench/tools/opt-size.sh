#!/usr/bin/env bash
# Optional, not part of `npm run bench`: what each release-profile lever buys in wasm size.
# Builds the committed tree (git archive HEAD) in a scratch directory once per variant, each
# with its own target dir, so neither the repository's build/ nor target/ is touched:
#   shipped   opt-level "z", lto = true, codegen-units = 1, wasm-opt -O, name section
#             stripped (Cargo.toml and scripts/build.sh as they are)
#   s         opt-level "s"
#   names     the wasm `name` section kept (KEEP_WASM_NAMES=1)
#   no-lto    lto = false
#   cgu16     codegen-units = 16
#   no-wasm-opt  worker-build's wasm-opt pass replaced by a no-op
# Each variant is a full release build (1-2 minutes on 2 cores). Prints one JSON line each.
#   bash bench/tools/opt-size.sh [scratch dir, default /tmp/cti-opt-size] [variant ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${1:-/tmp/cti-opt-size}
shift || true
VARIANTS=("${@:-shipped s names no-lto cgu16 no-wasm-opt}")
read -r -a VARIANTS <<<"${VARIANTS[*]}"
COMMIT=$(git rev-parse --short HEAD)
rm -rf "$WORK/tree"
mkdir -p "$WORK/tree"
git archive HEAD | tar -x -C "$WORK/tree"
ln -s "$ROOT/node_modules" "$WORK/tree/node_modules"
printf '#!/bin/sh\n# stand-in for wasm-opt: copy the input to the -o output unchanged\nin=""; out=""\nwhile [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift 2;; -*) shift;; *) in="$1"; shift;; esac; done\n[ -n "$out" ] && [ "$in" != "$out" ] && cp "$in" "$out"\nexit 0\n' >"$WORK/noop-wasm-opt"
chmod +x "$WORK/noop-wasm-opt"
for v in "${VARIANTS[@]}"; do
  envs=(CARGO_TARGET_DIR="$WORK/target-$v")
  case "$v" in
    shipped) ;;
    s) envs+=(CARGO_PROFILE_RELEASE_OPT_LEVEL=s) ;;
    names) envs+=(KEEP_WASM_NAMES=1) ;;
    no-lto) envs+=(CARGO_PROFILE_RELEASE_LTO=false) ;;
    cgu16) envs+=(CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16) ;;
    no-wasm-opt) envs+=(WASM_OPT_OVERRIDE="$WORK/noop-wasm-opt") ;;
    *) echo "unknown variant $v" >&2; exit 2 ;;
  esac
  rm -rf "$WORK/tree/build"
  ( cd "$WORK/tree" && env "${envs[@]}" nice -n 10 bash scripts/build.sh >"$WORK/build-$v.log" 2>&1 ) ||
    { echo "build $v failed: see $WORK/build-$v.log" >&2; exit 1; }
  rm -rf "$WORK/build-$v" && cp -r "$WORK/tree/build" "$WORK/build-$v"
  # Both modules: the pop Worker's (build/pop/, what a call's pop loads) and the console's.
  node -e '
    const fs = require("fs"), zlib = require("zlib");
    const size = (d) => { const w = fs.readFileSync(d + "/index_bg.wasm"); return { wasmBytes: w.length, wasmGzipBytes: zlib.gzipSync(w).length }; };
    console.log(JSON.stringify({ variant: process.argv[1], commit: process.argv[3], pop: size(process.argv[2] + "/pop"), console: size(process.argv[2]) }));
  ' "$v" "$WORK/build-$v" "$COMMIT" | tee "$WORK/size-$v.json"
done
