#!/usr/bin/env bash
# Builds gradlab (release, wasm-opt'd) and serves it at http://127.0.0.1:8080/,
# rebuilding on change. Installs missing tools first (scripts/setup.sh build).
# The server is e2e/serve.mjs, the one the e2e suite uses: it sends the
# build's Content-Security-Policy (dist/csp.txt, the same policy as the
# pages' <meta>) as a header, which also covers the compute worker's script.
# Usage: scripts/serve.sh [port]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true
port="${1:-8080}"
# trunk watch builds once, then again on every change; the server reads dist/
# on each request (the page appears once the first build is done).
trunk watch --release &
watcher=$!
trap 'kill "$watcher" 2>/dev/null || true' EXIT INT TERM
node e2e/serve.mjs dist "$port"
