// The app shell: loads clean, lists the experiments, says which backend runs,
// and talks to nobody but 127.0.0.1.
import { test, expect } from '@playwright/test';
import { EXPERIMENTS, IDS } from './registry.mjs';

/** Collects console errors, page errors and every request's host. */
function watch(page) {
  const seen = { errors: [], hosts: new Set() };
  page.on('console', (m) => {
    if (m.type() === 'error') seen.errors.push(m.text());
  });
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol.startsWith('http')) seen.hosts.add(u.host);
  });
  return seen;
}

test('the gallery lists every experiment with its paper, and no console errors', async ({ page }) => {
  const seen = watch(page);
  await page.goto('/');
  const cards = page.getByTestId('experiment-card');
  await expect(cards).toHaveCount(EXPERIMENTS.length);
  for (const id of IDS) {
    await expect(page.locator(`[data-testid="experiment-card"][data-id="${id}"]`)).toBeVisible();
  }
  for (const id of ['label-smoothing', 'diffusion', 'clipping']) {
    await expect(page.locator(`[data-id="${id}"]`)).toContainText('Live');
  }
  await expect(page.locator('[data-id="gumbel"]')).toContainText('Categorical Reparameterization with Gumbel-Softmax');
  await expect(page.locator('[data-id="gumbel"]')).toContainText('Live');
  await expect(page.locator('[data-id="rng"]')).toContainText('Live');
  await expect(page.getByTestId('backend-badge')).not.toContainText('detecting');
  expect(seen.errors).toEqual([]);
  expect([...seen.hosts]).toEqual([new URL(page.url()).host]);
});

test('the About page lists the papers of every experiment', async ({ page }) => {
  const seen = watch(page);
  await page.goto('/about');
  await expect(page.getByTestId('papers')).toHaveCount(EXPERIMENTS.length);
  for (const title of [
    'When Does Label Smoothing Help?',
    'SGD with Clipping is Secretly Estimating the Median Gradient',
    'Denoising Diffusion Probabilistic Models',
    'Parallel random numbers: as easy as 1, 2, 3',
  ]) {
    await expect(page.getByRole('link', { name: title, exact: true })).toBeVisible();
  }
  expect(seen.errors).toEqual([]);
});

test('every gallery card opens its live widget, and unknown paths are a 404 page', async ({ page }) => {
  for (const [id, title] of [['label-smoothing', 'Label smoothing'], ['diffusion', 'Tiny diffusion']]) {
    await page.goto(`/${id}`);
    await expect(page.getByTestId(`${id}-widget`)).toBeVisible();
    await expect(page.getByRole('heading', { level: 1 })).toContainText(title);
  }
  await page.goto('/no-such-thing');
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
});

test('the backend badge names the WebGPU adapter, or says CPU and why', async ({ page }, info) => {
  await page.goto('/');
  const badge = page.getByTestId('backend-badge');
  if (info.project.name === 'webgpu') {
    const adapter = await page.evaluate(async () => !!(await navigator.gpu?.requestAdapter()));
    expect(adapter, 'Chromium must grant a WebGPU adapter with --enable-unsafe-webgpu').toBe(true);
    await expect(badge).toHaveText(/^WebGPU · \S.+/);
  } else {
    await expect(badge).toHaveText(/^CPU \(WebGPU unavailable: .+\)/);
  }
});

test('the backend switch puts the choice in the URL and the badge follows', async ({ page }, info) => {
  await page.goto('/');
  const badge = page.getByTestId('backend-badge');
  await expect(badge).not.toContainText('detecting');
  await page.getByLabel('Compute backend').selectOption('cpu');
  await expect(page).toHaveURL(/backend=cpu/);
  await expect(badge).toHaveText(/^CPU/);
  await page.reload();
  await expect(badge).toHaveText(/^CPU/);
  await expect(page.getByLabel('Compute backend')).toHaveValue('cpu');
  if (info.project.name === 'webgpu') {
    // Auto on SwiftShader (a fallback adapter) computes on the CPU; GPU forces it.
    await page.getByLabel('Compute backend').selectOption('auto');
    await expect(badge).toHaveText('CPU (WebGPU available: software adapter, slower than the CPU here)');
    await page.getByLabel('Compute backend').selectOption('gpu');
    await expect(badge).toHaveText(/^WebGPU/);
    // The choice is remembered on this site: a link without backend= keeps it.
    await page.goto('/');
    await expect(badge).toHaveText(/^WebGPU/);
  }
});

