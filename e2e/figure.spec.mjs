// Figure embeds: /embed/<id>?panels=<panel>&controls=<key> shows one figure
// of a widget, compact, for a blog post's column. Iterates the registry
// (experiments.json): every experiment, every panel id.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { EXPERIMENTS } from './registry.mjs';

// The figure must fit a blog column: under this height at 700 px wide.
const MAX_HEIGHT = 900;
// Every figure's height, kept across the spec's workers: e2e/results/figures.json.
const RESULTS = 'e2e/results/figures.json';
const record = (id, measured) => {
  mkdirSync('e2e/results', { recursive: true });
  const kept = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : [];
  const all = [...kept.filter((r) => !r.figure.startsWith(`${id}/`)), ...measured];
  all.sort((a, b) => b.height - a.height);
  writeFileSync(RESULTS, `${JSON.stringify(all, null, 1)}\n`);
  console.log(`tallest figure at 700 px so far: ${all[0].figure} ${all[0].height} px`);
};

const watchErrors = (page) => {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return errors;
};

test.describe('every panel of every experiment embeds alone', () => {
  for (const e of EXPERIMENTS) {
    test(`${e.id}: each panel alone, under ${MAX_HEIGHT} px at 700 px, no sideways scroll at 320 px`, async ({ page }, info) => {
      // One project is enough for layout: the CPU fallback (no WebGPU).
      test.skip(info.project.name !== 'cpu', 'layout: CPU project only');
      test.setTimeout(30_000 + 15_000 * e.panels.length);
      const errors = watchErrors(page);
      const heights = [];
      // The widget's page draws exactly the panels the registry lists, in its order.
      await page.goto(`/${e.id}`);
      await expect
        .poll(() => page.locator('[data-panel]').evaluateAll((els) => els.map((el) => el.dataset.panel).sort()), { timeout: 30_000 })
        .toEqual(e.panels.map((p) => p.id).sort());
      await page.setViewportSize({ width: 700, height: 800 });
      for (const panel of e.panels) {
        await page.goto(`/embed/${e.id}?panels=${panel.id}`);
        await expect(page.locator(`[data-panel="${panel.id}"]`)).toBeVisible({ timeout: 30_000 });
        await expect(page.locator('[data-panel]')).toHaveCount(1);
        await expect(page.getByTestId('figure-caption')).toContainText(panel.title);
        await expect(page.getByTestId('figure-notes')).toHaveCount(0);
        // No page header, no share bar, no other panel's heading.
        await expect(page.locator('header.site')).toHaveCount(0);
        await expect(page.getByTestId('copy-link')).toBeHidden();
        // Let it draw (live panels animate; their height does not depend on it).
        await page.waitForTimeout(1500);
        const h = await page.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height));
        heights.push({ figure: `${e.id}/${panel.id}`, height: h });
        expect.soft(h, `${e.id}/${panel.id} is ${h} px tall at 700 px`).toBeLessThan(MAX_HEIGHT);
        await page.setViewportSize({ width: 320, height: 800 });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect.soft(overflow, `${e.id}/${panel.id} scrolls sideways at 320 px`).toBeLessThanOrEqual(0);
        await page.setViewportSize({ width: 700, height: 800 });
      }
      record(e.id, heights);
      expect(errors).toEqual([]);
    });
  }
});

test('a figure embed computes only what its panel needs', async ({ page }) => {
  // The schedule plot needs no particles; the logits panel no Monte Carlo.
  for (const [id, panel] of [['diffusion', 'schedule'], ['gumbel', 'logits']]) {
    await page.goto(`/embed/${id}?panels=${panel}`);
    await expect(page.locator(`[data-panel="${panel}"]`)).toBeVisible();
    await page.waitForTimeout(2500);
    // Every run records where it computed on <main>; nothing ran here.
    await expect(page.locator('main')).not.toHaveAttribute('data-computed-on', /./);
  }
  // While the full widget does compute.
  await page.goto('/embed/gumbel?panels=estimators&samples=20000');
  await expect(page.locator('main')).toHaveAttribute('data-computed-on', /cpu|gpu/, { timeout: 60_000 });
});

