#!/usr/bin/env node
// TLS benchmark: skeeter's broker against Debian's Mosquitto, in the same run, on loopback, with
// the same certificate (RSA 2048, made with openssl for this run) and the same TLS listener
// config. Each broker runs pinned to core 1 (taskset), this load generator on core 0.
//
// Scenarios (each for a bounded time and a bounded number of connections, rounds alternate the
// brokers and the median is kept):
//   full      full TLS handshakes + CONNECT/CONNACK + close, per second (no session reuse)
//   resumed   the same with the client offering the session of a first connection (TLS 1.3
//             tickets / 1.2 session ids); the share actually resumed is printed too
//   fanin     TLS fan-in: 10 TLS publishers -> 1 TLS subscriber, QoS 0, 64-byte payloads, msg/s
//
// Options: --rounds N (3), --measure-ms MS (3000), --parallel N (concurrent handshakes, 16),
//          --tls-version tlsv1.2|tlsv1.3 (client maximum, default tlsv1.3), --only full,resumed,fanin
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from './lib/free-port.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { parseArgs } from 'node:util';
import { BROKER_CORE, MOSQUITTO, SKEETER_ENTRY, SKEETER_LAUNCHER, stopBroker } from './broker/brokers.mjs';
import { connectPacket, FrameReader, publishPacket, subscribePacket } from './broker/packets.mjs';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string' },
    'measure-ms': { type: 'string' },
    parallel: { type: 'string' },
    'tls-version': { type: 'string' },
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
  strict: false,
});
const quick = opts.quick === true;
const ROUNDS = Number(opts.rounds ?? (quick ? 1 : 3));
const MEASURE_MS = Number(opts['measure-ms'] ?? (quick ? 1000 : 3000));
const PARALLEL = Number(opts.parallel ?? 16);
const MAX_VERSION = opts['tls-version'] === 'tlsv1.2' ? 'TLSv1.2' : 'TLSv1.3';
/** Hard caps so that no loop runs away whatever the machine's speed. */
const MAX_CONNECTIONS_PER_RUN = 200_000;
const MAX_MESSAGES_PER_RUN = 50_000_000;
const only = opts.only ? new Set(opts.only.split(',')) : undefined;

function openssl(cwd, args) {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A CA and a server certificate for 127.0.0.1, valid for a day, in a temp dir. */
function makeCertificates() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-tls-'));
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1', '-subj', '/CN=Bench CA',
    '-keyout', 'ca.key', '-out', 'ca.crt', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', '7', '-days', '1', '-sha256',
    '-extfile', 'server.ext', '-out', 'server.crt']);
  return { dir, ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}

/** One TLS connection: handshake, CONNECT, wait for CONNACK. Resolves with the socket. */
function tlsMqtt(port, certs, clientId, session) {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: certs.caPem, servername: 'localhost', maxVersion: MAX_VERSION, session });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('TLS connect timed out'));
    }, 10_000);
    let got = Buffer.alloc(0);
    socket.once('secureConnect', () => socket.write(connectPacket(clientId)));
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4) {
        clearTimeout(timer);
        if (got[0] !== 0x20 || got[3] !== 0) {
          socket.destroy();
          reject(new Error(`CONNACK refused: ${got.subarray(0, 4).toString('hex')}`));
          return;
        }
        socket.removeAllListeners('data');
        resolve(socket);
      }
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** A ticket/session from one connection, for the resumed scenario. */
async function captureSession(port, certs) {
  let session;
  for (let i = 0; i < 3 && session === undefined; i++) {
    const s = await tlsMqtt(port, certs, `session-${i}`);
    session = await new Promise((resolve) => {
      // TLS 1.3 tickets arrive after the handshake; 1.2 sessions are there at once.
      const have = s.getSession();
      const t = setTimeout(() => resolve(have), 500);
      s.once('session', (sess) => {
        clearTimeout(t);
        resolve(sess);
      });
    });
    s.end();
  }
  return session;
}

