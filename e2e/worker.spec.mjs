// CPU compute runs in a Web Worker (the page's own wasm, src/ui/worker.rs);
// where the worker stops, the same jobs run on the main thread and give the
// very same numbers.
import { test, expect } from '@playwright/test';

function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

const exported = async (page) => {
  const href = await page.getByTestId('export-json').getAttribute('href');
  return href ? JSON.parse(decodeURIComponent(href.split(',')[1])) : null;
};

const runs = [
  {
    name: 'diffusion',
    url: '/diffusion?backend=cpu&score=smoothed&sampler=ddpm&steps=60&n=1024&seed=5',
    step: async (page) => Number(await page.getByTestId('particles').getAttribute('data-step')),
    steps: 60,
  },
  {
    name: 'label smoothing',
    url: '/label-smoothing?backend=cpu&steps=3000&hidden=32,32&test=256',
    // The training step (0 on a restart), then the step the panels show.
    step: async (page) => Number(await page.getByTestId('label-smoothing-widget').getAttribute('data-step')),
    shown: async (page) => Number(await page.getByTestId('ls-metrics').getAttribute('data-step')),
    steps: 3000,
  },
];

for (const run of runs) {
  test(`${run.name}: trains in the worker; stopped mid-run, it starts again on the main thread with identical numbers`, async ({ page }, info) => {
    test.skip(info.project.name !== 'cpu', 'the CPU path, on one project');
    // Two whole runs, one of them on the main thread: on a loaded 2-core
    // machine that alone can take the default 90 s.
    test.setTimeout(300_000);
    const errors = watchErrors(page);
    await page.goto(run.url);
    await expect(page.getByTestId('compute-thread')).toHaveText(' · worker thread', { timeout: 30_000 });
    expect(page.workers().map((w) => new URL(w.url()).pathname)).toEqual([expect.stringMatching(/^\/worker-[0-9a-f]{16}\.js$/)]);
    const shown = run.shown ?? run.step;
    await expect.poll(() => shown(page), { timeout: 120_000 }).toBe(run.steps);
    const inWorker = await exported(page);
    expect(inWorker).not.toBeNull();

    // Again from the start, and the worker stops halfway.
    await page.getByTestId('restart').click();
    await expect.poll(() => run.step(page), { timeout: 60_000 }).toBeGreaterThan(0);
    expect(await run.step(page)).toBeLessThan(run.steps);
    expect(await page.evaluate(() => window.wasmBindings.gradlab_stop_worker())).toBe(true);
    await expect(page.getByTestId('compute-thread')).toHaveText(
      ' · main thread; no compute worker: stopped by gradlab_stop_worker()', { timeout: 30_000 });
    await expect.poll(() => shown(page), { timeout: 120_000 }).toBe(run.steps);
    // The same code on the same inputs: bit-for-bit the same report.
    await expect.poll(() => exported(page), { timeout: 10_000 }).toEqual(inWorker);
    expect(errors).toEqual([]);
  });
}

test('one-shot jobs (Gumbel-Softmax, clipping) give the same numbers in the worker and on the main thread', async ({ page }, info) => {
  test.skip(info.project.name !== 'cpu', 'the CPU path, on one project');
  const errors = watchErrors(page);
  for (const [url, seed] of [['/gumbel?backend=cpu&samples=100000&seed=1', '1'], ['/clipping?backend=cpu&steps=200&seed=0', '0']]) {
    await page.goto(url);
    await expect.poll(() => exported(page), { timeout: 60_000 }).not.toBeNull();
    const inWorker = await exported(page);
    expect(page.workers().length).toBeGreaterThan(0);
    expect(await page.evaluate(() => window.wasmBindings.gradlab_stop_worker())).toBe(true);
    // Away and back to the same config: computed again, on the main thread.
    const setSeed = async (s) => {
      await page.getByTestId('seed').fill(s);
      await page.getByTestId('seed').dispatchEvent('change');
      await expect(page).toHaveURL(new RegExp(`seed=${s}`));
    };
    await setSeed('9');
    await expect.poll(() => exported(page), { timeout: 60_000 }).not.toEqual(inWorker);
    await setSeed(seed);
    await expect.poll(() => exported(page), { timeout: 60_000 }).toEqual(inWorker);
  }
  expect(errors).toEqual([]);
});

test('a job the worker cannot read is answered with an error; one it never answers times out, and the run goes on on the main thread saying why', async ({ page }, info) => {
  test.skip(info.project.name !== 'cpu', 'the CPU path, on one project');
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // A run long enough to be still training when the worker is given up.
  await page.goto('/label-smoothing?backend=cpu&steps=100000&hidden=64,64&test=256');
  await expect(page.getByTestId('compute-thread')).toHaveText(' · worker thread', { timeout: 30_000 });
  // Unreadable: answered with an error at once (it used to be logged and never answered).
  const unreadable = await page.evaluate(() => window.wasmBindings.gradlab_worker_fault('unreadable', 60_000));
  expect(unreadable).toMatch(/^answered: the compute worker could not read the job/);
  // The worker is still up: the run goes on there.
  await expect(page.getByTestId('compute-thread')).toHaveText(' · worker thread');
  // Never answered: after its timeout (here 1.5 s) the page gives the worker
  // up; the training starts again on the main thread and says why.
  const stalled = await page.evaluate(() => window.wasmBindings.gradlab_worker_fault('stall', 1500));
  expect(stalled).toBe('stopped: it did not answer a job (stall) within 1.5 s');
  await expect(page.getByTestId('compute-thread')).toHaveText(
    ' · main thread; no compute worker: it did not answer a job (stall) within 1.5 s', { timeout: 30_000 });
  await expect.poll(() => page.getByTestId('label-smoothing-widget').getAttribute('data-step').then(Number), { timeout: 60_000 }).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});
