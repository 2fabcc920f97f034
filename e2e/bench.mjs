// Runs the /bench page in headless Debian Chromium (software WebGPU) and
// writes its table as JSON. Not part of the test suite's pass/fail:
//   node e2e/bench.mjs            (after `trunk build --release`)
// Output: e2e/results/bench.json, and the same JSON on stdout.
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const PORT = 4174;
const server = spawn('node', ['e2e/serve.mjs', 'dist', String(PORT)], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 500));
try {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--enable-unsafe-webgpu', '--disable-background-networking', '--no-first-run'],
  });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${PORT}/bench`);
  await page.getByTestId('bench-status').filter({ hasText: /done|stopped/ }).waitFor({ timeout: 600_000 });
  const status = await page.getByTestId('bench-status').textContent();
  const rows = JSON.parse(await page.getByTestId('bench-table').getAttribute('data-json'));
  const adapter = await page.getByTestId('backend-badge').textContent();
  await browser.close();
  const out = { browser: 'Debian Chromium (headless)', adapter, status, rows };
  mkdirSync('e2e/results', { recursive: true });
  writeFileSync('e2e/results/bench.json', JSON.stringify(out, null, 2));
  console.log(JSON.stringify(out, null, 2));
} finally {
  server.kill();
}
