// Trunk post-build hook (runs first, before csp.mjs hashes the inline
// scripts): puts the static first paint, static/first-paint.html (the gallery
// and About as HTML, written from the registry by `gradlab first-paint` and
// held to it by tests/registry.rs), at the top of index.html's <body>, with
// a small inline script that shows the view of the page's own route before
// anything is painted, and the stylesheet inline. The wasm removes the first
// paint when the app mounts (src/ui/mod.rs, `mount`), so it needs no wasm.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const stage = process.env.TRUNK_STAGING_DIR;
if (!stage) throw new Error('TRUNK_STAGING_DIR is not set: run me as a Trunk hook');
const file = join(stage, 'index.html');
const html = readFileSync(file, 'utf8');
const shell = readFileSync(new URL('../static/first-paint.html', import.meta.url), 'utf8');
// The route relative to <base> (Trunk's public URL): '' is the gallery.
const pick = `<script>(function () {
  var base = new URL(document.baseURI).pathname;
  var route = location.pathname.indexOf(base) === 0 ? location.pathname.slice(base.length) : '';
  route = route.replace(/\\/+$/, '');
  var view = route === '' ? 'gallery' : route === 'about' ? 'about' : route.indexOf('embed/') === 0 ? 'embed' : 'other';
  document.documentElement.setAttribute('data-first-paint', view);
})();</script>`;
if (!html.includes('id="first-paint"')) {
  let out = html.replace(/<body>/, (m) => `${m}\n    ${pick}\n${shell}`);
  if (out === html) throw new Error('first-paint: no <body> in index.html');
  // The stylesheet inline: on a slow link the first paint then waits for
  // one round trip (the page), not two (the page, then its style). The file
  // stays in the build for the service worker's precache.
  out = out.replace(/<link rel="stylesheet" href="([^"]*)"[^>]*>/, (m, href) => {
    const css = readFileSync(join(stage, basename(href)), 'utf8');
    if (css.includes('</style')) throw new Error('first-paint: the stylesheet cannot be inlined');
    return `<style>${css}</style>`;
  });
  writeFileSync(file, out);
}
console.log('first-paint: the gallery and About as static HTML, and the stylesheet, in index.html');
