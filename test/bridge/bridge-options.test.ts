/**
 * Bridge options between real broker processes. Where it makes sense the bridging side is ours
 * and then Debian mosquitto 2.0.11 with the same config, and both must behave alike; the remote
 * is ours or Debian's.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { oracle, sides, sideName, sleep } from './sides.js';

const skipNoOracle = oracle ? undefined : 'Debian mosquitto not installed';

const tmp = mkdtempSync(join(tmpdir(), 'skeeter-bridge-opts-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function client(port: number, id: string, v: m.Version = 4): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.send(m.connect(v, { clientId: id }));
  const ack = (await c.next())!;
  assert.equal(ack[3], 0, ack.toString('hex'));
  return c;
}

async function subscribe(c: RawClient, filter: string, qos = 0): Promise<void> {
  c.send(m.subscribe(4, 1, [[filter, qos]]));
  assert.equal((await c.next())![0], 0x90);
}

/** Waits (bounded) until the log holds `text` `count` times. */
async function logHas(b: RunningBroker, text: string, count = 1): Promise<void> {
  const n = (): number => b.stderr().split(text).length - 1;
  for (let i = 0; i < 200 && n() < count; i++) await sleep(50);
  assert.ok(n() >= count, `log lacks ${count} x "${text}":\n${b.stderr()}`);
}

/** Payloads (QoS 0/1 PUBLISH packets) a client receives within `ms`, acknowledging QoS 1. */
async function drain(c: RawClient, ms: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < 100; i++) {
    let p: Buffer | null | undefined;
    try {
      p = await c.next(ms);
    } catch {
      break;
    }
    if (!p) break;
    out.push(p);
    if (((p[0]! >> 1) & 3) === 1) c.send(m.puback(4, p.readUInt16BE(4 + p.readUInt16BE(2))));
  }
  return out;
}

const bridge = (port: number | string, ...lines: string[]): string[] => [
  'connection b1',
  `address ${typeof port === 'number' ? `127.0.0.1:${port}` : port}`,
  'remote_clientid brx',
  ...lines,
];

/** Waits until the bridge is up: its remote-side client shows in the remote's log. */
async function bridgeUp(remote: RunningBroker): Promise<void> {
  await logHas(remote, 'as brx (p');
}

