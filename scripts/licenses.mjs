// Offline licence and ban check of every dependency (the job of
// `cargo deny check licenses bans`, without installing it): reads
// `cargo metadata` for both targets and fails on a licence outside the
// allow-list, a package without a licence, or a banned crate.
import { execFileSync } from 'node:child_process';

const ALLOWED = new Set([
  'MIT', 'MIT-0', 'Apache-2.0', 'Apache-2.0 WITH LLVM-exception', 'BSD-2-Clause', 'BSD-3-Clause',
  'ISC', 'Zlib', 'Unicode-3.0', 'Unicode-DFS-2016', 'CC0-1.0', 'BSL-1.0', '0BSD', 'Unlicense', 'MPL-2.0',
]);
// Crates we never want in the build: native TLS/crypto stacks and wgpu's
// WebGL/GLSL path, which compute does not need (issue: keep the bundle lean).
const BANNED = new Set(['openssl', 'openssl-sys', 'native-tls', 'glow', 'khronos-egl']);

// An SPDX expression holds if every AND-part has an allowed OR-alternative.
function allowed(expr) {
  const norm = expr.replace(/\//g, ' OR ').replace(/[()]/g, ' ');
  return norm.split(/\s+AND\s+/).every((part) =>
    part.split(/\s+OR\s+/).map((s) => s.trim()).some((l) => ALLOWED.has(l)));
}

const problems = [];
const seen = new Map();
for (const target of [null, 'wasm32-unknown-unknown']) {
  const args = ['metadata', '--format-version', '1', '--locked'];
  if (target) args.push('--filter-platform', target);
  const meta = JSON.parse(execFileSync('cargo', args, { maxBuffer: 1 << 28 }).toString());
  const used = new Set(meta.resolve.nodes.map((n) => n.id));
  for (const p of meta.packages) {
    if (!used.has(p.id) || p.source === null) continue;
    seen.set(`${p.name} ${p.version}`, p.license || p.license_file || '');
    if (BANNED.has(p.name)) problems.push(`${p.name} ${p.version}: banned crate`);
    else if (!p.license) problems.push(`${p.name} ${p.version}: no SPDX licence (license_file: ${p.license_file})`);
    else if (!allowed(p.license)) problems.push(`${p.name} ${p.version}: licence "${p.license}" is not allowed`);
  }
}
if (problems.length) {
  console.error([...new Set(problems)].join('\n'));
  process.exit(1);
}
console.log(`licences: ${seen.size} dependencies, all allowed; no banned crates`);
