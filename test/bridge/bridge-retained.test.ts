/**
 * Retained messages when a bridge's link comes back, ours and Debian mosquitto 2.0.11 side by
 * side as the bridging broker (Debian was run first to see what it does):
 * - out: the local retained messages of `out` topics go to the remote on every connection
 *   (Mosquitto queues them when it makes its local subscription), so a remote that lost its
 *   retained store gets them back with the retained flag;
 * - in: a retained message the remote gets while the bridge is subscribed stays retained on the
 *   bridging side (a bridge's subscription is Retain As Published); the bridge subscribes again
 *   on every connection and the remote sends its retained messages for that subscription, so
 *   the local retained store follows the remote's again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import * as m from '../helpers/mqtt-bytes.js';
import { sides, sideName, sleep, client } from './sides.js';


const tmp = mkdtempSync(join(tmpdir(), 'skeeter-bridge-retained-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function logCount(b: RunningBroker, text: string, count: number): Promise<void> {
  const n = (): number => b.stderr().split(text).length - 1;
  for (let i = 0; i < 400 && n() < count; i++) await sleep(50);
  assert.ok(n() >= count, `log lacks ${count} x "${text}":\n${b.stderr()}`);
}

/**
 * The retained message a fresh subscriber to `topic` gets: first byte of the PUBLISH and its
 * payload, or undefined when none comes within a short wait.
 */
async function retainedOn(port: number, topic: string): Promise<{ header: number; payload: string } | undefined> {
  const c = await client(port, `probe-${Math.random().toString(16).slice(2, 8)}`);
  try {
    c.send(m.subscribe(4, 1, [[topic, 0]]));
    assert.equal((await c.next())![0], 0x90);
    let p: Buffer | null;
    try {
      p = await c.next(400);
    } catch {
      return undefined;
    }
    if (!p) return undefined;
    const tl = p.readUInt16BE(2);
    return { header: p[0]!, payload: p.subarray(4 + tl).toString() };
  } finally {
    c.close();
  }
}

/** Polls (bounded) until the retained message on `topic` has `payload`. */
async function retainedBecomes(port: number, topic: string, payload: string): Promise<{ header: number; payload: string } | undefined> {
  let got: { header: number; payload: string } | undefined;
  for (let i = 0; i < 60; i++) {
    got = await retainedOn(port, topic);
    if (got?.payload === payload) return got;
    await sleep(250);
  }
  return got;
}

for (const debian of sides) {
  test(`out: local retained messages reach a remote that lost them, on reconnect (${sideName(debian)})`, { timeout: 90_000 }, async () => {
    const remotePort = await freePort();
    let remote = await startBroker({ port: remotePort, verbose: true });
    const local = await startBroker({
      oracle: debian,
      config: ['connection b1', `address 127.0.0.1:${remotePort}`, 'remote_clientid brx', 'restart_timeout 1', 'topic out/# out 1'],
    });
    try {
      await logCount(remote, 'as brx (p', 1);
      const pub = await client(local.port, 'pub');
      pub.send(m.publish(4, 'out/r', 'keep', { qos: 1, mid: 1, retain: true }));
      assert.equal((await pub.next())![0], 0x40);
      pub.close();
      assert.equal((await retainedBecomes(remotePort, 'out/r', 'keep'))?.payload, 'keep');
      // The remote restarts without persistence: its retained store is empty.
      await remote.stop();
      remote = await startBroker({ port: remotePort, verbose: true });
      await logCount(remote, 'as brx (p', 1);
      const got = await retainedBecomes(remotePort, 'out/r', 'keep');
      assert.equal(got?.payload, 'keep', remote.stderr());
      // Retained flag set (QoS 0 to the probe).
      assert.equal(got?.header, 0x31);
    } finally {
      await local.stop();
      await remote.stop();
    }
  });

  test(`in: the remote's retained messages come again with the new subscription (${sideName(debian)})`, { timeout: 90_000 }, async () => {
    const remotePort = await freePort();
    const store = mkdtempSync(join(tmp, 'remote-'));
    const remoteConf = ['persistence true', `persistence_location ${store}/`];
    let remote = await startBroker({ port: remotePort, verbose: true, config: remoteConf });
    const local = await startBroker({
      oracle: debian,
      config: ['connection b1', `address 127.0.0.1:${remotePort}`, 'remote_clientid brx', 'restart_timeout 1', 'topic in/# in 1'],
    });
    try {
      // Published while the bridge is subscribed: it arrives live, and stays retained locally
      // (the remote keeps the retained flag for a bridge, Retain As Published).
      await logCount(remote, 'brx 1 in/#', 1);
      const rpub = await client(remotePort, 'rpub');
      rpub.send(m.publish(4, 'in/r', 'remote-value', { qos: 1, mid: 1, retain: true }));
      assert.equal((await rpub.next())![0], 0x40);
      rpub.close();
      assert.equal((await retainedBecomes(local.port, 'in/r', 'remote-value'))?.payload, 'remote-value');
      // A local client replaces the local copy (an `in` topic: nothing goes to the remote).
      const lpub = await client(local.port, 'lpub');
      lpub.send(m.publish(4, 'in/r', 'local-value', { qos: 1, mid: 1, retain: true }));
      assert.equal((await lpub.next())![0], 0x40);
      lpub.close();
      assert.equal((await retainedOn(local.port, 'in/r'))?.payload, 'local-value');
      // The remote restarts with its store; the bridge subscribes again and gets the retained value.
      await remote.stop();
      remote = await startBroker({ port: remotePort, verbose: true, config: remoteConf });
      await logCount(remote, 'as brx (p', 1);
      assert.equal((await retainedBecomes(local.port, 'in/r', 'remote-value'))?.payload, 'remote-value');
    } finally {
      await local.stop();
      await remote.stop();
    }
  });
}
