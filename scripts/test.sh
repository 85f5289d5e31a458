#!/usr/bin/env bash
# npm test: everything CI checks. Builds the release Worker, checks formatting and lints, runs
# the native unit tests, then the integration and browser tests against the built Worker.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/build.sh
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test --quiet
node --test --test-concurrency=1 tests/*.test.mjs
