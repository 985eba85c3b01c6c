#!/usr/bin/env node
// Durable-mode benchmark (docs/durable-journal.md): QoS 1 publish rate to 100 offline persistent
// sessions, in the same run, on the same disk, for
//   skeeter-journal    persistence true + persistence_journal true (PUBACK after fsync)
//   skeeter            persistence true (PUBACK at once, state saved every autosave_interval)
//   mosquitto          Debian's 2.0.11, persistence true (the same, its default autosave)
//   mosquitto-every    Debian's 2.0.11, persistence true + autosave_on_changes true +
//                      autosave_interval 1: a whole save per change, its only way not to lose
//                      acknowledged messages
// and prints the rates and the ratios the issue asks for (journal >= 0.5x skeeter, >= 10x
// mosquitto-every). Every broker is a process on a free loopback port with its data in a fresh
// directory under os.tmpdir() (a real disk here, not tmpfs: fsyncs cost what they cost).
//
// Each round: the 100 subscribers reset their sessions (clean connect), connect persistent,
// subscribe `bench/t` at QoS 1 and go offline; then P publishers (default 4) share N QoS 1
// messages, each with W (default 100) in flight; the rate is N / (first send .. last PUBACK).
// Several publishers, as on a loaded broker: one group commit then covers all of them, while a
// single publisher's rate in durable mode is bounded by W / fsync latency. One warm-up round, then
// --rounds measured ones (median printed). mosquitto-every gets fewer messages (its rate is two
// orders lower) and a time bound; every wait is bounded.
//
// Options: --quick, --rounds N, --messages N, --window N, --publishers N, --brokers a,b,c, --skeeter-bin PATH
// (e.g. a wrapper adding --cpu-prof), --baseline-bin PATH (another build's scripts/bin/mosquitto, e.g. in
// a copy of an older commit: adds baseline-journal and baseline, measured in the same run)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { freePort } from './lib/free-port.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    messages: { type: 'string' },
    window: { type: 'string' },
    publishers: { type: 'string' },
    brokers: { type: 'string' },
    'skeeter-bin': { type: 'string' },
    'baseline-bin': { type: 'string' },
  },
  strict: false,
});
const quick = opts.quick === true;
const ROUNDS = Number(opts.rounds ?? (quick ? 2 : 5));
const MESSAGES = Number(opts.messages ?? (quick ? 2000 : 6000));
const WINDOW = Number(opts.window ?? 100);
const PUBLISHERS = Number(opts.publishers ?? 4);
const SESSIONS = 100;
const SLOW_MESSAGES = quick ? 150 : 400;
const SLOW_LIMIT_MS = 60_000;

const root = fileURLToPath(new URL('../..', import.meta.url));
const SKEETER = opts['skeeter-bin'] ?? join(root, 'scripts/bin/mosquitto');
const MOSQUITTO = '/usr/sbin/mosquitto';

const KINDS = {
  'skeeter-journal': { bin: SKEETER, extra: ['persistence_journal true'], messages: MESSAGES },
  skeeter: { bin: SKEETER, extra: [], messages: MESSAGES },
  mosquitto: { bin: MOSQUITTO, extra: [], messages: MESSAGES },
  'mosquitto-every': { bin: MOSQUITTO, extra: ['autosave_on_changes true', 'autosave_interval 1'], messages: SLOW_MESSAGES },
};
const BASELINE = opts['baseline-bin'];
if (BASELINE) {
  KINDS['baseline-journal'] = { bin: BASELINE, extra: ['persistence_journal true'], messages: MESSAGES };
  KINDS.baseline = { bin: BASELINE, extra: [], messages: MESSAGES };
}
const wanted = opts.brokers ? opts.brokers.split(',') : Object.keys(KINDS);

// ---- minimal MQTT 3.1.1 over raw sockets --------------------------------------------------

const str = (s) => {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};
function varint(n) {
  const out = [];
  do {
    let x = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) x |= 0x80;
    out.push(x);
  } while (n > 0);
  return Buffer.from(out);
}
const packet = (h, ...parts) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([h]), varint(body.length), body]);
};
const connectPacket = (id, clean) => packet(0x10, str('MQTT'), Buffer.from([4, clean ? 2 : 0, 0, 60]), str(id));
const subscribePacket = (topic) => packet(0x82, Buffer.from([0, 1]), str(topic), Buffer.from([1]));
const DISCONNECT = Buffer.from([0xe0, 0]);

