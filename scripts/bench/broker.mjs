#!/usr/bin/env node
// Broker benchmark: skeeter's broker (scripts/bin/mosquitto) against Debian's Mosquitto and aedes,
// in the same run, on loopback. Every broker runs as a process pinned to core 1; this process is
// the load generator, pinned to core 0: raw sockets, hand-built pre-encoded packets, receive
// framing by fixed header only. See scripts/bench/README.md ("Broker") for the scenarios.
//
// Options: --quick, --rounds N, --measure-ms MS, --warm-ms MS, --idle N, --retained N,
//          --only a,b (scenario ids), --brokers skeeter,mosquitto,aedes, --profile DIR,
//          --inflight N (publisher's QoS 1/2 window, default 32),
//          --base DIR (also run skeeter as built in DIR, e.g. a worktree of main before a change:
//          adds the broker `base` and a skeeter/base column)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BROKERS, setBaseRoot, startBroker, stopBroker, unavailable } from './broker/brokers.mjs';
import { formatProfile, summariseProfiles } from './broker/profile.mjs';
import { fanIn, fanOut0, fanOutAcked, idle, latency, retained, wildcard } from './broker/scenarios.mjs';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    'measure-ms': { type: 'string' },
    'warm-ms': { type: 'string' },
    idle: { type: 'string' },
    retained: { type: 'string' },
    only: { type: 'string' },
    brokers: { type: 'string' },
    profile: { type: 'string' },
    inflight: { type: 'string' },
    base: { type: 'string' },
  },
  // run-all.mjs passes the same arguments to every benchmark; ignore ones meant for others.
  strict: false,
});

const quick = opts.quick === true;
const ctx = {
  rounds: Number(opts.rounds ?? (quick ? 1 : 3)),
  measureMs: Number(opts['measure-ms'] ?? (quick ? 1000 : 3000)),
  warmMs: Number(opts['warm-ms'] ?? (quick ? 400 : 700)),
  idleConnections: Number(opts.idle ?? (quick ? 2000 : 15_000)),
  retainedCount: Number(opts.retained ?? (quick ? 20_000 : 100_000)),
  inflight: Number(opts.inflight ?? 32),
};

const ROWS = [
  { id: 'fanin', label: 'fan-in 10->1 QoS0, msg/s' },
  { id: 'fanout0', label: 'fan-out 1->100 QoS0, deliveries/s' },
  { id: 'fanout1', label: 'fan-out 1->100 QoS1, deliveries/s' },
  { id: 'fanout2', label: 'fan-out 1->100 QoS2, deliveries/s' },
  { id: 'fanout2lost', label: '  QoS2 lost deliveries (max, must be 0)', max: true, integer: true },
  { id: 'latency50', label: 'latency p50 @1000 msg/s, us (lower=better)' },
  { id: 'latency99', label: 'latency p99 @1000 msg/s, us (lower=better)' },
  { id: 'wildcard', label: 'wildcard 10k filters, msg/s' },
  { id: 'idle', label: `idle conns (${ctx.idleConnections}), kB RSS/conn (lower=better)`, decimals: 2 },
  { id: 'retained', label: `${ctx.retainedCount / 1000}k retained -> '#', ms (lower=better)` },
];

const SCENARIOS = [
  { id: 'fanin', run: fanIn },
  { id: 'fanout0', run: fanOut0 },
  { id: 'fanout1', run: (b, c) => fanOutAcked(b, c, 1) },
  { id: 'fanout2', run: (b, c) => fanOutAcked(b, c, 2) },
  { id: 'latency', run: latency },
  { id: 'wildcard', run: wildcard },
  // These two measure state a broker accumulates, so each round gets a fresh broker.
  { id: 'idle', run: idle, fresh: true },
  { id: 'retained', run: retained, fresh: true },
];

const only = opts.only ? new Set(opts.only.split(',')) : undefined;
if (opts.base) setBaseRoot(resolve(opts.base));
const wanted = opts.brokers ? opts.brokers.split(',') : opts.base ? [...BROKERS, 'base'] : BROKERS;
const brokers = [];
for (const kind of wanted) {
  const why = unavailable(kind);
  if (why) console.log(`skipping ${kind}: ${why}`);
  else brokers.push(kind);
}
const profileRoot = opts.profile ? resolve(opts.profile) : undefined;

// This process is the load generator: core 0 (all its threads), brokers get core 1.
const pin = spawnSync('taskset', ['-a', '-cp', '0', String(process.pid)], { encoding: 'utf8' });
if (pin.status !== 0) console.log(`warning: could not pin the load generator to core 0: ${pin.stderr.trim()}`);

/** results[row][broker] = values per round; cpu[scenario][broker] = measurements; notes likewise. */
const results = {};
const cpu = {};
const notes = {};
const profiles = {};

function record(scenario, kind, r) {
  for (const [row, v] of Object.entries(r.values)) ((results[row] ??= {})[kind] ??= []).push(v);
  // Deliveries per CPU-second of the broker: steadier than the rate when other processes take
  // turns on the broker's core (the rate falls with the time lost, this does not).
  if (r.cpu?.rate !== undefined && r.cpu.brokerCpu > 0) {
    ((results[`${scenario}/cpu`] ??= {})[kind] ??= []).push(r.cpu.rate / r.cpu.brokerCpu);
  }
  if (r.cpu) ((cpu[scenario] ??= {})[kind] ??= []).push(r.cpu);
  if (r.notes) ((notes[scenario] ??= {})[kind] ??= []).push(r.notes);
}

