// A keyboard-only walk through one widget (Gumbel-Softmax): Tab reaches
// every control of the page in order with a visible focus ring, the τ
// slider moves with the arrow keys (and the URL follows), and every plot
// carries a text alternative.
import { test, expect } from '@playwright/test';

test('keyboard only: every control reachable with a visible focus, the τ slider operable, plots described', async ({ page }, info) => {
  test.skip(info.project.name !== 'cpu', 'keyboard and layout: one project is enough');
  await page.goto('/gumbel?tau=1');
  const widget = page.getByTestId('gumbel-widget');
  await expect(widget).toBeVisible();
  await expect(page.getByTestId('estimators')).toBeVisible({ timeout: 60_000 });

  // Walk with Tab from the top of the page until focus leaves the widget.
  const seen = [];
  let reachedTau = false;
  for (let i = 0; i < 200; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return null;
      e.setAttribute('data-tab-reached', '');
      const s = getComputedStyle(e);
      return {
        inWidget: !!e.closest('[data-testid="gumbel-widget"]'),
        id: e.getAttribute('data-testid') || e.getAttribute('aria-label') || e.textContent.trim().slice(0, 30),
        tag: e.tagName,
        ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none',
      };
    });
    if (!f) continue;
    if (f.inWidget) {
      seen.push(f);
      expect(f.ring, `visible focus on ${f.tag} ${f.id}`).toBe(true);
      if (f.id === 'tau') reachedTau = true;
    } else if (seen.length > 0) {
      break; // past the widget
    }
  }
  expect(reachedTau, `the τ slider is reachable by Tab (reached: ${seen.map((f) => f.id).join(', ')})`).toBe(true);
  // Every visible, enabled control of the widget was reached.
  const missed = await widget
    .locator('input:not([disabled]):not([type=hidden]), select:not([disabled]), button:not([disabled]), a[href], textarea')
    .evaluateAll((els) =>
      els
        .filter((e) => e.getClientRects().length > 0 && !e.hasAttribute('data-tab-reached'))
        .map((e) => e.outerHTML.slice(0, 80)));
  expect(missed, 'Tab reaches every visible control of the widget').toEqual([]);
  expect(seen.length).toBeGreaterThan(3);

  // Operable: focus the slider by keyboard again and move it.
  await page.getByTestId('tau').focus();
  const before = new URL(page.url()).searchParams.get('tau');
  await page.keyboard.press('ArrowRight');
  await expect.poll(() => new URL(page.url()).searchParams.get('tau')).not.toBe(before);

  // Every plot has a text alternative.
  const unlabeled = await widget.locator('svg, canvas').evaluateAll((els) =>
    els
      .filter((e) => !e.parentElement?.closest('svg')) // an outer plot, not an icon inside one
      .filter((e) => e.getClientRects().length > 0)
      .filter((e) => e.getAttribute('aria-hidden') !== 'true')
      .filter((e) => !(e.getAttribute('aria-label') || e.querySelector(':scope > title')?.textContent))
      .map((e) => e.outerHTML.slice(0, 80)));
  expect(unlabeled).toEqual([]);
});
