// Every plot exports itself: "⤓ PNG · SVG" downloads gradlab-<experiment>-<plot>
// files; the SVG is a standalone document (inlined styles, no CSS variables),
// the PNG a real PNG at twice the plot's size; canvas plots too.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

async function download(page, button) {
  const [dl] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return { name: dl.suggestedFilename(), bytes: readFileSync(await dl.path()) };
}

function pngSize(bytes) {
  expect([...bytes.subarray(0, 8)]).toEqual(PNG);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

test('SVG and PNG export of an SVG plot and of a canvas plot', async ({ page }, info) => {
  test.skip(info.project.name === 'webgpu', 'URL, storage, layout and embedding do not depend on the backend: the CPU project tests them');
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('/gumbel?logits=1,0,-1&weights=1,2,3&samples=10000');
  const bias = page.locator('figure.plot').filter({ has: page.locator('.caption-title', { hasText: /^Bias$/ }) });
  await expect(bias).toBeVisible({ timeout: 60_000 });
  await expect(bias.getByTestId('export-png')).toBeVisible();

  const svg = await download(page, bias.getByTestId('export-svg'));
  expect(svg.name).toBe('gradlab-gumbel-bias.svg');
  const text = svg.bytes.toString('utf8');
  expect(text).toContain('xmlns="http://www.w3.org/2000/svg"');
  expect(text).not.toContain('var(--');
  const parsed = await page.evaluate((t) => {
    const doc = new DOMParser().parseFromString(t, 'image/svg+xml');
    return {
      error: doc.querySelector('parsererror')?.textContent ?? null,
      root: doc.documentElement.localName,
      lines: doc.querySelectorAll('polyline').length,
      legend: doc.documentElement.textContent.includes('REINFORCE'),
    };
  }, text);
  // Five estimators (REINFORCE, oracle baseline, RLOO, Gumbel-Softmax, straight-through) and the MC noise floor.
  expect(parsed).toEqual({ error: null, root: 'svg', lines: 6, legend: true });

  const png = await download(page, bias.getByTestId('export-png'));
  expect(png.name).toBe('gradlab-gumbel-bias.png');
  const box = await bias.locator('svg').boundingBox();
  expect(pngSize(png.bytes).width).toBe(Math.round(box.width * 2));

  const simplex = page.locator('figure.plot').filter({ has: page.getByTestId('simplex') });
  const spng = await download(page, simplex.getByTestId('export-png'));
  expect(spng.name).toBe('gradlab-gumbel-simplex.png');
  expect(pngSize(spng.bytes).width).toBeGreaterThan(300);
  const ssvg = await download(page, simplex.getByTestId('export-svg'));
  expect(ssvg.name).toBe('gradlab-gumbel-simplex.svg');
  expect(ssvg.bytes.toString('utf8')).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg".*<image [^>]*href="data:image\/png;base64,/s);
  expect(errors).toEqual([]);
});

test('every plot of every live widget has the export control', async ({ page }, info) => {
  test.skip(info.project.name === 'webgpu', 'URL, storage, layout and embedding do not depend on the backend: the CPU project tests them');
  for (const path of ['/rng?count=1024', '/clipping?steps=40&runs=8']) {
    await page.goto(path);
    const figures = page.locator('figure.plot');
    await expect(figures.first()).toBeVisible({ timeout: 60_000 });
    if (path.startsWith('/clipping')) await expect(page.getByTestId('mc-table')).toBeVisible({ timeout: 60_000 });
    const n = await figures.count();
    expect(n, path).toBeGreaterThan(0);
    await expect(page.locator('figure.plot .plot-export')).toHaveCount(n);
  }
  await page.goto('/embed/rng?count=1024');
  const hist = page.locator('figure.plot').first();
  await expect(hist).toBeVisible({ timeout: 60_000 });
  const png = await download(page, hist.getByTestId('export-png'));
  expect(png.name).toBe('gradlab-rng-uniform.png');
  pngSize(png.bytes);
});
