// The Gumbel-Softmax widget on WebGPU and on the CPU fallback.
import { test, expect } from '@playwright/test';

function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

test('renders every panel, with estimates from the active backend', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('/gumbel');
  await expect(page.getByTestId('estimators')).toBeVisible();
  // The simplex panel is drawn at the default K = 4 too (corners on a square).
  await expect(page.getByTestId('simplex')).toHaveAttribute('data-points', '1500', { timeout: 30_000 });
  await expect(page.getByRole('img', { name: /projected onto its 4 corners/ })).toBeVisible();
  const where = info.project.name === 'webgpu' ? 'WebGPU' : 'the CPU';
  await expect(page.getByTestId('estimates-meta')).toContainText(`on ${where}`);
  await expect(page.getByTestId('sweep-meta')).toContainText(`on ${where}`, { timeout: 120_000 });
  if (info.project.name === 'webgpu') {
    await expect(page.getByTestId('sweep-meta')).toContainText('1048576 samples per τ');
  }
  await expect(page.getByRole('img', { name: 'Bias' })).toBeVisible();
  await expect(page.getByRole('img', { name: /steps, lr/ })).toBeVisible();
  // The exact row is p ⊙ (w − Σ p w) for the default config: −0.2874 for θ1.
  await expect(page.getByTestId('estimators')).toContainText('-0.2874');
  expect(errors).toEqual([]);
});

test('moving τ changes the simplex plot, and the URL keeps it across a reload', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/gumbel?logits=0.5,1,-1&weights=1,2,3&tau=2');
  const simplex = page.getByTestId('simplex');
  await expect(simplex).toHaveAttribute('data-points', '1500', { timeout: 30_000 });
  // At τ = 2 the relaxed samples sit inside the simplex: mean largest coordinate well below 1.
  const sharp = async () => Number(await simplex.getAttribute('data-sharpness'));
  expect(await sharp()).toBeLessThan(0.7);
  const before = await simplex.evaluate((c) => c.toDataURL());
  await page.getByTestId('tau').fill('0');
  await expect(page).toHaveURL(/tau=0\.05/);
  // After a full refresh of the 1,500 recent samples at τ = 0.05 they sit on the corners.
  await expect.poll(sharp, { timeout: 30_000 }).toBeGreaterThan(0.97);
  const after = await simplex.evaluate((c) => c.toDataURL());
  expect(after).not.toEqual(before);
  await page.getByLabel('weight 2').fill('-3');
  await page.getByLabel('weight 2').press('Enter');
  await expect(page).toHaveURL(/weights=1,-3,3/);
  await page.reload();
  await expect(page.getByLabel('weight 2')).toHaveValue('-3');
  await expect(page.getByText('τ = 0.05', { exact: true }).first()).toBeVisible();
  expect(errors).toEqual([]);
});

test('dragging a logit bar changes that logit in the URL', async ({ page }) => {
  await page.goto('/gumbel');
  const bars = page.getByTestId('logit-bars');
  const box = await bars.boundingBox();
  // Category 1 of 4 is the first quarter; drag it to the top (θ = +5).
  const x = box.x + box.width * 0.125;
  await page.mouse.move(x, box.y + box.height * 0.5);
  await page.mouse.down();
  await page.mouse.move(x, box.y + box.height * 0.3, { steps: 4 });
  await page.mouse.move(x, box.y + 2, { steps: 4 });
  await page.mouse.up();
  await expect(page).toHaveURL(/logits=5,1,-1,2/);
  await expect(page.getByLabel('logit 1')).toHaveValue('5');
});

test('a hostile Gumbel link is fixed with named notes and still renders', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/gumbel?logits=1e99,NaN,2&weights=1&tau=-4&samples=1e30&steps=0&objective=cubic&batch=1');
  const notes = page.getByTestId('config-notes');
  for (const field of ['logits', 'weights', 'tau', 'samples', 'steps', 'objective', 'batch']) {
    await expect(notes).toContainText(`\`${field}\``);
  }
  await expect(page.getByTestId('estimators')).toBeVisible();
  // Leave no 2^20-sample sweep running on a software GPU for the next test.
  await expect(page.getByTestId('sweep-meta')).toBeVisible({ timeout: 120_000 });
  expect(errors).toEqual([]);
});

test('copy link, open it elsewhere: same controls and same numbers; reset and export', async ({ page, context }) => {
  const errors = watchErrors(page);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto('/gumbel?logits=1,0,-1&weights=3,1,2&tau=0.2&samples=50000&seed=5');
  const table = page.getByTestId('estimators');
  // (A software GPU may still be busy with an earlier page's work: generous timeout.)
  await expect(page.getByTestId('estimates-meta')).toContainText('50000 samples', { timeout: 120_000 });
  const numbers = await table.textContent();
  await page.getByTestId('copy-link').click();
  await expect(page.getByRole('status').filter({ hasText: /Link copied|Copy this link/ })).toBeVisible();
  const link = await page.evaluate(() => navigator.clipboard.readText().catch(() => location.href));
  const other = await context.newPage();
  await other.goto(link);
  await expect(other.getByLabel('weight 1')).toHaveValue('3');
  await expect(other.getByTestId('estimates-meta')).toContainText('50000 samples');
  await expect(other.getByTestId('estimators')).toHaveText(numbers);
  // Export: the CLI's JSON for this view.
  const href = await page.getByTestId('export-json').getAttribute('href');
  const json = JSON.parse(decodeURIComponent(href.replace(/^data:application\/json;charset=utf-8,/, '')));
  expect(Object.keys(json.grad)).toEqual(['exact', 'reinforce', 'reinforce_baseline', 'reinforce_loo', 'gumbel_softmax', 'straight_through']);
  await page.getByTestId('reset').click();
  await expect(page).toHaveURL(/logits=0.5,1,-1,2/);
  await expect(page.getByLabel('weight 1')).toHaveValue('1');
  expect(errors).toEqual([]);
});

test('straight-through differs from Gumbel-Softmax under the quadratic objective, equals it under the linear', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/gumbel?samples=20000');
  const table = page.getByTestId('estimators');
  const row = (name) => table.locator('tr', { hasText: name }).locator('td');
  const cells = async (name) => (await row(name).allTextContents()).join(' | ');
  await expect(page.getByTestId('estimates-meta')).toContainText('quadratic objective', { timeout: 120_000 });
  await expect(table.locator('tr', { hasText: 'leave-one-out (RLOO)' })).toBeVisible();
  await expect(table.locator('tr', { hasText: 'oracle baseline' })).toBeVisible();
  expect(await cells('Straight-through')).not.toEqual(await cells('Gumbel-Softmax'));
  await page.getByTestId('objective').selectOption('linear');
  await expect(page).toHaveURL(/objective=linear/);
  await expect(page.getByTestId('estimates-meta')).toContainText('linear objective');
  expect(await cells('Straight-through')).toEqual(await cells('Gumbel-Softmax'));
  expect(errors).toEqual([]);
});
