#!/usr/bin/env bash
# Builds the Worker into worker/build: cargo + wasm-bindgen through worker-build, then wasm-opt.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cd worker
# Tools come from the Makefile's setup, never downloaded by worker-build.
WASM_BINDGEN_BIN=wasm-bindgen ESBUILD_BIN="$root/node_modules/.bin/esbuild" \
  worker-build --release
wasm=build/index_bg.wasm
"$root/node_modules/.bin/wasm-opt" -Oz --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue --enable-exception-handling \
  "$wasm" -o "$wasm.opt"
mv "$wasm.opt" "$wasm"
printf '[build] worker wasm: %s bytes, %s gzip\n' "$(wc -c <"$wasm")" "$(gzip -9c "$wasm" | wc -c)"
