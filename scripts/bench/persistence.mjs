#!/usr/bin/env node
// Persistence benchmark: a large mosquitto.db state (by default 1M retained messages and 10k
// persistent sessions with queued messages and subscriptions, about 150 MB) is
//   - written with @skeeter/persistence's crash-safe async writer (MB/s, and the longest
//     event-loop pause seen by a 1 ms timer and by monitorEventLoopDelay during the write),
//   - streamed back (readDbFileBatches, MB/s), and restored into a DbState (loadDbFile, MB/s),
//   - dumped with our built `db_dump --stats` (MB/s, as a child process),
// and, as the reference in the same run when Debian's Mosquitto is installed, the same file is
// restored by Mosquitto (start until its listener accepts) and saved by it (SIGTERM until exit).
// Issue targets: restore of a 100 MB file <= 5 s; db_dump --stats >= 100 MB/s; no event-loop
// pause over ~50 ms while saving. This is not a test; it prints numbers.
//
//   node scripts/bench/persistence.mjs [--scale F] [--payload BYTES] [--no-mosquitto] [--keep]
//
// --scale 0.1 runs a tenth of the state (quick check). Every step has a time limit; the whole run
// takes about a minute at scale 1. Build first (pnpm build).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const root = new URL('../../', import.meta.url);
const persistenceUrl = new URL('packages/persistence/dist/src/index.js', root);
const dbDumpBin = new URL('packages/cli/dist/src/bin/db_dump.js', root);
if (!existsSync(persistenceUrl) || !existsSync(dbDumpBin)) {
  console.error('Not built: run `pnpm build` (or `npx tsc -b`) first.');
  process.exit(1);
}
const { writeDbFile, readDbFileBatches, loadDbFile } = await import(persistenceUrl.href);

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    payload: { type: 'string', default: '64' },
    'no-mosquitto': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const scale = Number(values.scale);
const RETAINED = Math.round(1_000_000 * scale);
const SESSIONS = Math.round(10_000 * scale);
const QUEUED_PER_SESSION = 10;
const SUBS_PER_SESSION = 2;
const PAYLOAD = Number(values.payload);
const STEP_LIMIT_MS = 120_000;

const dir = mkdtempSync(join(tmpdir(), 'skeeter-bench-persist-'));
const dbPath = join(dir, 'mosquitto.db');

// The state is generated lazily, in Mosquitto's chunk order, so the generator costs no memory.
function* records() {
  const payload = Buffer.alloc(PAYLOAD, 0x61);
  const sourceId = Buffer.from('bench-publisher');
  const total = RETAINED + SESSIONS * QUEUED_PER_SESSION;
  yield { kind: 'cfg', lastDbId: BigInt(total + 1), shutdown: 1, dbidSize: 8 };
  for (let i = 1; i <= total; i++) {
    const retained = i <= RETAINED;
    yield {
      kind: 'msg_store', storeId: BigInt(i), expiryTime: 0n, sourceMid: i & 0xffff, sourcePort: 1883, sourceId, sourceUsername: null,
      topic: Buffer.from(retained ? `bench/retained/${i % 1000}/${i}` : `bench/queued/${i}`), qos: i % 3, retain: retained ? 1 : 0,
      payload, properties: null,
    };
  }
  for (let s = 0; s < SESSIONS; s++) {
    const clientId = Buffer.from(`bench-session-${s}`);
    yield { kind: 'client', clientId, username: null, sessionExpiryTime: 0n, sessionExpiryInterval: 0xffffffff, lastMid: QUEUED_PER_SESSION, listenerPort: 1883 };
    for (let q = 0; q < QUEUED_PER_SESSION; q++) {
      yield {
        kind: 'client_msg', clientId, storeId: BigInt(RETAINED + s * QUEUED_PER_SESSION + q + 1), mid: q + 1, qos: 1, state: 11,
        retain: 0, dup: 0, direction: 1, properties: null,
      };
    }
  }
  for (let s = 0; s < SESSIONS; s++) {
    for (let k = 0; k < SUBS_PER_SESSION; k++) {
      yield { kind: 'sub', clientId: Buffer.from(`bench-session-${s}`), topic: Buffer.from(`bench/queued/${s}/${k}/#`), qos: 1, options: 0, identifier: 0 };
    }
  }
  for (let i = 1; i <= RETAINED; i++) yield { kind: 'retain', storeId: BigInt(i) };
}

