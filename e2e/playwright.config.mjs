// e2e against the built dist/ in Debian's Chromium (never a downloaded browser).
// Two projects: software WebGPU (SwiftShader, needs --enable-unsafe-webgpu)
// and the CPU fallback (the same Chromium without that flag).
import { defineConfig } from '@playwright/test';

// E2E_PORT lets parallel checkouts run their own specs side by side (default 4173).
const PORT = Number(process.env.E2E_PORT || 4173);
const BASE = `http://127.0.0.1:${PORT}`;
const chromium = '/usr/bin/chromium';
const quiet = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export default defineConfig({
  testDir: '.',
  testMatch: /.*\.spec\.mjs/,
  outputDir: '../test-results',
  workers: 1,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
  use: {
    baseURL: BASE,
    browserName: 'chromium',
    viewport: { width: 1280, height: 900 },
  },
  projects: [
    {
      name: 'webgpu',
      use: {
        launchOptions: { executablePath: chromium, args: [...quiet, '--enable-unsafe-webgpu'] },
        // SwiftShader is a software (fallback) adapter, where Auto computes on
        // the CPU; this project tests the WebGPU path, so its reader has chosen
        // "GPU" once (src/ui/backend.rs remembers it). e2e/shell.spec.mjs checks
        // Auto itself in a context without that choice.
        storageState: { cookies: [], origins: [{ origin: BASE, localStorage: [{ name: 'gradlab.backend', value: 'gpu' }] }] },
      },
    },
    {
      name: 'cpu',
      use: { launchOptions: { executablePath: chromium, args: quiet } },
    },
  ],
  webServer: {
    command: `node e2e/serve.mjs dist ${PORT}`,
    cwd: '..',
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: false,
    timeout: 30_000,
  },
});
