#!/usr/bin/env bash
# Installs the pinned build tools worker-build needs, without letting it download anything.
# worker-build normally fetches wasm-bindgen, wasm-opt and esbuild from the internet at build
# time; that is not reproducible (and impossible offline), so we install each from a package
# registry at a pinned version and point worker-build at it (see scripts/build.sh).
# Idempotent: a tool already at the pinned version is not reinstalled (each cargo install
# costs minutes on a small machine).
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
# Must equal the wasm-bindgen version in Cargo.lock: the CLI refuses a schema mismatch.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' Cargo.lock)
[ -n "$WASM_BINDGEN_VERSION" ] || { echo "toolchain: wasm-bindgen not found in Cargo.lock" >&2; exit 1; }

export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

have() { # have BIN "version string"
  command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -qF "$2"
}

if ! have worker-build "$WORKER_BUILD_VERSION"; then
  cargo install --locked --version "$WORKER_BUILD_VERSION" worker-build
fi
if ! have wasm-bindgen "$WASM_BINDGEN_VERSION"; then
  # Its published lock file names a webpki-roots release the registry no longer serves, so a
  # --locked install can fail; fall back to resolving within the crate's semver ranges.
  cargo install --locked --version "$WASM_BINDGEN_VERSION" wasm-bindgen-cli ||
    cargo install --version "$WASM_BINDGEN_VERSION" wasm-bindgen-cli
fi
echo "toolchain: worker-build $WORKER_BUILD_VERSION, wasm-bindgen $WASM_BINDGEN_VERSION ready"
