#!/usr/bin/env bash
# Builds the browser app into frontend/dist (trunk) and the Worker into worker/build
# (worker-build), each wasm then shrunk with npm binaryen's wasm-opt. `build.sh app`: the app only
# (what the native server serves).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
opt() { # file: shrink a wasm in place and print its sizes
  "$root/node_modules/.bin/wasm-opt" -Oz --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue --enable-exception-handling \
    "$1" -o "$1.opt"
  mv "$1.opt" "$1"
  printf '[build] %s: %s bytes, %s gzip\n' "$1" "$(wc -c <"$1")" "$(gzip -9c "$1" | wc -c)"
}

# The app: trunk offline with the wasm-bindgen the setup installed (no downloads).
(cd frontend && TRUNK_OFFLINE=true TRUNK_SKIP_VERSION_CHECK=true trunk build --release --offline)
opt frontend/dist/rendezvous-frontend_bg.wasm
python3 scripts/headers.py frontend/dist
[ "${1:-}" = app ] && exit 0

cd worker
# Tools come from the Makefile's setup, never downloaded by worker-build.
WASM_BINDGEN_BIN=wasm-bindgen ESBUILD_BIN="$root/node_modules/.bin/esbuild" \
  worker-build --release
opt build/index_bg.wasm
