/**
 * Broker persistence: save at exit, restore at start, SIGUSR1, and mosquitto.db files moving
 * between skeeter and the Debian Mosquitto 2.0.11 in both directions.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEBIAN_MOSQUITTO, freePort, hasDebianMosquitto } from '../helpers/broker-process.js';
import { launcher } from '../helpers/paths.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';

interface Running {
  port: number;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  signal(s: NodeJS.Signals): void;
}

async function start(dir: string, port: number, oracle = false, extra: string[] = []): Promise<Running> {
  const conf = join(dir, oracle ? 'oracle.conf' : 'skeeter.conf');
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${dir}/`, ...extra];
  if (oracle && process.getuid?.() === 0) lines.push('user root');
  writeFileSync(conf, lines.join('\n') + '\n');
  const proc = spawn(oracle ? DEBIAN_MOSQUITTO : launcher('mosquitto'), ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  for (let i = 0; i < 100 && !err.includes(' running') && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
  return {
    port,
    stderr: () => err,
    signal: (s) => process.kill(proc.pid!, s),
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null) process.kill(proc.pid!, signal);
      const t = setTimeout(() => proc.exitCode === null && process.kill(proc.pid!, 'SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

async function connect(port: number, v: m.Version, o: m.ConnectOptions, present = false): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.send(m.connect(v, o));
  const ack = (await c.next())!;
  assert.equal(ack[0], 0x20);
  assert.equal(ack[2], present ? 1 : 0, `session present in ${ack.toString('hex')}`);
  assert.equal(ack[3], 0);
  return c;
}

/** Leaves a retained message and a persistent session with one queued QoS 1 message. */
async function seed(port: number, v: m.Version): Promise<void> {
  const props = v === 5 ? m.props(m.propU32(0x11, 3600)) : undefined;
  const sub = await connect(port, v, { clientId: 'durable', clean: false, ...(props ? { props } : {}) });
  sub.send(m.subscribe(v, 1, [['q/#', 1]]));
  assert.equal((await sub.next())!.toString('hex'), m.suback(v, 1, [1]).toString('hex'));
  sub.send(m.disconnect(v));
  await sub.next();
  const pub = await connect(port, v, { clientId: 'seeder' });
  pub.send(m.publish(v, 'r/1', 'kept', { qos: 1, mid: 1, retain: true }));
  await pub.next();
  pub.send(m.publish(v, 'q/x', 'queued', { qos: 1, mid: 2 }));
  await pub.next();
  pub.send(m.disconnect(v));
  await pub.next();
}

/** Checks the seeded state came back: the retained message, the session and its queued message. */
async function check(port: number, v: m.Version): Promise<void> {
  const props = v === 5 ? m.props(m.propU32(0x11, 3600)) : undefined;
  const c = await connect(port, v, { clientId: 'reader' });
  c.send(m.subscribe(v, 1, [['r/#', 0]]));
  await c.next();
  assert.equal((await c.next())!.toString('hex'), m.publish(v, 'r/1', 'kept', { retain: true }).toString('hex'));
  c.close();
  // MQTT 3.1 has no session-present flag.
  const d = await connect(port, v, { clientId: 'durable', clean: false, ...(props ? { props } : {}) }, v !== 3);
  const p = (await d.next())!;
  assert.equal(p[0]! & 0xf0, 0x30);
  assert.match(p.toString('latin1'), /q\/x.*queued$/s);
  d.close();
}

