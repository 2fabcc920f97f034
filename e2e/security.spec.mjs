// The Content-Security-Policy holds and nothing leaves the page's origin.
import { test, expect } from '@playwright/test';
import { EXPERIMENTS } from './registry.mjs';

const ROUTES = ['/', '/about', ...EXPERIMENTS.map((e) => e.route), EXPERIMENTS[0].embed];

test('every request stays on the page\'s origin and the CSP is never violated', async ({ page, baseURL }) => {
  const origin = new URL(baseURL).origin;
  const foreign = [];
  const errors = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) foreign.push(r.url());
  });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`));
  });
  for (const route of ROUTES) {
    await page.goto(route);
    await expect(page.locator('main')).toBeVisible();
    await page.waitForTimeout(700);
    expect(await page.evaluate(() => window.__cspViolations), route).toEqual([]);
  }
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval' 'sha256-");
  expect(csp).not.toContain("'unsafe-eval'");
  expect(foreign).toEqual([]);
  expect(errors).toEqual([]);
});

test('script in a hostile link is shown as text, never run', async ({ page }) => {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const payload = encodeURIComponent('"><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">');
  await page.goto(`/diffusion?dataset=${payload}&steps=${payload}&score=${'x'.repeat(10_000)}`);
  await expect(page.getByTestId('config-notes')).toContainText('dataset');
  await page.waitForTimeout(500);
  expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
  expect(errors).toEqual([]);
});

test('one policy: the server sends it as a header (it reaches the compute worker), embed-demo.html carries it too', async ({ page, request }, info) => {
  test.skip(info.project.name !== 'cpu', 'headers and the CPU worker: one project');
  const violations = [];
  const said = [];
  page.on('console', (m) => said.push(m.text()));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.log(`csp-violation ${e.violatedDirective}: ${e.blockedURI}`));
  });
  page.on('console', (m) => m.text().startsWith('csp-violation') && violations.push(m.text()));
  const home = await request.get('/');
  const policy = home.headers()['content-security-policy'];
  expect(policy).toContain("script-src 'self' 'wasm-unsafe-eval' 'sha256-");
  expect(policy).not.toContain("'unsafe-eval'");
  const meta = (html) => html.match(/http-equiv="Content-Security-Policy" content="([^"]+)"/)?.[1];
  expect(meta(await home.text())).toBe(policy);
  const demo = await request.get('/embed-demo.html');
  expect(demo.headers()['content-security-policy']).toBe(policy);
  expect(meta(await demo.text())).toBe(policy);

  // The compute worker's script is served with the same header.
  await page.goto('/label-smoothing?backend=cpu&steps=300&hidden=16,16&test=256');
  await expect(page.getByTestId('compute-thread')).toHaveText(' · worker thread', { timeout: 30_000 });
  const workerUrl = page.workers()[0].url();
  expect((await request.get(workerUrl)).headers()['content-security-policy']).toBe(policy);
  // In normal use nothing is blocked: the page, the worker's wasm, the embeds.
  await expect.poll(() => page.getByTestId('ls-metrics').getAttribute('data-step'), { timeout: 60_000 }).toBe('300');
  await page.goto('/embed-demo.html');
  await expect(page.locator('iframe')).toHaveCount(4);
  await expect(page.locator('iframe').first().contentFrame().locator('[data-panel="bias-variance"]')).toBeVisible({ timeout: 60_000 });
  await page.waitForTimeout(1000);
  expect(violations).toEqual([]);
  expect(said.filter((m) => /Content Security Policy|Refused to/i.test(m))).toEqual([]);
});
