#!/usr/bin/env bash
# Installs everything the build, the local provider and the tests need, skipping what is
# already present: the wasm32 target, worker-build and wasm-bindgen-cli (crates.io), Chromium
# (Debian), and from npm Node 22, wrangler, miniflare, wasm-opt and playwright-core. Safe to
# run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
# Must equal the `wasm-bindgen = "=X.Y.Z"` pin in Cargo.toml.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)

say() { printf '[setup] %s\n' "$*"; }

export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup first" >&2; exit 1; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

installed() { cargo install --list | grep -q "^$1 v$2:"; }
if ! installed worker-build "$WORKER_BUILD_VERSION"; then
  say "installing worker-build $WORKER_BUILD_VERSION (about 5 minutes on 2 cores)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION"
fi
if ! installed wasm-bindgen-cli "$WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes on 2 cores)"
  # Not --locked: its lockfile does not build with current toolchains.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# Chromium for the browser test of the pages (Debian's package; Playwright drives it).
if ! command -v chromium >/dev/null; then
  say "installing chromium (Debian package) for the browser tests"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

# npm packages, reinstalled only when package.json or the lockfile changed.
stamp=node_modules/.edge-oauth-installed
if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  say "installing npm packages (Node 22, wrangler, miniflare, binaryen)"
  # `npm ci` refuses this lockfile (it lacks other platforms' optional workerd builds); install honours it.
  npm install --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