for (const debian of sides) {
  const who = sideName(debian);

  test(`${who} bridge: notifications false publishes no state anywhere`, { timeout: 30_000 }, async () => {
    const remote = await startBroker({ verbose: true });
    const local = await startBroker({ oracle: debian, config: bridge(remote.port, 'notifications false', 'topic out/# out 1') });
    try {
      await bridgeUp(remote);
      const l = await client(local.port, 'l');
      await subscribe(l, '$SYS/broker/connection/#');
      const r = await client(remote.port, 'r');
      await subscribe(r, '$SYS/broker/connection/#');
      assert.deepEqual(await drain(l, 400), []);
      assert.deepEqual(await drain(r, 100), []);
      l.close();
      r.close();
    } finally {
      await local.stop();
      await remote.stop();
    }
  });

  test(`${who} bridge: notification_topic with notifications_local_only: "1" only locally`, { timeout: 30_000 }, async () => {
    const remote = await startBroker({ verbose: true });
    const local = await startBroker({
      oracle: debian,
      config: bridge(remote.port, 'notification_topic bridges/b1', 'notifications_local_only true', 'topic out/# out 1'),
    });
    try {
      await bridgeUp(remote);
      await sleep(200);
      const l = await client(local.port, 'l');
      await subscribe(l, 'bridges/#');
      const r = await client(remote.port, 'r');
      await subscribe(r, 'bridges/#');
      const got = await drain(l, 400);
      assert.deepEqual(got.map((p) => p.toString('hex')), [m.publish(4, 'bridges/b1', '1', { retain: true }).toString('hex')]);
      assert.deepEqual(await drain(r, 100), []);
      l.close();
      r.close();
    } finally {
      await local.stop();
      await remote.stop();
    }
  });

  test(`${who} bridge: the local state topic says "0" until the remote answers, and after it went away`, { timeout: 30_000 }, async () => {
    const remotePort = await freePort();
    const local = await startBroker({ oracle: debian, config: bridge(remotePort, 'restart_timeout 1', 'topic out/# out 1') });
    let remote: RunningBroker | undefined;
    try {
      const l = await client(local.port, 'l');
      await subscribe(l, '$SYS/broker/connection/brx/state');
      assert.equal((await l.next())!.toString('hex'), m.publish(4, '$SYS/broker/connection/brx/state', '0', { retain: true }).toString('hex'));
      remote = await startBroker({ port: remotePort, verbose: true });
      assert.equal((await l.next(15_000))!.toString('hex'), m.publish(4, '$SYS/broker/connection/brx/state', '1').toString('hex'));
      await remote.stop();
      remote = undefined;
      assert.equal((await l.next(15_000))!.toString('hex'), m.publish(4, '$SYS/broker/connection/brx/state', '0').toString('hex'));
      l.close();
    } finally {
      await local.stop();
      await remote?.stop();
    }
  });

  test(`${who} bridge: bridge_outgoing_retain false forwards retained messages without the retain flag`, { timeout: 30_000 }, async () => {
    const remote = await startBroker({ verbose: true });
    const local = await startBroker({ oracle: debian, config: bridge(remote.port, 'bridge_outgoing_retain false', 'topic out/# out 0') });
    try {
      await bridgeUp(remote);
      const r = await client(remote.port, 'r');
      await subscribe(r, 'out/#');
      await sleep(200);
      const p = await client(local.port, 'p');
      p.send(m.publish(4, 'out/r', 'kept', { retain: true }));
      assert.equal((await r.next())!.toString('hex'), m.publish(4, 'out/r', 'kept').toString('hex'));
      // Nothing was retained on the remote.
      const r2 = await client(remote.port, 'r2');
      await subscribe(r2, 'out/#');
      assert.deepEqual(await drain(r2, 400), []);
      for (const c of [r, r2, p]) c.close();
    } finally {
      await local.stop();
      await remote.stop();
    }
  });

  test(`${who} bridge: bridge_max_packet_size drops what the remote could not take`, { timeout: 30_000 }, async () => {
    const remote = await startBroker({ verbose: true });
    const local = await startBroker({ oracle: debian, config: bridge(remote.port, 'bridge_max_packet_size 100', 'topic out/# out 1') });
    try {
      await bridgeUp(remote);
      const r = await client(remote.port, 'r');
      await subscribe(r, 'out/#', 1);
      await sleep(200);
      const p = await client(local.port, 'p');
      // PUBLISH QoS 1 on out/x: remaining length 2+5 + 2 + payload. Mosquitto compares the
      // remaining length plus its one length byte with the limit: 90 bytes of payload make
      // 99 + 1 (kept, at the limit), 91 make 100 + 1 (dropped).
      for (const [mid, payload] of [[1, 'small1'], [2, 'x'.repeat(91)], [3, 'y'.repeat(90)], [4, 'small2']] as const) {
        p.send(m.publish(4, 'out/x', payload, { qos: 1, mid }));
        assert.equal((await p.next())![0], 0x40);
      }
      const got = await drain(r, 1000);
      assert.deepEqual(got.map((g) => g.toString('latin1').slice(-6)), ['small1', 'yyyyyy', 'small2']);
      r.close();
      p.close();
    } finally {
      await local.stop();
      await remote.stop();
    }
  });

  // Debian 2.0.11's once bridge never gets past "Connecting bridge (step 1)", so only ours runs.
  test(`${who} bridge: start_type once does not reconnect`, { skip: debian ? 'Debian 2.0.11 never completes a start_type once connection' : undefined, timeout: 30_000 }, async () => {
    const remotePort = await freePort();
    let remote = await startBroker({ port: remotePort, verbose: true });
    const local = await startBroker({ oracle: debian, config: bridge(remotePort, 'start_type once', 'restart_timeout 1', 'topic out/# out 1'), verbose: true });
    try {
      await bridgeUp(remote);
      await remote.stop();
      remote = await startBroker({ port: remotePort, verbose: true });
      // Three restart periods: an automatic bridge would be back by now.
      await sleep(3000);
      assert.ok(!remote.stderr().includes('as brx (p'), remote.stderr());
      assert.equal(local.stderr().split('Connecting bridge (step 1) b1').length - 1, 1, local.stderr());
    } finally {
      await local.stop();
      await remote.stop();
    }
  });
}

