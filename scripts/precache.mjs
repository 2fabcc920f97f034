// Trunk post-build hook: writes sw.js into the staging dist from
// static/sw.template.js, precaching every file of this build (Trunk hashes
// file names, so the list is read from the build, never written by hand),
// and fills the public URL into index.html's service-worker registration.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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

const files = walk(stage)
  .map((p) => relative(stage, p).split('\\').join('/'))
  .filter((f) => f !== 'sw.js' && !f.startsWith('.'))
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
const index = join(stage, 'index.html');
writeFileSync(index, readFileSync(index, 'utf8').replaceAll('__GRADLAB_BASE__', base));
console.log(`sw.js: ${files.length} files precached, version ${version}`);
