// The reader's own data in the diffusion widget: drawn points and the custom
// mixture in local storage. Nothing the reader makes is lost: not by drawing
// (the mixture stays), not by a second tab, not by an import or a clear (one
// undo), not by an unreadable copy, not when storage is full (export offered).
// Storage does not depend on the backend: these run in the CPU project only.
import { readFile } from 'node:fs/promises';
import { test, expect } from '@playwright/test';

// The one storage key these tests read and write (src/ui/diffusion/drawing.rs).
const KEY = 'gradlab.diffusion.drawing.v1';
// A light run, so the page stays responsive while the tests draw.
const DRAWN = '/diffusion?dataset=drawn&steps=10&n=64&guidance=0';

test.beforeEach(({}, info) => {
  test.skip(info.project.name !== 'cpu', 'storage does not depend on the backend');
});

function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

const drawn = async (page) => Number(await page.getByTestId('particles').getAttribute('data-drawn'));
const stored = (page) => page.evaluate((k) => JSON.parse(localStorage.getItem(k)), KEY);

// One stroke of 21 pointer positions from (fx, fy) along a diagonal, in
// fractions of the canvas; each step is 1 % of the canvas (4.8 px at 480 px,
// 0.04 data units), more than the 0.03 minimum spacing, so every position is a
// point. Returns how many points the drawing gained.
async function stroke(page, fx, fy) {
  // The reader draws in the tab in front (input to a background tab waits on
  // its throttled frames).
  await page.bringToFront();
  const before = await drawn(page);
  const box = await page.getByTestId('particles').boundingBox();
  await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy);
  await page.mouse.down();
  for (let i = 1; i <= 20; i++) {
    await page.mouse.move(box.x + box.width * (fx + 0.01 * i), box.y + box.height * (fy + 0.01 * i));
  }
  await page.mouse.up();
  await expect.poll(() => drawn(page)).toBeGreaterThan(before);
  return (await drawn(page)) - before;
}

async function download(page, testid) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testid).click()]);
  return { path: await dl.path(), text: await readFile(await dl.path(), 'utf8') };
}

test('drawing a stroke keeps the stored custom mixture, and a bare link restores it', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/');
  const mixture = { means: [[-1, -1], [1, -1], [0.5, 1.5]], std: 0.12 };
  await page.evaluate(([k, m]) => localStorage.setItem(k, JSON.stringify({ version: 1, points: [], mixture: m })), [KEY, mixture]);
  await page.goto(DRAWN);
  await stroke(page, 0.3, 0.3);
  expect((await stored(page)).mixture).toEqual(mixture);
  await page.goto('/diffusion?dataset=custom');
  const gmm = () => (new URL(page.url()).searchParams.get('gmm') ?? '').split(',').map(Number);
  await expect.poll(() => gmm().join(','), { timeout: 10_000 }).toBe('-1,-1,1,-1,0.5,1.5');
  expect(errors).toEqual([]);
});

test('points beyond the 4,096 cap are not dropped silently', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/');
  // 4,090 points on a 70 × 70 grid in [−1.5, 1.5]² (the first 4,090 of 4,900).
  const points = [];
  for (let i = 0; i < 4090; i++) points.push([-1.5 + 3 * ((i % 70) / 69), -1.5 + 3 * (Math.floor(i / 70) / 69)]);
  await page.evaluate(([k, p]) => localStorage.setItem(k, JSON.stringify({ version: 1, points: p })), [KEY, points]);
  await page.goto(DRAWN);
  await expect(page.getByTestId('particles')).toHaveAttribute('data-drawn', '4090');
  // The stroke has 21 points; 6 fit (4,096 − 4,090), 15 are left out.
  const box = await page.getByTestId('particles').boundingBox();
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.2);
  await page.mouse.down();
  for (let i = 1; i <= 20; i++) await page.mouse.move(box.x + box.width * (0.2 + 0.01 * i), box.y + box.height * (0.2 + 0.01 * i));
  await page.mouse.up();
  await expect(page.getByTestId('particles')).toHaveAttribute('data-drawn', '4096');
  await expect(page.getByTestId('drawing-note')).toContainText('15 points of this stroke were not added');
  await expect(page.getByTestId('drawing-note')).toContainText('4,096');
  await expect(page.getByTestId('drawing-count')).toContainText('the most a drawing holds');
  expect((await stored(page)).points.length).toBe(4096);
  expect(errors).toEqual([]);
});

test('two tabs drawing at once: every stroke of both is kept', async ({ context }) => {
  const a = await context.newPage();
  const b = await context.newPage();
  const errors = [...watchErrors(a), ...watchErrors(b)];
  await a.goto(DRAWN);
  await b.goto(DRAWN);
  await expect(a.getByTestId('particles')).toHaveAttribute('data-drawn', '0');
  await expect(b.getByTestId('particles')).toHaveAttribute('data-drawn', '0');
  // A, then B, then A again: A's second stroke must not write over B's.
  const a1 = await stroke(a, 0.2, 0.2);
  // The other tab sees it (storage event), before it draws.
  await expect(b.getByTestId('particles')).toHaveAttribute('data-drawn', String(a1));
  const b1 = await stroke(b, 0.5, 0.2);
  await expect(a.getByTestId('particles')).toHaveAttribute('data-drawn', String(a1 + b1));
  const a2 = await stroke(a, 0.2, 0.6);
  const total = a1 + b1 + a2;
  await expect(b.getByTestId('particles')).toHaveAttribute('data-drawn', String(total));
  await a.reload();
  await b.reload();
  await expect(a.getByTestId('particles')).toHaveAttribute('data-drawn', String(total));
  await expect(b.getByTestId('particles')).toHaveAttribute('data-drawn', String(total));
  expect(errors).toEqual([]);
});

