#!/usr/bin/env node
// Logins per second with a password_file: skeeter's broker against Debian's Mosquitto in the
// same run, same file, same load. One login = TCP connect, CONNECT (3.1.1, user name and
// password), CONNACK 0, DISCONNECT, close. Each broker runs pinned to core 1 (taskset), this load
// generator on core 0; rounds alternate the brokers and the median is kept.
//
// Scenarios:
//   anonymous   no password file (the cost of a connection alone)
//   pbkdf2      `$7$` lines as Debian's 2.0.11 mosquitto_passwd writes them (PBKDF2-SHA512, 101
//               iterations, 12-byte salt); the file is made by Debian's mosquitto_passwd itself
//   argon2id    `$argon2id$` lines as Mosquitto 2.1 writes them (our mosquitto_passwd's default):
//               skeeter only, Debian's 2.0.11 cannot read them. While it runs, a connected client
//               sends PINGREQs: the worst PINGRESP delay shows whether hashing blocks other
//               clients (it runs on libuv's thread pool, off the event loop).
//
// The pbkdf2 and argon2id rows also print how long another connected client waits for its
// PINGRESPs meanwhile (median, p99, worst).
//
// Options: --rounds N (3), --measure-ms MS (3000), --parallel N (concurrent logins, 16),
//          --only anonymous,pbkdf2,argon2id, --quick (1 round of 1000 ms)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from './lib/free-port.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SKEETER = join(root, 'scripts/bin/mosquitto');
const SKEETER_PASSWD = join(root, 'scripts/bin/mosquitto_passwd');
const MOSQUITTO = '/usr/sbin/mosquitto';
const DEBIAN_PASSWD = '/usr/bin/mosquitto_passwd';
const BROKER_CORE = '1';
const LOAD_CORE = '0';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string' },
    'measure-ms': { type: 'string' },
    parallel: { type: 'string' },
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
  strict: true,
});
const quick = opts.quick === true;
const ROUNDS = Number(opts.rounds ?? (quick ? 1 : 3));
const MEASURE_MS = Number(opts['measure-ms'] ?? (quick ? 1000 : 3000));
const PARALLEL = Number(opts.parallel ?? 16);
/** Hard cap so no run loops away on a fast machine. */
const MAX_LOGINS_PER_RUN = 100_000;
const only = opts.only ? new Set(opts.only.split(',')) : undefined;
const USERS = 8;

if (!existsSync(join(root, 'packages/cli/dist/src/bin/mosquitto.js'))) {
  console.error('skeeter is not built: run npx tsc -b first');
  process.exit(1);
}
const haveDebian = existsSync(MOSQUITTO) && existsSync(DEBIAN_PASSWD);
// Keep this process off the broker's core.
spawnSync('taskset', ['-cp', LOAD_CORE, String(process.pid)], { stdio: 'ignore' });

