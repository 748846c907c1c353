#!/usr/bin/env bash
# `make bench`: prints performance figures (bundle size, CPU per request inside workerd,
# sign/verify/KDF cost, the example API's bundle and token-verification CPU, then the flow cost:
# CPU-ms and storage operations per step for both state backends, and the peer comparison when
# ../shared/peer-bench exists), then complete flows under injected storage faults
# (scripts/bench-faults.mjs: 503s, 500s, flows that had to start over). Installs what is missing (setup.sh), rebuilds either Worker when
# its build/ is missing or older than the sources, then runs scripts/bench.mjs and
# scripts/bench-flow.mjs on 127.0.0.1 (`--gallery-only`: just the example API; `--flow-only`:
# just the flow cost). Extra arguments go to bench.mjs, e.g. `bash scripts/bench.sh --n 300
# --algs ES256`; with `--flow-only`, to bench-flow.mjs (`--flows 60 --no-peer`).
# Method and reference figures: docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
. scripts/env.sh

stale=""
if [ ! -f build/index_bg.wasm ] || [ ! -f build/index.js ]; then
  stale="missing"
elif [ -n "$(find src Cargo.toml Cargo.lock -newer build/index_bg.wasm -print -quit 2>/dev/null)" ]; then
  stale="older than the sources"
fi
if [ -n "$stale" ]; then
  echo "[bench] build/ is $stale: building the Worker"
  sh scripts/build.sh
fi
g=examples/gallery-api
if [ ! -f $g/build/index_bg.wasm ] || [ -n "$(find $g/src $g/Cargo.toml crates/edge-verifier/src Cargo.lock -newer $g/build/index_bg.wasm -print -quit 2>/dev/null)" ]; then
  echo "[bench] $g/build/ is missing or older than the sources: building the example API"
  sh scripts/build-gallery-api.sh
fi

if [ "${1:-}" = "--flow-only" ]; then
  shift
  exec node scripts/bench-flow.mjs "$@"
fi
node scripts/bench.mjs "$@"
case " $* " in
  *" --gallery-only "*) ;;
  *)
    echo; node scripts/bench-flow.mjs
    # The same returning-user flow with OpenID Connect (an ID token on token and refresh) and
    # with an RFC 8707 resource, on the default backend, to set beside the plain flow above.
    echo; node scripts/bench-flow.mjs --backends durable --no-peer --flows 100 \
      --scope "openid profile email profile:read" --label "with openid"
    echo; node scripts/bench-flow.mjs --backends durable --no-peer --flows 100 \
      --resource gallery --label "with resource (the example API)"
    # Client ID Metadata Documents at authorize: first fetch and cached.
    echo; node scripts/bench-documents.mjs
    echo; node scripts/bench-faults.mjs ;;
esac
