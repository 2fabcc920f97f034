// Starts e2e/serve.mjs on another port for a spec that needs its own site
// (a sub-path build, a copy of dist/ to swap builds in); resolves when it listens.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const serve = fileURLToPath(new URL('./serve.mjs', import.meta.url));

// `more`: further [dir, prefix] pairs served on the same origin.
export function startServer(dir, port, prefix = '/', more = []) {
  return new Promise((resolve, reject) => {
    const args = [serve, dir, String(port), prefix, ...more.flat()];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => reject(new Error(`serve.mjs on ${port} did not start`)), 10_000);
    child.on('error', reject);
    child.stdout.on('data', (d) => {
      if (String(d).includes('serving')) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${port}${prefix}`, stop: () => child.kill() });
      }
    });
  });
}