class Client {
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.handler = () => {};
    this.closed = new Promise((r) => socket.once('close', r));
    socket.on('error', () => {});
    socket.on('data', (d) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      for (;;) {
        const b = this.buf;
        if (b.length < 2) return;
        let len = 0;
        let mul = 1;
        let i = 1;
        for (;;) {
          if (i >= b.length) return;
          const x = b[i++];
          len += (x & 0x7f) * mul;
          if ((x & 0x80) === 0) break;
          mul *= 128;
        }
        if (b.length < i + len) return;
        const p = { type: b[0] >> 4, body: b.subarray(i, i + len) };
        this.buf = b.subarray(i + len);
        this.handler(p);
      }
    });
  }
  static open(port) {
    return new Promise((resolve, reject) => {
      const s = netConnect({ port, host: '127.0.0.1' });
      const t = setTimeout(() => (s.destroy(), reject(new Error('connect timeout'))), 10_000);
      s.once('connect', () => (clearTimeout(t), s.setNoDelay(true), resolve(new Client(s))));
      s.once('error', (e) => (clearTimeout(t), reject(e)));
    });
  }
  next(type, ms = 30_000) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no packet ${type} in ${ms} ms`)), ms);
      this.handler = (p) => {
        if (p.type === type) {
          clearTimeout(t);
          this.handler = () => {};
          resolve(p);
        }
      };
    });
  }
  async connect(id, clean) {
    const ack = this.next(2);
    this.socket.write(connectPacket(id, clean));
    const p = await ack;
    if (p.body[1] !== 0) throw new Error(`CONNACK ${p.body[1]}`);
  }
  async close() {
    this.socket.write(DISCONNECT);
    const t = setTimeout(() => this.socket.destroy(), 5000);
    await this.closed;
    clearTimeout(t);
  }
}

// ---- brokers -------------------------------------------------------------------------------

async function startBroker(kind) {
  const spec = KINDS[kind];
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `bench-journal-${kind}-`));
  // Every message must reach every session's queue (no drops at Mosquitto's default of 1000).
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'log_dest none', 'persistence true', `persistence_location ${dir}/`, 'max_queued_messages 20000', ...spec.extra];
  if (process.getuid?.() === 0) lines.push('user root');
  writeFileSync(join(dir, 'b.conf'), lines.join('\n') + '\n');
  const proc = spawn(spec.bin, ['-c', join(dir, 'b.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const exited = new Promise((r) => proc.once('exit', r));
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`${kind} exited: ${err}`);
    try {
      const c = await Client.open(port);
      c.socket.destroy();
      break;
    } catch {
      if (i > 100) {
        process.kill(proc.pid, 'SIGKILL');
        throw new Error(`${kind} did not start: ${err}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    /** CPU seconds the broker process used so far (user + system, from /proc). */
    cpu() {
      try {
        const f = readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(f[11]) + Number(f[12])) / 100;
      } catch {
        return NaN;
      }
    },
    async stop() {
      if (proc.exitCode === null) process.kill(proc.pid, 'SIGTERM');
      const t = setTimeout(() => proc.exitCode === null && process.kill(proc.pid, 'SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resets and re-creates the offline persistent sessions, a few connections at a time. */
async function prepareSessions(port) {
  const ids = Array.from({ length: SESSIONS }, (_, i) => `bench-sub-${i}`);
  for (let i = 0; i < ids.length; i += 10) {
    await Promise.all(
      ids.slice(i, i + 10).map(async (id) => {
        const reset = await Client.open(port);
        await reset.connect(id, true);
        await reset.close();
        const c = await Client.open(port);
        await c.connect(id, false);
        const ack = c.next(9);
        c.socket.write(subscribePacket('bench/t'));
        await ack;
        await c.close();
      }),
    );
  }
}

/** One publisher: `count` QoS 1 messages with WINDOW in flight; resolves with its PUBACK count. */
async function publisher(port, id, count, deadline) {
  const c = await Client.open(port);
  await c.connect(id, true);
  const payload = Buffer.alloc(64, 0x61);
  const packets = [];
  for (let mid = 1; mid <= Math.min(count, 65535); mid++) packets.push(packet(0x32, str('bench/t'), Buffer.from([mid >> 8, mid & 0xff]), payload));
  let sent = 0;
  let acked = 0;
  const result = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({ acked, timedOut: true }), Math.max(0, deadline - Date.now()));
    const pump = () => {
      const batch = [];
      while (sent < count && sent - acked < WINDOW) batch.push(packets[sent++ % packets.length]);
      if (batch.length) c.socket.write(batch.length === 1 ? batch[0] : Buffer.concat(batch));
    };
    c.handler = (p) => {
      if (p.type !== 4) return;
      acked++;
      if (acked === count) {
        clearTimeout(timer);
        resolve({ acked, timedOut: false });
      } else pump();
    };
    c.closed.then(() => reject(new Error('publisher connection closed')));
    pump();
  });
  await c.close();
  return result;
}

