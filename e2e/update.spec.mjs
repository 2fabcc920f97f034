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
  await expect.poll(() => page.evaluate(() => caches.keys())).toEqual(['gradlab:/:e2e-next']);
  expect(errors).toEqual([]);
});

/**
 * Deploys "the next build" as a host would, the old build's compute worker
 * gone: a new version in sw.js and a marked index.html, and a worker of the
 * next build that fails loudly ("e2e: the next build's worker") if any old
 * page loads it. The worker script is named per build where the page says
 * so (`<meta name="gradlab-worker">`); otherwise it replaces `worker.js`.
 */
function deployNextBuildWithWorker() {
  const index = join(dir, 'index.html');
  let html = readFileSync(index, 'utf8');
  const meta = html.match(/<meta name="gradlab-worker" content="([^"]+)"/);
  const oldName = meta ? meta[1] : 'worker.js';
  const newName = meta ? 'worker-e2enext.js' : 'worker.js';
  rmSync(join(dir, oldName), { force: true });
  writeFileSync(join(dir, newName), "self.postMessage({ fatal: \"e2e: the next build's worker\" });\n");
  html = html.replace('<head>', '<head><meta name="gradlab-e2e-build" content="next">');
  if (meta) html = html.replace(meta[0], `<meta name="gradlab-worker" content="${newName}"`);
  writeFileSync(index, html);
  const sw = join(dir, 'sw.js');
  writeFileSync(
    sw,
    readFileSync(sw, 'utf8')
      .replace(/const VERSION = '[^']*'/, "const VERSION = 'e2e-next'")
      .replace(`"${oldName}"`, `"${newName}"`),
  );
}

test('an update accepted in one tab: another tab never loads the new build\'s worker', async ({ page, context }) => {
  const site = `http://127.0.0.1:${PORT}/`;
  await page.goto(site);
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
  // Tab B: the old build, its compute worker not started yet.
  const other = await context.newPage();
  const said = [];
  other.on('console', (m) => said.push(m.text()));
  other.on('pageerror', (e) => said.push(String(e)));
  await other.goto(`${site}about`);
  await expect.poll(() => other.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);

  deployNextBuildWithWorker();
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
  await expect(page.getByTestId('update-reload')).toBeVisible();
  await Promise.all([page.waitForEvent('load'), page.getByTestId('update-reload').click()]);
  await expect(page.locator('meta[name="gradlab-e2e-build"]')).toHaveCount(1);

  // Tab B is still the old page; the new worker controls it now. Its first
  // CPU job starts its compute worker: the old build's, or none.
  await expect(other.locator('meta[name="gradlab-e2e-build"]')).toHaveCount(0);
  await other.evaluate(() => {
    history.pushState(null, '', 'gumbel?backend=cpu&samples=10000');
    dispatchEvent(new PopStateEvent('popstate'));
  });
  await expect(other.getByTestId('estimators')).toBeVisible({ timeout: 60_000 });
  await other.waitForTimeout(1000);
  expect(said.filter((m) => m.includes('next build'))).toEqual([]);
  expect(other.workers().map((w) => w.url()).filter((u) => u.includes('e2enext'))).toEqual([]);
});
