/**
 * The `mosquitto` bin as a process: start and stop lines, config errors, unsupported options,
 * logging options, SIGHUP reload, pid_file and -d.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../helpers/broker-process.js';
import { launcher } from '../helpers/paths.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';

const MOSQUITTO = launcher('mosquitto');
const TS = /^\d+: /;

function tempConf(lines: string[]): { dir: string; conf: string } {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-proc-'));
  const conf = join(dir, 'm.conf');
  writeFileSync(conf, lines.join('\n') + '\n');
  return { dir, conf };
}

/** Runs the broker until `until` returns true for its stderr (bounded), then SIGTERM by PID. */
async function runUntil(
  args: string[],
  until: (stderr: string) => boolean,
  during?: (port: number) => Promise<void>,
  port = 0,
): Promise<{ stderr: string; stdout: string; code: number | null }> {
  const proc = spawn(MOSQUITTO, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  // 'close', not 'exit': the last stderr bytes (an error line) can arrive after 'exit'.
  const exited = new Promise<number | null>((r) => proc.once('close', (c) => r(c)));
  try {
    for (let i = 0; i < 100 && !until(stderr) && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    if (during) await during(port);
  } finally {
    if (proc.exitCode === null) process.kill(proc.pid!, 'SIGTERM');
  }
  const t = setTimeout(() => proc.exitCode === null && process.kill(proc.pid!, 'SIGKILL'), 5000);
  const code = await exited;
  clearTimeout(t);
  return { stderr, stdout, code };
}

test('start and stop lines with a config file; SIGTERM exits 0', async () => {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const { dir, conf } = tempConf([`listener ${port} 127.0.0.1`, 'allow_anonymous true']);
    const r = await runUntil(['-c', conf], (e) => e.includes('running'));
    rmSync(dir, { recursive: true, force: true });
    // A concurrent test may take the free port first: try another (at most 3 attempts).
    if (r.stderr.includes('Address already in use') && attempt < 3) continue;
    const lines = r.stderr.trimEnd().split('\n');
    assert.ok(lines.every((l) => TS.test(l)), r.stderr);
    assert.deepEqual(lines.map((l) => l.replace(TS, '')), [
      'mosquitto version 2.0.20 (skeeter 0.1.0) starting',
      `Config loaded from ${conf}.`,
      `Opening ipv4 listen socket on port ${port}.`,
      'mosquitto version 2.0.20 (skeeter 0.1.0) running',
      'mosquitto version 2.0.20 (skeeter 0.1.0) terminating',
    ]);
    assert.equal(r.code, 0);
    return;
  }
});

test('local-only mode with -p: loopback on IPv4 and IPv6, anonymous allowed', async () => {
  // A free port can be taken by a concurrent test before the broker binds it; then the broker
  // exits ("Address already in use") and the attempt is repeated on another port (at most 3).
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    let served = false;
    const r = await runUntil(['-p', String(port)], (e) => e.includes('running'), async () => {
      const c = await RawClient.open(port).catch(() => undefined);
      if (!c) return;
      c.send(m.connect(4, { clientId: 'lo' }));
      served = (await c.next())?.toString('hex') === '20020000';
      c.close();
    }, port);
    if (!served && r.stderr.includes('Address already in use') && attempt < 3) continue;
    assert.ok(served, r.stderr);
    const lines = r.stderr.split('\n').map((l) => l.replace(TS, ''));
    assert.deepEqual(lines.slice(0, 8), [
      'mosquitto version 2.0.20 (skeeter 0.1.0) starting',
      'Using default config.',
      'Starting in local only mode. Connections will only be possible from clients running on this machine.',
      'Create a configuration file which defines a listener to allow remote access.',
      'For more details see https://mosquitto.org/documentation/authentication-methods/',
      `Opening ipv4 listen socket on port ${port}.`,
      `Opening ipv6 listen socket on port ${port}.`,
      'mosquitto version 2.0.20 (skeeter 0.1.0) running',
    ]);
    return;
  }
});

test('a config error exits 3 with the file and line', () => {
  const { dir, conf } = tempConf(['listener 1884', 'no_such_option 1']);
  const r = spawnSync(MOSQUITTO, ['-c', conf], { encoding: 'utf8', timeout: 10_000 });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 3);
  assert.deepEqual(r.stderr.trimEnd().split('\n').map((l) => l.replace(TS, '')), [
    'Error: Unknown configuration variable "no_such_option".',
    `Error found at ${conf}:2.`,
  ]);
});

