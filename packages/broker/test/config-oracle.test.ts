// The same invalid configs run through Debian's real `mosquitto -c FILE`: its stderr error
// lines (timestamp prefix removed) must equal ours. Skipped when mosquitto is not installed.
// Only configs that fail while loading are used, so the oracle never opens a socket; each
// run is bounded by a timeout and killed by PID if it overruns.

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadBrokerConfig, loadConfigFile, reloadConfig, usageText, type BrokerStartup } from '../src/index.js';
import { INCLUDE_CASES } from './fixtures/config/include-cases.js';
import { INVALID_CASES } from './fixtures/config/invalid-cases.js';

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => spawnSync(p, ['-h'], { timeout: 5000 }).status === 3);
const skip = MOSQUITTO === undefined ? 'Debian mosquitto not installed (apt-get install mosquitto); oracle comparison skipped' : false;

const tmp = mkdtempSync(join(tmpdir(), 'skeeter-config-oracle-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface OracleRun {
  status: number | null;
  stdout: string;
  /** stderr lines with Mosquitto's "<unix time>: " log prefix removed. */
  lines: string[];
}

function runMosquitto(args: string[]): OracleRun {
  const r = spawnSync(MOSQUITTO as string, args, { timeout: 5000, killSignal: 'SIGKILL', encoding: 'latin1' });
  assert.notEqual(r.signal, 'SIGKILL', 'mosquitto did not exit on its own (config unexpectedly valid?)');
  const lines = r.stderr.split('\n').filter((l) => l.length > 0).map((l) => l.replace(/^\d+: /, ''));
  return { status: r.status, stdout: r.stdout, lines };
}

function ourLines(r: BrokerStartup): string[] {
  if (r.ok) return [];
  const out = r.messages.map((m) => m.text);
  if ('stderr' in r && r.stderr.length > 0) out.unshift(...r.stderr.split('\n').filter((l) => l.length > 0));
  return out;
}

describe('config errors match Debian mosquitto 2.0.11', { skip }, () => {
  let n = 0;
  for (const k of INVALID_CASES) {
    if (!k.oracle) continue;
    const file = join(tmp, `case-${n++}.conf`);
    test(k.name, () => {
      writeFileSync(file, Buffer.from(k.conf, 'latin1'));
      const theirs = runMosquitto(['-c', file]);
      assert.equal(theirs.status, 3);
      const ours = loadConfigFile(file, { hostname: 'oracle' });
      assert.equal(ours.ok, false);
      if (ours.ok) return;
      assert.equal(ours.exitCode, 3);
      assert.deepEqual(ours.messages.map((m) => m.text), theirs.lines);
    });
  }

  for (const [i, k] of INCLUDE_CASES.entries()) {
    test(`include_dir: ${k.name}`, () => {
      const root = join(tmp, `include-${i}`);
      for (const [rel, text] of Object.entries(k.files)) {
        mkdirSync(join(root, rel, '..'), { recursive: true });
        writeFileSync(join(root, rel), text.replaceAll('ROOT', root));
      }
      const main = join(root, 'main.conf');
      const theirs = runMosquitto(['-c', main]);
      const ours = loadConfigFile(main);
      assert.equal(theirs.status, 3);
      assert.equal(ours.ok, false);
      assert.deepEqual(ourLines(ours), theirs.lines);
    });
  }

  const cli: Array<[string, string[]]> = [
    ['unknown option', ['-x']],
    ['-c without a file', ['-c']],
    ['-p without a port', ['-p']],
    ['-p 0', ['-p', '0']],
    ['-p out of range', ['-p', '70000']],
    ['missing config file', ['-c', '/nonexistent/skeeter.conf']],
    ['config file is a directory', ['-c', '/']],
  ];
  for (const [name, args] of cli) {
    test(`command line: ${name}`, () => {
      const theirs = runMosquitto(args);
      const ours = loadBrokerConfig(args);
      assert.equal(theirs.status, 3);
      assert.equal(ours.ok, false);
      assert.deepEqual(ourLines(ours), theirs.lines);
      const ourStdout = !ours.ok && 'stdout' in ours ? ours.stdout : '';
      // Usage: identical except the version line (ours names skeeter's version too).
      const strip = (s: string): string => s.replace(/^mosquitto version [^\n]*\n/, '');
      assert.equal(strip(ourStdout), strip(theirs.stdout));
    });
  }

  test('command line: -h prints the usage and exits 3', () => {
    const theirs = runMosquitto(['-h']);
    assert.equal(theirs.status, 3);
    assert.match(theirs.stdout, /^mosquitto version 2\.0\.\d+\n/);
    assert.equal(usageText().replace(/^[^\n]*\n/, ''), theirs.stdout.replace(/^[^\n]*\n/, ''));
  });
});

/** A port the OS says is free right now (Mosquitto cannot listen on port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** MQTT 5 CONNECT (empty client id), returns CONNACK property id -> value for 2/4-byte ints. */
function connackProperties(port: number): Promise<Map<number, number>> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no CONNACK within 3 s'));
    }, 3000);
    let buf = Buffer.alloc(0);
    s.on('connect', () => s.write(Buffer.from([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 5, 2, 0, 60, 0, 0, 0])));
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + (buf[1] as number)) return;
      clearTimeout(timer);
      s.destroy();
      // Fixed header (2, remaining length < 128 here), flags, reason code, property length.
      const props = new Map<number, number>();
      let i = 5;
      const end = 5 + (buf[4] as number);
      while (i < end) {
        const id = buf[i++] as number;
        if (id === 0x21 || id === 0x13 || id === 0x22) {
          props.set(id, buf.readUInt16BE(i));
          i += 2;
        } else if (id === 0x27 || id === 0x11) {
          props.set(id, buf.readUInt32BE(i));
          i += 4;
        } else if (id === 0x12 || id === 0x1f) {
          i += 2 + buf.readUInt16BE(i);
        } else {
          i += 1;
        }
      }
      resolve(props);
    });
  });
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('reload matches Debian mosquitto 2.0.11', { skip }, () => {
  test('SIGHUP: the global limits keep their startup values, sys_interval changes', async () => {
    const port = await freePort();
    const file = join(tmp, 'reload.conf');
    const conf = (n: number): string =>
      `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages ${n}\nmax_keepalive ${n * 10}\nmax_packet_size ${n * 100}\nsys_interval ${n}\n`;
    writeFileSync(file, conf(5));
    const child = spawn(MOSQUITTO as string, ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (log += d));
    try {
      await waitFor(() => log.includes('running'), 'mosquitto to start');
      const before = await connackProperties(port);
      writeFileSync(file, conf(7));
      child.kill('SIGHUP');
      await waitFor(() => log.includes('Reloading config.'), 'the reload');
      const afterReload = await connackProperties(port);
      // Mosquitto: receive-maximum, server keepalive and maximum packet size do not change.
      assert.deepEqual([before.get(0x21), before.get(0x13), before.get(0x27)], [5, 50, 500]);
      assert.deepEqual([afterReload.get(0x21), afterReload.get(0x13), afterReload.get(0x27)], [5, 50, 500]);

      writeFileSync(file, conf(5));
      const start = loadConfigFile(file);
      assert.ok(start.ok);
      if (!start.ok) return;
      writeFileSync(file, conf(7));
      const ours = reloadConfig(start.config);
      assert.ok(ours.ok);
      if (!ours.ok) return;
      assert.deepEqual(
        [ours.config.maxInflightMessages, ours.config.maxKeepalive, ours.config.maxPacketSize, ours.config.sysInterval],
        [afterReload.get(0x21), afterReload.get(0x13), afterReload.get(0x27), 7],
      );
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
    }
  });
});
