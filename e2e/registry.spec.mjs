// Every experiment of the registry (dist/experiments.json) has a gallery
// card, an About entry, a route with its widget, an embed route and an
// embed.js element, all without console errors.
import { test, expect } from '@playwright/test';
import { EXPERIMENTS } from './registry.mjs';

function errorsOf(page) {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

test('the gallery and the About page list every registered experiment', async ({ page }) => {
  const errors = errorsOf(page);
  await page.goto('/');
  await expect(page.getByTestId('experiment-card')).toHaveCount(EXPERIMENTS.length);
  for (const e of EXPERIMENTS) {
    const card = page.locator(`[data-testid="experiment-card"][data-id="${e.id}"]`);
    await expect(card).toContainText(e.title);
    await expect(card).toContainText(e.papers[0].title);
  }
  await page.goto('/about');
  await expect(page.getByTestId('papers')).toHaveCount(EXPERIMENTS.length);
  expect(errors).toEqual([]);
});

for (const e of EXPERIMENTS) {
  test(`${e.id}: its route, its embed route and its embed.js element show the widget`, async ({ page }, info) => {
    test.skip(info.project.name !== 'cpu', 'routing and embedding do not depend on the backend');
    const errors = errorsOf(page);
    await page.goto(e.route);
    await expect(page.getByTestId(`${e.id}-widget`)).toBeVisible();
    await expect(page.getByRole('heading', { level: 1 })).toContainText(e.title);

    await page.goto(e.embed);
    await expect(page.getByTestId(`${e.id}-widget`)).toBeVisible();
    await expect(page.locator('header.site')).toHaveCount(0);

    await page.goto('/embed-demo.html');
    await page.evaluate((id) => {
      const el = document.createElement('gradlab-widget');
      el.setAttribute('experiment', id);
      el.id = 'registry-check';
      document.body.prepend(el);
    }, e.id);
    const frame = page.locator('#registry-check iframe');
    await expect(frame).toHaveAttribute('src', new RegExp(`/embed/${e.id}\\?`));
    await frame.scrollIntoViewIfNeeded();
    await expect(frame.contentFrame().getByTestId(`${e.id}-widget`)).toBeVisible({ timeout: 60_000 });
    expect(errors).toEqual([]);
  });
}
