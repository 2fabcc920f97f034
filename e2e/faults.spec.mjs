// GPU faults in every widget of the registry (ids from dist/experiments.json,
// so a new experiment is covered with no edit here): a device lost mid-run,
// and every shader failing to compile. The page must say so in the header's
// badge, go on on the CPU, and keep working: a later config change computes
// again, on the CPU. `<main data-computed-on data-computed>` (src/ui/backend.rs,
// `record_computed`) says where the widget last computed and how often.
//
// The fault hooks act on the device the page will use whenever they are
// called: the shader test calls gradlab_break_shaders() the moment the wasm
// starts, before the adapter probe has made a device, so it cannot race the
// start-up (it once returned false while the badge already said WebGPU).
import { test, expect } from '@playwright/test';
import { EXPERIMENTS } from './registry.mjs';

// Small runs where the defaults are slow on software WebGPU; a session
// (label smoothing, diffusion) long enough to be lost mid-run.
const SMALL = {
  rng: 'count=1024',
  gumbel: 'samples=10000',
  clipping: 'steps=40&runs=8',
  'label-smoothing': 'steps=3000&hidden=16,16&test=256',
  diffusion: 'sampler=ddpm&steps=400&n=512',
};

function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

const computed = async (page) => ({
  on: await page.locator('main').getAttribute('data-computed-on'),
  count: Number(await page.locator('main').getAttribute('data-computed')),
});

/** A config change made inside the app (the router hears popstate): the widget computes again. */
async function changeSeed(page, e) {
  const key = e.fields.some((f) => f.key === 'seed') ? 'seed' : null;
  if (!key) return false;
  await page.evaluate((k) => {
    const u = new URL(location.href);
    u.searchParams.set(k, String(Number(u.searchParams.get(k) ?? 0) + 7));
    history.pushState(null, '', u);
    dispatchEvent(new PopStateEvent('popstate'));
  }, key);
  return true;
}

async function keepsWorkingOnCpu(page, e) {
  await expect.poll(async () => (await computed(page)).on, { timeout: 60_000 }).toBe('cpu');
  const before = (await computed(page)).count;
  if (await changeSeed(page, e)) {
    await expect.poll(async () => (await computed(page)).count, { timeout: 60_000 }).toBeGreaterThan(before);
    expect((await computed(page)).on).toBe('cpu');
  }
  await expect(page.locator('article.widget')).toBeVisible();
}

for (const e of EXPERIMENTS) {
  const url = `${e.route}?${SMALL[e.id] ?? ''}`;

  test(`${e.id}: the GPU lost mid-run, the widget says so and goes on on the CPU`, async ({ page }, info) => {
    test.skip(info.project.name !== 'webgpu', 'needs a GPU to lose');
    const errors = watchErrors(page);
    await page.goto(url);
    await expect.poll(async () => (await computed(page)).on, { timeout: 90_000 }).toBe('gpu');
    expect(await page.evaluate(() => window.wasmBindings.gradlab_lose_gpu())).toBe(true);
    await expect(page.getByTestId('backend-badge')).toContainText('WebGPU lost, continuing on the CPU', { timeout: 30_000 });
    await keepsWorkingOnCpu(page, e);
    expect(page.url()).toContain(e.route);
    expect(errors.filter((m) => !/lost|destroyed|Device/i.test(m))).toEqual([]);
  });

  test(`${e.id}: every shader fails to compile, the widget says so and runs on the CPU`, async ({ page }, info) => {
    test.skip(info.project.name !== 'webgpu', 'needs a GPU whose compiler can fail');
    const errors = watchErrors(page);
    // The moment the wasm has started (Trunk's event), before any device exists.
    await page.addInitScript(() => {
      addEventListener('TrunkApplicationStarted', () => {
        window.__broke = window.wasmBindings.gradlab_break_shaders();
      });
    });
    await page.goto(url);
    await expect.poll(() => page.evaluate(() => window.__broke), { timeout: 30_000 }).toBe(true);
    await expect(page.getByTestId('backend-badge')).toContainText('pipeline failed', { timeout: 60_000 });
    await keepsWorkingOnCpu(page, e);
    expect(errors).toEqual([]);
  });
}
