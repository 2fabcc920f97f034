// The worker pool: work split over several workers (no SharedArrayBuffer)
// gives the numbers of one worker, bit for bit, and so does the main thread
// when no worker runs. `gradlab_pool_run` computes exactly what the clipping,
// Gumbel and certify widgets compute on the CPU (src/ui/worker.rs `split`).
import { test, expect } from '@playwright/test';

// A certify run splits three kinds of units (heat-map pixels, requested
// points, test points), each into one part per worker: small runs with at
// least 3 of each, a half-plane and an MLP (trained once, in worker 0).
const CERTIFY = 'n=2000&n0=64&map-n=40&grid=8&test-points=12&true-n=64&points=1,1;0,0;-1,0.5';
const CASES = [
  // [what, query, splits per run]
  ['clipping', 'runs=30&steps=200', 1],
  ['gumbel', '', 1],
  ['certify', CERTIFY, 3],
  ['certify', `${CERTIFY}&model=mlp&dataset=moons&train-steps=40&n=500`, 3],
];
const key = (what, query) => `${what}?${query}`;

// A widget's run split over the pool: its JSON export, once there is one.
const exported = async (page) => {
  const href = await page.getByTestId('export-json').getAttribute('href');
  return href ? JSON.parse(decodeURIComponent(href.split(',')[1])) : null;
};

// The pool size in effect for the next run, then that run to its end (`step`
// reads the widget's step). A restart clears the report at once, and the
// place is shown once the new run's parts have started.
const runAtPoolSize = async (page, size, place, step, steps) => {
  expect(await page.evaluate((n) => window.wasmBindings.gradlab_pool_size(n), size)).toBe(size);
  await page.getByTestId('restart').click();
  await expect(page.getByTestId('compute-thread')).toHaveText(place, { timeout: 60_000 });
  await expect.poll(step, { timeout: 150_000 }).toBe(steps);
  await expect.poll(() => exported(page), { timeout: 60_000 }).not.toBeNull();
  return exported(page);
};

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
  for (const [what, query, splits] of CASES) {
    const one = await run(1, what, query);
    expect(one.inEffect).toBe(1);
    expect(one).toMatchObject({ parts: splits, remote: splits });
    const three = await run(3, what, query);
    expect(three).toMatchObject({ inEffect: 3, parts: 3 * splits, remote: 3 * splits });
    // Same JSON text: every float printed to its shortest round-trip form.
    expect(JSON.stringify(three.result)).toBe(JSON.stringify(one.result));
    // (certify's report has optional fields, null where they do not apply.)
    if (what !== 'certify') expect(JSON.stringify(one.result)).not.toContain('null');
    single[key(what, query)] = JSON.stringify(one.result);
  }
  // A quick sanity check that the numbers are numbers of the run asked for.
  expect(JSON.parse(single[key(...CASES[0])]).runs).toBe(30);
  expect(JSON.parse(single[key(...CASES[1])])).toHaveLength(13);
  for (const c of CASES.slice(2)) {
    const r = JSON.parse(single[key(...c)]);
    expect(r.map.pa).toHaveLength(64);
    expect(r.points).toHaveLength(3);
    expect(r.test_x).toHaveLength(12);
    expect(r.points.every((p) => p.n_a > 0 && p.true_radius !== null)).toBe(true);
  }
  expect(JSON.parse(single[key(...CASES[3])]).train_accuracy).toBeGreaterThan(0.5);

  // No worker: every part is computed on the main thread, to the same numbers.
  await page.evaluate(() => window.wasmBindings.gradlab_stop_worker());
  for (const [what, query, splits] of CASES) {
    const local = await run(3, what, query);
    expect(local).toMatchObject({ parts: 3 * splits, remote: 0 });
    expect(JSON.stringify(local.result)).toBe(single[key(what, query)]);
  }

  // Workers stopped before the pool was ever used: it starts none.
  await page.goto('/about');
  await page.waitForFunction(() => window.wasmBindings?.gradlab_pool_run);
  await page.evaluate(() => window.wasmBindings.gradlab_stop_worker());
  const fresh = await run(3, 'gumbel', '');
  expect(fresh).toMatchObject({ parts: 3, remote: 0 });
  expect(JSON.stringify(fresh.result)).toBe(single[key('gumbel', '')]);
  expect(page.workers()).toHaveLength(0);
  expect(errors).toEqual([]);
});

test('with three workers, a live run gets workers of its own, not the one that runs comparisons', async ({ page }, info) => {
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
  // A new run: its particles split over the two least busy slots, two more
  // workers started for it; slot 0 keeps the comparisons.
  await page.getByTestId('restart').click();
  await expect(page.getByTestId('compute-thread')).toHaveText(' · 2 worker threads', { timeout: 60_000 });
  await expect.poll(workers, { timeout: 30_000 }).toBe(3);
  const step = async () => Number(await page.getByTestId('particles').getAttribute('data-step'));
  const s0 = await step();
  await expect.poll(step, { timeout: 60_000 }).toBeGreaterThan(s0);
  await expect(page.getByTestId('compute-thread')).toContainText('worker thread');
  expect(errors).toEqual([]);
});

