#!/usr/bin/env bash
# Builds baseline R (bench/baselines/r-rust-floor) the way scripts/build.sh builds the product:
# the same pinned worker-build, wasm-bindgen, esbuild and wasm-opt, release profile, into its
# build/ (git-ignored). Its own target directory, so the product's build is left alone.
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../../.. && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
bash "$root/scripts/toolchain.sh" >/dev/null
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN="$root/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$root/node_modules/.bin/wasm-opt"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/rust-floor}"
worker-build --release --out-dir build