const mb = (bytes) => bytes / 1048576;
const fmt = (n, d = 1) => n.toFixed(d);
const rows = [];
const row = (what, seconds, bytes, extra = '') => {
  rows.push([what, `${fmt(seconds, 2)} s`, bytes ? `${fmt(mb(bytes) / seconds)} MB/s` : '', extra]);
  console.log(`  ${what}: ${fmt(seconds, 2)} s${bytes ? `, ${fmt(mb(bytes) / seconds)} MB/s` : ''}${extra ? `, ${extra}` : ''}`);
};

function withLimit(promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${STEP_LIMIT_MS / 1000} s`)), STEP_LIMIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

try {
  console.log(`persistence benchmark: ${RETAINED} retained, ${SESSIONS} sessions x ${QUEUED_PER_SESSION} queued, ${PAYLOAD} B payloads (node ${process.version})`);

  // 1. Write, watching the event loop.
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let maxGap = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  histogram.enable();
  let t = performance.now();
  const { bytes, chunks } = await withLimit(writeDbFile(dbPath, records()), 'write');
  const writeS = (performance.now() - t) / 1000;
  histogram.disable();
  clearInterval(probe);
  const size = statSync(dbPath).size;
  console.log(`file: ${fmt(mb(size))} MB, ${chunks} chunks`);
  row('write (writeDbFile, fsync + rename)', writeS, bytes, `longest event-loop pause ${fmt(maxGap)} ms (timer), ${fmt(histogram.max / 1e6)} ms (monitorEventLoopDelay)`);

  // 2. Stream it back.
  t = performance.now();
  let n = 0;
  for await (const batch of readDbFileBatches(dbPath)) for (const ev of batch) if (ev.event === 'chunk') n++;
  row('read (readDbFileBatches, streaming, records copied)', (performance.now() - t) / 1000, size, `${n} records`);

  // 3. Restore into memory, as the broker would at startup.
  t = performance.now();
  const loaded = await withLimit(loadDbFile(dbPath), 'restore');
  row('restore (loadDbFile into a DbState)', (performance.now() - t) / 1000, size, `${loaded.state.messages.length} messages, heap ${fmt(mb(process.memoryUsage().heapUsed), 0)} MB`);

  // 4. db_dump --stats, the real built tool.
  t = performance.now();
  const dump = spawnSync(process.execPath, [dbDumpBin.pathname, '--stats', dbPath], { encoding: 'utf8', timeout: STEP_LIMIT_MS });
  if (dump.status !== 0) throw new Error(`db_dump --stats failed: ${dump.stderr}`);
  row('db_dump --stats (child process)', (performance.now() - t) / 1000, size);

  // 5. Reference: Debian Mosquitto restoring and saving the same file.
  const haveMosquitto = !values['no-mosquitto'] && spawnSync('sh', ['-c', 'command -v mosquitto'], { stdio: 'ignore' }).status === 0;
  if (!haveMosquitto) {
    console.log('  (Mosquitto reference skipped: mosquitto not installed or --no-mosquitto)');
  } else {
    const port = await new Promise((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = srv.address().port;
        srv.close(() => resolve(p));
      });
    });
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${dir}/`,
      'autosave_interval 0', 'log_dest none', ...(process.getuid?.() === 0 ? ['user root'] : []), ''].join('\n'));
    t = performance.now();
    const child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    const listening = async () => {
      for (let i = 0; i < STEP_LIMIT_MS / 20; i++) {
        if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}`);
        const ok = await new Promise((resolve) => {
          const s = createConnection({ host: '127.0.0.1', port }).once('connect', () => (s.destroy(), resolve(true))).once('error', () => resolve(false));
        });
        if (ok) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('mosquitto did not start listening');
    };
    try {
      await listening();
      const mosqRestore = (performance.now() - t) / 1000;
      row('reference: Mosquitto restore (start until listening)', mosqRestore, size);
      t = performance.now();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid, 'SIGTERM');
      await withLimit(exited, 'mosquitto save');
      row('reference: Mosquitto save (SIGTERM until exit)', (performance.now() - t) / 1000, statSync(dbPath).size);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    }
    const [w, , , , mr, ms] = rows.map((r) => parseFloat(r[1]));
    console.log(`ratios (Mosquitto time / ours; >1 = we are faster): save ${fmt(ms / w, 2)}x, restore ${fmt(mr / parseFloat(rows[2][1]), 2)}x`);
  }
  console.log('targets: restore of 100 MB <= 5 s, db_dump --stats >= 100 MB/s, longest pause while saving <= ~50 ms');
} finally {
  if (values.keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
