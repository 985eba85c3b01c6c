/**
 * Messages lost across a remote outage (the measure; target 0 for QoS 1 and 2): a
 * persistent subscriber on the remote, the remote stopped, 20 messages published on our bridging
 * broker meanwhile, the remote started again on the same port and store. The remote is ours and
 * then Debian mosquitto.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';

const COUNT = 20;
const sides = hasDebianMosquitto() ? [false, true] : [false];

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

for (const remoteDebian of sides) {
  for (const qos of [1, 2] as const) {
    test(`remote outage (${remoteDebian ? 'Debian mosquitto' : 'skeeter'} remote), QoS ${qos}: ${COUNT} messages, none lost, in order`, { timeout: 60_000 }, async () => {
      const port = await freePort();
      const store = mkdtempSync(join(tmpdir(), 'skeeter-bridge-outage-'));
      const remoteConf = ['persistence true', `persistence_location ${store}/`];
      let remote = await startBroker({ oracle: remoteDebian, port, config: remoteConf, verbose: true });
      const local = await startBroker({ config: ['connection b1', `address 127.0.0.1:${port}`, 'remote_clientid brx', 'restart_timeout 1', `topic out/# out ${qos}`] });
      try {
        await logHas(remote, 'as brx (p');
        const sub = await client(port, 'durable', false);
        sub.send(m.subscribe(4, 1, [['out/#', qos]]));
        await sub.next();
        sub.send(m.disconnect(4));
        await sub.next().catch(() => undefined);
        await remote.stop();
        const pub = await client(local.port, 'pub');
        for (let i = 1; i <= COUNT; i++) {
          pub.send(m.publish(4, 'out/q', `m${String(i).padStart(2, '0')}`, { qos, mid: i }));
          const ack = (await pub.next())!;
          if (qos === 2) {
            assert.equal(ack[0], 0x50);
            pub.send(m.pubrel(4, i));
            assert.equal((await pub.next())![0], 0x70);
          } else assert.equal(ack[0], 0x40);
        }
        remote = await startBroker({ oracle: remoteDebian, port, config: remoteConf, verbose: true });
        await logHas(remote, 'as brx (p');
        const again = await client(port, 'durable', false);
        const seen: string[] = [];
        for (let i = 0; i < COUNT * 3 && seen.length < COUNT; i++) {
          const p = (await again.next(10_000))!;
          const type = p[0]! >> 4;
          if (type === 3) {
            const tl = p.readUInt16BE(2);
            const mid = p.readUInt16BE(4 + tl);
            seen.push(p.subarray(6 + tl).toString());
            again.send(qos === 1 ? m.puback(4, mid) : m.pubrec(4, mid));
          } else if (type === 6) {
            again.send(m.pubcomp(4, p.readUInt16BE(2)));
          }
        }
        const expected = Array.from({ length: COUNT }, (_, i) => `m${String(i + 1).padStart(2, '0')}`);
        assert.deepEqual(seen, expected, `lost: ${expected.filter((e) => !seen.includes(e)).join(',')}`);
        again.close();
        pub.close();
      } finally {
        await local.stop();
        await remote.stop();
        rmSync(store, { recursive: true, force: true });
      }
    });
  }
}