for (const v of [3, 4, 5] as const) {
  test(`skeeter saves at exit and restores at start (v${v})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skeeter-persist-'));
    const port = await freePort();
    try {
      const a = await start(dir, port);
      await seed(port, v);
      assert.equal(await a.stop(), 0);
      assert.match(a.stderr(), /Saving in-memory database to .*mosquitto\.db\./);
      assert.equal(statSync(join(dir, 'mosquitto.db')).mode & 0o777, 0o600);
      const b = await start(dir, port);
      await check(port, v);
      await b.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('SIGUSR1 saves without stopping', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-persist-'));
  const port = await freePort();
  try {
    const a = await start(dir, port);
    await seed(port, 4);
    a.signal('SIGUSR1');
    const file = join(dir, 'mosquitto.db');
    for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(file));
    await a.stop('SIGKILL');
    const b = await start(dir, port);
    await check(port, 4);
    await b.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt database stops the broker with an error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-persist-'));
  const port = await freePort();
  try {
    // A MSG_STORE chunk header announcing 32 bytes that are not there.
    writeFileSync(join(dir, 'mosquitto.db'), Buffer.from('00b5006d6f7371756974746f20646200000000000000060000000200000020', 'hex'));
    const a = await start(dir, port);
    const code = await a.stop();
    assert.equal(code, 1);
    assert.match(a.stderr(), /^\d+: Error: .*\n\d+: Error: Couldn't open database\.\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const oracle = hasDebianMosquitto();
for (const v of [3, 4, 5] as const) {
  test(`a file skeeter wrote loads into Debian mosquitto 2.0.11 (v${v})`, { skip: oracle ? undefined : 'Debian mosquitto not installed' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skeeter-persist-'));
    const port = await freePort();
    try {
      const a = await start(dir, port);
      await seed(port, v);
      await a.stop();
      const b = await start(dir, port, true);
      await check(port, v);
      await b.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test(`a file Debian mosquitto 2.0.11 wrote loads into skeeter (v${v})`, { skip: oracle ? undefined : 'Debian mosquitto not installed' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skeeter-persist-'));
    const port = await freePort();
    try {
      const a = await start(dir, port, true);
      await seed(port, v);
      await a.stop();
      const b = await start(dir, port);
      await check(port, v);
      await b.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('restart keeps QoS 2 states both ways, subscription options and identifiers (v5), and 3.1 sessions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-persist-'));
  const port = await freePort();
  const session = m.props(m.propU32(0x11, 3600));
  try {
    let b = await start(dir, port);
    // A v5 subscriber with options and an identifier, and a QoS 2 delivery stopped after PUBREC.
    const sub = await connect(port, 5, { clientId: 'q2sub', clean: false, props: session });
    sub.send(m.subscribe(5, 1, [['q2/#', 2 | 0x08]], m.props(m.propVarint(0x0b, 7))));
    await sub.next();
    // A 3.1 persistent session with a subscription.
    const old = await connect(port, 3, { clientId: 'v31', clean: false });
    old.send(m.subscribe(3, 1, [['q2/#', 1]]));
    await old.next();
    old.close();
    const pub = await connect(port, 5, { clientId: 'q2pub', clean: false, props: session });
    pub.send(m.publish(5, 'q2/a', 'two', { qos: 2, mid: 9 }));
    assert.equal((await pub.next())!.toString('hex'), m.pubrec(5, 9).toString('hex'));
    pub.send(m.pubrel(5, 9));
    assert.equal((await pub.next())!.toString('hex'), m.pubcomp(5, 9).toString('hex'));
    const delivered = m.publish(5, 'q2/a', 'two', { qos: 2, mid: 1, props: m.props(m.propVarint(0x0b, 7)) });
    assert.equal((await sub.next())!.toString('hex'), delivered.toString('hex'));
    sub.send(m.pubrec(5, 1));
    assert.equal((await sub.next())!.toString('hex'), m.pubrel(5, 1).toString('hex'));
    // The publisher leaves a second QoS 2 message half done (PUBREC received, no PUBREL yet).
    pub.send(m.publish(5, 'q2/b', 'held', { qos: 2, mid: 10 }));
    assert.equal((await pub.next())!.toString('hex'), m.pubrec(5, 10).toString('hex'));
    sub.close();
    pub.close();
    await new Promise((r) => setTimeout(r, 200));
    await b.stop();

    b = await start(dir, port);
    // The subscriber gets its PUBREL again, then completes the flow.
    const sub2 = await connect(port, 5, { clientId: 'q2sub', clean: false, props: session }, true);
    assert.equal((await sub2.next())!.toString('hex'), m.pubrel(5, 1).toString('hex'));
    sub2.send(m.pubcomp(5, 1));
    // The publisher's held message is released by its PUBREL after the restart, and routed with
    // the subscription's identifier and retain-as-published.
    const pub2 = await connect(port, 5, { clientId: 'q2pub', clean: false, props: session }, true);
    pub2.send(m.pubrel(5, 10));
    assert.equal((await pub2.next())!.toString('hex'), m.pubcomp(5, 10).toString('hex'));
    const p = (await sub2.next())!;
    assert.equal(p.toString('hex'), m.publish(5, 'q2/b', 'held', { qos: 2, mid: 2, props: m.props(m.propVarint(0x0b, 7)) }).toString('hex'));
    // The 3.1 session kept its subscription and queued both messages.
    const old2 = await connect(port, 3, { clientId: 'v31', clean: false });
    const q1 = (await old2.next())!;
    assert.match(q1.toString('latin1'), /q2\/a.*two$/s);
    for (const c of [sub2, pub2, old2]) c.close();
    await b.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
