// Hosting under a sub-path (as GitHub Pages serves /<repo>/): the build of
// `trunk build --release --public-url /sub/path/ --dist dist-sub`
// (scripts/test.sh) served under /sub/path/: links, the router, the embed
// snippets and embed.js, the manifest, and offline use after the service
// worker activates.
import { test, expect } from '@playwright/test';
import { IDS } from './registry.mjs';
import { existsSync } from 'node:fs';
import { startServer } from './spawn-server.mjs';

const PORT = 4174;
const SITE = `http://127.0.0.1:${PORT}/sub/path/`;
let server;

test.beforeAll(async () => {
  if (!existsSync('dist-sub/index.html')) throw new Error('dist-sub/ missing: scripts/test.sh builds it (trunk build --release --public-url /sub/path/ --dist dist-sub)');
  server = await startServer('dist-sub', PORT, '/sub/path/');
});
test.afterAll(() => server?.stop());

/** Page errors, and every failed request but the browser's own /favicon.ico probe. */
function watch(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`${r.status()} ${r.url()}`);
  });
  return errors;
}

test('under /sub/path/: links, routes, URL state and embed snippets stay under the prefix', async ({ page }) => {
  const errors = watch(page);
  await page.goto(SITE);
  await expect(page.getByTestId('experiment-card').first()).toBeVisible();
  await page.locator('[data-testid="experiment-card"][data-id="gumbel"] a').click();
  await expect(page).toHaveURL(`${SITE}gumbel`);
  await expect(page.getByTestId('gumbel-widget')).toBeVisible();
  // A control writes the URL under the prefix, never doubling it (on the CPU:
  // software WebGPU's full-size sweep would only slow this test down).
  await page.goto(`${SITE}gumbel?backend=cpu&samples=10000`);
  await page.getByLabel('weight 1').fill('3');
  await page.getByLabel('weight 1').press('Enter');
  await expect(page).toHaveURL(new RegExp(`^${SITE}gumbel\\?.*weights=3`));
  await page.getByTestId('embed').click();
  const snippets = page.getByTestId('embed-snippets').locator('textarea');
  await expect(snippets.first()).toHaveValue(new RegExp(`<iframe src="${SITE}embed/gumbel\\?`));
  await expect(snippets.first()).toHaveValue(new RegExp(`<script src="${SITE}embed.js"`));
  await expect(snippets.nth(1)).toHaveValue(new RegExp(`<script src="${SITE}embed.js"`));
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'About' }).click();
  await expect(page).toHaveURL(`${SITE}about`);
  await expect(page.getByTestId('papers').first()).toBeVisible();
  await page.locator('header.site a.logo').click();
  await expect(page).toHaveURL(SITE);
  // A deep link loads directly (the server's SPA fallback, like Pages' 404.html).
  await page.goto(`${SITE}no-such-thing`);
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  await page.getByRole('link', { name: 'See all experiments.' }).click();
  await expect(page).toHaveURL(SITE);
  // The manifest's start_url and scope resolve to the prefix.
  const manifestUrl = new URL(await page.locator('link[rel="manifest"]').evaluate((l) => l.href));
  expect(manifestUrl.href).toBe(`${SITE}manifest.webmanifest`);
  const manifest = await (await page.request.get(manifestUrl.href)).json();
  expect(new URL(manifest.start_url, manifestUrl).href).toBe(SITE);
  expect(new URL(manifest.scope, manifestUrl).href).toBe(SITE);
  expect(errors).toEqual([]);
});

test('under /sub/path/: embed.js finds the embed pages next to itself', async ({ page }) => {
  const errors = watch(page);
  await page.goto(`${SITE}embed-demo.html`);
  const frames = page.locator('iframe');
  await expect(frames).toHaveCount(4);
  // The post's first figure: a custom element, its iframe next to embed.js.
  expect(await frames.first().getAttribute('src')).toMatch(new RegExp(`^${SITE}embed/gumbel\\?`));
  const frame = frames.first();
  await expect.poll(async () => (await frame.boundingBox()).height, { timeout: 60_000 }).toBeGreaterThan(200);
  const inner = frame.contentFrame();
  await expect(inner.locator('[data-panel="bias-variance"]')).toBeVisible();
  await expect(inner.locator('.figure-caption a').last()).toHaveAttribute('href', /^\/sub\/path\/gumbel\?/);
  expect(errors).toEqual([]);
});

test('under /sub/path/: the service worker is scoped there and the lab works offline', async ({ page, context }) => {
  const errors = watch(page);
  await page.goto(SITE);
  await expect(page.getByTestId('experiment-card').first()).toBeVisible();
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  expect(scope).toBe(SITE);
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
  const live = await page
    .locator('[data-testid="experiment-card"]:not(.coming)')
    .evaluateAll((cards) => cards.map((c) => c.dataset.id));
  expect(live).toEqual(IDS);

  await context.setOffline(true);
  const response = await page.reload();
  expect(response.fromServiceWorker()).toBe(true);
  await expect(page.getByTestId('experiment-card').first()).toBeVisible();
  const small = { rng: '?count=1024', gumbel: '?samples=10000', clipping: '?steps=40&runs=8' };
  for (const id of live) {
    const r = await page.goto(`${SITE}${id}${small[id] ?? ''}`);
    expect(r.fromServiceWorker(), id).toBe(true);
    await expect(page.locator('article.widget'), id).toBeVisible({ timeout: 60_000 });
    await expect(page.getByRole('heading', { name: 'Not found' })).toHaveCount(0);
  }
  await context.setOffline(false);
  expect(errors).toEqual([]);
});
