/**
 * QoS through a bridge:
 * - a bridge topic's QoS caps what it forwards, both ways (the bridge's subscriptions carry that
 *   QoS), ours and Debian mosquitto 2.0.11 side by side as the bridging broker;
 * - a v5 remote's Maximum QoS (CONNACK) lowers what the bridge publishes to it, while the state
 *   notification stays QoS 1 and the SUBSCRIBE keeps the topic's QoS, byte for byte as Debian's;
 * - a QoS 2 message in flight to the remote survives a restart of the bridging broker (with
 *   persistence): the flow goes on with PUBREL under the same packet id, as from Debian's
 *   bridge, so a remote that kept the session delivers it once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { bodyStart, fakeRemote, publishId } from './fake-remote.js';
import { sides, sideName, sleep, client } from './sides.js';


const tmp = mkdtempSync(join(tmpdir(), 'skeeter-bridge-qos-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function logHas(b: RunningBroker, text: string): Promise<void> {
  for (let i = 0; i < 300 && !b.stderr().includes(text); i++) await sleep(50);
  assert.ok(b.stderr().includes(text), `log lacks "${text}":\n${b.stderr()}`);
}

/** Publishes with the full QoS flow of a 3.1.1 client. */
async function publish(c: RawClient, topic: string, payload: string, qos: 0 | 1 | 2, mid: number): Promise<void> {
  c.send(m.publish(4, topic, payload, { qos, mid }));
  if (qos === 1) assert.equal((await c.next())![0], 0x40);
  if (qos === 2) {
    assert.equal((await c.next())![0], 0x50);
    c.send(m.pubrel(4, mid));
    assert.equal((await c.next())![0], 0x70);
  }
}

/** The first PUBLISH a subscriber gets: its first byte and payload; completes its QoS flow. */
async function firstPublish(c: RawClient): Promise<{ header: number; payload: string }> {
  for (let i = 0; i < 20; i++) {
    const p = (await c.next(10_000))!;
    if (p[0]! >> 4 !== 3) continue;
    const qos = (p[0]! >> 1) & 3;
    const tl = p.readUInt16BE(2);
    if (qos > 0) {
      const mid = p.readUInt16BE(4 + tl);
      if (qos === 1) c.send(m.puback(4, mid));
      else c.send(m.pubrec(4, mid));
    }
    return { header: p[0]!, payload: p.subarray(4 + tl + (qos > 0 ? 2 : 0)).toString() };
  }
  throw new Error('no PUBLISH');
}

for (const debian of sides) {
  test(`a bridge topic's QoS caps forwarded messages both ways (${sideName(debian)})`, { timeout: 60_000 }, async () => {
    const remote = await startBroker({ verbose: true });
    const local = await startBroker({
      oracle: debian,
      config: ['connection b1', `address 127.0.0.1:${remote.port}`, 'remote_clientid brx', 'topic out/# out 1', 'topic in/# in 0'],
    });
    try {
      await logHas(remote, 'as brx (p');
      const rsub = await client(remote.port, 'rsub');
      rsub.send(m.subscribe(4, 1, [['out/#', 2]]));
      await rsub.next();
      const lsub = await client(local.port, 'lsub');
      lsub.send(m.subscribe(4, 1, [['in/#', 2]]));
      await lsub.next();
      // Wait for the bridge's SUBSCRIBE on the remote before publishing there.
      await logHas(remote, 'brx 0 in/#');
      const lpub = await client(local.port, 'lpub');
      await publish(lpub, 'out/a', 'two-out', 2, 1);
      const rpub = await client(remote.port, 'rpub');
      await publish(rpub, 'in/b', 'two-in', 2, 1);
      // QoS 2 out through a QoS 1 topic arrives at QoS 1; in through a QoS 0 topic at QoS 0.
      assert.deepEqual(await firstPublish(rsub), { header: 0x32, payload: 'two-out' });
      assert.deepEqual(await firstPublish(lsub), { header: 0x30, payload: 'two-in' });
      for (const c of [rsub, lsub, lpub, rpub]) c.close();
    } finally {
      await local.stop();
      await remote.stop();
    }
  });
}

