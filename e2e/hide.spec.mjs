// Embeds can leave controls out, as TensorFlow Playground's do: ?hide=tau,seed
// or ?hide=controls; unknown names are ignored with a note, never a crash;
// embed.js takes the same list as a hide="…" attribute; controls= is the
// allow-list form.
import { test, expect } from '@playwright/test';

test('hide= removes the named controls and notes unknown names', async ({ page }, info) => {
  test.skip(info.project.name === 'webgpu', 'URL, storage, layout and embedding do not depend on the backend: the CPU project tests them');
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('/embed/gumbel?samples=10000&hide=tau,seed,nonsense');
  await expect(page.getByTestId('gumbel-widget')).toBeVisible();
  await expect(page.getByTestId('tau')).toBeHidden();
  await expect(page.getByLabel('seed', { exact: true })).toBeHidden();
  await expect(page.getByLabel('learning rate')).toBeVisible();
  await expect(page.getByLabel('weight 1')).toBeVisible();
  await expect(page.getByTestId('config-notes')).toContainText('"nonsense"');
  await expect(page.getByTestId('config-notes')).not.toContainText('"tau"');
  await expect(page.getByTestId('estimators')).toBeVisible({ timeout: 60_000 });
  // Changing a shown control keeps the hide list in the URL.
  await page.getByLabel('learning rate').fill('0.2');
  await page.getByLabel('learning rate').press('Enter');
  await expect(page).toHaveURL(/lr=0\.2/);
  await expect(page).toHaveURL(/hide=tau%2Cseed%2Cnonsense|hide=tau,seed,nonsense/);
  await expect(page.getByTestId('tau')).toBeHidden();

  await page.goto('/embed/clipping?steps=40&runs=8&hide=controls,share,backend');
  await expect(page.getByTestId('clipping-widget')).toBeVisible();
  for (const id of ['threshold', 'noise', 'seed', 'copy-link']) await expect(page.getByTestId(id)).toBeHidden();
  await expect(page.getByLabel('Compute backend')).toBeHidden();
  await expect(page.getByTestId('config-notes')).toHaveCount(0);
  await expect(page.getByTestId('mc-table')).toBeVisible({ timeout: 60_000 });

  await page.goto('/rng?count=1024&hide=seed');
  await expect(page.getByTestId('seed')).toBeHidden();
  await expect(page.getByLabel('Number of draws (log scale)')).toBeVisible();
  expect(errors).toEqual([]);
});

test('embed.js passes a hide="…" attribute on to the embed', async ({ page }) => {
  await page.goto('/embed-demo.html');
  await page.evaluate(() => {
    const el = document.createElement('gradlab-widget');
    el.setAttribute('experiment', 'gumbel');
    el.setAttribute('config', 'samples=10000');
    el.setAttribute('hide', 'tau');
    el.id = 'hidden-tau';
    document.body.prepend(el);
  });
  const iframe = page.locator('#hidden-tau iframe');
  await expect(iframe).toHaveAttribute('src', /\/embed\/gumbel\?samples=10000&hide=tau$/);
  const inner = iframe.contentFrame();
  await expect(inner.getByTestId('gumbel-widget')).toBeVisible({ timeout: 60_000 });
  await expect(inner.getByTestId('tau')).toBeHidden();
  await expect(inner.getByLabel('learning rate')).toBeVisible();
});

test('controls= is the allow-list form of hide=: only the named controls, the share bar only if named', async ({ page }, info) => {
  test.skip(info.project.name !== 'cpu', 'the controls shown do not depend on the backend');
  await page.goto('/embed/gumbel?samples=10000&controls=tau,share');
  await expect(page.getByTestId('gumbel-widget')).toBeVisible();
  await expect(page.getByTestId('tau')).toBeVisible();
  await expect(page.getByTestId('copy-link')).toBeVisible();
  await expect(page.getByLabel('learning rate')).toBeHidden();
  await expect(page.getByLabel('seed', { exact: true })).toBeHidden();
  await expect(page.getByLabel('Compute backend')).toBeHidden();
  await page.goto('/embed/gumbel?samples=10000&controls=lr');
  await expect(page.getByLabel('learning rate')).toBeVisible();
  await expect(page.getByTestId('tau')).toBeHidden();
  await expect(page.getByTestId('copy-link')).toBeHidden();
});
