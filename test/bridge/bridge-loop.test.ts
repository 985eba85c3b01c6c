/**
 * Three brokers: A and C bridge to a centre B with a `both` topic. With try_private (the
 * default) B knows those connections are bridges and does not send a bridge's own messages back
 * to it, so a message published on A reaches every subscriber exactly once. With try_private
 * false B cannot tell, and echoes the message back to A: A's subscriber sees it twice — the
 * loop try_private exists to prevent. The centre is ours and then Debian mosquitto 2.0.11.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { oracle, sideName, sleep } from './sides.js';

const centres = oracle ? [false, true] : [false];

async function subscriber(port: number, id: string): Promise<{ client: RawClient; got: string[] }> {
  const client = await RawClient.open(port);
  client.send(m.connect(4, { clientId: id }));
  assert.equal((await client.next())![3], 0);
  client.send(m.subscribe(4, 1, [['t/#', 1]]));
  assert.equal((await client.next())![0], 0x90);
  return { client, got: [] };
}

/** Collects what a subscriber receives until `ms` pass without a packet. */
async function collect(s: { client: RawClient; got: string[] }, ms: number): Promise<string[]> {
  for (let i = 0; i < 50; i++) {
    let p: Buffer | null;
    try {
      p = await s.client.next(ms);
    } catch {
      break;
    }
    if (!p) break;
    const tl = p.readUInt16BE(2);
    const qos = (p[0]! >> 1) & 3;
    if (qos === 1) s.client.send(m.puback(4, p.readUInt16BE(4 + tl)));
    s.got.push(p.subarray(4 + tl + (qos > 0 ? 2 : 0)).toString());
  }
  return s.got;
}

async function logCount(b: RunningBroker, text: string, count: number): Promise<void> {
  const n = (): number => b.stderr().split(text).length - 1;
  for (let i = 0; i < 300 && n() < count; i++) await sleep(50);
  assert.ok(n() >= count, `log lacks ${count} x "${text}":\n${b.stderr()}`);
}

for (const debian of centres) {
  for (const tryPrivate of [true, false]) {
    test(`A -> B <- C with a both topic, try_private ${tryPrivate}, centre ${sideName(debian)}`, { timeout: 60_000 }, async () => {
      const b = await startBroker({ oracle: debian, verbose: true });
      const edge = (name: string): Promise<RunningBroker> =>
        startBroker({ config: ['connection b1', `address 127.0.0.1:${b.port}`, `remote_clientid ${name}`, `try_private ${tryPrivate}`, 'topic t/# both 1'] });
      const a = await edge('bridge-a');
      const c = await edge('bridge-c');
      try {
        // Both bridges subscribed on B.
        await logCount(b, 'bridge-a 1 t/#', 1);
        await logCount(b, 'bridge-c 1 t/#', 1);
        const subs = [await subscriber(a.port, 'sa'), await subscriber(b.port, 'sb'), await subscriber(c.port, 'sc')];
        const pub = await RawClient.open(a.port);
        pub.send(m.connect(4, { clientId: 'pa' }));
        await pub.next();
        pub.send(m.publish(4, 't/x', 'once', { qos: 1, mid: 1 }));
        assert.equal((await pub.next())![0], 0x40);
        const [onA, onB, onC] = await Promise.all(subs.map((s) => collect(s, 2000)));
        assert.deepEqual(onB, ['once']);
        assert.deepEqual(onC, ['once']);
        // The echo try_private prevents.
        assert.deepEqual(onA, tryPrivate ? ['once'] : ['once', 'once']);
        for (const s of subs) s.client.close();
        pub.close();
      } finally {
        await a.stop();
        await c.stop();
        await b.stop();
      }
    });
  }
}
