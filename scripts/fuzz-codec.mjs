#!/usr/bin/env node
// Long-running random-input run against the built codec (packages/codec/dist/src/index.js):
// random bytes and mutated valid packets through decodePacket and a chunk-fed Decoder, for all
// protocol versions and roles; the only outcomes allowed are packets or MqttProtocolError (see
// packages/codec/test/gen/fuzz.ts for every check). Prints inputs/s and each failing input as
// hex; exits 1 on a failure or a hang.
//
//   node scripts/fuzz-codec.mjs [--seconds N] [--seed S] [--workers W] [--version 3|4|5]
//
// Build first (pnpm build): it runs the compiled engine in packages/codec/dist/test/gen.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url);
const runnerUrl = new URL('packages/codec/dist/test/gen/fuzz-runner.js', root);
const fuzzUrl = new URL('packages/codec/dist/test/gen/fuzz.js', root);
if (!existsSync(runnerUrl) || !existsSync(new URL('packages/codec/dist/src/index.js', root))) {
  console.error('The codec is not built: run `pnpm build` (or `npx tsc -b packages/codec`) first.');
  process.exit(1);
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string' },
    workers: { type: 'string', default: '1' },
    version: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node scripts/fuzz-codec.mjs [--seconds N] [--seed S] [--workers W] [--version 3|4|5]');
  process.exit(0);
}
const seconds = Number(values.seconds);
const workers = Number(values.workers);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(values.seed) >>> 0;
const versions = values.version === undefined ? undefined : [Number(values.version)];
if (!(seconds > 0) || !Number.isInteger(workers) || workers < 1 || (versions && ![3, 4, 5].includes(versions[0]))) {
  console.error('Bad arguments: --seconds must be > 0, --workers >= 1, --version 3, 4 or 5.');
  process.exit(1);
}

const { runWatchedFuzz } = await import(runnerUrl.href);
const { formatFailure } = await import(fuzzUrl.href);

console.log(`fuzzing @skeeter/codec for ${seconds} s with ${workers} worker(s), seed ${seed}${versions ? `, MQTT level ${versions[0]}` : ''}`);
const started = Date.now();
const progress = new Array(workers).fill(0);
const ticker = setInterval(() => {
  const total = progress.reduce((a, b) => a + b, 0);
  const s = (Date.now() - started) / 1000;
  console.log(`  ${s.toFixed(0).padStart(5)} s  ${String(total).padStart(10)} inputs  ${Math.round(total / s).toLocaleString('en-US').padStart(8)} inputs/s`);
}, 5000);

// Worker w uses seed + w, so the run is reproducible from the printed seed and worker count.
const results = await Promise.all(
  Array.from({ length: workers }, (_, w) =>
    runWatchedFuzz({
      seed: (seed + w) >>> 0,
      seconds,
      ...(versions ? { versions } : {}),
      maxFailures: 20,
      stallSeconds: 30,
      onProgress: (n) => {
        progress[w] = n;
      },
    }),
  ),
);
clearInterval(ticker);

const elapsed = (Date.now() - started) / 1000;
let inputs = 0;
let packets = 0;
let protocolErrors = 0;
let bad = 0;
results.forEach((r, w) => {
  const workerSeed = (seed + w) >>> 0;
  if (r.problem) {
    bad++;
    console.log(`\nFAIL [worker ${w}, seed ${workerSeed}] ${r.problem}`);
    if (r.stuckInputHex !== undefined) console.log(`input being decoded: ${r.stuckInputHex}`);
    return;
  }
  inputs += r.stats.inputs;
  packets += r.stats.packets;
  protocolErrors += r.stats.protocolErrors;
  for (const f of r.stats.failures) {
    bad++;
    console.log(`\nFAIL ${formatFailure(f, workerSeed)}`);
  }
});
console.log(
  `\n${inputs.toLocaleString('en-US')} inputs in ${elapsed.toFixed(1)} s = ${Math.round(inputs / elapsed).toLocaleString('en-US')} inputs/s ` +
    `(${packets.toLocaleString('en-US')} decoded, ${protocolErrors.toLocaleString('en-US')} MqttProtocolError), seed ${seed}: ` +
    (bad === 0 ? 'no failures' : `${bad} failure(s)`),
);
process.exit(bad === 0 ? 0 : 1);
