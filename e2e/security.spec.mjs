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
