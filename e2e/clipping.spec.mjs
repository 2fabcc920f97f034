// The clipping-vs-median widget on WebGPU and on the CPU fallback.
import { test, expect } from '@playwright/test';

function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

// A small Monte Carlo keeps software WebGPU quick.
const SMALL = 'steps=120&runs=64';

test('renders, animates, and runs the Monte Carlo on the active backend', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto(`/clipping?${SMALL}`);
  const where = info.project.name === 'webgpu' ? 'WebGPU' : 'the CPU';
  await expect(page.getByTestId('mc-meta')).toContainText(`on ${where}`, { timeout: 120_000 });
  if (info.project.name === 'webgpu') {
    await expect(page.getByTestId('mc-meta')).toContainText('64 runs per estimator on WebGPU');
  }
  await expect(page.getByTestId('mc-table')).toContainText('geometric median');
  // The trajectories animate: the frame counter advances and the canvas changes.
  const contours = page.getByTestId('contours');
  const f1 = Number(await contours.getAttribute('data-frame'));
  const img1 = await contours.evaluate((c) => c.toDataURL());
  await page.getByRole('button', { name: 'Replay' }).click();
  await page.waitForTimeout(600);
  const f2 = Number(await contours.getAttribute('data-frame'));
  const img2 = await contours.evaluate((c) => c.toDataURL());
  expect(f2 === f1 && img2 === img1).toBe(false);
  expect(errors).toEqual([]);
});

test('changing the noise changes the plots, and the URL restores the configuration', async ({ page }, info) => {
  test.skip(info.project.name === 'webgpu', 'URL, storage, layout and embedding do not depend on the backend: the CPU project tests them');
  const errors = watchErrors(page);
  await page.goto(`/clipping?${SMALL}`);
  await expect(page.getByTestId('mc-table')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('mc-pending')).toHaveCount(0, { timeout: 120_000 });
  const before = await page.getByTestId('mc-table').textContent();
  await page.getByTestId('noise').selectOption('gaussian');
  await expect(page).toHaveURL(/noise=gaussian/);
  await expect(page.getByText('gaussian noise, 20,000 draws')).toBeVisible();
  await expect(page.getByTestId('mc-pending')).toHaveCount(0, { timeout: 120_000 });
  await expect(page.getByTestId('mc-table')).not.toHaveText(before);
  await page.getByTestId('batch').fill('16');
  await page.getByTestId('batch').press('Enter');
  await expect(page).toHaveURL(/batch=16/);
  await page.reload();
  await expect(page.getByTestId('noise')).toHaveValue('gaussian');
  await expect(page.getByTestId('batch')).toHaveValue('16');
  expect(errors).toEqual([]);
});

test('a hostile clipping link is fixed with named notes', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/clipping?runs=1e12&steps=-3&noise=<b>x</b>&threshold=NaN&batch=999');
  const notes = page.getByTestId('config-notes');
  for (const field of ['runs', 'steps', 'noise', 'threshold', 'batch']) {
    await expect(notes).toContainText(`\`${field}\``);
  }
  expect(errors).toEqual([]);
});

test('a divergent learning rate is named as diverged, not drawn as if it converged', async ({ page }) => {
  await page.goto('/clipping?objective=rosenbrock&lr=1&steps=200&runs=8');
  await expect(page.getByTestId('diverged')).toContainText('mean (SGD)', { timeout: 60_000 });
  await page.goto('/clipping?steps=200&runs=8');
  await expect(page.getByTestId('mc-table')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('diverged')).toHaveCount(0);
});
