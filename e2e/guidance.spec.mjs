// The guidance widget (CFG-DDIM, CFG-DDPM, PCG against the tilted target) on
// WebGPU and on the CPU fallback.
import { test, expect } from '@playwright/test';

function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

// Few particles and steps keep software WebGPU quick.
const SMALL = 'n=512&steps=50';

test('renders every panel from the active backend', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto(`/guidance?${SMALL}`);
  const where = info.project.name === 'webgpu' ? 'WebGPU' : 'the CPU';
  await expect(page.getByTestId('samples-meta')).toContainText(`on ${where}`, { timeout: 60_000 });
  for (const s of ['ddim', 'ddpm', 'pcg']) {
    await expect(page.getByTestId(`cloud-${s}`).locator('g.dots')).toHaveAttribute('data-points', '512');
  }
  // The tilted target's contours are drawn under the clouds.
  expect(Number(await page.getByTestId('cloud-ddim').locator('g.contours').getAttribute('data-cells'))).toBeGreaterThan(10);
  await expect(page.getByTestId('moments-table')).toContainText('tilted target');
  await expect(page.getByTestId('diversity')).toContainText('DDPM');
  await expect(page.getByRole('img', { name: /Sliced Wasserstein/ })).toBeVisible({ timeout: 60_000 });
  for (const id of ['samples', 'distance', 'moments', 'cads']) {
    await expect(page.locator(`[data-panel="${id}"]`)).toBeVisible();
  }
  expect(errors).toEqual([]);
});

test('the w slider updates every panel, and the URL restores it', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto(`/guidance?${SMALL}&w=3`);
  const table = page.getByTestId('moments-table');
  await expect(table).toContainText('tilted target', { timeout: 60_000 });
  const marker = page.locator('[data-panel="distance"] line.marker');
  await expect(marker).toHaveCount(1, { timeout: 60_000 });
  const before = {
    table: await table.textContent(),
    diversity: await page.getByTestId('diversity').textContent(),
    meta: await page.getByTestId('samples-meta').textContent(),
    marker: await marker.getAttribute('x1'),
  };
  await page.getByTestId('w').fill('1');
  await expect(page).toHaveURL(/w=1(&|$)/);
  await expect(page.getByTestId('samples-meta')).toContainText('w = 1,', { timeout: 60_000 });
  await expect(table).not.toHaveText(before.table);
  await expect(page.getByTestId('diversity')).not.toHaveText(before.diversity);
  await expect(marker).not.toHaveAttribute('x1', before.marker);
  await page.getByTestId('w-schedule').selectOption('cosine');
  await expect(page).toHaveURL(/w-schedule=cosine/);
  await page.reload();
  await expect(page.getByTestId('w')).toHaveValue('1');
  await expect(page.getByTestId('w-schedule')).toHaveValue('cosine');
  await expect(page.getByTestId('samples-meta')).toContainText('cosine schedule', { timeout: 60_000 });
  expect(errors).toEqual([]);
});

test('a hostile guidance link is fixed with named notes', async ({ page }) => {
  const errors = watchErrors(page);
  // On the CPU (backend=cpu), where the page bounds the clamped maxima: on
  // software WebGPU they would queue minutes of work in the browser's shared
  // GPU process, which would outlive this page and stall the next spec.
  await page.goto('/guidance?w=NaN&n=1e12&steps=-4&sampler=<b>x</b>&dataset=gmm8&class=99&cond-mean=1,2,3&backend=cpu');
  const notes = page.getByTestId('config-notes');
  for (const field of ['w', 'n', 'sampler', 'class', 'cond-mean', 'steps']) {
    await expect(notes).toContainText(`\`${field}\``);
  }
  await expect(page.getByTestId('guidance-widget')).toBeVisible();
  expect(errors).toEqual([]);
});
