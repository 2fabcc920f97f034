// The tiny-diffusion widget on WebGPU and on the CPU fallback.
import { test, expect } from '@playwright/test';

function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

const step = async (page) => Number(await page.getByTestId('particles').getAttribute('data-step'));

test('particles animate from noise to data on the active backend', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('/diffusion?sampler=ddpm&steps=300&n=4096');
  const canvas = page.getByTestId('particles');
  await expect(canvas).toHaveAttribute('data-points', '4096');
  const where = info.project.name === 'webgpu' ? 'WebGPU' : 'CPU';
  await expect(page.getByTestId('diffusion-backend')).toHaveText(where, { timeout: 30_000 });
  // Frames change while it runs: two snapshots at different steps differ.
  await expect.poll(() => step(page), { timeout: 60_000 }).toBeGreaterThan(2);
  const at = await step(page);
  const first = await canvas.evaluate((c) => c.toDataURL());
  await expect.poll(() => step(page), { timeout: 60_000 }).toBeGreaterThan(at + 10);
  expect(await canvas.evaluate((c) => c.toDataURL())).not.toEqual(first);
  await expect.poll(() => step(page), { timeout: 120_000 }).toBe(300);
  // At the end the samples are close to fresh data (exact mixture score).
  await expect.poll(async () => Number(await page.getByTestId('swd').textContent()), { timeout: 10_000 }).toBeLessThan(0.1);
  await expect(page.getByTestId('nfe')).toHaveText('300');
  expect(errors).toEqual([]);
});

test('pausing stops the run; switching sampler or score restarts cleanly', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/diffusion?steps=400&n=1024&sampler=ddpm');
  await expect.poll(() => step(page), { timeout: 60_000 }).toBeGreaterThan(3);
  await page.getByTestId('play').click();
  // Work in flight (one slice) settles first.
  await page.waitForTimeout(300);
  const paused = await step(page);
  await page.waitForTimeout(600);
  expect(await step(page)).toBe(paused);
  await page.getByTestId('play').click();
  await page.getByTestId('sampler').selectOption('heun');
  await expect(page).toHaveURL(/sampler=heun/);
  // A new run starts from step 0 and advances again.
  await expect.poll(() => step(page), { timeout: 10_000 }).toBeLessThan(paused + 5);
  await page.getByTestId('score').selectOption('gaussian');
  await expect(page).toHaveURL(/score=gaussian/);
  await expect.poll(() => step(page), { timeout: 60_000 }).toBeGreaterThan(3);
  await page.getByTestId('score').selectOption('mlp');
  await expect(page).toHaveURL(/score=mlp/);
  await expect.poll(() => step(page), { timeout: 60_000 }).toBeGreaterThan(3);
  expect(errors).toEqual([]);
});

test('a drawn data set survives a reload, and the URL restores the configuration', async ({ page }, info) => {
  test.skip(info.project.name === 'webgpu', 'URL, storage, layout and embedding do not depend on the backend: the CPU project tests them');
  const errors = watchErrors(page);
  await page.goto('/diffusion?dataset=drawn&score=smoothed&steps=30&n=512&guidance=0&seed=7');
  const canvas = page.getByTestId('particles');
  await expect(page.getByTestId('diffusion-message')).toContainText('draw some points');
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
  await page.mouse.down();
  for (let i = 0; i <= 20; i++) {
    await page.mouse.move(box.x + box.width * (0.3 + 0.02 * i), box.y + box.height * (0.3 + 0.015 * i));
  }
  await page.mouse.up();
  const drawn = Number(await canvas.getAttribute('data-drawn'));
  expect(drawn).toBeGreaterThan(10);
  await expect.poll(() => step(page), { timeout: 60_000 }).toBeGreaterThan(0);
  await page.reload();
  await expect(canvas).toHaveAttribute('data-drawn', String(drawn));
  await expect(page.getByTestId('dataset')).toHaveValue('drawn');
  await expect(page.getByTestId('score')).toHaveValue('smoothed');
  await expect(page.getByTestId('steps')).toHaveValue('30');
  await expect(page.getByTestId('seed')).toHaveValue('7');
  expect(errors).toEqual([]);
});

