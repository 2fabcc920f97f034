// gradlab's service worker. scripts/precache.mjs writes dist/sw.js from this
// template after every Trunk build, filling in the build's actual files.
const VERSION = '__VERSION__';
const BASE = '__BASE__';
const PRECACHE = __PRECACHE__;
const CACHE = `gradlab-${VERSION}`;

self.addEventListener('install', (event) => {
  // A new version waits until every tab of the old one is closed, so a page
  // never mixes two builds' files.
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(PRECACHE.map((f) => BASE + f))));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys().then((keys) =>
      Promise.all(keys.filter((k) => k.startsWith('gradlab-') && k !== CACHE).map((k) => caches.delete(k))),
    ),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  if (req.mode === 'navigate') {
    // A precached page (e.g. embed-demo.html) is served as itself; every other
    // route is the single-page app's shell. Cache first, then the network.
    event.respondWith(
      caches
        .match(req, { cacheName: CACHE, ignoreSearch: true })
        .then((hit) => hit || caches.match(BASE + 'index.html', { cacheName: CACHE }))
        .then((hit) => hit || fetch(req)),
    );
    return;
  }
  event.respondWith(caches.match(req, { cacheName: CACHE }).then((hit) => hit || fetch(req)));
});
