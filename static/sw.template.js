// gradlab's service worker. scripts/precache.mjs writes dist/sw.js from this
// template after every Trunk build, filling in the build's actual files.
const VERSION = '__VERSION__';
const BASE = '__BASE__';
const PRECACHE = __PRECACHE__;
// Caches are named by the site's base path as well as the build: several
// labs can live under one origin (GitHub Pages serves every project site of
// a user under user.github.io), and each deletes only its own old builds.
// (The "gradlab:" prefix is one older workers' "gradlab-" clean-up misses.)
const SITE = `gradlab:${BASE}:`;
const CACHE = `${SITE}${VERSION}`;
/** A cache of an older worker (named `gradlab-<hash>` whatever the site): ours if it holds our index.html. */
const ownLegacy = async (key) =>
  /^gradlab-[0-9a-f]+$/.test(key) && !!(await (await caches.open(key)).match(BASE + 'index.html'));

self.addEventListener('install', (event) => {
  // A new version installs into its own cache (named by the build's hash) and
  // then waits: every open tab keeps the old build until its reader clicks
  // "Update available — reload" (SKIP_WAITING below) or closes it, so a page
  // never mixes two builds' files. If any file fails to download, the install
  // fails and the old cache stays in use untouched.
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(PRECACHE.map((f) => BASE + f))));
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') self.skipWaiting();
});

// Once active, this site's old builds' caches go: the switch is all at once.
// Other sites' caches on the same origin stay.
self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys().then((keys) =>
      Promise.all(
        keys.map(async (k) => {
          if ((k.startsWith(SITE) && k !== CACHE) || (await ownLegacy(k))) await caches.delete(k);
        }),
      ),
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
