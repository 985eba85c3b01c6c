/**
 * The plugin events beyond basic-auth and acl-check, on the `mosquitto` process with a `plugin`
 * line: message (change or reject a PUBLISH), tick, disconnect, reload (SIGHUP), the publish
 * and client helpers, and MQTT 5 extended authentication (AUTH continue/success/failure and
 * re-authentication with their reason codes). Where Debian's 2.0.11 can answer without a plugin
 * (an unknown authentication method, an AUTH without extended authentication) its bytes are
 * the expectation.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { waitForText } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'skeeter-plugin-events-'));
after(() => rmSync(work, { recursive: true, force: true }));

const plugin = join(work, 'events-plugin.mjs');
writeFileSync(
  plugin,
  `// Test plugin for the message, tick, disconnect, reload and extended-auth events.
export function pluginInit(host, options) {
  host.register('message', (client, msg) => {
    if (msg.topic.startsWith('deny/')) return 'deny';
    if (msg.topic.startsWith('throw/')) throw new Error('message boom');
    if (msg.topic === 'rewrite/in') {
      msg.topic = 'rewrite/out';
      msg.payload = Buffer.concat([Buffer.from('<'), msg.payload, Buffer.from('>')]);
      msg.retain = true;
      msg.properties = { ...(msg.properties ?? {}), userProperties: [['by', client.clientId]] };
    }
    if (msg.topic === 'invalid/in') msg.topic = 'invalid/#';
  });
  // A second message callback sees what the first left.
  host.register('message', (client, msg) => {
    if (msg.topic === 'rewrite/out') msg.payload = Buffer.concat([msg.payload, Buffer.from('!')]);
    return 'allow';
  });
  // Only to refuse one UNSUBSCRIBE (MOSQ_ACL_UNSUBSCRIBE); everything else is allowed.
  host.register('acl-check', (client, access, topic) => (access === 'unsubscribe' && topic === 'keep/#' ? 'deny' : 'allow'));
  host.register(
    'control',
    (client, msg) => {
      const text = Buffer.from(msg.payload).toString();
      host.publish('$CONTROL/demo/v1/response', client.clientId + ':' + [...text].reverse().join(''));
      if (text === 'reason') return { reasonString: 'handled' };
    },
    '$CONTROL/demo/v1',
  );
  let told = false;
  host.register('tick', (tick) => {
    if (told || host.client('tick-watch') === undefined) return;
    told = true;
    host.publish('plugin/tick', typeof tick.now === 'number' && tick.now > 0 ? 'ok' : 'bad', { clientId: 'tick-watch' });
  });
  host.register('connect', (client) => {
    // Plugins see a read-only view of the client, not the broker's connection.
    if (!Object.isFrozen(client) || 'close' in client || 'socket' in client) throw new Error('client is not a view');
    if (client.clientId.startsWith('gone-')) host.publish('plugin/hello/' + client.clientId, String(client.protocolVersion));
  });
  host.register('disconnect', (client, reason) => {
    if (client.clientId.startsWith('gone-')) host.publish('plugin/gone/' + client.clientId, reason);
  });
  host.register('reload', (opts) => host.log('notice', 'events plugin reloaded, tag=' + opts.tag));
  host.register('ext-auth-start', (client, step) => {
    if (step.method !== 'demo') return 'defer';
    if (Buffer.from(step.data ?? []).toString() !== 'hello') return 'deny';
    return { verdict: 'continue', data: step.reauth ? 'again?' : 'who?' };
  });
  host.register('ext-auth-continue', async (client, step) => {
    await new Promise((r) => setTimeout(r, 10));
    if (Buffer.from(step.data ?? []).toString() === 'me') return { verdict: 'allow', data: 'welcome', username: 'demo-user' };
    return 'deny';
  });
}
`,
);

const AUTH_METHOD = 0x15;
const AUTH_DATA = 0x16;
const authProps = (method: string, data?: string): Buffer =>
  data === undefined
    ? m.props(m.propStr(AUTH_METHOD, method))
    : m.props(m.propStr(AUTH_METHOD, method), Buffer.concat([Buffer.from([AUTH_DATA]), m.str(Buffer.from(data))]));
const auth = (rc: number, method: string, data?: string): Buffer => m.packet(0xf0, Buffer.from([rc]), authProps(method, data));
const hex = (b: Buffer | null | undefined): string => (b ? b.toString('hex') : String(b));

async function withBroker(fn: (b: RunningBroker) => Promise<void>, extra: string[] = []): Promise<void> {
  const b = await startBroker({ config: [`plugin ${plugin}`, 'plugin_opt_tag first', ...extra], verbose: true });
  try {
    await fn(b);
  } finally {
    await b.stop();
  }
}

async function open(port: number, v: m.Version, o: m.ConnectOptions): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.send(m.connect(v, o));
  const ack = await c.next(10_000);
  assert.equal(ack?.[0], 0x20, `CONNACK for ${o.clientId}`);
  return c;
}

test('message: a plugin rewrites topic, payload, retain and properties; deny and throw reject with 0x87', { timeout: 60_000 }, async () => {
  await withBroker(async (b) => {
    const sub = await open(b.port, 5, { clientId: 'sub' });
    const pub = await open(b.port, 5, { clientId: 'pub' });
    const pub4 = await open(b.port, 4, { clientId: 'pub4' });
    try {
      sub.send(m.subscribe(5, 1, [['rewrite/#', 0], ['deny/#', 0], ['throw/#', 0], ['ok/#', 0], ['invalid/#', 0]]));
      assert.equal(hex(await sub.next()), hex(m.suback(5, 1, [0, 0, 0, 0, 0])));
      pub.send(m.publish(5, 'deny/a', 'x', { qos: 1, mid: 7 }));
      assert.equal(hex(await pub.next()), hex(m.puback(5, 7, 0x87)));
      pub.send(m.publish(5, 'deny/b', 'x', { qos: 2, mid: 8 }));
      assert.equal(hex(await pub.next()), hex(m.pubrec(5, 8, 0x87)));
      pub.send(m.publish(5, 'throw/a', 'x', { qos: 1, mid: 9 }));
      assert.equal(hex(await pub.next()), hex(m.puback(5, 9, 0x87)));
      // A 3.1.1 publisher gets a plain PUBACK; the message is dropped all the same.
      pub4.send(m.publish(4, 'deny/c', 'x', { qos: 1, mid: 3 }));
      assert.equal(hex(await pub4.next()), hex(m.puback(4, 3)));
      // A topic the plugin made invalid is dropped with an error line.
      pub.send(m.publish(5, 'invalid/in', 'x', { qos: 1, mid: 10 }));
      assert.equal(hex(await pub.next()), hex(m.puback(5, 10, 0x87)));
      pub.send(m.publish(5, 'rewrite/in', 'abc'));
      pub.send(m.publish(5, 'ok/x', 'plain'));
      // Live delivery without Retain As Published: retain 0; the plugin's property is there.
      assert.equal(hex(await sub.next()), hex(m.publish(5, 'rewrite/out', '<abc>!', { props: m.props(m.propPair('by', 'pub')) })));
      assert.equal(hex(await sub.next()), hex(m.publish(5, 'ok/x', 'plain')));
      // The plugin made it retained: a new subscription gets it with the retain flag.
      const late = await open(b.port, 4, { clientId: 'late' });
      try {
        late.send(m.subscribe(4, 2, [['rewrite/out', 0]]));
        assert.equal(hex(await late.next()), hex(m.suback(4, 2, [0])));
        assert.equal(hex(await late.next()), hex(m.publish(4, 'rewrite/out', '<abc>!', { retain: true })));
      } finally {
        late.close();
      }
      assert.ok(b.stderr().includes('failed in its message callback: message boom'), b.stderr());
      assert.ok(b.stderr().includes("Error: A plugin's message callback left an invalid message"), b.stderr());
      assert.ok(b.stderr().includes("Denied PUBLISH from pub (d0, q1, r0, m7, 'deny/a', ... (1 bytes))"), b.stderr());
    } finally {
      sub.close();
      pub.close();
      pub4.close();
    }
  });
});

test('tick, connect, disconnect and reload events; host.publish to one client and to subscribers', { timeout: 60_000 }, async () => {
  await withBroker(async (b) => {
    const watch = await open(b.port, 4, { clientId: 'tick-watch' });
    try {
      // Published by the tick callback to this client alone (no subscription needed).
      assert.equal(hex(await watch.next(10_000)), hex(m.publish(4, 'plugin/tick', 'ok')));
      watch.send(m.subscribe(4, 1, [['plugin/gone/#', 0], ['plugin/hello/#', 0]]));
      assert.equal(hex(await watch.next()), hex(m.suback(4, 1, [0, 0])));
      const a = await open(b.port, 4, { clientId: 'gone-a' });
      assert.equal(hex(await watch.next(10_000)), hex(m.publish(4, 'plugin/hello/gone-a', '4')));
      a.send(m.disconnect(4));
      assert.equal(hex(await watch.next(10_000)), hex(m.publish(4, 'plugin/gone/gone-a', 'disconnect')));
      const c = await open(b.port, 5, { clientId: 'gone-b' });
      assert.equal(hex(await watch.next(10_000)), hex(m.publish(4, 'plugin/hello/gone-b', '5')));
      c.close();
      assert.equal(hex(await watch.next(10_000)), hex(m.publish(4, 'plugin/gone/gone-b', 'socket')));
      // A take-over ends the old connection: its disconnect event says so.
      const t1 = await open(b.port, 4, { clientId: 'gone-c' });
      assert.equal(hex(await watch.next(10_000)), hex(m.publish(4, 'plugin/hello/gone-c', '4')));
      const t2 = await open(b.port, 4, { clientId: 'gone-c' });
      assert.equal(hex(await watch.next(10_000)), hex(m.publish(4, 'plugin/gone/gone-c', 'takeover')));
      assert.equal(hex(await watch.next(10_000)), hex(m.publish(4, 'plugin/hello/gone-c', '4')));
      t1.close();
      t2.close();
      process.kill(b.pid, 'SIGHUP');
      assert.ok(await waitForText(b.stderr, 'events plugin reloaded, tag=first', 10_000), b.stderr());
    } finally {
      watch.close();
    }
  });
});

test('extended auth: CONNECT method/data, AUTH 0x18 both ways, CONNACK with method and data; failures 0x87 and 0x8C', { timeout: 60_000 }, async () => {
  await withBroker(async (b) => {
    // Success in two steps.
    const c = await RawClient.open(b.port);
    try {
      c.send(m.connect(5, { clientId: 'ext', props: authProps('demo', 'hello') }));
      assert.equal(hex(await c.next()), hex(auth(0x18, 'demo', 'who?')));
      c.send(auth(0x18, 'demo', 'me'));
      assert.equal(hex(await c.next()), hex(m.connack(5, 0, false, m.props(m.propU16(0x22, 10), ...authPropsParts('demo', 'welcome'), m.propU16(0x21, 20)))));
      assert.ok(await waitForText(b.stderr, "as ext (p5, c1, k60, u'demo-user')."), b.stderr());
      assert.ok(b.stderr().includes('Sending AUTH to ext (rc24, demo)'), b.stderr());
      assert.ok(b.stderr().includes('Received AUTH from ext (rc24, demo)'), b.stderr());
      // Re-authentication: AUTH 0x19, continue, success AUTH 0x00; the client stays connected.
      c.send(auth(0x19, 'demo', 'hello'));
      assert.equal(hex(await c.next()), hex(auth(0x18, 'demo', 'again?')));
      c.send(m.pingreq());
      assert.equal(hex(await c.next()), hex(m.pingresp()));
      c.send(auth(0x18, 'demo', 'me'));
      assert.equal(hex(await c.next()), hex(auth(0x00, 'demo', 'welcome')));
      // A failed re-authentication ends the connection with DISCONNECT 0x87 [MQTT-4.12.1-2].
      c.send(auth(0x19, 'demo', 'hello'));
      assert.equal(hex(await c.next()), hex(auth(0x18, 'demo', 'again?')));
      c.send(auth(0x18, 'demo', 'not me'));
      assert.equal(hex(await c.next()), hex(m.disconnect(5, 0x87)));
      assert.equal(await c.next(), null);
    } finally {
      c.close();
    }
    // Refused at the first step (bad data) and at the second (wrong answer): CONNACK 0x87.
    for (const steps of [['nope'], ['hello', 'wrong']]) {
      const r = await RawClient.open(b.port);
      try {
        r.send(m.connect(5, { clientId: 'ext-bad', props: authProps('demo', steps[0]) }));
        if (steps.length === 2) {
          assert.equal(hex(await r.next()), hex(auth(0x18, 'demo', 'who?')));
          r.send(auth(0x18, 'demo', steps[1]));
        }
        assert.equal(hex(await r.next()), hex(m.connack(5, 0x87)));
        assert.equal(await r.next(), null);
      } finally {
        r.close();
      }
    }
    // A method no plugin knows: 0x8C.
    const u = await RawClient.open(b.port);
    try {
      u.send(m.connect(5, { clientId: 'ext-unknown', props: authProps('SCRAM-SHA-1') }));
      assert.equal(hex(await u.next()), hex(m.connack(5, 0x8c)));
      assert.equal(await u.next(), null);
    } finally {
      u.close();
    }
    // AUTH with another method, or with a wrong reason code: DISCONNECT 0x82.
    for (const bad of [auth(0x18, 'other', 'me'), auth(0x19, 'demo', 'hello')]) {
      const p = await RawClient.open(b.port);
      try {
        p.send(m.connect(5, { clientId: 'ext-proto', props: authProps('demo', 'hello') }));
        assert.equal(hex(await p.next()), hex(auth(0x18, 'demo', 'who?')));
        p.send(bad);
        assert.equal(hex(await p.next()), hex(m.disconnect(5, 0x82)));
        assert.equal(await p.next(), null);
      } finally {
        p.close();
      }
    }
  });
});

test('control: a $CONTROL/ topic goes to its plugin, never to subscribers; the handler may add a reason string', { timeout: 60_000 }, async () => {
  await withBroker(async (b) => {
    const sub = await open(b.port, 5, { clientId: 'ctl-sub' });
    const pub = await open(b.port, 5, { clientId: 'ctl-pub' });
    try {
      sub.send(m.subscribe(5, 1, [['$CONTROL/#', 0], ['after', 0]]));
      assert.equal(hex(await sub.next()), hex(m.suback(5, 1, [0, 0])));
      pub.send(m.publish(5, '$CONTROL/demo/v1', 'abc', { qos: 1, mid: 3 }));
      assert.equal(hex(await pub.next()), hex(m.puback(5, 3)));
      // The plugin's answer (a broker publish) is delivered; the request itself is not.
      assert.equal(hex(await sub.next()), hex(m.publish(5, '$CONTROL/demo/v1/response', 'ctl-pub:cba')));
      pub.send(m.publish(5, '$CONTROL/demo/v1', 'reason', { qos: 2, mid: 4 }));
      assert.equal(hex(await pub.next()), hex(m.pubrec(5, 4, 0, m.props(m.propStr(0x1f, 'handled')))));
      pub.send(m.pubrel(5, 4));
      assert.equal(hex(await pub.next()), hex(m.pubcomp(5, 4)));
      assert.equal(hex(await sub.next()), hex(m.publish(5, '$CONTROL/demo/v1/response', 'ctl-pub:nosaer')));
      pub.send(m.publish(5, '$CONTROL/other', 'x', { qos: 1, mid: 5 }));
      assert.equal(hex(await pub.next()), hex(m.puback(5, 5)));
      pub.send(m.publish(5, 'after', 'y'));
      assert.equal(hex(await sub.next()), hex(m.publish(5, 'after', 'y')), 'nothing from $CONTROL/other came first');
    } finally {
      sub.close();
      pub.close();
    }
  });
});

test('acl-check with the unsubscribe access: a refused UNSUBSCRIBE gets 0x87 and the subscription stays', { timeout: 60_000 }, async () => {
  await withBroker(async (b) => {
    const c = await open(b.port, 5, { clientId: 'unsub' });
    try {
      c.send(m.subscribe(5, 1, [['keep/#', 0], ['drop/#', 0]]));
      assert.equal(hex(await c.next()), hex(m.suback(5, 1, [0, 0])));
      c.send(m.unsubscribe(5, 2, ['keep/#', 'drop/#']));
      assert.equal(hex(await c.next()), hex(m.unsuback(5, 2, [0x87, 0])));
      c.send(m.publish(5, 'drop/x', 'gone'));
      c.send(m.publish(5, 'keep/x', 'kept'));
      assert.equal(hex(await c.next()), hex(m.publish(5, 'keep/x', 'kept')));
    } finally {
      c.close();
    }
  });
});

test('auth_plugin / auth_opt_* with per_listener_settings: the plugin hears only its listener\'s clients', { timeout: 60_000 }, async () => {
  const second = await freePort();
  const b = await startBroker({
    verbose: true,
    config: ['per_listener_settings true', `auth_plugin ${plugin}`, 'auth_opt_tag a', 'allow_anonymous true', `listener ${second} 127.0.0.1`, 'allow_anonymous true'],
  });
  try {
    const sub = await open(b.port, 4, { clientId: 'pl-sub' });
    const viaA = await open(b.port, 4, { clientId: 'pl-a' });
    const viaB = await open(second, 4, { clientId: 'pl-b' });
    try {
      sub.send(m.subscribe(4, 1, [['rewrite/#', 0]]));
      assert.equal(hex(await sub.next()), hex(m.suback(4, 1, [0])));
      viaB.send(m.publish(4, 'rewrite/in', 'b'));
      assert.equal(hex(await sub.next()), hex(m.publish(4, 'rewrite/in', 'b')), 'the second listener has no plugin');
      viaA.send(m.publish(4, 'rewrite/in', 'a'));
      assert.equal(hex(await sub.next()), hex(m.publish(4, 'rewrite/out', '<a>!')), 'the first listener has it');
      process.kill(b.pid, 'SIGHUP');
      assert.ok(await waitForText(b.stderr, 'events plugin reloaded, tag=a', 10_000), b.stderr());
    } finally {
      sub.close();
      viaA.close();
      viaB.close();
    }
  } finally {
    await b.stop();
  }
});

function authPropsParts(method: string, data: string): Buffer[] {
  return [m.propStr(AUTH_METHOD, method), Buffer.concat([Buffer.from([AUTH_DATA]), m.str(Buffer.from(data))])];
}

for (const oracle of hasDebianMosquitto() ? [false, true] : [false]) {
  const who = oracle ? 'Debian 2.0.11' : 'skeeter';
  test(`without ext-auth plugins (${who}): a method gets CONNACK 0x8C, an AUTH after CONNACK is a protocol error`, { timeout: 60_000 }, async () => {
    const b = await startBroker({ oracle });
    try {
      const u = await RawClient.open(b.port);
      try {
        u.send(m.connect(5, { clientId: 'm', props: authProps('SCRAM-SHA-1', 'x') }));
        assert.equal(hex(await u.next()), hex(m.connack(5, 0x8c)));
        assert.equal(await u.next(), null);
      } finally {
        u.close();
      }
      const c = await open(b.port, 5, { clientId: 'a' });
      try {
        c.send(auth(0x19, 'SCRAM-SHA-1', 'x'));
        // 2.0.20 answers DISCONNECT 0x82 (its msg_sequence_test, AUTH group); 2.0.11 closed silently.
        if (!oracle) assert.equal(hex(await c.next()), 'e00182');
        assert.equal(await c.next(), null);
      } finally {
        c.close();
      }
    } finally {
      await b.stop();
    }
  });
}

for (const oracle of hasDebianMosquitto() ? [false, true] : [false]) {
  const who = oracle ? 'Debian 2.0.11' : 'skeeter';
  test(`without plugins (${who}): PUBLISH to $CONTROL/ is acknowledged with 0 and never delivered`, { timeout: 60_000 }, async () => {
    const b = await startBroker({ oracle });
    try {
      const sub = await open(b.port, 5, { clientId: 's' });
      const pub = await open(b.port, 5, { clientId: 'p' });
      const pub4 = await open(b.port, 4, { clientId: 'p4' });
      try {
        sub.send(m.subscribe(5, 1, [['$CONTROL/#', 1], ['after', 0]]));
        assert.equal(hex(await sub.next()), hex(m.suback(5, 1, [1, 0])));
        pub.send(m.publish(5, '$CONTROL/x/v1', 'q1', { qos: 1, mid: 7 }));
        assert.equal(hex(await pub.next()), hex(m.puback(5, 7)));
        pub.send(m.publish(5, '$CONTROL/x/v1', 'q2', { qos: 2, mid: 8 }));
        assert.equal(hex(await pub.next()), hex(m.pubrec(5, 8)));
        pub.send(m.pubrel(5, 8));
        assert.equal(hex(await pub.next()), hex(m.pubcomp(5, 8)));
        pub4.send(m.publish(4, '$CONTROL/y', 'q0'));
        pub4.send(m.publish(4, 'after', 'z'));
        assert.equal(hex(await sub.next()), hex(m.publish(5, 'after', 'z')), 'the $CONTROL/ messages were not delivered');
      } finally {
        sub.close();
        pub.close();
        pub4.close();
      }
    } finally {
      await b.stop();
    }
  });
}
