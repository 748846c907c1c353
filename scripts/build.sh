#!/bin/sh
# Builds the Worker (build/index.js + build/index_bg.wasm) without network downloads:
# worker-build is pointed at the wasm-bindgen CLI from crates.io and at wasm-opt/esbuild from npm.
set -eu
cd "$(dirname "$0")/.."
. scripts/env.sh
WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
export WASM_BINDGEN_BIN WASM_OPT_BIN ESBUILD_BIN
exec worker-build --release "$@"
