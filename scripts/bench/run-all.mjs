#!/usr/bin/env node
// Runs every benchmark in scripts/bench/ (each *.mjs file except this one), one after the other
// in its own node process, so one benchmark's JIT state and garbage do not skew the next.
// `--quick` runs each in its short form (the flags differ per benchmark); nothing else is passed
// on, since each benchmark parses its own options strictly. Exits 1 if any benchmark fails.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== self)
  .sort();

const quick = process.argv.includes('--quick');
/** Each benchmark's own short-run arguments. */
const QUICK_ARGS = {
  'broker.mjs': ['--quick'],
  'codec.mjs': ['--rounds', '3'],
  'persistence.mjs': ['--scale', '0.1'],
  'client-startup.mjs': ['9', '2000'],
  'logins.mjs': ['--quick'],
  'journal.mjs': ['--quick'],
  'tls-handshake.mjs': ['--quick'],
};

let failed = 0;
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const args = quick ? (QUICK_ARGS[file] ?? []) : [];
  const r = spawnSync(process.execPath, [join(here, file), ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`${file} failed (${r.signal ?? `exit ${r.status}`})`);
  }
}
console.log(`\n${benches.length - failed} of ${benches.length} benchmark(s) ran.`);
process.exit(failed === 0 ? 0 : 1);