test('a corrupted stored drawing is reported and kept, never a crash', async ({ page }, info) => {
  test.skip(info.project.name === 'webgpu', 'URL, storage, layout and embedding do not depend on the backend: the CPU project tests them');
  const errors = watchErrors(page);
  await page.goto('/');
  await page.evaluate(() => localStorage.setItem('gradlab.diffusion.drawing.v1', '{"version":9,"points":[[0,0]]}'));
  await page.goto('/diffusion?dataset=drawn');
  await expect(page.getByTestId('drawing-note')).toContainText('version 9');
  expect(await page.evaluate(() => localStorage.getItem('gradlab.diffusion.drawing.v1.unreadable'))).toContain('"version":9');
  expect(errors).toEqual([]);
});

test('a GPU lost mid-run: sampling goes on on the CPU, with the URL intact, and says so', async ({ page }, info) => {
  test.skip(info.project.name !== 'webgpu', 'needs a GPU to lose');
  const errors = watchErrors(page);
  const url = '/diffusion?sampler=ddpm&steps=600&n=2048&seed=3';
  await page.goto(url);
  await expect(page.getByTestId('diffusion-backend')).toHaveText('WebGPU', { timeout: 30_000 });
  await expect.poll(() => step(page), { timeout: 60_000 }).toBeGreaterThan(3);
  expect(await page.evaluate(() => window.wasmBindings.gradlab_lose_gpu())).toBe(true);
  await expect(page.getByTestId('backend-badge')).toContainText('lost', { timeout: 30_000 });
  await expect(page.getByTestId('diffusion-backend')).toHaveText('CPU', { timeout: 30_000 });
  await expect.poll(() => step(page), { timeout: 60_000 }).toBe(600);
  expect(page.url()).toContain('sampler=ddpm&steps=600&n=2048&seed=3');
  await expect(page.getByTestId('sampler')).toHaveValue('ddpm');
  expect(errors.filter((e) => !/lost|destroyed|Device/i.test(e))).toEqual([]);
});

test('a GPU kernel that fails to compile: the widget runs on the CPU and says why', async ({ page }, info) => {
  test.skip(info.project.name !== 'webgpu', 'needs a GPU whose compiler can fail');
  await page.goto('/');
  // The ready badge ("WebGPU · <adapter>"), not "detecting WebGPU…": the device must exist.
  await expect(page.getByTestId('backend-badge')).toHaveText(/^WebGPU · /, { timeout: 30_000 });
  // No kernel has been compiled yet; from now on every shader is broken.
  expect(await page.evaluate(() => window.wasmBindings.gradlab_break_shaders())).toBe(true);
  // Navigate inside the app, so the page (and the broken device) stays.
  await page.locator('[data-testid="experiment-card"][data-id="diffusion"] a').first().click();
  await expect(page).toHaveURL(/\/diffusion/);
  await expect(page.getByTestId('backend-badge')).toContainText('pipeline failed', { timeout: 30_000 });
  await expect(page.getByTestId('diffusion-backend')).toHaveText('CPU', { timeout: 30_000 });
  await expect.poll(() => step(page), { timeout: 60_000 }).toBeGreaterThan(3);
});

