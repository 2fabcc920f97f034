#!/usr/bin/env bash
# Prints the release bundle's wasm and JS sizes (raw, gzip -9, brotli) and
# what each crate costs in the wasm.
set -euo pipefail
cd "$(dirname "$0")/.."
printf '%-42s %10s %10s %10s\n' file raw gzip brotli
for f in dist/*.wasm dist/*.js; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  if command -v brotli >/dev/null; then br=$(brotli -c -q 11 "$f" | wc -c); else br=n/a; fi
  printf '%-42s %10s %10s %10s\n' "$(basename "$f")" "$raw" "$gz" "$br"
done
# What each crate costs (shares of the code, from cargo's wasm before wasm-opt).
node scripts/wasm-crates.mjs

# The first load (the page, its script, the wasm, the style and the compute
# worker's loader) against its 1.0 MB gzip budget: asserted (exit 1 when
# over). README's "sizes" lines say what brought it under (opt-level "z" and
# Leptos's erased components).
BUDGET=1000000
first=0
for f in dist/index.html dist/*.wasm dist/gradlab-*.js dist/page-*.js dist/style-*.css dist/worker-*.js; do
  first=$((first + $(gzip -9 -c "$f" | wc -c)))
done
printf 'first load: %s bytes gzip (budget %s, %s to spare)\n' "$first" "$BUDGET" "$((BUDGET - first))"
if [ "$first" -gt "$BUDGET" ]; then
  echo "FAIL: the first load is $first bytes gzip, $((first - BUDGET)) over its 1.0 MB ($BUDGET bytes) budget" >&2
  exit 1
fi
