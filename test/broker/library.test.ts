/** The broker as a library: createBroker(), typed events, and the security hooks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBroker, ConfigError, type Broker } from '@skeeter/broker';
import { freePort } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';

const QUIET = { types: new Set<never>(), dests: [], timestamp: false, connectionMessages: false };

async function withBroker(fn: (b: Broker, port: number) => Promise<void>): Promise<void> {
  const port = await freePort();
  const b = createBroker({ conf: `listener ${port} 127.0.0.1\nallow_anonymous true\nsys_interval 0\n`, settings: { log: QUIET } });
  await b.start();
  try {
    await fn(b, port);
  } finally {
    await b.stop();
  }
}

test('createBroker reports config errors as ConfigError with Mosquitto\'s lines', () => {
  assert.throws(() => createBroker({ conf: 'bogus 1\n' }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.lines, ['Error: Unknown configuration variable "bogus".', 'Error found at mosquitto.conf:1.']);
    return true;
  });
});

test('events: connect, publish, disconnect', async () => {
  await withBroker(async (b, port) => {
    const seen: string[] = [];
    b.on('connect', (id) => seen.push(`connect ${id}`));
    b.on('publish', (msg) => seen.push(`publish ${msg.topic} ${Buffer.from(msg.payload).toString()}`));
    b.on('disconnect', (id) => seen.push(`disconnect ${id}`));
    const c = await RawClient.open(port);
    c.send(m.connect(4, { clientId: 'lib' }));
    await c.next();
    c.send(m.publish(4, 'lib/t', 'v', { qos: 1, mid: 1 }));
    await c.next();
    c.send(m.disconnect(4));
    await c.next();
    assert.deepEqual(seen, ['connect lib', 'publish lib/t v', 'disconnect lib']);
  });
});

test('security hooks: authenticate refuses, authorize denies publish, subscribe and delivery', async () => {
  await withBroker(async (b, port) => {
    b.security = {
      authenticate: (_client, username, password) => username === 'alice' && Buffer.from(password ?? []).toString() === 'secret',
      authorize: (_client, access, topic) => !(access === 'write' && topic.startsWith('ro/')) && !(access === 'subscribe' && topic === 'hidden') && !(access === 'read' && topic === 'ro/secret'),
    };
    const bad = await RawClient.open(port);
    bad.send(m.connect(5, { clientId: 'mallory', username: 'alice', password: 'guess' }));
    assert.equal((await bad.next())!.toString('hex'), '2003008700');
    bad.close();

    for (const v of [4, 5] as const) {
      const c = await RawClient.open(port);
      c.send(m.connect(v, { clientId: `alice${v}`, username: 'alice', password: 'secret' }));
      assert.equal((await c.next())![3], 0);
      c.send(m.subscribe(v, 1, [['hidden', 0], ['ro/#', 0]]));
      assert.equal((await c.next())!.toString('hex'), m.suback(v, 1, [v === 5 ? 0x87 : 0x80, 0]).toString('hex'));
      c.send(m.publish(v, 'ro/x', 'no', { qos: 1, mid: 2 }));
      assert.equal((await c.next())!.toString('hex'), v === 5 ? '4003000287' : '40020002');
      c.close();
    }
    // A delivery the reader may not read is skipped.
    const sub = await RawClient.open(port);
    sub.send(m.connect(4, { clientId: 'reader', username: 'alice', password: 'secret' }));
    await sub.next();
    sub.send(m.subscribe(4, 1, [['#', 0]]));
    await sub.next();
    b.security.authorize = (_c, access, topic) => !(access === 'read' && topic === 'ro/secret');
    const pub = await RawClient.open(port);
    pub.send(m.connect(4, { clientId: 'writer', username: 'alice', password: 'secret' }));
    await pub.next();
    pub.send(m.publish(4, 'ro/secret', 's'), m.publish(4, 'ro/open', 'o'));
    assert.equal((await sub.next())!.toString('hex'), m.publish(4, 'ro/open', 'o').toString('hex'));
    sub.close();
    pub.close();
  });
});

test('asynchronous authentication: packets sent right behind CONNECT wait for the answer', async () => {
  await withBroker(async (b, port) => {
    b.security = {
      authenticate: (_client, username) => new Promise((resolve) => setTimeout(() => resolve(username === 'slow'), 50)),
    };
    const c = await RawClient.open(port);
    // CONNECT, SUBSCRIBE and PUBLISH in one write: the SUBSCRIBE must be handled after CONNACK.
    c.send(m.connect(4, { clientId: 'async', username: 'slow' }), m.subscribe(4, 1, [['a/t', 0]]), m.publish(4, 'a/t', 'me'));
    assert.equal((await c.next())!.toString('hex'), '20020000');
    assert.equal((await c.next())!.toString('hex'), m.suback(4, 1, [0]).toString('hex'));
    assert.equal((await c.next())!.toString('hex'), m.publish(4, 'a/t', 'me').toString('hex'));
    c.close();
    const bad = await RawClient.open(port);
    bad.send(m.connect(5, { clientId: 'async2', username: 'fast' }), m.publish(5, 'a/t', 'never'));
    assert.equal((await bad.next())!.toString('hex'), '2003008700');
    assert.equal(await bad.closedWithin(), true);
  });
});
