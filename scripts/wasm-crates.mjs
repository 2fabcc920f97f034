// What each crate costs in the wasm: the code bytes of every function,
// attributed to the crate its (mangled) name starts with. Reads cargo's wasm
// before wasm-bindgen and wasm-opt (which drop the names), so the figures are
// shares of the code, not final bytes: `scripts/sizes.sh` prints the final
// sizes. Usage: node scripts/wasm-crates.mjs [path/to.wasm]
import { readFileSync } from 'node:fs';

const path = process.argv[2] || 'target/wasm32-unknown-unknown/wasm-release/gradlab.wasm';
const buf = readFileSync(path);
let pos = 8;
const leb = () => {
  let result = 0, shift = 0, byte;
  do {
    byte = buf[pos++];
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return result;
};
const name = () => {
  const len = leb();
  const s = buf.toString('utf8', pos, pos + len);
  pos += len;
  return s;
};

let importedFns = 0;
const bodies = [];
const names = new Map();
while (pos < buf.length) {
  const id = buf[pos++];
  const size = leb();
  const end = pos + size;
  if (id === 2) {
    for (let n = leb(); n > 0; n--) {
      name(); name();
      const kind = buf[pos++];
      if (kind === 0) { leb(); importedFns++; }
      else if (kind === 1) { pos++; const f = leb(); leb(); if (f & 1) leb(); }
      else if (kind === 2) { const f = leb(); leb(); if (f & 1) leb(); }
      else if (kind === 3) { pos += 2; }
      else if (kind === 4) { pos++; leb(); }
    }
  } else if (id === 10) {
    for (let n = leb(); n > 0; n--) { const s = leb(); bodies.push(s); pos += s; }
  } else if (id === 0 && name() === 'name') {
    while (pos < end) {
      const sub = buf[pos++];
      const len = leb();
      const subEnd = pos + len;
      if (sub === 1) for (let n = leb(); n > 0; n--) { const i = leb(); names.set(i, name()); }
      pos = subEnd;
    }
  }
  pos = end;
}
if (!names.size) {
  console.log(`${path}: no name section, nothing to attribute`);
  process.exit(0);
}

// The crate of a Rust symbol: the first path segment of a legacy-mangled
// name (`_ZN<len><crate>…`), looking inside `<impl …>` / `<T as Trait>`.
function crateOf(sym) {
  let s = sym.startsWith('_ZN') ? sym.slice(3) : sym;
  const m = s.match(/^(\d+)/);
  if (!m) return sym.includes('wbindgen') || sym.startsWith('__wbg') ? 'wasm_bindgen' : '(other: allocator, builtins)';
  let seg = s.slice(m[1].length, m[1].length + Number(m[1]));
  seg = seg.replace(/^_?\$LT\$/, '').replace(/^(impl\$u20\$|\$u20\$|\$RF\$|mut\$u20\$)+/, '');
  // `<T as path::Trait>`, a generic type: the trait's crate.
  const as = seg.match(/^[A-Z][A-Za-z0-9_]*\$u20\$as\$u20\$([A-Za-z_][A-Za-z0-9_]*)/);
  if (as) return as[1];
  const c = seg.match(/^[A-Za-z_][A-Za-z0-9_]*/);
  return c ? c[0] : '(other)';
}

const byCrate = new Map();
let total = 0;
bodies.forEach((size, i) => {
  const c = crateOf(names.get(importedFns + i) ?? '');
  byCrate.set(c, (byCrate.get(c) ?? 0) + size);
  total += size;
});
const rows = [...byCrate].sort((a, b) => b[1] - a[1]);
console.log(`code by crate (${path}, before wasm-opt; ${bodies.length} functions, ${(total / 1024).toFixed(0)} KiB of code)`);
for (const [c, size] of rows.slice(0, 15)) {
  console.log(`${c.padEnd(28)} ${(size / 1024).toFixed(1).padStart(8)} KiB ${(100 * size / total).toFixed(1).padStart(5)} %`);
}
