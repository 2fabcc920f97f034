// A tiny static server for dist/ on 127.0.0.1, with the single-page-app
// fallback (unknown paths without a file extension get index.html).
// Usage: node e2e/serve.mjs [dir] [port] [prefix] [dir2 prefix2 ...]
// With a prefix (e.g. /sub/path/, for a `trunk build --public-url /sub/path/`)
// the site lives under it, as on GitHub Pages: `/` redirects there and other
// paths are 404, like a host that serves the site from a sub-folder. More
// dir/prefix pairs serve more sites on the same origin, as Pages serves every
// project site of one user under user.github.io.
// Every response carries the build's Content-Security-Policy as a header
// (the policy file scripts/csp.mjs writes into the build, `csp.txt`, read
// on each request, so a rebuild's new policy applies at once): a <meta>
// policy does not reach the compute worker, a header does.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';

const norm = (p) => `/${(p ?? '/').replace(/^\/+|\/+$/g, '')}/`.replace('//', '/');
const port = Number(process.argv[3] ?? 4173);
const sites = [{ root: resolve(process.argv[2] ?? 'dist'), prefix: norm(process.argv[4]) }];
for (let i = 5; i + 1 < process.argv.length; i += 2) {
  sites.push({ root: resolve(process.argv[i]), prefix: norm(process.argv[i + 1]) });
}
// The longest prefix first, so /sub/path/ wins over /.
sites.sort((a, b) => b.prefix.length - a.prefix.length);
const policy = (root) => readFile(join(root, 'csp.txt'), 'utf8').then((p) => p.trim(), () => null);
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.bin': 'application/octet-stream',
};

// Links with long queries (e2e sends 10,000 keys) must reach the page.
createServer({ maxHeaderSize: 1 << 20 }, async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const bare = sites.find((s) => s.prefix !== '/' && `${url.pathname}/` === s.prefix);
  if (bare) {
    res.writeHead(301, { location: bare.prefix + url.search }).end();
    return;
  }
  const site = sites.find((s) => url.pathname.startsWith(s.prefix));
  if (!site) {
    if (url.pathname === '/') res.writeHead(302, { location: sites[0].prefix }).end();
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found (outside the site prefix)');
    return;
  }
  const { root, prefix } = site;
  let path = normalize(join(root, decodeURIComponent(url.pathname.slice(prefix.length - 1))));
  if (!path.startsWith(root)) {
    res.writeHead(403).end();
    return;
  }
  try {
    if ((await stat(path)).isDirectory()) path = join(path, 'index.html');
  } catch {
    if (extname(path) === '') path = join(root, 'index.html');
  }
  try {
    const body = await readFile(path);
    const csp = await policy(root);
    const headers = { 'content-type': types[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-cache' };
    if (csp) headers['content-security-policy'] = csp;
    res.writeHead(200, headers);
    res.end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}).listen(port, '127.0.0.1', () => {
  for (const s of sites) console.log(`serving ${s.root} on http://127.0.0.1:${port}${s.prefix}`);
});
