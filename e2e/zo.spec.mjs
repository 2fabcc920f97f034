// The gradients-without-backpropagation widget on WebGPU and on the CPU fallback.
import { test, expect } from '@playwright/test';

function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

// Short descents keep software WebGPU quick.
const SMALL = 'steps=30&runs=4';

test('renders both panels on the active backend, and the cloud animates in', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto(`/zo?${SMALL}`);
  const where = info.project.name === 'webgpu' ? 'WebGPU' : 'the CPU';
  await expect(page.getByTestId('zo-point-meta')).toContainText(`on ${where}`, { timeout: 60_000 });
  const cloud = page.getByTestId('zo-cloud');
  await expect(cloud).toHaveAttribute('data-count', '300');
  const r1 = Number(await cloud.getAttribute('data-revealed'));
  await expect.poll(async () => Number(await cloud.getAttribute('data-revealed'))).toBeGreaterThan(r1);
  await expect(cloud).toHaveAttribute('data-revealed', '300', { timeout: 30_000 });
  await expect(page.locator('[data-panel="point"]')).toBeVisible();
  await expect(page.locator('[data-panel="dimension"]')).toBeVisible();
  await expect(page.getByTestId('zo-sweep-meta')).toContainText(`20 descents of 4 runs each on ${where}`, { timeout: 120_000 });
  await expect(page.getByTestId('zo-loss-1024').getByRole('img')).toBeVisible();
  await expect(page.getByTestId('zo-cos-1024').getByRole('img')).toBeVisible({ timeout: 30_000 });
  await expect(page.locator('[data-panel="gfm"]')).toBeVisible();
  await expect(page.getByTestId('zo-gfm-meta')).toContainText('4 runs each, on the CPU', { timeout: 60_000 });
  await expect(page.getByTestId('zo-gfm-meta')).toContainText('GFM⁺');
  expect(errors).toEqual([]);
});

test('dragging the point and choosing an estimator go into the URL, which restores them', async ({ page }, info) => {
  test.skip(info.project.name === 'webgpu', 'URL, storage, layout and embedding do not depend on the backend: the CPU project tests them');
  const errors = watchErrors(page);
  await page.goto(`/zo?${SMALL}&objective=l1`);
  const meta = page.getByTestId('zo-point-meta');
  await expect(meta).toContainText('x = (0.6, -0.4)', { timeout: 60_000 });
  await page.getByTestId('zo-point').scrollIntoViewIfNeeded();
  const box = await page.getByTestId('zo-point').boundingBox();
  // The window is [-1.5, 1.5]²: drag to about (-0.75, 0.75).
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.25, { steps: 4 });
  await page.mouse.up();
  await expect(page).toHaveURL(/at=-0\.7\d?%2C0\.7|at=-0\.7\d?,0\.7/);
  await page.getByTestId('estimator').selectOption('gauss');
  await expect(page).toHaveURL(/estimator=gauss/);
  // (On software WebGPU the first kernels take a while to compile.)
  await expect(meta).toContainText('x = (-0.7', { timeout: 90_000 });
  const text = await meta.textContent();
  await page.reload();
  await expect(page.getByTestId('estimator')).toHaveValue('gauss');
  await expect(page.getByTestId('objective')).toHaveValue('l1');
  await expect(meta).toHaveText(text, { timeout: 60_000 });
  expect(errors).toEqual([]);
});

test('a hostile zo link is fixed with named notes', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/zo?objective=relu&dim=1e12&estimator=<b>x</b>&batch=999&at=NaN,2&steps=-3&runs=4');
  const notes = page.getByTestId('config-notes');
  for (const field of ['dim', 'estimator', 'batch', 'at', 'steps']) {
    await expect(notes).toContainText(`\`${field}\``);
  }
  await expect(page.getByTestId('zo-point-meta')).toBeVisible({ timeout: 60_000 });
  expect(errors).toEqual([]);
});

test('the training race runs live on the CPU, draws four maps and states its verdict', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto(`/zo?${SMALL}&budget=3000`);
  const meta = page.getByTestId('zo-race-meta');
  await expect(meta).toContainText('the race runs on the CPU', { timeout: 60_000 });
  // Live: the curves grow while it races, then it finishes.
  const chart = page.getByTestId('zo-race-chart');
  await expect(chart.getByRole('img')).toBeVisible();
  await expect(meta).toContainText('Finished: 3000 forward passes each', { timeout: 120_000 });
  for (const e of ['backprop', 'fwd', 'guess', 'spsa']) {
    await expect(page.getByTestId(`zo-race-map-${e}`).locator('canvas')).toHaveAttribute('data-drawn', 'true');
    await expect(page.getByTestId(`zo-race-map-${e}`)).toContainText(/\d+ %/);
  }
  await expect(page.getByTestId('zo-race-verdict')).toContainText('Test accuracy over the last quarter of the budget');
  await expect(page.getByTestId('zo-race-verdict')).toContainText(/reproduces here|does not reproduce at this scale/);
  expect(errors).toEqual([]);
});

test('the race animates: its step counts move between frames', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto(`/zo?${SMALL}&budget=60000`);
  const meta = page.getByTestId('zo-race-meta');
  await expect(meta).toContainText('Racing:', { timeout: 60_000 });
  const first = await meta.textContent();
  await expect.poll(async () => meta.textContent(), { timeout: 30_000 }).not.toEqual(first);
  expect(errors).toEqual([]);
});
