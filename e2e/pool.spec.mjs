// The worker pool: work split over several workers (no SharedArrayBuffer)
// gives the numbers of one worker, bit for bit, and so does the main thread
// when no worker runs. `gradlab_pool_run` computes exactly what the clipping
// and Gumbel widgets compute on the CPU (src/ui/worker.rs `split`).
import { test, expect } from '@playwright/test';

const CASES = [
  ['clipping', 'runs=30&steps=200'],
  ['gumbel', ''],
];

test('pooled results equal single-worker results; so do main-thread ones', async ({ page }, info) => {
  test.skip(info.project.name !== 'cpu', 'CPU work; run once');
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/about');
  await page.waitForFunction(() => window.wasmBindings?.gradlab_pool_run);
  const run = (size, what, query) =>
    page.evaluate(async ([size, what, query]) => {
      const b = window.wasmBindings;
      const inEffect = b.gradlab_pool_size(size);
      return { inEffect, ...JSON.parse(await b.gradlab_pool_run(what, query)) };
    }, [size, what, query]);

  const single = {};
  for (const [what, query] of CASES) {
    const one = await run(1, what, query);
    expect(one.inEffect).toBe(1);
    expect(one).toMatchObject({ parts: 1, remote: 1 });
    const three = await run(3, what, query);
    expect(three).toMatchObject({ inEffect: 3, parts: 3, remote: 3 });
    // Same JSON text: every float printed to its shortest round-trip form.
    expect(JSON.stringify(three.result)).toBe(JSON.stringify(one.result));
    expect(JSON.stringify(one.result)).not.toContain('null');
    single[what] = JSON.stringify(one.result);
  }
  // A quick sanity check that the numbers are numbers of the run asked for.
  expect(JSON.parse(single.clipping).runs).toBe(30);
  expect(JSON.parse(single.gumbel)).toHaveLength(13);

  // No worker: every part is computed on the main thread, to the same numbers.
  await page.evaluate(() => window.wasmBindings.gradlab_stop_worker());
  for (const [what, query] of CASES) {
    const local = await run(3, what, query);
    expect(local).toMatchObject({ parts: 3, remote: 0 });
    expect(JSON.stringify(local.result)).toBe(single[what]);
  }

  // Workers stopped before the pool was ever used: it starts none.
  await page.goto('/about');
  await page.waitForFunction(() => window.wasmBindings?.gradlab_pool_run);
  await page.evaluate(() => window.wasmBindings.gradlab_stop_worker());
  const fresh = await run(3, 'gumbel', '');
  expect(fresh).toMatchObject({ parts: 3, remote: 0 });
  expect(JSON.stringify(fresh.result)).toBe(single.gumbel);
  expect(page.workers()).toHaveLength(0);
  expect(errors).toEqual([]);
});

test('with three workers, a live run gets a worker of its own, not the one that runs comparisons', async ({ page }, info) => {
  test.skip(info.project.name !== 'cpu', 'CPU work; run once');
  test.setTimeout(180_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // The smoothed score also queues the fewer-calls comparisons (whole runs) on worker slot 0.
  await page.goto('/diffusion?score=smoothed&n=1024&steps=400');
  await expect(page.getByTestId('compute-thread')).toContainText('worker thread', { timeout: 60_000 });
  const workers = () => page.workers().filter((w) => /\/worker-[0-9a-f]+\.js$/.test(w.url())).length;
  expect(workers()).toBe(1);
  expect(await page.evaluate(() => window.wasmBindings.gradlab_pool_size(3))).toBe(3);
  // A new session: the least busy slot is a second worker, started for it.
  await page.getByTestId('restart').click();
  await expect.poll(workers, { timeout: 30_000 }).toBe(2);
  const step = async () => Number(await page.getByTestId('particles').getAttribute('data-step'));
  const s0 = await step();
  await expect.poll(step, { timeout: 60_000 }).toBeGreaterThan(s0);
  await expect(page.getByTestId('compute-thread')).toContainText('worker thread');
  expect(errors).toEqual([]);
});
