// Embeds: a blog post with figure embeds (two custom elements, two iframes),
// each sized to its content; whole-widget embeds and the Embed button.
import { test, expect } from '@playwright/test';

test('the demo blog post shows four figure embeds, each sized to its content with no scrollbars', async ({ page }) => {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.setViewportSize({ width: 760, height: 900 });
  await page.goto('/embed-demo.html');
  const frames = page.locator('iframe');
  await expect(frames).toHaveCount(4);
  for (let i = 0; i < 4; i++) {
    const frame = frames.nth(i);
    await frame.scrollIntoViewIfNeeded();
    const inner = frame.contentFrame();
    // One figure, its caption with the paper and "open in gradlab", no page header.
    await expect(inner.locator('[data-panel]')).toHaveCount(1, { timeout: 60_000 });
    await expect(inner.locator('.figure-caption a').last()).toHaveText(/open in gradlab/);
    await expect(inner.locator('header.site')).toHaveCount(0);
    // Height reported by the embed and applied by embed.js: above the 150 px
    // default, and about as tall as a figure.
    await expect.poll(async () => (await frame.boundingBox()).height, { timeout: 60_000 }).toBeGreaterThan(200);
    // No scrollbar: the frame is as tall as its document (allow a frame of settling).
    await expect
      .poll(async () => {
        const box = await frame.boundingBox();
        const h = await inner.locator('html').evaluate((el) => el.scrollHeight);
        return h - box.height;
      }, { timeout: 30_000 })
      .toBeLessThanOrEqual(2);
    expect((await frame.boundingBox()).height).toBeLessThan(900);
  }
  // A height message that does not come from an embed's own window is ignored.
  const before = (await frames.first().boundingBox()).height;
  await page.evaluate(() => window.postMessage({ type: 'gradlab:height', height: 5 }, '*'));
  await page.waitForTimeout(300);
  expect((await frames.first().boundingBox()).height).toBeCloseTo(before, 0);
  expect(errors).toEqual([]);
});

test('an unknown experiment in a custom element says so, and the Embed button gives both snippets', async ({ page }, info) => {
  test.skip(info.project.name === 'webgpu', 'URL, storage, layout and embedding do not depend on the backend: the CPU project tests them');
  await page.goto('/embed-demo.html');
  await page.evaluate(() => {
    const el = document.createElement('gradlab-widget');
    el.setAttribute('experiment', '<img src=x onerror=alert(1)>');
    el.id = 'bad';
    document.body.append(el);
  });
  await expect(page.locator('#bad')).toContainText('unknown experiment');
  await expect(page.locator('#bad iframe')).toHaveCount(0);
  // Every live experiment can be embedded as a custom element.
  for (const id of ['label-smoothing', 'diffusion']) {
    await page.evaluate((id) => {
      const el = document.createElement('gradlab-widget');
      el.setAttribute('experiment', id);
      el.setAttribute('config', 'seed=2');
      el.id = `w-${id}`;
      document.body.append(el);
    }, id);
    const frame = page.locator(`#w-${id} iframe`);
    await expect(frame).toHaveAttribute('src', new RegExp(`/embed/${id}\\?seed=2`));
    // embed.js loads frames lazily: bring this one into view.
    await frame.scrollIntoViewIfNeeded();
    await expect(frame.contentFrame().getByTestId(`${id}-widget`)).toBeVisible({ timeout: 60_000 });
  }
  await page.goto('/gumbel?tau=0.3');
  await page.getByTestId('embed').click();
  const snippets = page.getByTestId('embed-snippets');
  await expect(snippets.locator('textarea').first()).toHaveValue(new RegExp(`<iframe src="${new URL(page.url()).origin.replace(/[.]/g, '\\.')}/embed/gumbel\\?.*tau=0\\.3`));
  await expect(snippets.locator('textarea').nth(1)).toHaveValue(/<gradlab-widget experiment="gumbel" config=".*tau=0\.3/);
});
