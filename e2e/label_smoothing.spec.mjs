// The label-smoothing widget on WebGPU and on the CPU fallback.
import { test, expect } from '@playwright/test';

function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

const trainStep = async (page) => Number(await page.getByTestId('label-smoothing-widget').getAttribute('data-step'));
const snapStep = async (page) => Number(await page.getByTestId('ls-metrics').getAttribute('data-step'));

test('three models train live and every panel updates on the active backend', async ({ page }, info) => {
  const errors = watchErrors(page);
  // Every ECE read-out the metrics table shows, in order.
  await page.addInitScript(() => {
    window.__eces = [];
    new MutationObserver(() => {
      const v = document.querySelector('[data-testid="ls-metrics"]')?.getAttribute('data-ece');
      if (v && window.__eces[window.__eces.length - 1] !== v) window.__eces.push(v);
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ece'], childList: true });
  });
  // Software WebGPU (SwiftShader) is slow: fewer, smaller steps there.
  const steps = info.project.name === 'webgpu' ? 40 : 300;
  await page.goto(`/label-smoothing?steps=${steps}&hidden=32,32&test=768`);
  const where = info.project.name === 'webgpu' ? 'WebGPU' : 'CPU';
  await expect(page.getByTestId('ls-backend')).toHaveText(where, { timeout: 30_000 });
  await expect(page.getByTestId('ls-row')).toHaveCount(3, { timeout: 30_000 });
  // Snapshots arrive while training runs: the ECE read-out changes over time.
  await expect.poll(() => snapStep(page), { timeout: 60_000 }).toBe(steps);
  expect(new Set(await page.evaluate(() => window.__eces)).size).toBeGreaterThan(1);
  await expect(page.getByTestId('ls-state')).toHaveText('finished', { timeout: 30_000 });
  // Every panel shows the last step.
  await expect(page.getByTestId('reliability')).toHaveAttribute('data-step', String(steps));
  await expect(page.getByTestId('risk-coverage')).toHaveAttribute('data-step', String(steps));
  await expect(page.getByTestId('reliability').locator('svg polyline')).toHaveCount(4);
  await expect(page.getByTestId('risk-coverage').locator('svg polyline')).toHaveCount(6);
  for (const id of ['regions', 'clusters']) {
    const canvases = page.getByTestId(id);
    await expect(canvases).toHaveCount(3);
    for (let i = 0; i < 3; i++) {
      await expect(canvases.nth(i)).toHaveAttribute('data-step', String(steps), { timeout: 30_000 });
      // Something was drawn: the canvas is not blank.
      const painted = await canvases.nth(i).evaluate((c) => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let j = 3; j < d.length; j += 4) if (d[j] > 0) n++;
        return n;
      });
      expect(painted).toBeGreaterThan(500);
    }
  }
  // The logit view: three models, three bar charts each, and a new example on "next".
  const logits = page.getByTestId('logit-view');
  await expect(logits.locator('.ls-model')).toHaveCount(3);
  await expect(logits.locator('figure')).toHaveCount(9);
  await page.getByTestId('example-next').click();
  await expect(logits).toHaveAttribute('data-example', '1');
  await page.getByTestId('example-wrong').click();
  await expect(logits).not.toHaveAttribute('data-example', '1');
  await expect(page.getByTestId('finding')).toHaveCount(3);
  // The export JSON is the CLI's report.
  const href = await page.getByTestId('export-json').getAttribute('href');
  const report = JSON.parse(decodeURIComponent(href.split(',')[1]));
  expect(report.backend).toBe(info.project.name === 'webgpu' ? 'gpu' : 'cpu');
  expect(report.models.map((m) => m.name)).toEqual(['hard', 'smoothed', 'maxsup']);
  expect(errors).toEqual([]);
});

test('pausing stops the work', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/label-smoothing?steps=100000&hidden=16&test=256');
  await expect.poll(() => trainStep(page), { timeout: 60_000 }).toBeGreaterThan(5);
  await page.getByTestId('play').click();
  await expect(page.getByTestId('ls-state')).toHaveText('paused');
  // Work in flight settles first.
  await page.waitForTimeout(300);
  const paused = await trainStep(page);
  const snapped = await snapStep(page);
  await page.waitForTimeout(600);
  expect(await trainStep(page)).toBe(paused);
  expect(await snapStep(page)).toBe(snapped);
  await page.getByTestId('play').click();
  await expect.poll(() => trainStep(page), { timeout: 30_000 }).toBeGreaterThan(paused);
  expect(errors).toEqual([]);
});

test('the URL restores the configuration after a reload', async ({ page }, info) => {
  test.skip(info.project.name === 'webgpu', 'URL, storage, layout and embedding do not depend on the backend: the CPU project tests them');
  const errors = watchErrors(page);
  await page.goto('/label-smoothing?steps=300');
  await page.getByTestId('dataset').selectOption('moons');
  await expect(page).toHaveURL(/dataset=moons/);
  await page.getByTestId('smoothing').fill('0.35');
  await page.getByTestId('smoothing').dispatchEvent('change');
  await expect(page).toHaveURL(/smoothing=0.35/);
  await expect(page.getByTestId('off-default-note')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('dataset')).toHaveValue('moons');
  await expect(page.getByTestId('smoothing')).toHaveValue('0.35');
  await expect(page.getByTestId('steps')).toHaveValue('300');
  // Two classes: no cluster plane, a note instead; the rest still trains.
  await expect(page.getByTestId('clusters')).toHaveCount(0);
  await expect.poll(() => snapStep(page), { timeout: 60_000 }).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});

test('a hostile link shows named notes and still renders', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/label-smoothing?smoothing=NaN&steps=1e30&hidden=0,999');
  const notes = page.getByTestId('config-notes');
  await expect(notes).toContainText('smoothing');
  await expect(notes).toContainText('steps');
  await expect(notes).toContainText('hidden');
  await expect.poll(() => trainStep(page), { timeout: 60_000 }).toBeGreaterThan(0);
  await expect(page.getByTestId('regions')).toHaveCount(3);
  await expect(page.getByTestId('ls-row')).toHaveCount(3);
  expect(errors).toEqual([]);
});
