#!/usr/bin/env bash
# Builds the pop Worker of the committed tree (git archive HEAD) once per cut, each a patch in
# this folder applied to a scratch copy, into bench/cut-probe/build-<cut>/ (git-ignored; inside
# the project because workerd loads modules only from below its starting folder), with the
# console Worker copied from build/. The cuts take work out of the webhook's path to measure
# what it costs (docs/benchmarks.md, "Where a webhook's time goes above the floor"); they are never shipped:
#   no-storage  the hub sends the parsed event to the admin room and answers, before any
#               statement, outbox write or log line: the Worker's and the hub's plumbing only
#   no-d1       the whole pipeline, but the outbox's drain sends nothing to D1 (the copy to the
#               system of record, which locally runs in the same workerd)
# One scratch target dir for all cuts, so only the crate itself is rebuilt (~1.5 min each).
#   bash bench/cut-probe/build.sh [cut ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${CUT_PROBE_WORK:-/tmp/cti-cut-probe}
CUTS=("${@:-no-storage no-d1}")
read -r -a CUTS <<<"${CUTS[*]}"
[ -f build/index.js ] && [ -f build/index_bg.wasm ] || { echo "cut-probe: run npm run build first" >&2; exit 1; }
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/toolchain.sh >/dev/null
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
export CARGO_TARGET_DIR="$WORK/target"
for cut in "${CUTS[@]}"; do
  [ -f "bench/cut-probe/$cut.patch" ] || { echo "cut-probe: no bench/cut-probe/$cut.patch" >&2; exit 2; }
  rm -rf "$WORK/tree"
  mkdir -p "$WORK/tree"
  git archive HEAD | tar -x -C "$WORK/tree"
  patch -s -d "$WORK/tree" -p1 <"bench/cut-probe/$cut.patch"
  out="$ROOT/bench/cut-probe/build-$cut"
  rm -rf "$out"
  mkdir -p "$out"
  cp build/index.js build/index_bg.wasm "$out/"
  (cd "$WORK/tree" && worker-build --release --out-dir "$out/pop" -- --no-default-features --features pop) \
    >"$WORK/build-$cut.log" 2>&1 || { echo "cut-probe: build $cut failed, see $WORK/build-$cut.log" >&2; exit 1; }
  echo "cut-probe: $cut built into bench/cut-probe/build-$cut"
done
