#!/usr/bin/env bash
# npm test: everything CI checks. Checks the JavaScript (npm run check: `// @ts-check` in every
# module, Biome's linter and formatter, tsc), that vendor/serde_core is the published crate with
# only its documented patch (scripts/check-vendor.sh), builds the release Workers (pop and console),
# checks formatting and lints (the crate as a whole and each Worker's half), runs the native
# unit tests, then the integration and browser tests against the built Workers. Fails at the
# end when the run left the git tree different from how it found it (tests write scratch files
# to os.tmpdir()).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# The browser tests drive Debian's Chromium (playwright-core, no browser download). On a fresh
# machine it is installed here when running as root (as .ci/run does); otherwise stop now with
# the one command to run, rather than after the build with a failing browser test.
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && [ -z "${CHROMIUM_PATH:-}" ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
  else
    echo "npm test needs Chromium at $CHROMIUM. Install it with:" >&2
    echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium" >&2
    exit 1
  fi
fi

# The git tree as found (scripts/tree-state.sh): compared again at the end.
tree_before="$(bash scripts/tree-state.sh)"

npm run --silent check
bash scripts/check-vendor.sh
bash scripts/build.sh
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
for half in pop console; do
  cargo clippy --quiet --no-default-features --features "$half" -- -D warnings
done
cargo test --quiet
node --test --test-concurrency=1 tests/*.test.mjs

tree_after="$(bash scripts/tree-state.sh)"
if [ "$tree_before" != "$tree_after" ]; then
  echo "npm test left the git tree changed (tests must write scratch files under os.tmpdir()):" >&2
  diff <(echo "$tree_before") <(echo "$tree_after") >&2 || true
  exit 1
fi