/**
 * Starts one broker; one retry after 5 s, because other work in this tree may be rebuilding
 * packages/<pkg>/dist at that moment. Returns undefined (and says why) if it still fails.
 */
async function start(kind, scenario) {
  let profileDir;
  if (kind === 'skeeter' && profileRoot) {
    profileDir = join(profileRoot, scenario);
    mkdirSync(profileDir, { recursive: true });
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startBroker(kind, { profileDir });
    } catch (e) {
      if (attempt === 2) {
        console.log(`\n  ${kind} did not start for ${scenario}: ${e.message.split('\n').slice(0, 6).join(' | ')}`);
        return undefined;
      }
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
}

const began = performance.now();
console.log(
  `broker benchmark: ${brokers.join(', ')}; ${ctx.rounds} round(s), ${ctx.measureMs} ms measured after ${ctx.warmMs} ms warm-up` +
    (profileRoot ? `; skeeter --cpu-prof into ${profileRoot}` : ''),
);
for (const scenario of SCENARIOS) {
  if (only && !only.has(scenario.id)) continue;
  const t = performance.now();
  process.stdout.write(`${scenario.id} ...`);
  const running = new Map();
  try {
    if (!scenario.fresh) {
      for (const kind of brokers) {
        const b = await start(kind, scenario.id);
        if (b) running.set(kind, b);
      }
    }
    for (let round = 0; round < ctx.rounds; round++) {
      // Rotate the order every round so no broker always runs first (or last) on a warm machine.
      const order = brokers.map((_, i) => brokers[(i + round) % brokers.length]);
      for (const kind of order) {
        const broker = scenario.fresh ? await start(kind, scenario.id) : running.get(kind);
        if (!broker) continue;
        try {
          record(scenario.id, kind, await scenario.run(broker, ctx));
        } catch (e) {
          console.log(`\n  ${scenario.id} on ${kind} failed: ${e.message}`);
        } finally {
          if (scenario.fresh) await stopBroker(broker);
        }
      }
    }
  } finally {
    for (const b of running.values()) await stopBroker(b);
  }
  console.log(` ${((performance.now() - t) / 1000).toFixed(1)} s`);
  if (profileRoot && brokers.includes('skeeter')) profiles[scenario.id] = summariseProfiles(join(profileRoot, scenario.id));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(v, row) {
  if (v === undefined || Number.isNaN(v)) return '-';
  if (row.integer) return String(Math.round(v));
  if (row.decimals !== undefined) return v.toFixed(row.decimals);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(1);
}

const EFFICIENCY_ROWS = ['fanin', 'fanout0', 'fanout1', 'fanout2', 'wildcard'].map((id) => ({
  id: `${id}/cpu`,
  label: `${ROWS.find((r) => r.id === id).label.split(',')[0]}, per broker CPU-s`,
}));

const ratios = [
  ['skeeter', 'mosquitto'],
  ['skeeter', 'base'],
].filter(([a, b]) => brokers.includes(a) && brokers.includes(b));
const header = ['scenario', ...brokers, ...ratios.map(([a, b]) => `${a}/${b}`)];
const table = [];
for (const row of [...ROWS, ...EFFICIENCY_ROWS]) {
  const per = results[row.id];
  if (!per) continue;
  const med = {};
  for (const kind of brokers) med[kind] = per[kind] ? (row.max ? Math.max(...per[kind]) : median(per[kind])) : undefined;
  const cells = [row.label, ...brokers.map((k) => fmt(med[k], row))];
  for (const [a, b] of ratios) {
    const ratio = med[a] / med[b];
    cells.push(row.max || !Number.isFinite(ratio) ? '' : `${ratio.toFixed(2)}x`);
  }
  table.push(cells);
}
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
console.log(`\nMedians of ${ctx.rounds} round(s); ratio = skeeter / mosquitto${brokers.includes('base') ? ' and skeeter / base (--base ' + opts.base + ')' : ''} (for "lower=better" rows below 1 is better).\n`);
console.log(line(header));
console.log(`| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : '-'.repeat(w - 1) + ':')).join(' | ')} |`);
for (const r of table) console.log(line(r));

// CPU use while measuring: a broker near 100% of its core is the bottleneck; the load generator
// below 100% of its core is not.
const cpuRows = Object.entries(cpu);
if (cpuRows.length > 0) {
  console.log('\nCPU in the measured window (median %): broker / other processes on the broker core / load generator:');
  const pct = (xs) => (100 * median(xs)).toFixed(0);
  for (const [scenario, per] of cpuRows) {
    const cells = brokers.map((k) =>
      per[k] ? `${k} ${pct(per[k].map((c) => c.brokerCpu))}/${pct(per[k].map((c) => c.otherCpu))}/${pct(per[k].map((c) => c.genCpu))}` : `${k} -`,
    );
    console.log(`  ${scenario.padEnd(9)} ${cells.join('   ')}`);
  }
}

console.log('\nNotes per round (lost = sent x receivers - delivered after the drain):');
for (const [scenario, per] of Object.entries(notes)) {
  const cells = brokers.map((k) => `${k} ${(per[k] ?? []).map((n) => Object.entries(n).map(([a, b]) => `${a}=${b}`).join(',')).join(' / ')}`);
  console.log(`  ${scenario}: ${cells.join('; ')}`);
}

for (const [scenario, summary] of Object.entries(profiles)) {
  console.log(`\nskeeter profile, ${scenario}:`);
  console.log(formatProfile(summary));
}
console.log(`\ntotal ${((performance.now() - began) / 1000).toFixed(0)} s`);
