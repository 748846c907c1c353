#!/usr/bin/env bash
# Runs the provider locally at http://127.0.0.1:8787 and the example API (examples/gallery-api)
# at http://127.0.0.1:8788, both in workerd (wrangler dev). They persist local KV in the same
# folder (.wrangler/state) and bind the provider's namespace under the same id, so the API sees
# the provider's revocations. Installs what is missing and generates .dev.vars once.
# For MCP clients on this machine (README, "Protecting an MCP server") the provider runs with
# DYNAMIC_REGISTRATION=open, CLIENT_METADATA_DOCUMENTS=loopback and RESOURCES naming the example API and its /mcp URL; these are
# development settings passed here, not in wrangler.toml (which is also what gets deployed).
# `bash scripts/dev.sh --provider-only` serves the provider alone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
node scripts/dev-vars.mjs
state="$PWD/.wrangler/state"
if [ "${1:-}" != "--provider-only" ]; then
  # Built here (wrangler's [build] would run it too) so a build error stops `make dev` early.
  sh scripts/build-gallery-api.sh >/dev/null
  (cd examples/gallery-api &&
    exec wrangler dev --local --ip 127.0.0.1 --port 8788 --persist-to "$state" --show-interactive-dev-session=false) &
  api_pid=$!
  trap 'kill "$api_pid" 2>/dev/null || true' EXIT INT TERM
  echo "[dev] gallery API at http://127.0.0.1:8788 (pid $api_pid); metadata: http://127.0.0.1:8788/.well-known/oauth-protected-resource"
  echo "[dev] MCP server at http://127.0.0.1:8788/mcp (metadata: http://127.0.0.1:8788/.well-known/oauth-protected-resource/mcp)"
fi
# wrangler runs the [build] command (scripts/build.sh) before serving.
wrangler dev --local --ip 127.0.0.1 --port 8787 --persist-to "$state" \
  --var DYNAMIC_REGISTRATION:open --var CLIENT_METADATA_DOCUMENTS:loopback \
  --var 'RESOURCES:["http://127.0.0.1:8788","http://127.0.0.1:8788/mcp"]'