test('an option whose feature is not built yet stops the broker, naming it', () => {
  // OpenSSL engines have no equivalent in Node's TLS, so tls_engine stays refused.
  const { dir, conf } = tempConf(['listener 1884', 'tls_engine pkcs11']);
  const r = spawnSync(MOSQUITTO, ['-c', conf], { encoding: 'utf8', timeout: 10_000 });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 3);
  assert.match(r.stderr, /^\d+: Error: The tls_engine option is not supported yet in skeeter \(TLS engines \(tls_engine\)\), found at .*m\.conf:2\.\n$/);
});

test('log_dest file, log_timestamp false, connection_messages false', async () => {
  const port = await freePort();
  const { dir, conf } = tempConf([
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    `log_dest file ${'LOGFILE'}`,
    'log_timestamp false',
    'connection_messages false',
  ]);
  const logFile = join(dir, 'broker.log');
  writeFileSync(conf, readFileSync(conf, 'utf8').replace('LOGFILE', logFile));
  const r = await runUntil(['-c', conf], () => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('running'), async () => {
    const c = await RawClient.open(port);
    c.send(m.connect(4, { clientId: 'quiet' }));
    await c.next();
    c.send(m.disconnect(4));
    await c.next();
  }, port);
  const log = readFileSync(logFile, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.stderr, '');
  assert.deepEqual(log.trimEnd().split('\n'), [
    'mosquitto version 2.0.20 (skeeter 0.1.0) starting',
    `Config loaded from ${conf}.`,
    `Opening ipv4 listen socket on port ${port}.`,
    'mosquitto version 2.0.20 (skeeter 0.1.0) running',
    'mosquitto version 2.0.20 (skeeter 0.1.0) terminating',
  ]);
});

