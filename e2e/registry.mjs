// The lab's experiments as the build lists them (dist/experiments.json,
// written from the registry): the e2e specs iterate this, never a
// hard-coded list or count.
import { readFileSync } from 'node:fs';

export const EXPERIMENTS = JSON.parse(
  readFileSync(new URL('../dist/experiments.json', import.meta.url), 'utf8'),
);
export const IDS = EXPERIMENTS.map((e) => e.id);
