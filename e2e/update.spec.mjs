// A new build served over the old one: its service worker installs into a
// new cache and waits; the page says "Update available — reload" and never
// reloads by itself; the click switches every file to the new build at once.
import { test, expect } from '@playwright/test';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './spawn-server.mjs';

const PORT = 4175;
let server;
let dir;

test.beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gradlab-update-'));
  cpSync('dist', dir, { recursive: true });
  server = await startServer(dir, PORT);
});
test.afterEach(() => {
  server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Deploys "the next build": a new version in sw.js and a marked index.html. */
function deployNewBuild() {
  const sw = join(dir, 'sw.js');
  writeFileSync(sw, readFileSync(sw, 'utf8').replace(/const VERSION = '[^']*'/, "const VERSION = 'e2e-next'"));
  const index = join(dir, 'index.html');
  writeFileSync(index, readFileSync(index, 'utf8').replace('<head>', '<head><meta name="gradlab-e2e-build" content="next">'));
}

test('a new build shows "Update available — reload", waits for the click, then reloads into it', async ({ page, context }) => {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const site = `http://127.0.0.1:${PORT}/`;
  await page.goto(`${site}gumbel?samples=10000`);
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
  await expect(page.getByTestId('estimators')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('update-banner')).toHaveCount(0);
  const oldCaches = await page.evaluate(() => caches.keys());
  expect(oldCaches).toHaveLength(1);

  deployNewBuild();
  // What a browser does on its own at the next navigation or hourly check.
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
  await page.evaluate(() => {
    window.stillTheSamePage = true;
  });
  const button = page.getByTestId('update-reload');
  await expect(button).toBeVisible();
  await expect(button).toHaveText('Update available — reload');
  // The old build keeps running: no reload by itself, the widget still live.
  await page.waitForTimeout(1000);
  expect(await page.evaluate(() => window.stillTheSamePage)).toBe(true);
  await expect(page.locator('meta[name="gradlab-e2e-build"]')).toHaveCount(0);
  // A second tab opened now also offers the update (the worker is waiting).
  const other = await context.newPage();
  await other.goto(`${site}rng?count=1024`);
  await expect(other.getByTestId('update-reload')).toBeVisible();
  await other.close();

  await Promise.all([page.waitForEvent('load'), button.click()]);
  await expect(page.locator('meta[name="gradlab-e2e-build"]')).toHaveCount(1);
  expect(await page.evaluate(() => window.stillTheSamePage)).toBeUndefined();
  await expect(page.getByTestId('gumbel-widget')).toBeVisible();
  await expect(page.getByTestId('update-banner')).toHaveCount(0);
  // The old build's cache is gone: one build, all at once.
  await expect.poll(() => page.evaluate(() => caches.keys())).toEqual(['gradlab-e2e-next']);
  expect(errors).toEqual([]);
});
