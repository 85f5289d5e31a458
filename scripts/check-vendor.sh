#!/usr/bin/env bash
# Proves vendor/serde_core is serde_core 1.0.229 as published with only the two lines that
# vendor/serde_core/PATCH.md describes. The published copy comes from cargo's registry
# (`cargo fetch` downloads it, checked against its crates.io checksum).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
version=1.0.229
sum=67dca2c9c51e58a4791a4b1ed58308b39c64224d349a935ab5039aa360942a48
home="${CARGO_HOME:-$HOME/.cargo}"
crate=$(ls -d "$home"/registry/cache/*/serde_core-$version.crate 2>/dev/null | head -1 || true)
if [ -z "$crate" ]; then
  # The patch hides serde_core from this lock file; a scratch crate asks for the published one.
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/src" && : >"$tmp/src/lib.rs"
  printf '[package]\nname = "fetch-serde-core"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nserde_core = "=%s"\n' "$version" >"$tmp/Cargo.toml"
  (cd "$tmp" && cargo fetch --quiet)
  crate=$(ls -d "$home"/registry/cache/*/serde_core-$version.crate | head -1)
fi
echo "$sum  $crate" | sha256sum --check --quiet
published=$(mktemp -d)
tar -xzf "$crate" -C "$published"
diff -r --exclude=Cargo.lock --exclude=.cargo_vcs_info.json --exclude=.cargo-ok --exclude=PATCH.md \
  "$published/serde_core-$version" vendor/serde_core >"$published/diff" || true
rm -rf "$published/serde_core-$version"
expected='408c408
<             Float(f) => write!(formatter, "floating point `{}`", WithDecimalPoint(f)),
---
>             Float(_) => formatter.write_str("floating point"),
99c99
< #![deny(missing_docs, unused_imports)]
---
> #![allow(missing_docs, unused_imports, dead_code)]'
got=$(grep -v '^diff -r' "$published/diff" || true)
rm -rf "$published"
if [ "$got" != "$expected" ]; then
  echo "check-vendor: vendor/serde_core differs from serde_core $version beyond PATCH.md:" >&2
  echo "$got" >&2
  exit 1
fi
# And the build uses it: after a serde update that asks for another serde_core, cargo would
# only warn that the patch is unused and build the published crate.
if ! awk '/^name = "serde_core"$/ {found=1; next} found && /^\[\[package\]\]/ {exit} found && /^source = / {bad=1} END {exit !(found && !bad)}' Cargo.lock; then
  echo "check-vendor: Cargo.lock's serde_core is not the vendored copy ([patch.crates-io] unused?)" >&2
  exit 1
fi
echo "check-vendor: vendor/serde_core is serde_core $version with PATCH.md's two lines, and the build uses it"
