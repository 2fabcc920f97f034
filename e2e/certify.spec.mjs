// The randomized-smoothing widget on WebGPU and on the CPU fallback: both
// maps drawn, a click certifies there (certified and true radius shown), the
// URL restores it, and a hostile link is fixed with named notes.
import { test, expect } from '@playwright/test';

function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

// Small runs keep software WebGPU (SwiftShader) quick.
const SMALL = 'n=2000&map-n=100&grid=24&test-points=30';

test('renders both maps and the certificates on the active backend', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto(`/certify?${SMALL}`);
  const where = info.project.name === 'webgpu' ? 'on the GPU' : 'on the CPU';
  await expect(page.getByTestId('certify-status')).toContainText(where, { timeout: 60_000 });
  await expect(page.getByTestId('heat-map')).toHaveAttribute('data-drawn', 'true');
  await expect(page.getByTestId('base-map')).toHaveAttribute('data-drawn', 'true');
  // The default points (1,1) and (0,0) of the half-plane 3x + 4y − 1 > 0: true radii 1.2 and 0.2.
  await expect(page.getByTestId('certificate-row')).toHaveCount(2);
  await expect(page.getByTestId('true-radius').first()).toHaveText('1.2');
  await expect(page.getByTestId('true-radius').nth(1)).toHaveText('0.2');
  await expect(page.getByTestId('soft-verdict')).toContainText('soft smoothing');
  for (const id of ['regions', 'certificate', 'accuracy']) {
    await expect(page.locator(`[data-panel="${id}"]`)).toBeVisible();
  }
  expect(errors).toEqual([]);
});

test('a click certifies the point, and the URL restores it', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto(`/certify?${SMALL}`);
  await expect(page.getByTestId('certificate-row')).toHaveCount(2, { timeout: 60_000 });
  const map = page.getByTestId('heat-map');
  const box = await map.boundingBox();
  // Three quarters across and a quarter down: about (1.5, 1.5) in the [−3, 3]² view
  // (the click lands on a whole pixel, so read the point back from the URL).
  await map.click({ position: { x: box.width * 0.75, y: box.height * 0.25 } });
  await expect(page).toHaveURL(/points=1\.[45]\d*(%2C|,)1\.[45]/);
  const [x, y] = new URL(page.url()).searchParams.get('points').split(',').map(Number);
  // The true radius is the distance to the half-plane's line 3x + 4y − 1 = 0.
  const dist = String(Number(((3 * x + 4 * y - 1) / 5).toFixed(2)));
  await expect(page.getByTestId('certificate-row')).toHaveCount(1, { timeout: 60_000 });
  await expect(page.getByTestId('true-radius')).toHaveText(dist, { timeout: 60_000 });
  const certified = Number(await page.getByTestId('certified-radius').textContent());
  expect(certified).toBeGreaterThan(0);
  expect(certified).toBeLessThan(Number(dist));
  await page.reload();
  await expect(page.getByTestId('points')).toHaveValue(`${x},${y}`);
  await expect(page.getByTestId('true-radius')).toHaveText(dist, { timeout: 60_000 });
  expect(errors).toEqual([]);
});

test('rotation mode certifies an angle', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto(`/certify?${SMALL}&transform=rotation&w=0,1&b=0&points=0.8776,0.4794&sigma-angle=0.3`);
  // The point sits at angle 0.5 rad above the line y = 0: the true angle is 0.5.
  await expect(page.getByTestId('true-radius')).toHaveText('0.5 rad', { timeout: 60_000 });
  await expect(page.getByTestId('certified-radius')).toContainText('rad');
  expect(errors).toEqual([]);
});

test('a hostile certify link is fixed with named notes', async ({ page }, info) => {
  const errors = watchErrors(page);
  await page.goto('/certify?points=1,1;<script>&n=1e12&sigma=-1&model=<b>x</b>&w=0,0&alpha=NaN&grid=9999');
  const notes = page.getByTestId('config-notes');
  for (const field of ['points', 'n', 'sigma', 'model', 'w', 'alpha', 'grid']) {
    await expect(notes).toContainText(`\`${field}\``);
  }
  // On the CPU the page bounds the work, so the fixed link draws; software WebGPU would
  // take minutes over 2^24 samples per certificate, so there only the notes are checked.
  if (info.project.name === 'cpu') {
    await expect(page.getByTestId('heat-map')).toHaveAttribute('data-drawn', 'true', { timeout: 60_000 });
  }
  expect(errors).toEqual([]);
});
