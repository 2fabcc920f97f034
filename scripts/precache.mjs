// Trunk post-build hook: writes sw.js into the staging dist from
// static/sw.template.js, precaching every file of this build (Trunk hashes
// file names, so the list is read from the build, never written by hand)
// under the build's public URL (--public-url, e.g. /gradlab/ on GitHub
// Pages), and writes 404.html, a copy of index.html, which static hosts such
// as GitHub Pages serve for every unknown path: the single-page app's routes.
// It also writes this build's worker script, worker-<hash>.js (see below).
// index.html gets its Content-Security-Policy first, so 404.html and the
// precached build carry it too.
import './first-paint.mjs';
import './csp.mjs';
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const stage = process.env.TRUNK_STAGING_DIR;
const base = process.env.TRUNK_PUBLIC_URL || '/';
if (!stage) throw new Error('TRUNK_STAGING_DIR is not set: run me as a Trunk hook');

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

// worker-<hash>.js: the compute worker (src/ui/worker.rs) runs this build's
// own wasm. Its name is per build, and index.html names it
// (<meta name="gradlab-worker">): after an update another tab of the old
// build, whose worker starts later, asks for its own build's worker (from
// the old cache or the server, else none: it computes on the main thread),
// never for a fixed name that now holds the new build's wasm.
// Messages that arrive while the wasm loads are kept and handed over.
const wasm = readdirSync(stage).find((f) => /^gradlab-[0-9a-f]+_bg\.wasm$/.test(f));
if (!wasm) throw new Error(`no gradlab-<hash>_bg.wasm in ${stage}`);
const glue = wasm.replace(/_bg\.wasm$/, '.js');
const workerSource = `// Written by scripts/precache.mjs for this build: the compute worker.
import init, { gradlab_worker_main } from './${glue}';
const early = [];
self.onmessage = (e) => early.push(e);
init({ module_or_path: new URL('./${wasm}', import.meta.url) })
  .then((wasm) => {
    self.gradlabWasmMemory = wasm.memory; // read by e2e/soak.spec.mjs
    gradlab_worker_main(early);
  })
  .catch((e) => self.postMessage({ fatal: String(e) }));
`;
const workerName = `worker-${createHash('sha256').update(workerSource).digest('hex').slice(0, 16)}.js`;
writeFileSync(join(stage, workerName), workerSource);
{
  const index = join(stage, 'index.html');
  const html = readFileSync(index, 'utf8');
  const meta = `<meta name="gradlab-worker" content="${workerName}" />`;
  if (!html.includes('name="gradlab-worker"')) {
    writeFileSync(index, html.replace(/<meta charset="utf-8" \/>/, (m) => `${m}\n    ${meta}`));
  }
}

const files = walk(stage)
  .map((p) => relative(stage, p).split('\\').join('/'))
  .filter((f) => f !== 'sw.js' && f !== '404.html' && f !== 'csp.txt' && !f.startsWith('.'))
  .sort();
const hash = createHash('sha256');
for (const f of files) hash.update(f).update(readFileSync(join(stage, f)));
const version = hash.digest('hex').slice(0, 16);

const template = readFileSync('static/sw.template.js', 'utf8');
writeFileSync(
  join(stage, 'sw.js'),
  template
    .replace('__VERSION__', version)
    .replace('__BASE__', base)
    .replace('__PRECACHE__', JSON.stringify(files)),
);
copyFileSync(join(stage, 'index.html'), join(stage, '404.html'));
console.log(`sw.js: ${files.length} files precached under ${base}, version ${version}`);