test('export downloads the drawing; import of that file restores it; clear and import can be undone', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto(DRAWN);
  const n = (await stroke(page, 0.2, 0.2)) + (await stroke(page, 0.5, 0.3));
  const file = await download(page, 'export-drawing');
  const exported = JSON.parse(file.text);
  expect(exported.version).toBe(1);
  expect(exported.points).toEqual((await stored(page)).points);
  expect(exported.points.length).toBe(n);
  // Clear empties it; one undo brings it back.
  await page.getByTestId('clear-drawing').click();
  await expect(page.getByTestId('particles')).toHaveAttribute('data-drawn', '0');
  expect((await stored(page)).points).toEqual([]);
  await page.getByTestId('undo-drawing').click();
  await expect(page.getByTestId('particles')).toHaveAttribute('data-drawn', String(n));
  expect((await stored(page)).points).toEqual(exported.points);
  // Clear, then import the exported file: the same points.
  await page.getByTestId('clear-drawing').click();
  await expect(page.getByTestId('particles')).toHaveAttribute('data-drawn', '0');
  await page.getByTestId('import-drawing-file').setInputFiles(file.path);
  await expect(page.getByTestId('particles')).toHaveAttribute('data-drawn', String(n));
  expect((await stored(page)).points).toEqual(exported.points);
  // An import of an empty drawing replaces it, and "Undo import" brings it back, across a reload.
  await page.getByTestId('import-drawing').fill('{"version":1,"points":[]}');
  await page.getByTestId('import-drawing-go').click();
  await expect(page.getByTestId('particles')).toHaveAttribute('data-drawn', '0');
  await expect(page.getByTestId('undo-drawing')).toHaveText('Undo import');
  await page.reload();
  await expect(page.getByTestId('undo-drawing')).toBeVisible();
  await page.getByTestId('undo-drawing').click();
  await expect(page.getByTestId('particles')).toHaveAttribute('data-drawn', String(n));
  await page.reload();
  await expect(page.getByTestId('particles')).toHaveAttribute('data-drawn', String(n));
  expect((await stored(page)).points).toEqual(exported.points);
  expect(errors).toEqual([]);
});

test('unreadable stored drawings are each kept in their own slot, never overwritten', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/');
  const slot = (i) => page.evaluate((k) => localStorage.getItem(k), i === 1 ? `${KEY}.unreadable` : `${KEY}.unreadable.${i}`);
  const bad = (v) => `{"version":${v},"points":[[0,0]]}`;
  await page.evaluate(([k, t]) => localStorage.setItem(k, t), [KEY, bad(9)]);
  await page.goto(DRAWN);
  await expect(page.getByTestId('drawing-note')).toContainText('version 9');
  expect(await slot(1)).toBe(bad(9));
  // The same unreadable text read again is not kept twice.
  await page.reload();
  await expect(page.getByTestId('drawing-note')).toContainText('version 9');
  expect(await slot(2)).toBeNull();
  // Another unreadable text goes to the next slot; the first stays.
  await page.evaluate(([k, t]) => localStorage.setItem(k, t), [KEY, bad(8)]);
  await page.reload();
  await expect(page.getByTestId('drawing-note')).toContainText('version 8');
  expect(await slot(1)).toBe(bad(9));
  expect(await slot(2)).toBe(bad(8));
  // With all five slots taken, a new one is not kept, and the note says so.
  await page.evaluate(([k, t]) => {
    for (const i of [3, 4, 5]) localStorage.setItem(`${k}.unreadable.${i}`, `{"version":${i + 10}}`);
    localStorage.setItem(k, t);
  }, [KEY, bad(7)]);
  await page.reload();
  await expect(page.getByTestId('drawing-note')).toContainText('version 7');
  await expect(page.getByTestId('drawing-note')).toContainText('5 unreadable drawings are already kept');
  expect(await slot(1)).toBe(bad(9));
  expect(await slot(2)).toBe(bad(8));
  expect(await slot(5)).toBe('{"version":15}');
  expect(errors).toEqual([]);
});

test('storage full: the note offers the export, which downloads the drawing', async ({ page }) => {
  const errors = watchErrors(page);
  await page.addInitScript(() => {
    Storage.prototype.setItem = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
  });
  await page.goto(DRAWN);
  const n = (await stroke(page, 0.2, 0.2)) + (await stroke(page, 0.4, 0.5));
  await expect(page.getByTestId('drawing-note')).toContainText('Your drawing is not stored: the browser refused to store the drawing (storage full?)');
  const file = await download(page, 'drawing-note-export');
  const exported = JSON.parse(file.text);
  expect(exported.points.length).toBe(n);
  expect(n).toBeGreaterThan(30);
  expect(errors).toEqual([]);
});