/** PUBLISHERS publishers share `count` messages; resolves with the total msg/s. */
async function publishRun(port, count, limitMs) {
  const deadline = Date.now() + limitMs;
  const each = Math.ceil(count / PUBLISHERS);
  const start = process.hrtime.bigint();
  const results = await Promise.all(Array.from({ length: PUBLISHERS }, (_, i) => publisher(port, `bench-pub-${i}`, each, deadline)));
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const acked = results.reduce((n, r) => n + r.acked, 0);
  return { rate: acked / secs, acked, timedOut: results.some((r) => r.timedOut) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- run -----------------------------------------------------------------------------------

// All brokers run at once and the rounds alternate between them, so a busy moment of this
// (shared) machine falls on every broker alike rather than on whichever ran then.
const running = {};
const lists = {};
const cpuLists = {};
try {
  for (const kind of wanted) {
    if (!KINDS[kind]) throw new Error(`unknown broker ${kind}`);
    if (!existsSync(KINDS[kind].bin)) {
      console.log(`skipping ${kind}: ${KINDS[kind].bin} missing`);
      continue;
    }
    running[kind] = await startBroker(kind);
    lists[kind] = [];
  }
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [kind, broker] of Object.entries(running)) {
      await prepareSessions(broker.port);
      const cpu0 = broker.cpu();
      const r = await publishRun(broker.port, KINDS[kind].messages, SLOW_LIMIT_MS);
      const cpuUs = ((broker.cpu() - cpu0) * 1e6) / r.acked;
      if (round > 0) {
        lists[kind].push(r.rate);
        (cpuLists[kind] ??= []).push(cpuUs);
      }
      process.stdout.write(`  ${kind} ${round === 0 ? 'warm-up' : `round ${round}`}: ${r.rate.toFixed(0)} msg/s, broker CPU ${cpuUs.toFixed(0)} us/msg (${r.acked} PUBACKs${r.timedOut ? ', time bound hit' : ''})\n`);
    }
  }
} finally {
  for (const broker of Object.values(running)) await broker.stop();
}
const rates = {};
for (const [kind, list] of Object.entries(lists)) rates[kind] = median(list);

console.log(`\nQoS 1 publish rate to ${SESSIONS} offline persistent sessions (median of ${ROUNDS}; ${PUBLISHERS} publishers, ${WINDOW} in flight each; 64-byte payloads):`);
for (const [kind, r] of Object.entries(rates)) {
  const cpu = cpuLists[kind] ? median(cpuLists[kind]) : NaN;
  console.log(`  ${kind.padEnd(16)} ${r.toFixed(0).padStart(8)} msg/s   broker CPU ${cpu.toFixed(0).padStart(6)} us/msg`);
}
const ratio = (a, b) => (rates[a] && rates[b] ? rates[a] / rates[b] : undefined);
const show = (label, r, target) => {
  if (r === undefined) return;
  console.log(`  ${label.padEnd(44)} ${r.toFixed(2)}x  (target >= ${target}x: ${r >= target ? 'met' : 'NOT met'})`);
};
console.log('ratios:');
show('skeeter-journal / skeeter (journal off)', ratio('skeeter-journal', 'skeeter'), 0.5);
show('skeeter-journal / mosquitto-every', ratio('skeeter-journal', 'mosquitto-every'), 10);
show('baseline-journal / baseline (journal off)', ratio('baseline-journal', 'baseline'), 0.5);
const r3 = ratio('skeeter-journal', 'mosquitto');
if (r3 !== undefined) console.log(`  ${'skeeter-journal / mosquitto (default)'.padEnd(44)} ${r3.toFixed(2)}x`);
const r4 = ratio('skeeter', 'mosquitto');
if (r4 !== undefined) console.log(`  ${'skeeter / mosquitto (default)'.padEnd(44)} ${r4.toFixed(2)}x`);
