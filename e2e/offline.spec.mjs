// Offline: once the service worker has precached the build, the gallery and
// every live experiment (with its compute worker) load with the network gone.
import { test, expect } from '@playwright/test';
import { EXPERIMENTS } from './registry.mjs';

test('after one visit the lab works offline, served by the service worker', async ({ page, context }) => {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('/');
  await expect(page.getByTestId('experiment-card').first()).toBeVisible();
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  // The manifest is served and names the icons browsers ask for.
  const manifest = await (await page.request.get('/manifest.webmanifest')).json();
  expect(manifest.display).toBe('standalone');
  expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);

  await context.setOffline(true);
  // An uncached request really fails: we are offline.
  const online = await page.evaluate(() => fetch('/no-such-file-' + Date.now()).then(() => true, () => false));
  expect(online).toBe(false);
  const response = await page.reload();
  expect(response.fromServiceWorker()).toBe(true);
  await expect(page.getByTestId('experiment-card')).toHaveCount(EXPERIMENTS.length);
  for (const [path, ready] of [
    ['/rng?count=1024', 'computed-on'],
    ['/gumbel?samples=10000', 'estimators'],
    ['/clipping?steps=40&runs=8', 'mc-table'],
  ]) {
    const r = await page.goto(path);
    expect(r.fromServiceWorker(), path).toBe(true);
    await expect(page.getByTestId(ready), path).toBeVisible({ timeout: 60_000 });
  }
  // The compute worker starts offline too (its worker-<hash>.js and the wasm are
  // precached), and so does a shipped denoiser network.
  for (const path of ['/diffusion?backend=cpu&score=mlp&steps=20&n=512', '/label-smoothing?backend=cpu&steps=50&hidden=16&test=256']) {
    const r = await page.goto(path);
    expect(r.fromServiceWorker(), path).toBe(true);
    await expect(page.getByTestId('compute-thread'), path).toHaveText(' · worker thread', { timeout: 60_000 });
  }
  await context.setOffline(false);
  expect(errors).toEqual([]);
});
