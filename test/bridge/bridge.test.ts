/**
 * Bridges between two broker processes: skeeter -> Debian mosquitto, Debian mosquitto -> skeeter,
 * and skeeter -> skeeter across a remote outage (QoS 1 messages queued, none lost).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';

async function client(port: number, id: string, v: m.Version = 4, clean = true): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.send(m.connect(v, { clientId: id, clean }));
  const ack = (await c.next())!;
  assert.equal(ack[3], 0, ack.toString('hex'));
  return c;
}

async function subscribe(c: RawClient, filter: string, qos = 0): Promise<void> {
  c.send(m.subscribe(4, 1, [[filter, qos]]));
  assert.equal((await c.next())![0], 0x90);
}

/** Waits until `pred` holds for the broker's log (bounded). */
async function logHas(b: RunningBroker, text: string): Promise<void> {
  for (let i = 0; i < 100 && !b.stderr().includes(text); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(b.stderr().includes(text), `log lacks "${text}":\n${b.stderr()}`);
}

const bridgeConf = (port: number, extra: string[] = []): string[] => [
  'connection b1',
  `address 127.0.0.1:${port}`,
  'remote_clientid br-test',
  'topic out/# out 1',
  'topic in/# in 1 loc/ rem/',
  ...extra,
];

const oracle = hasDebianMosquitto();

for (const remoteIsDebian of [true, false]) {
  const name = remoteIsDebian ? 'skeeter bridging to Debian mosquitto' : 'skeeter bridging to skeeter';
  test(`${name}: out and in topics with prefixes, notifications`, { skip: remoteIsDebian && !oracle ? 'Debian mosquitto not installed' : undefined, timeout: 30_000 }, async () => {
    const remote = await startBroker({ oracle: remoteIsDebian });
    const local = await startBroker({ config: bridgeConf(remote.port), verbose: true });
    try {
      await logHas(local, 'Received CONNACK on connection local.br-test.');
      const rsub = await client(remote.port, 'rsub');
      await subscribe(rsub, 'out/#', 1);
      const state = await client(remote.port, 'state');
      await subscribe(state, '$SYS/broker/connection/br-test/state');
      assert.equal((await state.next())!.toString('hex'), m.publish(4, '$SYS/broker/connection/br-test/state', '1', { retain: true }).toString('hex'));
      const lsub = await client(local.port, 'lsub');
      await subscribe(lsub, 'loc/in/#', 1);
      await new Promise((r) => setTimeout(r, 200));
      const lpub = await client(local.port, 'lpub');
      lpub.send(m.publish(4, 'out/a', 'to-remote', { qos: 1, mid: 1 }));
      assert.equal((await lpub.next())!.toString('hex'), m.puback(4, 1).toString('hex'));
      const got = (await rsub.next())!;
      assert.match(got.toString('latin1'), /out\/a.*to-remote$/s);
      const rpub = await client(remote.port, 'rpub');
      rpub.send(m.publish(4, 'rem/in/b', 'to-local'));
      const got2 = (await lsub.next())!;
      assert.match(got2.toString('latin1'), /loc\/in\/b.*to-local$/s);
      for (const c of [rsub, state, lsub, lpub, rpub]) c.close();
    } finally {
      await local.stop();
      await remote.stop();
    }
  });
}

test('Debian mosquitto bridging to skeeter: messages flow both ways, no loop on "both" topics', { skip: oracle ? undefined : 'Debian mosquitto not installed', timeout: 30_000 }, async () => {
  const remote = await startBroker({ verbose: true });
  const local = await startBroker({ oracle: true, config: ['connection b1', `address 127.0.0.1:${remote.port}`, 'remote_clientid deb-br', 'topic both/# both 1'] });
  try {
    await logHas(remote, 'New bridge connected from 127.0.0.1:');
    await logHas(remote, 'as deb-br (p2, c0, k60)');
    const rsub = await client(remote.port, 'rsub');
    await subscribe(rsub, 'both/#', 1);
    const lsub = await client(local.port, 'lsub');
    await subscribe(lsub, 'both/#', 1);
    await new Promise((r) => setTimeout(r, 300));
    const lpub = await client(local.port, 'lpub');
    lpub.send(m.publish(4, 'both/x', 'from-debian'));
    assert.match((await rsub.next())!.toString('latin1'), /both\/x.*from-debian$/s);
    assert.match((await lsub.next())!.toString('latin1'), /both\/x.*from-debian$/s);
    // try_private: our broker does not send the bridge its own message back, so the Debian
    // subscriber sees it once.
    await assert.rejects(lsub.next(500), /no packet within/);
    for (const c of [rsub, lsub, lpub]) c.close();
  } finally {
    await local.stop();
    await remote.stop();
  }
});

test('remote outage: QoS 1 messages published meanwhile are delivered once it is back', { timeout: 40_000 }, async () => {
  const remotePort = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'skeeter-bridge-'));
  const remoteConf = ['persistence true', `persistence_location ${store}/`];
  let remote = await startBroker({ port: remotePort, config: remoteConf });
  const local = await startBroker({ config: bridgeConf(remotePort, ['restart_timeout 1']), verbose: true });
  try {
    await logHas(local, 'Received CONNACK on connection local.br-test.');
    // A persistent subscriber on the remote, offline while the messages travel.
    const first = await client(remotePort, 'durable-r', 4, false);
    await subscribe(first, 'out/#', 1);
    first.send(m.disconnect(4));
    await first.next();
    await remote.stop();
    const lpub = await client(local.port, 'lpub');
    for (let i = 1; i <= 5; i++) {
      lpub.send(m.publish(4, 'out/q', `m${i}`, { qos: 1, mid: i }));
      assert.equal((await lpub.next())![0], 0x40);
    }
    remote = await startBroker({ port: remotePort, config: remoteConf });
    await logHas(local, 'Connecting bridge (step 2) b1');
    await new Promise((r) => setTimeout(r, 1500));
    const rsub = await client(remotePort, 'durable-r', 4, false);
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const p = (await rsub.next(10_000))!;
      seen.push(p.toString('latin1').slice(-2));
      const mid = p.readUInt16BE(4 + p.readUInt16BE(2));
      rsub.send(m.puback(4, mid));
    }
    assert.deepEqual(seen, ['m1', 'm2', 'm3', 'm4', 'm5']);
    rsub.close();
    lpub.close();
  } finally {
    await local.stop();
    await remote.stop();
    rmSync(store, { recursive: true, force: true });
  }
});
