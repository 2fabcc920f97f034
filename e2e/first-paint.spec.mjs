// The first paint needs no wasm: index.html carries the gallery and About
// as static HTML (static/first-paint.html, from the registry), and the app
// replaces it when it mounts, with the same words at the same places (no
// layout jump) and nothing shown twice. The wasm is held back here until the
// static page has been checked.
import { test, expect } from '@playwright/test';
import { EXPERIMENTS } from './registry.mjs';

// A service worker would serve the wasm past the page's request routing.
test.use({ serviceWorkers: 'block' });

/** Holds every wasm request until the returned function is called. */
async function holdWasm(page) {
  let release;
  const gate = new Promise((r) => (release = r));
  await page.route(/\.wasm$/, async (route) => {
    await gate;
    // The page may have navigated away meanwhile (a link clicked before the wasm came).
    await route.continue().catch(() => {});
  });
  return release;
}

/** Text and box of every element `selector` finds (boxes rounded to 1 px). */
function snapshot(page, selector) {
  return page.locator(selector).evaluateAll((els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return { text: e.innerText.trim(), box: [r.x, r.y, r.width, r.height].map(Math.round) };
    }),
  );
}

for (const [route, view, parts] of [
  ['/', 'gallery', 'main .hero h1, main .hero p, main li.card'],
  ['/about', 'about', 'main article.prose h1, main article.prose p, main section.papers'],
]) {
  test(`${view}: painted from static HTML before the wasm loads, then the app takes over in place`, async ({ page }, info) => {
    test.skip(info.project.name !== 'cpu', 'static HTML: one project is enough');
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const release = await holdWasm(page);
    await page.goto(route, { waitUntil: 'domcontentloaded' });

    // Before the wasm: the static view of this route, and only it.
    await expect(page.locator('html')).toHaveAttribute('data-first-paint', view);
    await expect(page.locator(`#first-paint [data-view="${view}"]`)).toBeVisible();
    if (view === 'gallery') {
      const cards = page.getByTestId('first-paint-card');
      await expect(cards).toHaveCount(EXPERIMENTS.length);
      for (const [i, e] of EXPERIMENTS.entries()) await expect(cards.nth(i).locator('h2')).toHaveText(e.title);
    } else {
      for (const e of EXPERIMENTS) await expect(page.locator('#first-paint section.papers h3', { hasText: e.title })).toBeVisible();
    }
    expect(await page.getByTestId('experiment-card').count(), 'the app has not mounted yet').toBe(0);
    const before = await snapshot(page, parts);
    const header = await snapshot(page, 'header.site .logo, header.site nav');

    // The app mounts: the static copy is gone, nothing is doubled, and every
    // part keeps its words and its place.
    release();
    await expect(page.getByTestId('backend-badge')).toBeVisible();
    await expect(page.locator('#first-paint')).toHaveCount(0);
    await expect(page.locator('header.site')).toHaveCount(1);
    await expect(page.locator('footer.site')).toHaveCount(1);
    if (view === 'gallery') await expect(page.getByTestId('experiment-card')).toHaveCount(EXPERIMENTS.length);
    expect(await snapshot(page, parts)).toEqual(before);
    expect(await snapshot(page, 'header.site .logo, header.site nav')).toEqual(header);
    expect(errors).toEqual([]);
  });
}

test('links work before the wasm loads: a static card opens its experiment, which loads when the wasm comes', async ({ page }, info) => {
  test.skip(info.project.name !== 'cpu', 'static HTML: one project is enough');
  const release = await holdWasm(page);
  await page.goto('/', { waitUntil: 'domcontentloaded' });
  const first = EXPERIMENTS[0];
  await page.getByTestId('first-paint-card').first().click();
  await expect(page).toHaveURL(new RegExp(`/${first.id}$`));
  // Another route: the header and a loading line, not the gallery.
  await expect(page.locator('html')).toHaveAttribute('data-first-paint', 'other');
  await expect(page.locator('#first-paint [data-view="gallery"]')).toBeHidden();
  await expect(page.locator('#first-paint header.site')).toBeVisible();
  release();
  await expect(page.getByTestId(`${first.id}-widget`)).toBeVisible();
  await expect(page.locator('#first-paint')).toHaveCount(0);
  // And after the app took over, its own links route in place.
  await page.getByRole('link', { name: 'About', exact: true }).first().click();
  await expect(page.getByRole('heading', { name: 'About gradlab' })).toBeVisible();
});

test('an embed paints nothing of the site before its widget', async ({ page }, info) => {
  test.skip(info.project.name !== 'cpu', 'static HTML: one project is enough');
  const release = await holdWasm(page);
  await page.goto(`/embed/${EXPERIMENTS[0].id}`, { waitUntil: 'domcontentloaded' });
  await expect(page.locator('html')).toHaveAttribute('data-first-paint', 'embed');
  await expect(page.locator('#first-paint')).toBeHidden();
  release();
  await expect(page.getByTestId(`${EXPERIMENTS[0].id}-widget`)).toBeVisible();
});