test('-v logs connections, packets and subscriptions in Mosquitto\'s words', async () => {
  const port = await freePort();
  const { dir, conf } = tempConf([`listener ${port} 127.0.0.1`, 'allow_anonymous true']);
  const r = await runUntil(['-c', conf, '-v'], (e) => e.includes('running'), async () => {
    const c = await RawClient.open(port);
    c.send(m.connect(4, { clientId: 'verbose', username: 'u1' }));
    await c.next();
    c.send(m.subscribe(4, 1, [['v/#', 1]]));
    await c.next();
    c.send(m.publish(4, 'v/t', 'hey', { qos: 1, mid: 3 }));
    await c.next();
    await c.next();
    c.send(m.puback(4, 1));
    c.send(m.disconnect(4));
    await c.next();
  }, port);
  rmSync(dir, { recursive: true, force: true });
  const lines = r.stderr.split('\n').map((l) => l.replace(TS, ''));
  const from = lines.findIndex((l) => l.startsWith('New connection from 127.0.0.1:'));
  assert.ok(from > 0, r.stderr);
  const body = lines.slice(from + 1, from + 15).map((l) => l.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:PORT'));
  assert.deepEqual(body, [
    "New client connected from 127.0.0.1:PORT as verbose (p2, c1, k60, u'u1').",
    'No will message specified.',
    'Sending CONNACK to verbose (0, 0)',
    'Received SUBSCRIBE from verbose',
    '\tv/# (QoS 1)',
    'verbose 1 v/#',
    'Sending SUBACK to verbose',
    "Received PUBLISH from verbose (d0, q1, r0, m3, 'v/t', ... (3 bytes))",
    "Sending PUBLISH to verbose (d0, q1, r0, m1, 'v/t', ... (3 bytes))",
    'Sending PUBACK to verbose (m3, rc0)',
    'Received PUBACK from verbose (Mid: 1, RC:0)',
    'Received DISCONNECT from verbose',
    'Client verbose disconnected.',
    'mosquitto version 2.0.20 (skeeter 0.1.0) terminating',
  ]);
});

test('SIGHUP reloads allow_anonymous before the next connection', async () => {
  const port = await freePort();
  const { dir, conf } = tempConf([`listener ${port} 127.0.0.1`, 'allow_anonymous false']);
  const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((r) => proc.once('exit', r));
  try {
    for (let i = 0; i < 100 && !stderr.includes('running'); i++) await new Promise((r) => setTimeout(r, 50));
    const a = await RawClient.open(port);
    a.send(m.connect(4, { clientId: 'before' }));
    assert.equal((await a.next())!.toString('hex'), '20020005');
    a.close();
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\n`);
    process.kill(proc.pid!, 'SIGHUP');
    for (let i = 0; i < 100 && !stderr.includes('Reloading config.'); i++) await new Promise((r) => setTimeout(r, 20));
    const b = await RawClient.open(port);
    b.send(m.connect(4, { clientId: 'after' }));
    assert.equal((await b.next())!.toString('hex'), '20020000');
    b.close();
  } finally {
    process.kill(proc.pid!, 'SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pid_file holds the PID while running and is removed at exit; -d returns at once', async () => {
  const port = await freePort();
  const { dir, conf } = tempConf([`listener ${port} 127.0.0.1`, 'allow_anonymous true', `pid_file PIDFILE`]);
  const pidFile = join(dir, 'm.pid');
  writeFileSync(conf, readFileSync(conf, 'utf8').replace('PIDFILE', pidFile));
  const r = spawnSync(MOSQUITTO, ['-c', conf, '-d'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0);
  let pid = 0;
  for (let i = 0; i < 100 && pid === 0; i++) {
    if (existsSync(pidFile)) pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (pid === 0) await new Promise((res) => setTimeout(res, 50));
  }
  assert.ok(pid > 0, 'pid file written');
  try {
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      try {
        const c = await RawClient.open(port);
        c.send(m.connect(4, { clientId: 'daemon' }));
        ok = (await c.next())?.toString('hex') === '20020000';
        c.close();
      } catch {
        await new Promise((res) => setTimeout(res, 50));
      }
    }
    assert.ok(ok, 'daemon serves clients');
  } finally {
    process.kill(pid, 'SIGTERM');
  }
  for (let i = 0; i < 100 && existsSync(pidFile); i++) await new Promise((res) => setTimeout(res, 50));
  assert.equal(existsSync(pidFile), false, 'pid file removed at exit');
  rmSync(dir, { recursive: true, force: true });
});

test('tls_engine is refused while reading the config, naming the option', () => {
  const { dir, conf } = tempConf(['listener 1884', 'tls_engine foo']);
  const r = spawnSync(MOSQUITTO, ['-c', conf], { encoding: 'utf8', timeout: 10_000 });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 3);
  assert.match(r.stderr, /^\d+: Error: The tls_engine option is not supported yet in skeeter \(TLS engines \(tls_engine\)\), found at .*m\.conf:2\.\n$/);
});

test('log_dest dlt stops the broker as not supported yet (never silently ignored)', () => {
  const { dir, conf } = tempConf(['listener 1884', 'log_dest dlt']);
  const r = spawnSync(MOSQUITTO, ['-c', conf], { encoding: 'utf8', timeout: 10_000 });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 3);
  assert.match(r.stderr, /^\d+: Error: log_dest dlt is not supported yet in skeeter; use stderr, stdout, file, syslog or topic\.\n$/);
});

// A stand-in for syslogd: a unix datagram socket that prints every message it receives.
const SYSLOG_RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('ready', flush=True)
while True:
    data = s.recv(65536)
    print(data.decode('utf-8', 'replace'), flush=True)
`;

test('log_dest syslog: lines reach syslog with the ident mosquitto, the facility and the severity', { skip: spawnSync('sh', ['-c', 'command -v logger']).status === 0 ? undefined : 'logger not installed' }, async () => {
  const port = await freePort();
  const { dir, conf } = tempConf([`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'log_dest syslog', 'log_facility 2']);
  const socketPath = join(dir, 'log.sock');
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const receiver = spawn(python, ['-c', SYSLOG_RECEIVER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  let received = '';
  receiver.stdout.on('data', (d: Buffer) => (received += d.toString()));
  try {
    for (let i = 0; i < 100 && !received.includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
    const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SKEETER_SYSLOG_SOCKET: socketPath } });
    const exited = new Promise((r) => proc.once('exit', r));
    for (let i = 0; i < 100 && !received.includes(' running'); i++) await new Promise((r) => setTimeout(r, 50));
    process.kill(proc.pid!, 'SIGTERM');
    await exited;
    // local2 (18) * 8 + notice (5) = 149; no timestamp of ours, syslog adds its own.
    assert.match(received, /<149>.*mosquitto(\[\d+\])?: mosquitto version 2\.0\.20 \(skeeter 0\.1\.0\) running/);
  } finally {
    receiver.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