test('a dragged mixture component is kept in the browser and comes back on a bare link', async ({ page }, info) => {
  test.skip(info.project.name === 'webgpu', 'URL, storage, layout and embedding do not depend on the backend: the CPU project tests them');
  const errors = watchErrors(page);
  await page.goto('/diffusion?dataset=custom&steps=20&n=256');
  const canvas = page.getByTestId('particles');
  const box = await canvas.boundingBox();
  // The default component at (0, 0.8) sits at x = 50 %, y = (1 − 0.8/2)/2 = 30 %.
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.3);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.4, { steps: 5 });
  await page.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.5, { steps: 5 });
  await page.mouse.up();
  const gmm = () => (new URL(page.url()).searchParams.get('gmm') ?? '').split(',').map(Number);
  await expect.poll(async () => (await gmm())[4], { timeout: 10_000 }).toBeGreaterThan(0.9);
  const moved = await gmm();
  expect(moved.slice(0, 4)).toEqual([-0.8, -0.5, 0.8, -0.5]);
  expect(Math.abs(moved[5])).toBeLessThan(0.05);
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('gradlab.diffusion.drawing.v1')));
  expect(stored.mixture.means[2][0]).toBeCloseTo(moved[4], 5);
  await page.goto('/diffusion?dataset=custom');
  await expect.poll(async () => (await gmm()).join(','), { timeout: 10_000 }).toBe(moved.join(','));
  expect(errors).toEqual([]);
});

test('fewer calls: GE, skipping and teleport restore from the URL; the comparisons and the call strip render', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/diffusion?sampler=ge&ge-gamma=1.5&skip=h3&skip-every=4&protect-first=3&protect-last=2&teleport=0.3&steps=40&n=512&seed=2');
  await expect(page.getByTestId('sampler')).toHaveValue('ge');
  await expect(page.getByTestId('ge-gamma')).toHaveValue('1.5');
  await expect(page.getByTestId('skip')).toHaveValue('h3');
  await expect(page.getByTestId('skip-every')).toHaveValue('4');
  await expect(page.getByTestId('protect-first')).toHaveValue('3');
  await expect(page.getByTestId('protect-last')).toHaveValue('2');
  await expect(page.getByTestId('teleport')).toHaveValue('0.3');
  for (const id of ['particles', 'metrics', 'schedule', 'pareto', 'overlay', 'calls']) {
    await expect(page.locator(`[data-panel="${id}"]`)).toHaveCount(1);
  }
  // The cheaper run of the overlay is the reader's: 12 of 40 steps teleported,
  // then every 4th step predicted outside the protected 3 + 2.
  const strip = page.getByTestId('call-strip');
  // Steps per kind (a box is one step here; at hundreds of steps, a run of equal steps).
  const stepsOf = (kind) => strip.locator(`rect[data-kind="${kind}"]`).evaluateAll(
    (rs) => rs.reduce((n, r) => n + Number(r.getAttribute('data-steps')), 0));
  await expect.poll(() => stepsOf('teleported'), { timeout: 30_000 }).toBe(12);
  await expect(strip.locator('rect[data-kind="teleported"]')).toHaveCount(12);
  expect(await stepsOf('skipped')).toBe(6);
  expect(await stepsOf('real')).toBe(22);
  await expect(page.getByTestId('call-counts')).toContainText('22 real calls and 6 predicted');
  await expect(page.getByTestId('overlay-summary')).toContainText('on average');
  // The Pareto plot fills in as the worker's runs come back.
  await expect(page.locator('[data-panel="pareto"] svg')).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('skip').selectOption('h2');
  await expect(page).toHaveURL(/skip=h2/);
  expect(errors).toEqual([]);
});

test('a hostile fewer-calls link is fixed with named notes and still samples', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/diffusion?sampler=langevin&skip=h2&skip-every=1&sigmas=5,20,0&teleport=-3&ge-gamma=abc&protect-last=1e9&n=256');
  const notes = page.getByTestId('config-notes');
  for (const field of ['skip', 'skip.every', 'sigmas', 'teleport', 'ge.gamma', 'protect.last']) {
    await expect(notes).toContainText(new RegExp(`\`${field}\``));
  }
  await expect(page.getByTestId('skip')).toHaveValue('none');
  await expect.poll(() => step(page), { timeout: 60_000 }).toBeGreaterThan(3);
  expect(errors).toEqual([]);
});