test('Auto picks the CPU on a software WebGPU adapter, and backend=gpu still forces it', async ({ browser }, info) => {
  test.skip(info.project.name !== 'webgpu', 'needs the software WebGPU adapter');
  // A reader who never chose: no remembered backend.
  const context = await browser.newContext({ baseURL: info.project.use.baseURL, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  const fallback = await (async () => {
    await page.goto('/');
    return page.evaluate(async () => (await navigator.gpu?.requestAdapter())?.info?.isFallbackAdapter);
  })();
  expect(fallback, 'SwiftShader is reported as a fallback adapter').toBe(true);
  const badge = page.getByTestId('backend-badge');
  await expect(badge).toHaveText('CPU (WebGPU available: software adapter, slower than the CPU here)');
  await page.goto('/rng?count=4096');
  await expect(page.locator('main')).toHaveAttribute('data-computed-on', 'cpu', { timeout: 60_000 });
  await page.goto('/rng?count=4096&backend=gpu');
  await expect(badge).toHaveText(/^WebGPU/);
  await expect(page.locator('main')).toHaveAttribute('data-computed-on', 'gpu', { timeout: 60_000 });
  await context.close();
});

test('Auto times WebGPU against the CPU for the experiment at hand and takes the faster', async ({ browser }, info) => {
  test.skip(info.project.name !== 'webgpu', 'needs a WebGPU adapter');
  test.setTimeout(180_000);
  // A reader who never chose. SwiftShader is a software adapter, which Auto
  // passes over without timing; the debug hook has it timed as a hardware
  // adapter would be, so the calibration itself is seen deciding.
  const context = await browser.newContext({ baseURL: info.project.use.baseURL, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto('/rng?count=4096');
  const badge = page.getByTestId('backend-badge');
  await expect(badge).toHaveText('CPU (WebGPU available: software adapter, slower than the CPU here)');
  await page.waitForFunction(() => window.wasmBindings?.gradlab_calibrate_software_adapter);
  expect(await page.evaluate(() => window.wasmBindings.gradlab_calibrate_software_adapter())).toBe(true);
  // The rng experiment's first bench workload, timed on both.
  await expect(badge).toHaveAttribute('data-calibration', /^rng \S+ \S+$/, { timeout: 150_000 });
  const [, gpu, cpu] = (await badge.getAttribute('data-calibration')).split(' ').map(Number);
  expect(gpu).toBeGreaterThan(0);
  expect(cpu).toBeGreaterThan(0);
  console.log(`calibration on SwiftShader, rng workload: WebGPU ${gpu.toFixed(1)} ms, CPU ${cpu.toFixed(1)} ms per iteration`);
  const faster = gpu < cpu ? 'gpu' : 'cpu';
  if (faster === 'cpu') {
    await expect(badge).toHaveText(/^CPU \(WebGPU slower here: [\d.]+ ms against [\d.]+ ms per rng iteration on .+\)$/);
  } else {
    await expect(badge).toHaveText(/^WebGPU · /);
  }
  await expect(page.locator('main')).toHaveAttribute('data-computed-on', faster, { timeout: 60_000 });
  // The reader's choice still wins over the calibration.
  const forced = faster === 'cpu' ? 'gpu' : 'cpu';
  await page.getByLabel('Compute backend').selectOption(forced);
  await expect(page.locator('main')).toHaveAttribute('data-computed-on', forced, { timeout: 60_000 });
  await context.close();
});

test('the shell fits a 360 px phone without sideways scrolling', async ({ page }, info) => {
  test.skip(info.project.name === 'webgpu', 'URL, storage, layout and embedding do not depend on the backend: the CPU project tests them');
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto('/');
  await expect(page.getByTestId('experiment-card').first()).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  for (const [path, ready] of [
    ['/rng', 'agreement'],
    ['/gumbel', 'estimators'],
    ['/clipping?steps=60&runs=16', 'mc-table'],
  ]) {
    await page.goto(path);
    await expect(page.getByTestId(ready)).toBeVisible({ timeout: 120_000 });
    const overflow2 = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow2, path).toBeLessThanOrEqual(0);
  }
});
