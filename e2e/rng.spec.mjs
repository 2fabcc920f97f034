// The RNG widget: same numbers on WebGPU and on the CPU, in a real browser.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';

test('WebGPU draws equal the wasm CPU draws bit for bit', async ({ page }, info) => {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('/rng?seed=7&stream=3&count=65536');
  const agreement = page.getByTestId('agreement');
  if (info.project.name === 'webgpu') {
    await expect(agreement).toHaveAttribute('data-count', '65536');
    await expect(agreement).toHaveAttribute('data-identical', '65536');
    await expect(agreement).toContainText('CPU = GPU');
    await expect(page.getByTestId('computed-on')).toContainText('on WebGPU');
  } else {
    await expect(agreement).toContainText('needs WebGPU');
    await expect(page.getByTestId('computed-on')).toContainText('on the CPU');
  }
  await expect(page.getByRole('img', { name: /Normal \(0, 1\)/ })).toBeVisible();
  expect(errors).toEqual([]);
});

/** The first six words of (seed, stream) from the CLI built by `cargo test`. */
function cliWords(seed, stream = 0) {
  const out = execFileSync(
    'target/debug/gradlab',
    ['rng', '--seed', String(seed), '--stream', String(stream), '--count', '6'],
    { encoding: 'utf8' },
  );
  return JSON.parse(out).u32.map((w) => w.toString(16).padStart(8, '0')).join(' ');
}

test('the page draws the same words as the native CLI', async ({ page }) => {
  await page.goto('/rng?seed=1&stream=5&count=1024');
  await expect(page.getByTestId('computed-on')).toContainText(`First words: ${cliWords(1, 5)}`);
});

test('controls write the URL, and a reload shows the same view', async ({ page }) => {
  await page.goto('/rng');
  await page.getByTestId('seed').fill('12345');
  await page.getByTestId('seed').press('Enter');
  await expect(page).toHaveURL(/seed=12345/);
  const words = `First words: ${cliWords(12345)}`;
  await expect(page.getByTestId('computed-on')).toContainText(words);
  await page.reload();
  await expect(page.getByTestId('seed')).toHaveValue('12345');
  await expect(page.getByTestId('computed-on')).toContainText(words);
  await page.getByRole('button', { name: 'Reset' }).click();
  await expect(page.getByTestId('seed')).toHaveValue('1');
  await expect(page.getByTestId('computed-on')).toContainText(`First words: ${cliWords(1)}`);
});

test('a hostile link is clamped with a named message, and no script runs', async ({ page }) => {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.addInitScript(() => { window.__pwned = false; });
  const hostile = encodeURIComponent('<img src=x onerror="window.__pwned=true">');
  await page.goto(`/rng?count=1e99&seed=NaN&stream=${hostile}&count=-5&zzz=${'a'.repeat(10000)}`);
  const notes = page.getByTestId('config-notes');
  await expect(notes).toContainText('`count`');
  await expect(notes).toContainText('`seed`');
  await expect(notes).toContainText('`stream`');
  await expect(notes).toContainText('`zzz`');
  await expect(page.getByTestId('agreement')).toBeVisible();
  expect(await page.evaluate(() => window.__pwned)).toBe(false);
  expect(errors).toEqual([]);
});

test('losing the GPU mid-session falls back to the CPU and says so', async ({ page }, info) => {
  test.skip(info.project.name !== 'webgpu', 'needs a GPU to lose');
  await page.goto('/rng?seed=3&count=4096');
  await expect(page.getByTestId('computed-on')).toContainText('on WebGPU');
  const url = page.url();
  expect(await page.evaluate(() => window.wasmBindings.gradlab_lose_gpu())).toBe(true);
  await expect(page.getByTestId('backend-badge')).toContainText('lost');
  await page.getByTestId('seed').fill('4');
  await page.getByTestId('seed').press('Enter');
  await expect(page.getByTestId('computed-on')).toContainText('on the CPU');
  expect(page.url()).toContain('count=4096');
  expect(url).toContain('count=4096');
});

test('every GPU kernel agrees with its CPU twin in this browser', async ({ page }, info) => {
  test.skip(info.project.name !== 'webgpu', 'needs WebGPU');
  await page.goto('/selftest');
  const status = page.getByTestId('selftest-status');
  await expect(status).toHaveAttribute('data-pass', /true|false/, { timeout: 120_000 });
  const rows = await page.getByTestId('selftest-row').allTextContents();
  console.log(rows.join('\n'));
  expect(rows.length).toBeGreaterThanOrEqual(4);
  await expect(status).toHaveAttribute('data-pass', 'true');
});
