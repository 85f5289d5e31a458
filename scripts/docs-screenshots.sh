#!/usr/bin/env bash
# npm run docs:screenshots: writes the README's screenshots (docs/*.png) by running the browser
# tests with DOCS_SCREENSHOTS=1. `npm test` never writes them, so a clean checkout stays clean
# after a test run. Japanese text needs a CJK font in the screenshots: on Debian,
# `apt-get install fonts-noto-cjk`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
DOCS_SCREENSHOTS=1 node --test --test-concurrency=1 tests/browser*.test.mjs
git status --short docs/