test('an unknown panel gets a named note and the default figure; unknown controls are named', async ({ page }) => {
  const errors = watchErrors(page);
  const gumbel = EXPERIMENTS.find((e) => e.id === 'gumbel');
  await page.goto('/embed/gumbel?panels=nope,%3Cimg%3E&controls=tau,bogus');
  const notes = page.getByTestId('figure-notes');
  await expect(notes).toContainText('no panel named "nope"');
  await expect(notes).toContainText('no control named "bogus"');
  await expect(page.locator(`[data-panel="${gumbel.panels[0].id}"]`)).toBeVisible();
  await expect(page.locator('[data-panel]')).toHaveCount(1);
  await expect(page.locator('img')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('the custom element shows only the chosen panel and control; the control works; the height follows', async ({ page }, info) => {
  test.skip(info.project.name === 'webgpu', 'URL, storage, layout and embedding do not depend on the backend: the CPU project tests them');
  const errors = watchErrors(page);
  await page.setViewportSize({ width: 700, height: 900 });
  await page.goto('/embed-demo.html');
  await page.evaluate(() => {
    const el = document.createElement('gradlab-widget');
    el.setAttribute('experiment', 'gumbel');
    el.setAttribute('panels', 'bias-variance');
    el.setAttribute('controls', 'tau');
    el.setAttribute('config', 'tau=0.5&samples=20000');
    el.id = 'fig';
    document.body.prepend(el);
  });
  const frame = page.locator('#fig iframe');
  await expect(frame).toHaveAttribute('src', /panels=bias-variance/);
  const inner = frame.contentFrame();
  await expect(inner.locator('[data-panel="bias-variance"]')).toBeVisible({ timeout: 60_000 });
  await expect(inner.locator('[data-panel]')).toHaveCount(1);
  // The sweep's plots have arrived (until then the panel is one short line),
  // so the heights below are the figure's own, not a redraw in progress.
  await expect(inner.getByRole('img', { name: 'Bias', exact: true })).toBeVisible({ timeout: 60_000 });
  const strip = inner.getByTestId('figure-controls');
  await expect(strip.locator('input, select')).toHaveCount(1);
  await expect(strip).toContainText('tau = 0.5');
  // The control works: it sets τ in the embed's URL and the figure redraws at it.
  const slider = strip.getByTestId('tau');
  await slider.focus();
  await slider.press('End');
  await expect(strip).toContainText('tau = 10');
  await expect.poll(() => inner.locator('body').evaluate(() => location.search)).toMatch(/tau=10\b/);
  // The frame is as tall as its content, and follows it both ways.
  const fits = async () => {
    const box = await frame.boundingBox();
    const h = await inner.locator('html').evaluate((el) => Math.ceil(el.getBoundingClientRect().height));
    return Math.abs(h - box.height);
  };
  await expect.poll(fits, { timeout: 30_000 }).toBeLessThanOrEqual(2);
  const before = (await frame.boundingBox()).height;
  await inner.locator('body').evaluate(() => {
    const tall = document.createElement('div');
    tall.id = 'tall';
    tall.style.height = '400px';
    document.querySelector('main').append(tall);
  });
  await expect.poll(async () => (await frame.boundingBox()).height).toBeGreaterThan(before + 350);
  // Measured from the grown height, not from `before`: the figure may still
  // be redrawing at τ = 10 (under load), which moves both by the same amount.
  const grown = (await frame.boundingBox()).height;
  await inner.locator('#tall').evaluate((el) => el.remove());
  await expect.poll(async () => (await frame.boundingBox()).height).toBeLessThan(grown - 350);
  await expect.poll(fits, { timeout: 30_000 }).toBeLessThanOrEqual(2);
  expect(errors).toEqual([]);
});

test('"embed this figure" opens the Embed dialog with that panel, and the snippet follows the picks', async ({ page }, info) => {
  test.skip(info.project.name !== 'cpu', 'the dialog does not depend on the backend');
  await page.goto('/gumbel?tau=0.3&samples=20000');
  const panel = page.locator('[data-panel="bias-variance"]');
  await panel.hover();
  await panel.getByTestId('panel-embed').click();
  const dialog = page.getByTestId('embed-snippets');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('embed-panels').locator('input[value="bias-variance"]')).toBeChecked();
  const iframe = dialog.locator('textarea').first();
  await expect(iframe).toHaveValue(/embed\/gumbel\?[^"]*tau=0\.3[^"]*panels=bias-variance/);
  await dialog.getByTestId('embed-controls').locator('input[value="tau"]').check();
  await expect(iframe).toHaveValue(/panels=bias-variance&amp;controls=tau/);
  await expect(dialog.locator('textarea').nth(1)).toHaveValue(/<gradlab-widget experiment="gumbel" panels="bias-variance" controls="tau" config="[^"]*tau=0\.3/);
  // The snippet works: its iframe URL shows that figure.
  const src = (await iframe.inputValue()).match(/src="([^"]+)"/)[1].replaceAll('&amp;', '&');
  await page.goto(src);
  await expect(page.locator('[data-panel="bias-variance"]')).toBeVisible();
  await expect(page.getByTestId('figure-controls').getByTestId('tau')).toBeVisible();
});
