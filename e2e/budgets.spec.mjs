// Performance budgets, reported (not asserted as timings): the gallery's first
// load (time to interactive, bytes transferred) and how fast the main thread
// answers input while the heaviest experiments run on the CPU path. Written to
// e2e/results/budgets.json and printed, so the test command shows them.
import { test, expect } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';

const OUT = 'e2e/results/budgets.json';

function record(key, value) {
  mkdirSync('e2e/results', { recursive: true });
  const all = existsSync(OUT) ? JSON.parse(readFileSync(OUT, 'utf8')) : {};
  all[key] = value;
  writeFileSync(OUT, JSON.stringify(all, null, 2));
  console.log(`budget ${key}: ${JSON.stringify(value)}`);
}

test('first load of the gallery', async ({ page }, info) => {
  test.skip(info.project.name !== 'cpu', 'measured once, on the CPU project');
  const start = Date.now();
  await page.goto('/');
  await expect(page.getByTestId('experiment-card').first()).toBeVisible();
  const interactiveMs = Date.now() - start;
  const bytes = await page.evaluate(() =>
    performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))
      .reduce((acc, e) => {
        const kind = e.name.endsWith('.wasm') ? 'wasm' : e.name.endsWith('.js') ? 'js'
          : e.name.endsWith('.css') ? 'css' : e.entryType === 'navigation' ? 'html' : 'other';
        acc[kind] = (acc[kind] || 0) + (e.encodedBodySize || 0);
        return acc;
      }, {}));
  record('gallery_first_load', { interactive_ms: interactiveMs, bytes_uncompressed_by_kind: bytes, budget_ms: 1000 });
  expect(interactiveMs).toBeGreaterThan(0);
});

for (const route of ['/diffusion?score=smoothed&n=4096', '/label-smoothing']) {
  test(`input latency while ${route} runs on the CPU`, async ({ page }, info) => {
    test.skip(info.project.name !== 'cpu', 'the CPU path is the one that shares the main thread');
    await page.goto(route);
    await expect(page.locator('article.widget')).toBeVisible();
    await page.waitForTimeout(2000);
    // Event Timing: how long each click waited for and took on the main thread.
    await page.evaluate(() => {
      window.__events = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__events.push(e.duration);
      }).observe({ type: 'event', durationThreshold: 16, buffered: false });
      window.__taps = [];
      document.addEventListener('pointerdown', (e) => window.__taps.push(performance.now() - e.timeStamp), true);
    });
    const heading = page.locator('article.widget h1');
    for (let i = 0; i < 10; i++) {
      await heading.click();
      await page.waitForTimeout(150);
    }
    const taps = await page.evaluate(() => window.__taps);
    const longEvents = await page.evaluate(() => window.__events);
    const sorted = [...taps].sort((a, b) => a - b);
    record(`input_latency ${route}`, {
      clicks: taps.length,
      median_ms: sorted[Math.floor(sorted.length / 2)],
      max_ms: sorted[sorted.length - 1],
      events_over_16ms: longEvents.length,
      budget_ms: 50,
    });
    expect(taps.length).toBe(10);
  });
}