for (const restart of ['1', '1 3']) {
  test(`skeeter bridge: restart_timeout ${restart} reconnects once the remote comes up`, { timeout: 40_000 }, async () => {
    const remotePort = await freePort();
    const local = await startBroker({ config: bridge(remotePort, `restart_timeout ${restart}`, 'topic out/# out 1'), verbose: true });
    let remote: RunningBroker | undefined;
    try {
      await logHas(local, 'Connecting bridge (step 1) b1', 2);
      remote = await startBroker({ port: remotePort, verbose: true });
      await bridgeUp(remote);
      await logHas(local, 'Received CONNACK on connection local.brx.');
    } finally {
      await local.stop();
      await remote?.stop();
    }
  });
}

test('skeeter bridge: addresses fails over to the second address, and back to the first when it returns (round_robin false)', { timeout: 40_000 }, async () => {
  const firstPort = await freePort();
  const second = await startBroker({ verbose: true });
  const local = await startBroker({ config: bridge(`127.0.0.1:${firstPort} 127.0.0.1:${second.port}`, 'restart_timeout 1', 'topic out/# out 1'), verbose: true });
  let first: RunningBroker | undefined;
  try {
    await bridgeUp(second);
    assert.ok(local.stderr().includes(`Connecting bridge (step 1) b1 (127.0.0.1:${firstPort})`));
    first = await startBroker({ port: firstPort, verbose: true });
    // The bridge notices the first address is back (checked every 5 s) and moves there.
    await logHas(first, 'as brx (p');
    const r = await client(firstPort, 'r');
    await subscribe(r, 'out/#');
    await sleep(200);
    const p = await client(local.port, 'p');
    p.send(m.publish(4, 'out/f', 'via-first'));
    assert.match((await r.next(5000))!.toString('latin1'), /via-first$/);
    r.close();
    p.close();
  } finally {
    await local.stop();
    await second.stop();
    await first?.stop();
  }
});

test('skeeter bridge: round_robin true stays on the working address', { timeout: 40_000 }, async () => {
  const firstPort = await freePort();
  const second = await startBroker({ verbose: true });
  const local = await startBroker({
    config: bridge(`127.0.0.1:${firstPort} 127.0.0.1:${second.port}`, 'round_robin true', 'restart_timeout 1', 'topic out/# out 1'),
    verbose: true,
  });
  let first: RunningBroker | undefined;
  try {
    await bridgeUp(second);
    first = await startBroker({ port: firstPort, verbose: true });
    // Longer than the 5 s primary check a round_robin false bridge would make.
    await sleep(6500);
    assert.ok(!first.stderr().includes('as brx (p'), first.stderr());
  } finally {
    await local.stop();
    await second.stop();
    await first?.stop();
  }
});

for (const version of ['mqttv31', 'mqttv50'] as const) {
  test(`skeeter bridge to Debian mosquitto: bridge_protocol_version ${version}, cleansession true`, { skip: skipNoOracle, timeout: 30_000 }, async () => {
    const remote = await startBroker({ oracle: true, verbose: true });
    const local = await startBroker({ config: bridge(remote.port, `bridge_protocol_version ${version}`, 'cleansession true', 'topic out/# out 1', 'topic in/# in 1') });
    try {
      // Mosquitto logs its protocol enum: 1 for MQTT 3.1, 5 for 5.0.
      await logHas(remote, `as brx (p${version === 'mqttv31' ? 1 : 5}, c1, k60)`);
      const r = await client(remote.port, 'r');
      await subscribe(r, 'out/#', 1);
      const l = await client(local.port, 'l');
      await subscribe(l, 'in/#', 1);
      await sleep(300);
      const p = await client(local.port, 'p');
      p.send(m.publish(4, 'out/v', 'out-msg', { qos: 1, mid: 1 }));
      assert.match((await r.next(5000))!.toString('latin1'), /out-msg$/);
      const q = await client(remote.port, 'q');
      q.send(m.publish(4, 'in/v', 'in-msg'));
      assert.match((await l.next(5000))!.toString('latin1'), /in-msg$/);
      for (const c of [r, l, p, q]) c.close();
    } finally {
      await local.stop();
      await remote.stop();
    }
  });
}

