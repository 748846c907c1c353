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
echo "[test] cargo clippy (workspace: provider, edge-verifier, examples/gallery-api)"
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo clippy --workspace --target wasm32-unknown-unknown --quiet -- -D warnings
echo "[test] building the Workers (provider, example API)"
sh scripts/build.sh >/dev/null
sh scripts/build-gallery-api.sh >/dev/null
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
echo "[test] cargo test (unit, in-process, end-to-end in workerd), Durable Object backend"
cargo test --workspace --all-targets 2>&1 | tee "$log/cargo.txt"
cargo test --workspace --doc 2>&1 | tee -a "$log/cargo.txt"
echo "[test] the in-process and end-to-end suites again on the KV backend (STATE_BACKEND=kv)"
flows=$(ls tests/*.rs | sed -n 's#tests/\(.*_inprocess\|e2e_.*\)\.rs#--test \1#p')
# shellcheck disable=SC2086
EDGE_STATE_BACKEND=kv cargo test $flows 2>&1 | tee "$log/cargo-kv.txt"
echo "[test] browser test of the pages (headless Chromium)"
node --test tests/browser/*.test.mjs 2>&1 | tee "$log/browser.txt"
echo "[test] development scripts (node)"
node --test tests/scripts/*.test.mjs 2>&1 | tee -a "$log/browser.txt"
echo "[test] the MCP TypeScript SDK against /mcp, both backends"
node --test tests/mcp/*.test.mjs 2>&1 | tee -a "$log/browser.txt"
EDGE_STATE_BACKEND=kv node --test tests/mcp/*.test.mjs 2>&1 | tee -a "$log/browser.txt"
echo "[test] relying-party libraries (openid-client, Auth.js) signing in, both backends"
node --test tests/rp/*.test.mjs 2>&1 | tee -a "$log/browser.txt"
EDGE_STATE_BACKEND=kv node --test tests/rp/*.test.mjs 2>&1 | tee -a "$log/browser.txt"

# One closing line for every runner together (set -o pipefail already failed on any failure).
passed=$(awk '/^test result:/ {p += $4} /^# pass / {p += $3} END {print p + 0}' "$log/cargo.txt" "$log/cargo-kv.txt" "$log/browser.txt")
failed=$(awk '/^test result:/ {f += $6} /^# fail / {f += $3} END {print f + 0}' "$log/cargo.txt" "$log/cargo-kv.txt" "$log/browser.txt")
echo "total: $passed passed, $failed failed"