function field(bytes) {
  const b = Buffer.from(bytes);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

/** CONNECT 3.1.1, clean session, keepalive 60, with user name and password when given. */
function connectPacket(clientId, username, password) {
  let flags = 0x02;
  const tail = [];
  if (username !== undefined) {
    flags |= 0x80;
    tail.push(field(username));
  }
  if (password !== undefined) {
    flags |= 0x40;
    tail.push(field(password));
  }
  const body = Buffer.concat([field('MQTT'), Buffer.from([4, flags, 0, 60]), field(clientId), ...tail]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}
const DISCONNECT = Buffer.from([0xe0, 0x00]);
const PINGREQ = Buffer.from([0xc0, 0x00]);

/** One login; resolves with the CONNACK return code. */
function login(port, clientId, username, password) {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('login timed out'));
    }, 20_000);
    let got = Buffer.alloc(0);
    s.once('connect', () => s.write(connectPacket(clientId, username, password)));
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4) {
        clearTimeout(timer);
        const rc = got[3];
        s.end(DISCONNECT);
        s.destroy();
        resolve(rc);
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** `PARALLEL` loops of logins for MEASURE_MS (at most MAX_LOGINS_PER_RUN): logins per second. */
async function measure(port, users) {
  let done = 0;
  let started = 0;
  const t0 = performance.now();
  const deadline = t0 + MEASURE_MS;
  const worker = async (w) => {
    while (performance.now() < deadline && started < MAX_LOGINS_PER_RUN) {
      const i = started++;
      const user = users[i % users.length];
      const rc = await login(port, `bench-${w}-${i}`, user?.name, user?.password);
      if (rc !== 0) throw new Error(`login refused with ${rc}`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, (_, w) => worker(w)));
  return done / ((performance.now() - t0) / 1000);
}

/** While `during` runs, a connected client pings every 20 ms; resolves with its PINGRESP waits in ms. */
async function worstPing(port, during) {
  const s = connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  let got = Buffer.alloc(0);
  let waiting;
  s.on('data', (d) => {
    got = Buffer.concat([got, d]);
    waiting?.();
  });
  const next = (len) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no answer within 10 s')), 10_000);
      waiting = () => {
        if (got.length >= len) {
          clearTimeout(t);
          waiting = undefined;
          const out = got.subarray(0, len);
          got = got.subarray(len);
          resolve(out);
        }
      };
      waiting();
    });
  s.write(connectPacket('pinger', 'user0', 'password-0'));
  await next(4);
  const waits = [];
  let running = true;
  const pings = (async () => {
    for (let i = 0; running && i < 100_000; i++) {
      const t = performance.now();
      s.write(PINGREQ);
      await next(2);
      waits.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const result = await during();
  running = false;
  await pings;
  s.end(DISCONNECT);
  s.destroy();
  return { result, waits };
}

async function startBroker(kind, passwordFile) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `bench-logins-${kind}-`));
  const lines = [`listener ${port} 127.0.0.1`, 'log_dest none', 'max_connections -1'];
  if (passwordFile) lines.push(`password_file ${passwordFile}`, 'allow_anonymous false');
  else lines.push('allow_anonymous true');
  if (process.getuid?.() === 0) lines.push('user root');
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, lines.join('\n') + '\n');
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn('taskset', ['-c', BROKER_CORE, kind === 'skeeter' ? SKEETER : MOSQUITTO, '-c', conf], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${kind} exited: ${err}`);
    const ok = await new Promise((resolve) => {
      const s = connect({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (i >= 150) {
      child.kill('SIGKILL');
      throw new Error(`${kind} did not open port ${port}: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGTERM');
      const t = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const work = mkdtempSync(join(tmpdir(), 'bench-logins-'));
const users = Array.from({ length: USERS }, (_, i) => ({ name: `user${i}`, password: `password-${i}` }));

function passwordFile(name, tool, args) {
  const path = join(work, name);
  writeFileSync(path, '');
  for (const u of users) {
    const r = spawnSync(tool, [...args, '-b', path, u.name, u.password], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${tool} failed: ${r.stderr}`);
  }
  return path;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => (Number.isFinite(n) ? n.toFixed(0).padStart(8) : '     n/a');

async function scenario(name, file, brokers, { ping = false } = {}) {
  const results = Object.fromEntries(brokers.map((b) => [b, []]));
  const waits = Object.fromEntries(brokers.map((b) => [b, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of r % 2 === 0 ? brokers : [...brokers].reverse()) {
      const b = await startBroker(kind, file);
      try {
        const loginUsers = file ? users : [{}];
        // Warm-up: a few logins so the first ones (JIT, first hash) are not counted.
        for (let i = 0; i < 4; i++) await login(b.port, `warm-${i}`, loginUsers[i % loginUsers.length].name, loginUsers[i % loginUsers.length].password);
        if (ping) {
          const r = await worstPing(b.port, () => measure(b.port, loginUsers));
          results[kind].push(r.result);
          waits[kind].push(...r.waits);
        } else {
          results[kind].push(await measure(b.port, loginUsers));
        }
      } finally {
        await b.stop();
      }
    }
  }
  const ours = median(results.skeeter);
  const theirs = results.mosquitto ? median(results.mosquitto) : NaN;
  const ratio = Number.isFinite(theirs) ? `${(ours / theirs).toFixed(2)}x` : 'n/a';
  console.log(`${name.padEnd(34)} ${fmt(ours)} ${fmt(theirs)}   ${ratio}`);
  if (ping) {
    for (const kind of brokers) {
      const w = [...waits[kind]].sort((a, b) => a - b);
      const at = (q) => (w.length ? w[Math.min(w.length - 1, Math.floor(q * w.length))].toFixed(1) : 'n/a');
      console.log(`${''.padEnd(34)} ${kind}: another client's PINGRESP wait meanwhile: median ${at(0.5)} ms, p99 ${at(0.99)} ms, worst ${at(1)} ms`);
    }
  }
}

try {
  console.log(`logins/s (CONNECT+CONNACK+DISCONNECT), ${PARALLEL} at once, median of ${ROUNDS} x ${MEASURE_MS} ms; brokers on core ${BROKER_CORE}`);
  console.log(`${'scenario'.padEnd(34)}  skeeter  mosquitto  skeeter/mosquitto`);
  const both = haveDebian ? ['skeeter', 'mosquitto'] : ['skeeter'];
  if (!only || only.has('anonymous')) await scenario('anonymous (no password file)', undefined, both);
  if (!only || only.has('pbkdf2')) {
    // Written by Debian's own mosquitto_passwd when present (the $7$ format 2.0 writes), else ours.
    const file = haveDebian ? passwordFile('pbkdf2', DEBIAN_PASSWD, []) : passwordFile('pbkdf2', SKEETER_PASSWD, ['-H', 'sha512-pbkdf2']);
    await scenario('$7$ PBKDF2-SHA512, 101 iterations', file, both, { ping: true });
  }
  if (!only || only.has('argon2id')) {
    const file = passwordFile('argon2id', SKEETER_PASSWD, ['-H', 'argon2id']);
    await scenario('$argon2id$ (2.1 defaults)', file, ['skeeter'], { ping: true });
    console.log(`${''.padEnd(34)} (Debian's 2.0.11 cannot read argon2id lines: no ratio)`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