test('remote_username/remote_password against brokers with a password file (mosquitto_passwd -b)', { skip: skipNoOracle, timeout: 60_000 }, async () => {
  const pw = join(tmp, 'passwd');
  const made = spawnSync('mosquitto_passwd', ['-c', '-b', pw, 'alice', 's3cret'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  for (const remoteDebian of [false, true]) {
    for (const localDebian of [false, true]) {
      const remote = await startBroker({ oracle: remoteDebian, verbose: true, config: ['allow_anonymous false', `password_file ${pw}`] });
      const good = await startBroker({ oracle: localDebian, config: bridge(remote.port, 'remote_username alice', 'remote_password s3cret', 'topic out/# out 1') });
      const bad = await startBroker({
        oracle: localDebian,
        verbose: true,
        config: ['connection b2', `address 127.0.0.1:${remote.port}`, 'remote_clientid bad', 'remote_username alice', 'remote_password nope', 'topic out/# out 1'],
      });
      try {
        await logHas(remote, "as brx (p2, c0, k60, u'alice')");
        await logHas(bad, 'Connection Refused: not authorised');
        assert.ok(bad.stderr().includes('Received CONNACK on connection local.bad.'), bad.stderr());
      } finally {
        await good.stop();
        await bad.stop();
        await remote.stop();
      }
    }
  }
});

// Debian 2.0.11's bridge ignores bridge_bind_address (it connects from 127.0.0.1), so only ours.
for (const debian of [false]) {
  test(`${sideName(debian)} bridge: bridge_bind_address sets the local address of the remote connection`, { timeout: 30_000 }, async () => {
    const remote = await startBroker({ verbose: true });
    // The remote listens on 127.0.0.1 only; 127.0.0.2 is another loopback address to bind to.
    const local = await startBroker({ oracle: debian, config: bridge(remote.port, 'bridge_bind_address 127.0.0.2', 'topic out/# out 1') });
    try {
      await bridgeUp(remote);
      assert.match(remote.stderr(), /New connection from 127\.0\.0\.2:\d+ on port/);
    } finally {
      await local.stop();
      await remote.stop();
    }
  });
}

test('log lines of a refused bridge at the default log level equal Debian mosquitto\'s', { skip: skipNoOracle, timeout: 40_000 }, async () => {
  const pw = join(tmp, 'passwd-log');
  assert.equal(spawnSync('mosquitto_passwd', ['-c', '-b', pw, 'alice', 's3cret']).status, 0);
  const remote = await startBroker({ config: ['allow_anonymous false', `password_file ${pw}`] });
  const lines: string[][] = [];
  try {
    for (const debian of [false, true]) {
      const local = await startBroker({
        oracle: debian,
        config: ['connection b2', `address 127.0.0.1:${remote.port}`, 'remote_clientid bad', 'remote_username alice', 'remote_password nope', 'topic out/# out 1', 'topic in/# in 1'],
      });
      try {
        await logHas(local, 'closed its connection.');
        // Timestamps off; the startup banner and Debian's root warning are not the bridge's.
        lines.push(
          local.stderr().split('\n').map((l) => l.replace(/^\d+: /, ''))
            .filter((l) => /bridge|Bridge|Connection Refused|Client local\./.test(l) && !l.includes('Mosquitto should not')),
        );
      } finally {
        await local.stop();
      }
    }
    assert.deepEqual(lines[0]!.slice(0, 4), lines[1]!.slice(0, 4));
    assert.equal(lines[0]![2], 'Connection Refused: not authorised');
  } finally {
    await remote.stop();
  }
});
