// A tiny static server for dist/ on 127.0.0.1, with the single-page-app
// fallback (unknown paths without a file extension get index.html).
// Usage: node e2e/serve.mjs [dir] [port] [prefix]
// With a prefix (e.g. /sub/path/, for a `trunk build --public-url /sub/path/`)
// the site lives under it, as on GitHub Pages: `/` redirects there and other
// paths are 404, like a host that serves the site from a sub-folder.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? 'dist');
const port = Number(process.argv[3] ?? 4173);
const prefix = `/${(process.argv[4] ?? '/').replace(/^\/+|\/+$/g, '')}/`.replace('//', '/');
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

createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (prefix !== '/' && `${url.pathname}/` === prefix) {
    res.writeHead(301, { location: prefix + url.search }).end();
    return;
  }
  if (!url.pathname.startsWith(prefix)) {
    if (url.pathname === '/') res.writeHead(302, { location: prefix }).end();
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found (outside the site prefix)');
    return;
  }
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
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    res.end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}).listen(port, '127.0.0.1', () => console.log(`serving ${root} on http://127.0.0.1:${port}${prefix}`));
