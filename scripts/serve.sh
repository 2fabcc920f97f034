#!/usr/bin/env bash
# Builds gradlab (release, wasm-opt'd) and serves it at http://127.0.0.1:8080/,
# rebuilding on change. Installs missing tools first (scripts/setup.sh build).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true
exec trunk serve --release --address 127.0.0.1 --port 8080 "$@"
