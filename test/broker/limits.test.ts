import assert from 'node:assert/strict';
import { runScenarios, m, hex, type Scenario } from './harness.js';

const scenarios: Scenario[] = [
  {
    name: 'max_qos 1: subscriptions are granted QoS 1, a QoS 2 PUBLISH disconnects (v5 0x9B), CONNACK says maximum QoS 1',
    versions: [4, 5],
    config: ['max_qos 1'],
    async run(ctx, v) {
      const c = await ctx.open();
      c.send(m.connect(v, { clientId: `mq${v}` }));
      await ctx.expect(c, v === 5 ? '200b00000822000a2100142401' : '20020000');
      c.send(m.subscribe(v, 1, [['a', 2]]));
      await ctx.expect(c, m.suback(v, 1, [1]));
      c.send(m.publish(v, 'a', 'x', { qos: 2, mid: 1 }));
      if (v === 5) await ctx.expect(c, 'e0019b');
      await ctx.expectClosed(c);
    },
  },
  {
    name: 'retain_available false: CONNACK says so, a retained PUBLISH disconnects (v5 0x9A)',
    versions: [4, 5],
    config: ['retain_available false'],
    async run(ctx, v) {
      const c = await ctx.open();
      c.send(m.connect(v, { clientId: `nr${v}` }));
      await ctx.expect(c, v === 5 ? '200b00000822000a2500210014' : '20020000');
      c.send(m.publish(v, 'a', 'x', { retain: true }));
      if (v === 5) await ctx.expect(c, 'e0019a');
      await ctx.expectClosed(c);
    },
  },
  {
    name: 'message_size_limit: an oversize payload is acknowledged (v5 0x95) and dropped',
    versions: [4, 5],
    config: ['message_size_limit 5'],
    async run(ctx, v) {
      const sub = await ctx.connected(v, { clientId: `ms-s${v}` });
      sub.send(m.subscribe(v, 1, [['big', 2]]));
      await ctx.expect(sub, m.suback(v, 1, [2]));
      const c = await ctx.connected(v, { clientId: `ms${v}` });
      c.send(m.publish(v, 'big', '0123456789', { qos: 1, mid: 1 }));
      await ctx.expect(c, v === 5 ? '4003000195' : '40020001');
      c.send(m.publish(v, 'big', '0123456789', { qos: 2, mid: 2 }));
      await ctx.expect(c, v === 5 ? '5003000295' : '50020002');
      c.send(m.publish(v, 'big', '01234'));
      await ctx.expect(sub, m.publish(v, 'big', '01234'));
    },
  },
  {
    name: 'max_packet_size: advertised in CONNACK; a larger packet disconnects (v5 0x95)',
    versions: [4, 5],
    config: ['max_packet_size 30'],
    async run(ctx, v) {
      const c = await ctx.open();
      c.send(m.connect(v, { clientId: `mp${v}` }));
      await ctx.expect(c, v === 5 ? '200e00000b22000a270000001e210014' : '20020000');
      c.send(m.publish(v, 'a', '0123456789012345678901234567890123456789'));
      if (v === 5) await ctx.expect(c, 'e00195');
      await ctx.expectClosed(c);
    },
  },
  {
    name: 'max_keepalive: v5 keepalive replaced (Server Keep Alive), 3.1.1 refused with CONNACK 2',
    versions: [4, 5],
    config: ['max_keepalive 10'],
    debian: 'Mosquitto 2.0.11 predates the 2.0.12 rule that refuses 3.x clients; we follow 2.0.20',
    async run(ctx, v) {
      const c = await ctx.open();
      c.send(m.connect(v, { clientId: `mk${v}`, keepalive: 60 }));
      if (v === 5) {
        // 2.0.20 puts Server Keep Alive first (12-prop-server-keepalive in its suite).
        await ctx.expect(c, '200c000009130 00a22000a210014'.replace(/ /g, ''));
      } else {
        await ctx.expect(c, '20020002');
        await ctx.expectClosed(c);
      }
    },
  },
  {
    // v5 clients are bounded by the smaller of their Receive Maximum and max_inflight_messages.
    name: 'max_inflight_messages 1: the second QoS 1 delivery waits for the first PUBACK; receive maximum 1',
    versions: [4, 5],
    config: ['max_inflight_messages 1'],
    async run(ctx, v) {
      const sub = await ctx.open();
      sub.send(m.connect(v, { clientId: `if-s${v}` }));
      await ctx.expect(sub, v === 5 ? '200900000622000a210001' : '20020000');
      sub.send(m.subscribe(v, 1, [['inflight', 1]]));
      await ctx.expect(sub, m.suback(v, 1, [1]));
      const pub = await ctx.connected(v, { clientId: `if-p${v}` });
      pub.send(m.publish(v, 'inflight', 'a', { qos: 1, mid: 1 }), m.publish(v, 'inflight', 'b', { qos: 1, mid: 2 }));
      await ctx.expect(sub, m.publish(v, 'inflight', 'a', { qos: 1, mid: 1 }));
      await ctx.expectSilence(sub);
      sub.send(m.puback(v, 1));
      await ctx.expect(sub, m.publish(v, 'inflight', 'b', { qos: 1, mid: 2 }));
    },
  },
  {
    name: 'max_queued_messages: an offline session keeps at most that many messages',
    versions: [4],
    config: ['max_queued_messages 2'],
    async run(ctx, v) {
      const s1 = await ctx.connected(v, { clientId: 'mqm', clean: false });
      s1.send(m.subscribe(v, 1, [['queue/t', 1]]));
      await ctx.expect(s1, m.suback(v, 1, [1]));
      s1.send(m.disconnect(v));
      await ctx.expectClosed(s1);
      const pub = await ctx.connected(v, { clientId: 'mqm-p' });
      for (let i = 1; i <= 4; i++) {
        pub.send(m.publish(v, 'queue/t', String(i), { qos: 1, mid: i }));
        await ctx.expect(pub, m.puback(v, i));
      }
      const s2 = await ctx.connected(v, { clientId: 'mqm', clean: false }, true);
      await ctx.expect(s2, m.publish(v, 'queue/t', '1', { qos: 1, mid: 1 }));
      await ctx.expect(s2, m.publish(v, 'queue/t', '2', { qos: 1, mid: 2 }));
      await ctx.expectSilence(s2);
    },
  },
  {
    name: 'QoS 0 messages are not queued for an offline session unless queue_qos0_messages',
    versions: [4],
    async run(ctx, v) {
      const s1 = await ctx.connected(v, { clientId: 'q0off', clean: false });
      s1.send(m.subscribe(v, 1, [['q0off/t', 1]]));
      await ctx.expect(s1, m.suback(v, 1, [1]));
      s1.send(m.disconnect(v));
      await ctx.expectClosed(s1);
      const pub = await ctx.connected(v);
      pub.send(m.publish(v, 'q0off/t', 'lost'));
      pub.send(m.pingreq());
      await ctx.expect(pub, m.pingresp());
      const s2 = await ctx.connected(v, { clientId: 'q0off', clean: false }, true);
      await ctx.expectSilence(s2);
      s2.send(m.disconnect(v));
    },
  },
  {
    name: 'queue_qos0_messages true: QoS 0 messages wait for the offline session',
    versions: [4],
    config: ['queue_qos0_messages true'],
    async run(ctx, v) {
      const s1 = await ctx.connected(v, { clientId: 'q0q', clean: false });
      s1.send(m.subscribe(v, 1, [['q0q/t', 1]]));
      await ctx.expect(s1, m.suback(v, 1, [1]));
      s1.send(m.disconnect(v));
      await ctx.expectClosed(s1);
      const pub = await ctx.connected(v);
      pub.send(m.publish(v, 'q0q/t', 'kept'));
      pub.send(m.pingreq());
      await ctx.expect(pub, m.pingresp());
      const s2 = await ctx.connected(v, { clientId: 'q0q', clean: false }, true);
      await ctx.expect(s2, m.publish(v, 'q0q/t', 'kept'));
    },
  },
  {
    name: 'upgrade_outgoing_qos: deliveries use the subscription QoS',
    versions: [4],
    config: ['upgrade_outgoing_qos true'],
    async run(ctx, v) {
      const sub = await ctx.connected(v, { clientId: 'up-s' });
      sub.send(m.subscribe(v, 1, [['up/t', 2]]));
      await ctx.expect(sub, m.suback(v, 1, [2]));
      const pub = await ctx.connected(v);
      pub.send(m.publish(v, 'up/t', 'x'));
      await ctx.expect(sub, m.publish(v, 'up/t', 'x', { qos: 2, mid: 1 }));
    },
  },
  {
    name: 'allow_anonymous false refuses a client without user name (CONNACK 5 / 0x87)',
    versions: [3, 4, 5],
    config: ['allow_anonymous false'],
    async run(ctx, v) {
      const c = await ctx.open();
      c.send(m.connect(v, { clientId: `anon${v}` }));
      await ctx.expect(c, v === 5 ? '2003008700' : '20020005');
      await ctx.expectClosed(c);
    },
  },
  {
    name: 'clientid_prefixes refuses other client ids',
    versions: [4, 5],
    config: ['clientid_prefixes zz'],
    async run(ctx, v) {
      const c = await ctx.open();
      c.send(m.connect(v, { clientId: `other${v}` }));
      await ctx.expect(c, v === 5 ? '2003008700' : '20020005');
      const ok = await ctx.open();
      ok.send(m.connect(v, { clientId: `zz${v}` }));
      const ack = (await ok.next())!;
      assert.equal(ack[3], 0, hex(ack));
    },
  },
  {
    name: 'max_topic_alias 0: any topic alias from the client disconnects with 0x94',
    versions: [5],
    config: ['max_topic_alias 0'],
    async run(ctx) {
      const c = await ctx.open();
      c.send(m.connect(5, { clientId: 'alias0' }));
      await ctx.expect(c, '2006000003210014');
      c.send(m.publish(5, 'a', 'x', { props: m.props(m.propU16(0x23, 1)) }));
      await ctx.expect(c, 'e00194');
    },
  },
  {
    name: 'mount_point prefixes topics on the way in and strips it on the way out',
    versions: [4, 5],
    config: ['mount_point mp/'],
    debian: 'Mosquitto 2.0.11 leaves the mount point on outgoing topics; removed in 2.0.12',
    async run(ctx, v) {
      const sub = await ctx.connected(v, { clientId: `mnt-s${v}` });
      sub.send(m.subscribe(v, 1, [['t/#', 0]]));
      await ctx.expect(sub, m.suback(v, 1, [0]));
      const pub = await ctx.connected(v, { clientId: `mnt-p${v}` });
      pub.send(m.publish(v, 't/x', 'in'));
      await ctx.expect(sub, m.publish(v, 't/x', 'in'));
    },
  },
  {
    name: 'max_connections: a connection over the limit is closed at once',
    versions: [4],
    config: ['max_connections 1'],
    debian: 'Mosquitto 2.0.11 admits max_connections + 1 clients (seen: 3 with max_connections 2); we admit the documented number',
    async run(ctx, v) {
      // Let the harness's readiness probe connection be counted out first.
      await new Promise((r) => setTimeout(r, 300));
      const a = await ctx.connected(v, { clientId: 'mc-a' });
      const b = await ctx.open();
      b.send(m.connect(v, { clientId: 'mc-b' }));
      await ctx.expectClosed(b);
      a.send(m.pingreq());
      await ctx.expect(a, m.pingresp());
    },
  },
  {
    name: 'max_connections: clients that close and reconnect at once all get back in',
    versions: [5],
    config: ['max_connections 5'],
    debian: 'Mosquitto 2.0.11 admits max_connections + 1 clients; we admit the documented number',
    async run(ctx, v) {
      await new Promise((r) => setTimeout(r, 300));
      // Bounded: three rounds of five clients, each round closed right before the next opens.
      for (let round = 0; round < 3; round++) {
        // All five connect together, right after the last round's five closed.
        const cs = await Promise.all([0, 1, 2, 3, 4].map((i) => ctx.connected(v, { clientId: `mcr-${i}` })));
        const extra = await ctx.open();
        extra.send(m.connect(v, { clientId: 'mcr-extra' }));
        await ctx.expectClosed(extra, 'the sixth client is over the limit');
        for (const c of cs) c.close();
      }
    },
  },
  {
    name: 'v5 session expiry: a session with a 1 s expiry is gone after it',
    versions: [5],
    async run(ctx) {
      const props = m.props(m.propU32(0x11, 1));
      const c = await ctx.connected(5, { clientId: 'sexp', clean: false, props });
      c.send(m.disconnect(5));
      await ctx.expectClosed(c);
      await new Promise((r) => setTimeout(r, 2500));
      await ctx.connected(5, { clientId: 'sexp', clean: false, props }, false);
    },
  },
  {
    name: 'v5 will delay: the will waits, and a reconnect within the delay cancels it',
    versions: [5],
    async run(ctx) {
      const sub = await ctx.connected(5, { clientId: 'wdl-s' });
      sub.send(m.subscribe(5, 1, [['wdl/#', 0]]));
      await ctx.expect(sub, m.suback(5, 1, [0]));
      const session = m.props(m.propU32(0x11, 60));
      const willProps = m.props(m.propU32(0x18, 1));
      const a = await ctx.connected(5, { clientId: 'wdl-a', clean: false, props: session, will: { topic: 'wdl/a', payload: 'late', props: willProps } });
      a.close();
      await ctx.expectSilence(sub, 300);
      await ctx.expect(sub, m.publish(5, 'wdl/a', 'late'));
      const b = await ctx.connected(5, { clientId: 'wdl-b', clean: false, props: session, will: { topic: 'wdl/b', payload: 'never', props: willProps } });
      b.close();
      await new Promise((r) => setTimeout(r, 200));
      const b2 = await ctx.connected(5, { clientId: 'wdl-b', clean: false, props: session }, true);
      await ctx.expectSilence(sub, 1500);
      b2.send(m.disconnect(5));
    },
  },
  {
    name: 'auto_id_prefix and allow_zero_length_clientid',
    versions: [5],
    config: ['auto_id_prefix pfx-'],
    async run(ctx) {
      const c = await ctx.open();
      c.send(m.connect(5, { clientId: '' }));
      const ack = (await c.next())!;
      assert.match(ack.subarray(11).toString('latin1'), /^pfx-[0-9A-F]{8}-/);
    },
  },
  {
    name: 'allow_zero_length_clientid false refuses an empty client id (3.1.1: 2, v5: 0x80 as Mosquitto)',
    versions: [4, 5],
    config: ['allow_zero_length_clientid false'],
    async run(ctx, v) {
      const c = await ctx.open();
      c.send(m.connect(v, { clientId: '' }));
      await ctx.expect(c, v === 5 ? '2003008000' : '20020002');
    },
  },
  {
    name: 'use_username_as_clientid: the user name becomes the client id; no user name is refused',
    versions: [4],
    config: ['use_username_as_clientid true'],
    async run(ctx, v) {
      const none = await ctx.open();
      none.send(m.connect(v, { clientId: 'x' }));
      await ctx.expect(none, '20020005');
      const sub = await ctx.connected(v, { clientId: 'ignored', username: 'bob' });
      sub.send(m.subscribe(v, 1, [['uu/t', 0]]));
      await ctx.expect(sub, m.suback(v, 1, [0]));
      // A second connection as bob takes over the session named "bob".
      const again = await ctx.connected(v, { clientId: 'other', username: 'bob' });
      await ctx.expectClosed(sub);
      again.send(m.disconnect(v));
    },
  },
  {
    name: 'max_inflight_bytes: deliveries wait once the bytes in flight reach the limit',
    versions: [4],
    config: ['max_inflight_bytes 5', 'max_inflight_messages 0'],
    async run(ctx, v) {
      const sub = await ctx.connected(v, { clientId: 'ifb-s' });
      sub.send(m.subscribe(v, 1, [['ifb', 1]]));
      await ctx.expect(sub, m.suback(v, 1, [1]));
      const pub = await ctx.connected(v);
      pub.send(m.publish(v, 'ifb', 'abcdef', { qos: 1, mid: 1 }), m.publish(v, 'ifb', 'efgh', { qos: 1, mid: 2 }));
      await ctx.expect(sub, m.publish(v, 'ifb', 'abcdef', { qos: 1, mid: 1 }));
      await ctx.expectSilence(sub);
      sub.send(m.puback(v, 1));
      await ctx.expect(sub, m.publish(v, 'ifb', 'efgh', { qos: 1, mid: 2 }));
    },
  },
  {
    name: 'max_queued_bytes: an offline session keeps messages up to that many payload bytes',
    versions: [4],
    config: ['max_queued_bytes 8'],
    async run(ctx, v) {
      const s1 = await ctx.connected(v, { clientId: 'mqb', clean: false });
      s1.send(m.subscribe(v, 1, [['mqb/t', 1]]));
      await ctx.expect(s1, m.suback(v, 1, [1]));
      s1.send(m.disconnect(v));
      await ctx.expectClosed(s1);
      const pub = await ctx.connected(v);
      for (let i = 1; i <= 3; i++) {
        pub.send(m.publish(v, 'mqb/t', `msg${i}`, { qos: 1, mid: i }));
        await ctx.expect(pub, m.puback(v, i));
      }
      const s2 = await ctx.connected(v, { clientId: 'mqb', clean: false }, true);
      await ctx.expect(s2, m.publish(v, 'mqb/t', 'msg1', { qos: 1, mid: 1 }));
      await ctx.expect(s2, m.publish(v, 'mqb/t', 'msg2', { qos: 1, mid: 2 }));
      await ctx.expectSilence(s2);
    },
  },
];

runScenarios('broker limits', scenarios);
