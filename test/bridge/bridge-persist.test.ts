/**
 * Messages for an unreachable remote survive a restart of the bridging broker when persistence
 * is on: they wait in the bridge's persistent local session (local_cleansession false) and reach
 * the remote once both are back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';

async function client(port: number, id: string, clean = true): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.send(m.connect(4, { clientId: id, clean }));
  assert.equal((await c.next())![3], 0);
  return c;
}

async function logHas(b: RunningBroker, text: string): Promise<void> {
  for (let i = 0; i < 200 && !b.stderr().includes(text); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(b.stderr().includes(text), b.stderr());
}

test('queued bridge messages survive a restart of the bridging broker (persistence true)', { timeout: 60_000 }, async () => {
  const remotePort = await freePort();
  const localPort = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'skeeter-bridge-persist-'));
  const localConf = ['persistence true', `persistence_location ${store}/`, 'connection b1', `address 127.0.0.1:${remotePort}`, 'remote_clientid brx', 'restart_timeout 1', 'topic out/# out 1'];
  let local = await startBroker({ port: localPort, config: localConf });
  let remote: RunningBroker | undefined;
  try {
    const pub = await client(localPort, 'pub');
    for (let i = 1; i <= 5; i++) {
      pub.send(m.publish(4, 'out/p', `p${i}`, { qos: 1, mid: i }));
      assert.equal((await pub.next())![0], 0x40);
    }
    pub.close();
    await local.stop();
    // The remote (and its subscriber) come up while the bridging broker is down.
    remote = await startBroker({ port: remotePort, verbose: true });
    const sub = await client(remotePort, 'sub');
    sub.send(m.subscribe(4, 1, [['out/#', 1]]));
    await sub.next();
    local = await startBroker({ port: localPort, config: localConf });
    await logHas(remote, 'as brx (p');
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const p = (await sub.next(10_000))!;
      seen.push(p.toString('latin1').slice(-2));
      sub.send(m.puback(4, p.readUInt16BE(4 + p.readUInt16BE(2))));
    }
    assert.deepEqual(seen, ['p1', 'p2', 'p3', 'p4', 'p5']);
    sub.close();
  } finally {
    await local.stop();
    await remote?.stop();
    rmSync(store, { recursive: true, force: true });
  }
});
