// The attribution-smoothing widget on WebGPU and on the CPU fallback.
import { test, expect } from '@playwright/test';

function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

// A small grid and few samples keep software WebGPU quick.
const SMALL = 'grid=24&samples=10&steps=300';

async function painted(canvas) {
  return canvas.evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) ink++;
    return ink;
  });
}

test('renders every panel on the active backend', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto(`/saliency?${SMALL}`);
  const where = info.project.name === 'webgpu' ? 'WebGPU' : 'the CPU';
  await expect(page.getByTestId('saliency-meta')).toContainText(`computed on ${where}`, { timeout: 60_000 });
  await expect(page.getByTestId('saliency-meta')).toContainText('trained in the compute worker');
  for (const id of ['field', 'ring', 'noise']) {
    await expect(page.locator(`[data-panel="${id}"]`)).toBeVisible();
  }
  for (const m of ['grad', 'smoothgrad', 'smoothgrad-sq', 'eg', 'uniform']) {
    expect(await painted(page.getByTestId(`field-${m}`))).toBeGreaterThan(500);
  }
  for (const k of [0, 1, 2, 3]) expect(await painted(page.getByTestId(`noise-${k}`))).toBeGreaterThan(500);
  const ring = page.getByTestId('ring');
  const lower = Number(await ring.getAttribute('data-lower'));
  const found = Number(await ring.getAttribute('data-empirical'));
  // The certificate is sound: the exhaustive search never goes below it.
  expect(found).toBeGreaterThanOrEqual(lower);
  await expect(page.getByTestId('ring-summary')).toContainText('exhaustive minimum');
  await expect(page.getByTestId('probe-table')).toContainText('EG completeness');
  expect(errors).toEqual([]);
});

test('the probe drags, and the URL restores it', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto(`/saliency?${SMALL}`);
  await expect(page.getByTestId('saliency-meta')).toContainText('computed on', { timeout: 60_000 });
  const before = await page.getByTestId('ring').getAttribute('data-empirical');
  const canvas = page.getByTestId('field-grad');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  // From the default probe (0.3, 0.4) to the canvas point of (−1, 1).
  const px = (x, y) => [box.x + ((x + 2) / 4) * box.width, box.y + ((2 - y) / 4) * box.height];
  await page.mouse.move(...px(0.3, 0.4));
  await page.mouse.down();
  await page.mouse.move(...px(-0.4, 0.7), { steps: 4 });
  await page.mouse.move(...px(-1, 1), { steps: 4 });
  await page.mouse.up();
  await expect(page).toHaveURL(/at=-[01]\.\d+%2C[01]\.\d+|at=-[01]\.\d+,[01]\.\d+/);
  const probe = (await page.getByTestId('fields').getAttribute('data-probe')).split(',').map(Number);
  expect(Math.abs(probe[0] + 1)).toBeLessThan(0.05);
  expect(Math.abs(probe[1] - 1)).toBeLessThan(0.05);
  await expect(page.getByTestId('saliency-meta')).toContainText('computed on', { timeout: 60_000 });
  await expect(page.getByTestId('ring')).not.toHaveAttribute('data-empirical', before ?? '');
  await page.getByTestId('method').selectOption('uniform');
  await expect(page).toHaveURL(/method=uniform/);
  await page.reload();
  await expect(page.getByTestId('fields')).toHaveAttribute('data-probe', probe.map((v) => v.toFixed(3)).join(','));
  await expect(page.getByTestId('method')).toHaveValue('uniform');
  await expect(page.getByTestId('at')).toHaveValue(probe.map((v) => v.toFixed(3)).join(','));
  expect(errors).toEqual([]);
});

test('a hostile saliency link is fixed with named notes', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/saliency?samples=1e12&grid=1&method=<b>x</b>&sigma=NaN&at=9,9,9&width=1e9');
  const notes = page.getByTestId('config-notes');
  for (const field of ['samples', 'grid', 'method', 'sigma', 'at', 'width']) {
    await expect(notes).toContainText(`\`${field}\``);
  }
  await expect(page.getByTestId('saliency-meta')).toContainText('computed on', { timeout: 60_000 });
  expect(errors).toEqual([]);
});
