// Long runs: each experiment runs for a bounded time while the JS heap (after
// a forced GC) and the wasm memory, the page's and the compute worker's, are
// recorded every 10 s; after warm-up none may grow by 10 % or more. And a
// hidden tab does no work.
// SOAK_SECONDS (default 60) sets each experiment's run; the CPU project only,
// since that is where the page's own memory does the work.
import { test, expect } from '@playwright/test';
import { EXPERIMENTS } from './registry.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS || 60);
// Each experiment's route, with settings that keep it working for the whole
// soak where its defaults would finish early.
const LONG = {
  gumbel: '?anneal=0.01',
  'label-smoothing': '?steps=100000',
  // A run of 400 steps takes a few seconds: Restart every 10 s, so each
  // sample follows a whole run (its timeline is freed with it).
  diffusion: '?steps=400&sampler=langevin',
};
const ROUTES = EXPERIMENTS.map((e) => e.route + (LONG[e.id] ?? ''));

async function memory(page, cdp) {
  // The smallest of four readings 250 ms apart, each after a forced GC: a
  // worker answer in flight (a snapshot is ~0.4 MB) is not a leak. Two
  // readings were not enough under load: one clean run caught a snapshot in
  // both (label smoothing, +0.4 MB in one sample, flat before and after).
  let usedSize = Infinity;
  for (let i = 0; i < 4; i++) {
    if (i) await page.waitForTimeout(250);
    await cdp.send('HeapProfiler.collectGarbage');
    usedSize = Math.min(usedSize, (await cdp.send('Runtime.getHeapUsage')).usedSize);
  }
  const wasm = await page.evaluate(() => window.__wasmMemory?.buffer.byteLength ?? 0);
  // The compute worker's own wasm instance, where the CPU work runs.
  const worker = page.workers().find((w) => /\/worker-[0-9a-f]+\.js$/.test(w.url()));
  const workerWasm = worker ? await worker.evaluate(() => self.gradlabWasmMemory?.buffer.byteLength ?? 0) : 0;
  return { js: usedSize, wasm, workerWasm };
}

for (const route of ROUTES) {
  test(`soak ${route}: memory stays flat`, async ({ page }, info) => {
    test.skip(info.project.name !== 'cpu', 'memory soak runs on the CPU project');
    test.setTimeout((SECONDS + 60) * 1000);
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.addInitScript(() => {
      addEventListener('TrunkApplicationStarted', (e) => {
        window.__wasmMemory = e.detail.wasm.memory;
      });
    });
    await page.goto(route);
    await expect(page.locator('article.widget')).toBeVisible();
    const cdp = await page.context().newCDPSession(page);
    const samples = [];
    for (let t = 0; t <= SECONDS; t += 10) {
      await page.waitForTimeout(10_000);
      samples.push(await memory(page, cdp));
      if (route.startsWith('/diffusion')) await page.getByTestId('restart').click();
    }
    const [warm, last] = [samples[0], samples[samples.length - 1]];
    console.log(`${route}: ${JSON.stringify(samples)}`);
    expect(last.js, `JS heap ${route}`).toBeLessThan(warm.js * 1.1);
    expect(last.wasm, `wasm memory ${route}`).toBeLessThan(warm.wasm * 1.1 + 1);
    expect(last.workerWasm, `worker wasm memory ${route}`).toBeLessThan(warm.workerWasm * 1.1 + 1);
    expect(errors).toEqual([]);
  });
}

test('a hidden tab stops the frame loop', async ({ page }) => {
  await page.goto('/diffusion?steps=1000&sampler=langevin&n=2048');
  const step = async () => Number(await page.getByTestId('particles').getAttribute('data-step'));
  await expect.poll(step, { timeout: 30_000 }).toBeGreaterThan(2);
  await page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await page.waitForTimeout(300);
  const hidden = await step();
  await page.waitForTimeout(1500);
  expect(await step()).toBe(hidden);
  await page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await expect.poll(step, { timeout: 30_000 }).toBeGreaterThan(hidden);
});