/** Handshakes + CONNECT/CONNACK per second for MEASURE_MS, PARALLEL at a time. */
async function handshakes(port, certs, resumed) {
  const session = resumed ? await captureSession(port, certs) : undefined;
  let done = 0;
  let reused = 0;
  let failed = 0;
  const start = performance.now();
  const deadline = start + MEASURE_MS;
  const worker = async (w) => {
    for (let i = 0; performance.now() < deadline && done < MAX_CONNECTIONS_PER_RUN; i++) {
      try {
        const s = await tlsMqtt(port, certs, `hs-${w}-${i}`, session);
        if (s.isSessionReused()) reused++;
        done++;
        s.destroy();
      } catch {
        failed++;
        if (failed > 100) throw new Error('too many failed handshakes');
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, (_, w) => worker(w)));
  const seconds = (performance.now() - start) / 1000;
  return { rate: done / seconds, reusedShare: done > 0 ? reused / done : 0 };
}

/** TLS fan-in: 10 publishers -> 1 subscriber, QoS 0; delivered messages per second. */
async function fanIn(port, certs) {
  const topic = 'bench/tls-fanin';
  const sub = await tlsMqtt(port, certs, 'fanin-sub');
  let delivered = 0;
  let subacked = false;
  const reader = new FrameReader((h) => {
    if (h >> 4 === 3) delivered++;
    else if (h >> 4 === 9) subacked = true;
  });
  sub.on('data', (d) => reader.push(d));
  sub.write(subscribePacket(1, [topic], 0));
  for (let i = 0; i < 200 && !subacked; i++) await new Promise((r) => setTimeout(r, 10));
  if (!subacked) throw new Error('no SUBACK');
  const pubs = [];
  for (let i = 0; i < 10; i++) pubs.push(await tlsMqtt(port, certs, `fanin-pub-${i}`));
  const batch = Buffer.concat(Array.from({ length: 32 }, (_, i) => publishPacket(topic, Buffer.alloc(64, i))));
  let sent = 0;
  const window = 4000;
  const start = performance.now();
  const deadline = start + MEASURE_MS;
  // Keep at most `window` messages in flight between the publishers and the subscriber, so the
  // rate is what the broker delivers, not what the socket buffers swallow.
  await new Promise((resolve) => {
    const pump = () => {
      if (performance.now() >= deadline || sent >= MAX_MESSAGES_PER_RUN) return resolve();
      let rounds = 0;
      while (sent - delivered < window && rounds < 64) {
        for (const p of pubs) {
          p.write(batch);
          sent += 32;
        }
        rounds++;
      }
      setImmediate(pump);
    };
    pump();
  });
  const seconds = (performance.now() - start) / 1000;
  const rate = delivered / seconds;
  for (const p of pubs) p.destroy();
  sub.destroy();
  return { rate };
}

/** Starts a broker with one TLS listener on a free loopback port, pinned to BROKER_CORE. */
async function startTlsBroker(kind, certs) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `bench-tls-${kind}-`));
  const conf = join(dir, 'mosquitto.conf');
  const lines = [`listener ${port} 127.0.0.1`, `certfile ${certs.cert}`, `keyfile ${certs.key}`, 'allow_anonymous true', 'log_dest none'];
  if (process.getuid?.() === 0) lines.push('user root');
  writeFileSync(conf, lines.join('\n') + '\n');
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const argv = [kind === 'skeeter' ? SKEETER_LAUNCHER : MOSQUITTO, '-c', conf];
  const child = spawn('sh', ['-c', 'exec taskset -c "$0" "$@"', BROKER_CORE, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output = (output + d).slice(-4000)));
  child.stderr.on('data', (d) => (output = (output + d).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const broker = { kind, port, pid: child.pid, child, exited, dir, output: () => output };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${kind} exited during startup: ${output}`);
    try {
      (await tlsMqtt(port, certs, `probe-${kind}`)).destroy();
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        await stopBroker(broker);
        throw new Error(`${kind} not ready: ${e.message}; ${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return broker;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
};

async function main() {
  if (!existsSync(SKEETER_ENTRY)) throw new Error('skeeter is not built (npx tsc -b)');
  if (!existsSync(MOSQUITTO)) {
    console.log(`skipping: ${MOSQUITTO} not installed (the reference must run in the same run)`);
    return;
  }
  spawnSync('taskset', ['-c', '0', 'true']).status === 0 && spawnSync('taskset', ['-cp', '0', String(process.pid)]);
  const certs = makeCertificates();
  certs.caPem = (await import('node:fs')).readFileSync(certs.ca);
  const scenarios = [
    { id: 'full', label: `full TLS handshake + CONNECT/CONNACK per s (${PARALLEL} parallel, max ${MAX_VERSION})`, run: (p) => handshakes(p, certs, false) },
    { id: 'resumed', label: `resumed-session handshake + CONNECT/CONNACK per s`, run: (p) => handshakes(p, certs, true) },
    { id: 'fanin', label: 'TLS fan-in 10->1 QoS0 64 B, msg/s', run: (p) => fanIn(p, certs) },
  ].filter((s) => !only || only.has(s.id));
  const results = {};
  try {
    for (const s of scenarios) {
      results[s.id] = { skeeter: [], mosquitto: [], reuse: { skeeter: [], mosquitto: [] } };
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which broker goes first so drift on the machine falls on both.
        const order = round % 2 === 0 ? ['skeeter', 'mosquitto'] : ['mosquitto', 'skeeter'];
        for (const kind of order) {
          const broker = await startTlsBroker(kind, certs);
          try {
            const r = await s.run(broker.port);
            results[s.id][kind].push(r.rate);
            if (r.reusedShare !== undefined) results[s.id].reuse[kind].push(r.reusedShare);
          } finally {
            await stopBroker(broker);
          }
        }
      }
    }
  } finally {
    rmSync(certs.dir, { recursive: true, force: true });
  }
  console.log(`TLS benchmark, ${ROUNDS} round(s) of ${MEASURE_MS} ms, median; ratio = skeeter / mosquitto (higher is better)`);
  console.log(`${'scenario'.padEnd(70)} ${'skeeter'.padStart(10)} ${'mosquitto'.padStart(10)} ${'ratio'.padStart(7)}`);
  for (const s of scenarios) {
    const r = results[s.id];
    const a = median(r.skeeter);
    const b = median(r.mosquitto);
    console.log(`${s.label.padEnd(70)} ${a.toFixed(0).padStart(10)} ${b.toFixed(0).padStart(10)} ${(a / b).toFixed(2).padStart(7)}`);
    if (r.reuse.skeeter.length > 0) {
      const pct = (x) => `${(median(x) * 100).toFixed(0)}%`;
      console.log(`${'  share of handshakes actually resumed'.padEnd(70)} ${pct(r.reuse.skeeter).padStart(10)} ${pct(r.reuse.mosquitto).padStart(10)}`);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
