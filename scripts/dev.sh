#!/usr/bin/env bash
# Runs the provider locally at http://127.0.0.1:8787 in workerd (wrangler dev), with KV
# persisted under .wrangler/state. Installs what is missing and generates .dev.vars once.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
node scripts/dev-vars.mjs
# wrangler runs the [build] command (scripts/build.sh) before serving.
exec wrangler dev --local --ip 127.0.0.1 --port 8787 --persist-to .wrangler/state
