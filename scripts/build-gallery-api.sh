#!/bin/sh
# Builds the example API Worker (examples/gallery-api/build/index.js + index_bg.wasm) the same
# offline way as scripts/build.sh: wasm-bindgen CLI from crates.io, wasm-opt and esbuild from npm.
set -eu
cd "$(dirname "$0")/.."
. scripts/env.sh
WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
export WASM_BINDGEN_BIN WASM_OPT_BIN ESBUILD_BIN
cd examples/gallery-api
exec worker-build --release "$@"
