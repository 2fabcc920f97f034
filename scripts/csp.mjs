// Trunk post-build hook (runs before precache.mjs): adds a
// Content-Security-Policy to index.html that allows only this site's own
// scripts, styles, images and connections, wasm compilation
// ('wasm-unsafe-eval', no eval), and the one inline script Trunk writes to
// start the wasm, by its SHA-256 hash (computed here from the built file).
// The one policy goes three ways: a <meta> in index.html (and so 404.html)
// and in embed-demo.html, and the file csp.txt in the build, which the
// servers (e2e/serve.mjs, scripts/serve.sh) send as a Content-Security-Policy
// header on every response: a <meta> does not reach the compute worker's
// script, a header does. Static hosts that send no headers (GitHub Pages)
// get the <meta> policies only.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const stage = process.env.TRUNK_STAGING_DIR;
if (!stage) throw new Error('TRUNK_STAGING_DIR is not set: run me as a Trunk hook');
const file = join(stage, 'index.html');
let html = readFileSync(file, 'utf8');

const hashes = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
  (m) => `'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`,
);
const policy = [
  "default-src 'self'",
  `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`.trim(),
  // Leptos sets style attributes (e.g. display of hidden controls).
  "style-src 'self' 'unsafe-inline'",
  // Plot export rasterises an SVG through a data:/blob: image.
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');
const meta = `<meta http-equiv="Content-Security-Policy" content="${policy}" />`;
const withPolicy = (page) =>
  page.includes('http-equiv="Content-Security-Policy"')
    ? page
    : page.replace(/<meta charset="utf-8" \/>/, (m) => `${m}\n    ${meta}`);
writeFileSync(file, withPolicy(html));
const demo = join(stage, 'embed-demo.html');
writeFileSync(demo, withPolicy(readFileSync(demo, 'utf8')));
writeFileSync(join(stage, 'csp.txt'), `${policy}\n`);
console.log(`csp: ${hashes.length} inline script(s) hashed`);
