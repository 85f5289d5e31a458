#!/usr/bin/env bash
# Builds the two Workers with worker-build, entirely from locally installed, pinned tools
# (worker-build would otherwise download wasm-bindgen, wasm-opt and esbuild at build time):
#   build/pop/      the pop Worker: Dialpad's webhook and the hub (Cargo feature `pop`)
#   build/          the console Worker: API, pages, login guard, crons (feature `console`)
#   scripts/build.sh           release build (what is deployed and tested)
#   scripts/build.sh --dev     faster, unoptimised build for local iteration
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/toolchain.sh >/dev/null
[ -x node_modules/.bin/esbuild ] && [ -x node_modules/.bin/wasm-opt ] || {
  echo "build: run 'npm install' first (esbuild and binaryen's wasm-opt come from npm)" >&2
  exit 1
}
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
# WASM_OPT_OVERRIDE lets bench/tools/opt-size.sh measure a build without the wasm-opt pass.
export WASM_OPT_BIN="${WASM_OPT_OVERRIDE:-$PWD/node_modules/.bin/wasm-opt}"

mode=--release
[ "${1:-}" = "--dev" ] && mode=--dev
worker-build "$mode" --out-dir build/pop -- --no-default-features --features pop
# The console's build/ holds the pop's build/pop/: worker-build replaces only its own files.
worker-build "$mode" --out-dir build -- --no-default-features --features console

# Release: drop the wasm `name` section (function names) from what is deployed. worker-build
# always passes --debuginfo to wasm-opt, which keeps it; it is ~17 % of the module's raw size
# and ~12 % of its gzip size (docs/benchmarks.md, "Size"). The named module is kept beside it
# as build/index_bg.names.wasm (not imported by index.js, so neither uploaded nor loaded): the
# strip removes that one section and copies every other byte, so function N is the same in
# both and a stack trace's `wasm-function[N]` can be named with it (e.g. `twiggy paths`, or any
# wasm name-section reader). KEEP_WASM_NAMES=1 skips it.
for dir in build/pop build; do
  rm -f $dir/index_bg.names.wasm
  if [ "$mode" = --release ] && [ "${KEEP_WASM_NAMES:-}" != 1 ]; then
    mv $dir/index_bg.wasm $dir/index_bg.names.wasm
    node scripts/strip-wasm-names.mjs $dir/index_bg.names.wasm $dir/index_bg.wasm
  fi
  # (a dev build has no index_bg.names.wasm: ls reports it missing, which is not a failure)
  { ls -l $dir/index.js $dir/index_bg.wasm $dir/index_bg.names.wasm 2>/dev/null || true; } | awk '{print "build: " $NF " " $5 " bytes"}'
done
