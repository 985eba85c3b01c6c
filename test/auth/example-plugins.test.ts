/**
 * The example plugins of examples/plugins (written in TypeScript, built to JavaScript by the
 * root build), each loaded into the `mosquitto` process through a `plugin` config line, as
 * Mosquitto's plugins/ examples are.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { repoRoot } from '../helpers/paths.js';
import { passwordLine } from './helpers.js';

const example = (name: string): string => join(repoRoot, 'examples', 'plugins', 'dist', name, `${name}.js`);
const work = mkdtempSync(join(tmpdir(), 'skeeter-example-plugins-'));
after(() => rmSync(work, { recursive: true, force: true }));
const hex = (b: Buffer | null | undefined): string => (b ? b.toString('hex') : String(b));

async function withBroker(config: string[], fn: (b: RunningBroker) => Promise<void>): Promise<void> {
  const b = await startBroker({ config });
  try {
    await fn(b);
  } finally {
    await b.stop();
  }
}

async function connack(port: number, v: m.Version, o: m.ConnectOptions): Promise<number> {
  const c = await RawClient.open(port);
  try {
    c.send(m.connect(v, { clientId: 'ip-check', ...o }));
    const ack = await c.next(10_000);
    assert.equal(ack?.[0], 0x20);
    return ack[3]!;
  } finally {
    c.close();
  }
}

async function open(port: number, v: m.Version, clientId: string): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.send(m.connect(v, { clientId }));
  assert.equal(hex(await c.next(10_000)).slice(0, 2), '20');
  return c;
}

test('auth-by-ip: a listed address is allowed, others refused, whatever the credentials', { timeout: 60_000 }, async () => {
  await withBroker([`plugin ${example('auth-by-ip')}`, 'plugin_opt_addresses 127.0.0.1, ::1', 'allow_anonymous false'], async (b) => {
    assert.ok(b.stderr().includes(`Loading plugin: ${example('auth-by-ip')}`), b.stderr());
    // Allowed even without a user name and with allow_anonymous false: the plugin's answer wins.
    assert.equal(await connack(b.port, 4, {}), 0);
    assert.equal(await connack(b.port, 5, { username: 'anyone', password: 'x' }), 0);
  });
  await withBroker([`plugin ${example('auth-by-ip')}`, 'plugin_opt_addresses 192.0.2.1', 'allow_anonymous true'], async (b) => {
    assert.equal(await connack(b.port, 4, {}), 5);
    assert.equal(await connack(b.port, 5, { username: 'anyone', password: 'x' }), 0x87);
    assert.equal(await connack(b.port, 3, {}), 5);
  });
});

test('auth-by-ip with then=defer: listed addresses still meet the password file and allow_anonymous', { timeout: 60_000 }, async () => {
  const pw = join(work, 'pw');
  writeFileSync(pw, passwordLine('alice', 'secret') + '\n');
  await withBroker(
    [`password_file ${pw}`, `plugin ${example('auth-by-ip')}`, 'plugin_opt_addresses 127.0.0.1', 'plugin_opt_then defer', 'allow_anonymous true'],
    async (b) => {
      assert.equal(await connack(b.port, 4, { username: 'alice', password: 'secret' }), 0);
      assert.equal(await connack(b.port, 4, { username: 'alice', password: 'wrong' }), 5);
      assert.equal(await connack(b.port, 4, { username: 'bob', password: 'x' }), 5);
      assert.equal(await connack(b.port, 4, {}), 0);
    },
  );
});

test('message-timestamp: a "timestamp" user property with the receive time, after the publisher\'s own', { timeout: 60_000 }, async () => {
  await withBroker([`plugin ${example('message-timestamp')}`], async (b) => {
    const sub = await open(b.port, 5, 'sub5');
    const sub4 = await open(b.port, 4, 'sub4');
    const pub = await open(b.port, 5, 'pub');
    try {
      sub.send(m.subscribe(5, 1, [['t/#', 0]]));
      assert.equal(hex(await sub.next()), hex(m.suback(5, 1, [0])));
      sub4.send(m.subscribe(4, 1, [['t/#', 0]]));
      assert.equal(hex(await sub4.next()), hex(m.suback(4, 1, [0])));
      const before = Math.floor(Date.now() / 1000) * 1000;
      pub.send(m.publish(5, 't/a', 'payload', { props: m.props(m.propPair('mine', '1')) }));
      const got = (await sub.next())!;
      const after = Date.now();
      const stamp = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/.exec(got.toString('latin1'))?.[0];
      assert.ok(stamp, got.toString('hex'));
      const t = Date.parse(stamp);
      assert.ok(t >= before && t <= after, `${stamp} within the publish`);
      assert.equal(hex(got), hex(m.publish(5, 't/a', 'payload', { props: m.props(m.propPair('mine', '1'), m.propPair('timestamp', stamp)) })));
      // 3.1.1 subscribers have no properties: the message itself is unchanged.
      assert.equal(hex(await sub4.next()), hex(m.publish(4, 't/a', 'payload')));
    } finally {
      sub.close();
      sub4.close();
      pub.close();
    }
  });
});

test('payload-modification: "hello " in front and a NUL at the end, as Mosquitto\'s example; both examples chained in order', { timeout: 60_000 }, async () => {
  await withBroker([`plugin ${example('payload-modification')}`], async (b) => {
    const sub = await open(b.port, 4, 'sub');
    const pub = await open(b.port, 4, 'pub');
    try {
      sub.send(m.subscribe(4, 1, [['p/#', 1]]));
      assert.equal(hex(await sub.next()), hex(m.suback(4, 1, [1])));
      pub.send(m.publish(4, 'p/x', 'world', { qos: 1, mid: 5 }));
      assert.equal(hex(await pub.next()), hex(m.puback(4, 5)));
      assert.equal(hex(await sub.next()), hex(m.publish(4, 'p/x', Buffer.from('hello world\0', 'latin1'), { qos: 1, mid: 1 })));
      pub.send(m.publish(4, 'p/y', ''));
      assert.equal(hex(await sub.next()), hex(m.publish(4, 'p/y', Buffer.from('hello \0', 'latin1'))));
    } finally {
      sub.close();
      pub.close();
    }
  });
  await withBroker(
    [`plugin ${example('payload-modification')}`, 'plugin_opt_trailing_nul false', `plugin ${example('message-timestamp')}`],
    async (b) => {
      const sub = await open(b.port, 5, 'sub');
      const pub = await open(b.port, 5, 'pub');
      try {
        sub.send(m.subscribe(5, 1, [['p/#', 0]]));
        assert.equal(hex(await sub.next()), hex(m.suback(5, 1, [0])));
        pub.send(m.publish(5, 'p/x', 'world'));
        const got = (await sub.next())!;
        const stamp = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/.exec(got.toString('latin1'))?.[0] ?? '';
        assert.equal(hex(got), hex(m.publish(5, 'p/x', 'hello world', { props: m.props(m.propPair('timestamp', stamp)) })));
      } finally {
        sub.close();
        pub.close();
      }
    },
  );
});