test("the certify widget's CPU run uses every worker of the pool", async ({ page }, info) => {
  test.skip(info.project.name !== 'cpu', 'CPU work; run once');
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/certify?n=2000&map-n=100&grid=24&test-points=30');
  await expect(page.getByTestId('certify-status')).toContainText('on the CPU', { timeout: 60_000 });
  await expect(page.getByTestId('certificate-row')).toHaveCount(2, { timeout: 60_000 });
  // A click reruns the widget, now over three workers.
  await page.evaluate(() => window.wasmBindings.gradlab_pool_size(3));
  const map = page.getByTestId('heat-map');
  const box = await map.boundingBox();
  await map.click({ position: { x: box.width * 0.75, y: box.height * 0.25 } });
  await expect(page.getByTestId('certificate-row')).toHaveCount(1, { timeout: 60_000 });
  await expect(page.getByTestId('true-radius')).not.toHaveText('', { timeout: 60_000 });
  await expect.poll(() => page.workers().length, { timeout: 30_000 }).toBe(3);
  expect(errors).toEqual([]);
});

test('a CPU diffusion run split over the pool reaches the particles of one worker and of the main thread, bit for bit', async ({ page }, info) => {
  test.skip(info.project.name !== 'cpu', 'CPU work; run once');
  // Three whole runs, one on the main thread, on a loaded 2-core machine.
  test.setTimeout(300_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // 1280 particles are 5 blocks of 256: at pool size 3 the run is split
  // 512 + 768 over two workers (slot 0 is left to one-shot jobs), and the
  // timeline's first 1024 particles end inside the second part.
  const steps = 24;
  await page.goto(`/diffusion?backend=cpu&score=empirical&sampler=ddpm&steps=${steps}&n=1280&seed=4`);
  await page.waitForFunction(() => window.wasmBindings?.gradlab_pool_size);
  const thread = page.getByTestId('compute-thread');
  await expect(thread).toContainText('worker thread', { timeout: 60_000 });
  const step = async () => Number(await page.getByTestId('particles').getAttribute('data-step'));
  const runAt = (size, place) => runAtPoolSize(page, size, place, step, steps);
  const split = await runAt(3, ' · 2 worker threads');
  const one = await runAt(1, ' · worker thread');
  expect(split.samples).toHaveLength(1280);
  // The same JSON: every particle (and every metric of them) to the bit.
  expect(JSON.stringify(split)).toBe(JSON.stringify(one));

  // The workers stop during a split run: it starts again as one part on the
  // main thread, to the same numbers. (Read in the same task as the stop: a
  // run not finished then has a slice to send, which finds no worker.)
  expect(await page.evaluate((n) => window.wasmBindings.gradlab_pool_size(n), 3)).toBe(3);
  await page.getByTestId('restart').click();
  await expect(thread).toHaveText(' · 2 worker threads', { timeout: 60_000 });
  const stoppedAt = await page.evaluate(() => {
    const at = Number(document.querySelector('[data-testid="particles"]').getAttribute('data-step'));
    window.wasmBindings.gradlab_stop_worker();
    return at;
  });
  // Finished before the stop (a fast machine): start it again by hand.
  if (stoppedAt === steps) await page.getByTestId('restart').click();
  await expect(thread).toHaveText(' · main thread; no compute worker: stopped by gradlab_stop_worker()', { timeout: 60_000 });
  await expect.poll(step, { timeout: 120_000 }).toBe(steps);
  await expect.poll(() => exported(page), { timeout: 60_000 }).toEqual(one);
  expect(errors).toEqual([]);
});

test("label smoothing's models split over the pool train to the numbers of one worker, bit for bit", async ({ page }, info) => {
  test.skip(info.project.name !== 'cpu', 'CPU work; run once');
  // Two whole runs on a loaded 2-core machine.
  test.setTimeout(300_000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const steps = 400;
  await page.goto(`/label-smoothing?backend=cpu&steps=${steps}&hidden=32,32&test=256`);
  await page.waitForFunction(() => window.wasmBindings?.gradlab_pool_size);
  const thread = page.getByTestId('compute-thread');
  await expect(thread).toContainText('worker thread', { timeout: 60_000 });
  const shown = async () => Number(await page.getByTestId('ls-metrics').getAttribute('data-step'));
  // At pool size 3 the three models go to two workers (slot 0 is left to
  // one-shot jobs): models 0 and 1..3.
  const runAt = (size, place) => runAtPoolSize(page, size, place, shown, steps);
  const split = await runAt(3, ' · 2 worker threads');
  const one = await runAt(1, ' · worker thread');
  expect(JSON.stringify(split)).toBe(JSON.stringify(one));
  // The export carries the metrics of all three models, read at the last step.
  expect(one.models.map((m) => m.name)).toEqual(['hard', 'smoothed', 'maxsup']);
  expect(errors).toEqual([]);
});
