#!/usr/bin/env bash
# Runs every test: formatting and lints, native unit tests, in-process flow tests, the
# end-to-end tests against the built Worker in workerd (they start it through Miniflare), and
# a browser test of the pages in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
echo "[test] cargo fmt --check"
cargo fmt --all -- --check
echo "[test] cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings
cargo clippy --target wasm32-unknown-unknown --quiet -- -D warnings
echo "[test] building the Worker"
sh scripts/build.sh >/dev/null
echo "[test] cargo test (unit, in-process, end-to-end in workerd)"
cargo test --all-targets
echo "[test] browser test of the pages (headless Chromium)"
node --test tests/browser/*.test.mjs