/** What a v5 bridge sends a remote whose CONNACK says Maximum QoS `maxQos`. */
async function toLimitedRemote(debian: boolean, maxQos: number): Promise<{ publishHeader: number; subscribe: string; notification: number }> {
  const remote = await fakeRemote({ connack: () => `2005000002240${maxQos}` });
  const local = await startBroker({
    oracle: debian,
    config: ['connection b1', `address 127.0.0.1:${remote.port}`, 'remote_clientid rc1', 'bridge_protocol_version mqttv50', 'topic in/# in 2', 'topic out/# out 2'],
  });
  try {
    const isSubscribe = (p: Buffer): boolean => p[0] === 0x82;
    assert.ok(await remote.until(() => (remote.packets[0] ?? []).some(isSubscribe)), remote.hex(0));
    const pub = await client(local.port, 'pub');
    await publish(pub, 'out/x', 'hello', 2, 1);
    pub.close();
    const isOut = (p: Buffer): boolean => p[0]! >> 4 === 3 && p.subarray(bodyStart(p) + 2, bodyStart(p) + 7).toString() === 'out/x';
    assert.ok(await remote.until(() => (remote.packets[0] ?? []).some(isOut)), remote.hex(0));
    const packets = remote.packets[0]!;
    return {
      publishHeader: packets.find(isOut)![0]!,
      subscribe: packets.find(isSubscribe)!.toString('hex'),
      notification: packets.find((p) => p[0]! >> 4 === 3)![0]!,
    };
  } finally {
    await local.stop();
    remote.close();
  }
}

for (const maxQos of [1, 0]) {
  for (const debian of sides) {
    test(`a v5 remote's Maximum QoS ${maxQos} lowers forwarded messages (${sideName(debian)})`, { timeout: 60_000 }, async () => {
      const got = await toLimitedRemote(debian, maxQos);
      assert.equal(got.publishHeader, 0x30 | (maxQos << 1));
      // Unchanged by the limit (as Debian 2.0.11): QoS 1 retained "1", SUBSCRIBE in/# QoS 2 + No Local + RAP.
      assert.equal(got.notification, 0x33);
      assert.equal(got.subscribe, '820a0002000004696e2f230e');
    });
  }
}

for (const debian of sides) {
test(`a QoS 2 message in flight to the remote keeps its packet id across a restart of the bridging broker (${sideName(debian)})`, { timeout: 90_000 }, async () => {
  // The first connection never completes the QoS 2 flow (no PUBCOMP): the message stays in flight.
  const remote = await fakeRemote({ pubcomp: (connection) => connection > 0 });
  const store = mkdtempSync(join(tmp, 'store-'));
  const port = await freePort();
  const conf = ['persistence true', `persistence_location ${store}/`, 'connection b1', `address 127.0.0.1:${remote.port}`, 'remote_clientid rc1', 'restart_timeout 1', 'topic out/# out 2'];
  let local = await startBroker({ oracle: debian, port, config: conf });
  try {
    const pub = await client(port, 'pub');
    // A QoS 1 message first (completed), so the QoS 2 one is not the first id of any counter.
    await publish(pub, 'out/p', 'before', 1, 1);
    assert.ok(await remote.until(() => (remote.packets[0] ?? []).some((p) => p.includes('before'))), remote.hex(0));
    await publish(pub, 'out/q', 'once', 2, 2);
    pub.close();
    const isOut = (p: Buffer): boolean => p[0]! >> 4 === 3 && p.subarray(bodyStart(p) + 2, bodyStart(p) + 7).toString() === 'out/q';
    // PUBLISH, our PUBREC, then the bridge's PUBREL that is left unanswered.
    assert.ok(await remote.until(() => (remote.packets[0] ?? []).some((p) => p[0] === 0x62)), remote.hex(0));
    const first = remote.packets[0]!.find(isOut)!;
    assert.equal(first[0], 0x34);
    const id = publishId(first);
    await local.stop();
    local = await startBroker({ oracle: debian, port, config: conf });
    // After the restart the remote sees that message again under the same id, flagged DUP.
    const again = (p: Buffer): boolean => isOut(p) || p[0] === 0x62;
    assert.ok(await remote.until(() => remote.packets.slice(1).some((c) => c.some(again))), remote.packets.map((_, i) => remote.hex(i)).join('\n'));
    // The remote had PUBRECed it: after the restart the bridge goes on with PUBREL under the
    // same id (Debian's bytes), and does not send the message again.
    const resent = remote.packets.slice(1).flatMap((c) => c).find(again)!;
    assert.equal(resent.toString('hex'), Buffer.from([0x62, 2, id >> 8, id & 0xff]).toString('hex'));
    assert.ok(!remote.packets.slice(1).some((c) => c.some(isOut)), 'the message was sent again');
  } finally {
    await local.stop();
    remote.close();
    rmSync(store, { recursive: true, force: true });
  }
});
}
