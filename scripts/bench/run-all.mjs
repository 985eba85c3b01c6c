#!/usr/bin/env node
// Runs every benchmark in scripts/bench/ (each *.mjs file except this one), one after the other
// in its own node process, so one benchmark's JIT state and garbage do not skew the next.
// Arguments are passed on to each benchmark. Exits 1 if any benchmark fails.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== self)
  .sort();

let failed = 0;
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const r = spawnSync(process.execPath, [join(here, file), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`${file} failed (${r.signal ?? `exit ${r.status}`})`);
  }
}
console.log(`\n${benches.length - failed} of ${benches.length} benchmark(s) ran.`);
process.exit(failed === 0 ? 0 : 1);
