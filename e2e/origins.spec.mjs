// Two gradlab sites on one origin, as GitHub Pages serves every project site
// of a user under user.github.io: dist-sub (/sub/path/) and dist-sub2
// (/sub/other/), both built by scripts/test.sh. Each site's service worker
// keeps its own caches and never deletes the other's, so each still works
// offline after the other was visited; local-storage keys are scoped by the
// site's base path (src/ui/mod.rs, `storage_key`).
import { test, expect } from '@playwright/test';
import { existsSync } from 'node:fs';
import { startServer } from './spawn-server.mjs';

const PORT = 4177;
const ORIGIN = `http://127.0.0.1:${PORT}`;
const ONE = `${ORIGIN}/sub/path/`;
const TWO = `${ORIGIN}/sub/other/`;
let server;

test.beforeAll(async () => {
  for (const d of ['dist-sub', 'dist-sub2']) {
    if (!existsSync(`${d}/index.html`)) throw new Error(`${d}/ missing: scripts/test.sh builds it`);
  }
  server = await startServer('dist-sub', PORT, '/sub/path/', [['dist-sub2', '/sub/other/']]);
});
test.afterAll(() => server?.stop());

/** Opens a site and waits until its service worker controls the page. */
async function install(page, site) {
  await page.goto(site);
  await expect(page.getByTestId('experiment-card').first()).toBeVisible();
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
  return page.evaluate(() => caches.keys());
}

test('two sites on one origin keep their own caches and storage keys', async ({ page, context }, info) => {
  test.skip(info.project.name !== 'cpu', 'service workers and storage: one project is enough');
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const first = await install(page, ONE);
  expect(first).toHaveLength(1);
  const both = await install(page, TWO);
  // The second site's worker activated beside the first's cache, not over it.
  expect(both).toHaveLength(2);
  expect(both).toEqual(expect.arrayContaining(first));

  // Local-storage keys differ between the two sites. The wasm's bindings
  // appear only once the module has loaded, so wait for them after goto.
  const storageKey = async () => {
    await page.waitForFunction(() => typeof window.wasmBindings?.gradlab_storage_key === 'function');
    return page.evaluate(() => window.wasmBindings.gradlab_storage_key('gradlab.x'));
  };
  const keyTwo = await storageKey();
  await page.goto(ONE);
  const keyOne = await storageKey();
  expect(keyOne).toContain('/sub/path');
  expect(keyTwo).toContain('/sub/other');
  expect(keyOne).not.toBe(keyTwo);

  // The first site still works offline: its precache survived.
  await context.setOffline(true);
  for (const site of [ONE, TWO]) {
    const r = await page.goto(`${site}rng?count=1024`);
    expect(r.fromServiceWorker(), site).toBe(true);
    await expect(page.getByTestId('rng-widget'), site).toBeVisible({ timeout: 60_000 });
  }
  await context.setOffline(false);
  expect(errors).toEqual([]);
});
