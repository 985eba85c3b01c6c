import assert from 'node:assert/strict';
import { runScenarios, m, hex, type Scenario } from './harness.js';

const ALL: Array<3 | 4 | 5> = [3, 4, 5];
const V3X: Array<3 | 4> = [3, 4];
const CONNACK_OK = (v: number): string => (v === 5 ? '200900000622000a210014' : '20020000');

const scenarios: Scenario[] = [
  {
    name: 'CONNECT is answered with CONNACK (v5: topic alias maximum 10, receive maximum 20)',
    versions: ALL,
    async run(ctx, v) {
      const c = await ctx.open();
      c.send(m.connect(v, { clientId: 'conn-ok' }));
      await ctx.expect(c, CONNACK_OK(v));
    },
  },
  {
    name: 'an empty client id is refused on 3.1 and on 3.1.1 without clean session',
    versions: V3X,
    async run(ctx, v) {
      const c = await ctx.open();
      c.send(m.connect(v, { clientId: '', clean: v === 3 }));
      await ctx.expect(c, '20020002');
      await ctx.expectClosed(c);
    },
  },
  {
    name: 'an empty client id gets an assigned auto- id (v5: Assigned Client Identifier)',
    versions: [4, 5],
    async run(ctx, v) {
      const c = await ctx.open();
      c.send(m.connect(v, { clientId: '' }));
      const ack = (await c.next())!;
      if (v === 4) {
        assert.equal(hex(ack), '20020000');
        return;
      }
      const id = ack.subarray(11, 11 + 41).toString();
      assert.match(id, /^auto-[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
      assert.equal(hex(ack.subarray(0, 10)), '203500003222000a1200');
    },
  },
  {
    name: 'an unknown protocol level gets CONNACK 1 and the connection closes',
    versions: [4],
    async run(ctx) {
      const c = await ctx.open();
      c.send(Buffer.from('100c00044d5154540700003c0000', 'hex'));
      await ctx.expect(c, '20020001');
      await ctx.expectClosed(c);
    },
  },
  {
    name: 'an unknown protocol name closes without CONNACK',
    versions: [4],
    async run(ctx) {
      const c = await ctx.open();
      c.send(Buffer.from('100c00044d5154580400003c0000', 'hex'));
      await ctx.expectClosed(c);
    },
  },
  {
    name: 'a first packet other than CONNECT closes the connection [MQTT-3.1.0-1]',
    versions: [4],
    async run(ctx) {
      const c = await ctx.open();
      c.send(m.pingreq());
      await ctx.expectClosed(c);
    },
  },
  {
    name: 'QoS 0 publish reaches a subscriber, byte for byte',
    versions: ALL,
    async run(ctx, v) {
      const sub = await ctx.connected(v, { clientId: `q0s${v}` });
      sub.send(m.subscribe(v, 1, [[`q0/${v}`, 0]]));
      await ctx.expect(sub, m.suback(v, 1, [0]));
      const pub = await ctx.connected(v, { clientId: `q0p${v}` });
      pub.send(m.publish(v, `q0/${v}`, 'hello'));
      await ctx.expect(sub, m.publish(v, `q0/${v}`, 'hello'));
    },
  },
  {
    name: 'QoS 1 publish: PUBACK to the publisher, QoS 1 delivery with a packet id',
    versions: ALL,
    async run(ctx, v) {
      const sub = await ctx.connected(v, { clientId: `q1s${v}` });
      sub.send(m.subscribe(v, 2, [[`q1/${v}`, 1]]));
      await ctx.expect(sub, m.suback(v, 2, [1]));
      const pub = await ctx.connected(v, { clientId: `q1p${v}` });
      pub.send(m.publish(v, `q1/${v}`, 'one', { qos: 1, mid: 7 }));
      await ctx.expect(sub, m.publish(v, `q1/${v}`, 'one', { qos: 1, mid: 1 }));
      await ctx.expect(pub, m.puback(v, 7));
      sub.send(m.puback(v, 1));
    },
  },
  {
    name: 'QoS 2 publish: PUBREC/PUBREL/PUBCOMP both ways, delivered once',
    versions: ALL,
    async run(ctx, v) {
      const sub = await ctx.connected(v, { clientId: `q2s${v}` });
      sub.send(m.subscribe(v, 3, [[`q2/${v}`, 2]]));
      await ctx.expect(sub, m.suback(v, 3, [2]));
      const pub = await ctx.connected(v, { clientId: `q2p${v}` });
      pub.send(m.publish(v, `q2/${v}`, 'two', { qos: 2, mid: 9 }));
      await ctx.expect(pub, m.pubrec(v, 9));
      // A retransmission before PUBREL must not be delivered twice [MQTT-4.3.3-9].
      pub.send(m.publish(v, `q2/${v}`, 'two', { qos: 2, mid: 9, dup: true }));
      await ctx.expect(pub, m.pubrec(v, 9));
      pub.send(m.pubrel(v, 9));
      await ctx.expect(sub, m.publish(v, `q2/${v}`, 'two', { qos: 2, mid: 1 }));
      await ctx.expect(pub, m.pubcomp(v, 9));
      sub.send(m.pubrec(v, 1));
      await ctx.expect(sub, m.pubrel(v, 1));
      sub.send(m.pubcomp(v, 1));
      await ctx.expectSilence(sub);
    },
  },
  {
    name: 'v5 QoS 1 publish with no subscribers gets PUBACK 0x10',
    versions: [5],
    async run(ctx) {
      const pub = await ctx.connected(5, { clientId: 'nosubs' });
      pub.send(m.publish(5, 'nobody/here', 'x', { qos: 1, mid: 3 }));
      await ctx.expect(pub, '4003000310');
    },
  },
  {
    name: 'retained message: stored, sent with retain=1 to new subscribers, deleted by an empty payload',
    versions: ALL,
    async run(ctx, v) {
      const pub = await ctx.connected(v, { clientId: `rp${v}` });
      pub.send(m.publish(v, `ret/${v}/a`, 'kept', { retain: true }));
      const sub = await ctx.connected(v, { clientId: `rs${v}` });
      sub.send(m.subscribe(v, 1, [[`ret/${v}/#`, 0]]));
      await ctx.expect(sub, m.suback(v, 1, [0]));
      await ctx.expect(sub, m.publish(v, `ret/${v}/a`, 'kept', { retain: true }));
      pub.send(m.publish(v, `ret/${v}/a`, '', { retain: true }));
      // Forwarded to the existing subscriber with retain=0 [MQTT-3.3.1-9].
      await ctx.expect(sub, m.publish(v, `ret/${v}/a`, ''));
      const sub2 = await ctx.connected(v, { clientId: `rs2${v}` });
      sub2.send(m.subscribe(v, 1, [[`ret/${v}/#`, 0]]));
      await ctx.expect(sub2, m.suback(v, 1, [0]));
      await ctx.expectSilence(sub2);
    },
  },
  {
    name: 'v5 retained message keeps its properties; subscription id comes first, then the rest',
    versions: [5],
    async run(ctx) {
      const pub = await ctx.connected(5, { clientId: 'rprop' });
      pub.send(
        m.publish(5, 'ret5/a', 'hello', { retain: true, qos: 1, mid: 2, props: m.props(m.propStr(3, 'text/plain'), m.propU32(2, 100)) }),
      );
      await ctx.expect(pub, m.puback(5, 2, 0x10));
      const sub = await ctx.connected(5, { clientId: 'rprop-s' });
      sub.send(m.subscribe(5, 1, [['ret5/#', 1]], m.props(m.propVarint(0x0b, 7))));
      await ctx.expect(sub, '900400010001');
      const props = m.props(m.propVarint(0x0b, 7), m.propStr(3, 'text/plain'), m.propU32(2, 100));
      await ctx.expect(sub, m.publish(5, 'ret5/a', 'hello', { retain: true, qos: 1, mid: 1, props }));
    },
  },
  {
    name: 'v5 retain handling 2 sends no retained messages; 1 only on a new subscription',
    versions: [5],
    async run(ctx) {
      const pub = await ctx.connected(5, { clientId: 'rh-p' });
      pub.send(m.publish(5, 'rh/a', 'r', { retain: true }));
      const sub = await ctx.connected(5, { clientId: 'rh-s' });
      sub.send(m.subscribe(5, 1, [['rh/#', 0x20]]));
      await ctx.expect(sub, m.suback(5, 1, [0]));
      await ctx.expectSilence(sub);
      sub.send(m.subscribe(5, 2, [['rh/+', 0x10]]));
      await ctx.expect(sub, m.suback(5, 2, [0]));
      await ctx.expect(sub, m.publish(5, 'rh/a', 'r', { retain: true }));
      sub.send(m.subscribe(5, 3, [['rh/+', 0x10]]));
      await ctx.expect(sub, m.suback(5, 3, [0]));
      await ctx.expectSilence(sub);
    },
  },
  {
    name: 'will published when the connection drops without DISCONNECT',
    versions: ALL,
    async run(ctx, v) {
      const sub = await ctx.connected(v, { clientId: `ws${v}` });
      sub.send(m.subscribe(v, 1, [[`will/${v}`, 1]]));
      await ctx.expect(sub, m.suback(v, 1, [1]));
      const dying = await ctx.connected(v, { clientId: `wd${v}`, will: { topic: `will/${v}`, payload: 'gone', qos: 1 } });
      dying.close();
      await ctx.expect(sub, m.publish(v, `will/${v}`, 'gone', { qos: 1, mid: 1 }));
    },
  },
  {
    name: 'no will after a normal DISCONNECT',
    versions: ALL,
    async run(ctx, v) {
      const sub = await ctx.connected(v, { clientId: `nws${v}` });
      sub.send(m.subscribe(v, 1, [[`nowill/${v}`, 0]]));
      await ctx.expect(sub, m.suback(v, 1, [0]));
      const c = await ctx.connected(v, { clientId: `nwd${v}`, will: { topic: `nowill/${v}`, payload: 'no' } });
      c.send(m.disconnect(v));
      await ctx.expectClosed(c);
      await ctx.expectSilence(sub);
    },
  },
  {
    name: 'v5 DISCONNECT 0x04 publishes the will',
    versions: [5],
    async run(ctx) {
      const sub = await ctx.connected(5, { clientId: 'w4s' });
      sub.send(m.subscribe(5, 1, [['will4', 0]]));
      await ctx.expect(sub, m.suback(5, 1, [0]));
      const c = await ctx.connected(5, { clientId: 'w4d', will: { topic: 'will4', payload: 'bye' } });
      c.send(m.disconnect(5, 0x04));
      await ctx.expect(sub, m.publish(5, 'will4', 'bye'));
    },
  },
  {
    name: 'persistent session: messages queued while offline arrive on reconnect with session present',
    versions: ALL,
    async run(ctx, v) {
      const id = `persist${v}`;
      const props = v === 5 ? m.props(m.propU32(0x11, 60)) : undefined;
      const s1 = await ctx.connected(v, { clientId: id, clean: false, ...(props ? { props } : {}) });
      s1.send(m.subscribe(v, 1, [[`offline/${v}`, 1]]));
      await ctx.expect(s1, m.suback(v, 1, [1]));
      s1.send(m.disconnect(v));
      await ctx.expectClosed(s1);
      const pub = await ctx.connected(v, { clientId: `persist-p${v}` });
      pub.send(m.publish(v, `offline/${v}`, 'queued', { qos: 1, mid: 5 }));
      await ctx.expect(pub, m.puback(v, 5));
      const s2 = await ctx.connected(v, { clientId: id, clean: false, ...(props ? { props } : {}) }, v !== 3);
      await ctx.expect(s2, m.publish(v, `offline/${v}`, 'queued', { qos: 1, mid: 1 }));
      s2.send(m.puback(v, 1));
      // Clean up: a clean connection ends the session.
      s2.send(m.disconnect(v));
      const s3 = await ctx.connected(v, { clientId: id, clean: true });
      s3.send(m.disconnect(v));
    },
  },
  {
    name: 'unacknowledged QoS 1 delivery is sent again with DUP after reconnect',
    versions: [4, 5],
    async run(ctx, v) {
      const id = `dup${v}`;
      const props = v === 5 ? m.props(m.propU32(0x11, 60)) : undefined;
      const s1 = await ctx.connected(v, { clientId: id, clean: false, ...(props ? { props } : {}) });
      s1.send(m.subscribe(v, 1, [[`dup/${v}`, 1]]));
      await ctx.expect(s1, m.suback(v, 1, [1]));
      const pub = await ctx.connected(v, { clientId: `dup-p${v}` });
      pub.send(m.publish(v, `dup/${v}`, 'again', { qos: 1, mid: 2 }));
      await ctx.expect(s1, m.publish(v, `dup/${v}`, 'again', { qos: 1, mid: 1 }));
      s1.close();
      await new Promise((r) => setTimeout(r, 200));
      const s2 = await ctx.connected(v, { clientId: id, clean: false, ...(props ? { props } : {}) }, true);
      await ctx.expect(s2, m.publish(v, `dup/${v}`, 'again', { qos: 1, mid: 1, dup: true }));
      s2.send(m.puback(v, 1));
      s2.send(m.disconnect(v));
      const s3 = await ctx.connected(v, { clientId: id, clean: true });
      s3.send(m.disconnect(v));
    },
  },
  {
    name: 'unsubscribe: v5 reports 0x11 for a filter that had no subscription',
    versions: ALL,
    async run(ctx, v) {
      const c = await ctx.connected(v, { clientId: `unsub${v}` });
      c.send(m.subscribe(v, 1, [['u/a', 0]]));
      await ctx.expect(c, m.suback(v, 1, [0]));
      c.send(m.unsubscribe(v, 2, ['u/a', 'u/b']));
      await ctx.expect(c, m.unsuback(v, 2, [0, 0x11]));
    },
  },
  {
    name: 'PINGREQ gets PINGRESP',
    versions: ALL,
    async run(ctx, v) {
      const c = await ctx.connected(v);
      c.send(m.pingreq());
      await ctx.expect(c, m.pingresp());
    },
  },
  {
    name: 'clients cannot write to $SYS (v5 PUBACK 0x87)',
    versions: [4, 5],
    async run(ctx, v) {
      const c = await ctx.connected(v);
      c.send(m.publish(v, '$SYS/x', 'x', { qos: 1, mid: 4 }));
      await ctx.expect(c, v === 5 ? '4003000487' : '40020004');
    },
  },
  {
    name: 'clients cannot publish to $share topics (v5 PUBACK 0x87); a shared subscriber gets nothing',
    versions: [4, 5],
    async run(ctx, v) {
      const sub = await ctx.connected(5, { clientId: `dshare-s${v}` });
      sub.send(m.subscribe(5, 1, [[`$share/g/dshare/${v}`, 1], [`$share/g/$share/g/dshare/${v}`, 1]]));
      await ctx.expect(sub, m.suback(5, 1, [1, 1]));
      const c = await ctx.connected(v);
      c.send(m.publish(v, `$share/g/dshare/${v}`, 'x', { qos: 1, mid: 5 }));
      await ctx.expect(c, v === 5 ? '4003000587' : '40020005');
      // A bridge's state topic is the one $SYS topic a client may write: v5 hears 0x10 back.
      c.send(m.publish(v, '$SYS/broker/connection/me/state', '1', { qos: 1, mid: 6 }));
      await ctx.expect(c, v === 5 ? '4003000610' : '40020006');
      await ctx.expectSilence(sub);
    },
  },
  {
    name: '$SYS/broker/version is retained; # does not match $ topics',
    versions: [4],
    // Its own broker, so no retained message from another scenario reaches '#'.
    config: ['sys_interval 10'],
    async run(ctx, v) {
      const c = await ctx.connected(v);
      c.send(m.subscribe(v, 1, [['#', 0]]));
      await ctx.expect(c, m.suback(v, 1, [0]));
      await ctx.expectSilence(c);
      c.send(m.subscribe(v, 2, [['$SYS/broker/version', 0]]));
      await ctx.expect(c, m.suback(v, 2, [0]));
      const p = (await c.next())!;
      assert.equal(p[0], 0x31);
      assert.match(p.toString('latin1'), /\$SYS\/broker\/versionmosquitto version 2\.0\.\d+/);
    },
  },
  {
    name: 'shared subscription: members of a group get messages in turn',
    versions: [5],
    async run(ctx) {
      const a = await ctx.connected(5, { clientId: 'sh-a' });
      const b = await ctx.connected(5, { clientId: 'sh-b' });
      a.send(m.subscribe(5, 1, [['$share/g/sh/t', 0]]));
      await ctx.expect(a, m.suback(5, 1, [0]));
      b.send(m.subscribe(5, 1, [['$share/g/sh/t', 0]]));
      await ctx.expect(b, m.suback(5, 1, [0]));
      const pub = await ctx.connected(5, { clientId: 'sh-p' });
      for (const n of ['1', '2', '3', '4']) pub.send(m.publish(5, 'sh/t', n));
      const got: string[] = [];
      for (const c of [a, b, a, b]) {
        const p = (await c.next())!;
        got.push(p.subarray(p.length - 1).toString());
      }
      assert.deepEqual([...got].sort(), ['1', '2', '3', '4']);
      await ctx.expectSilence(a, 200);
    },
  },
  {
    name: 'v5 no-local: a client does not receive its own messages',
    versions: [5],
    async run(ctx) {
      const c = await ctx.connected(5, { clientId: 'nolocal' });
      c.send(m.subscribe(5, 1, [['nl/t', 0x04]]));
      await ctx.expect(c, m.suback(5, 1, [0]));
      c.send(m.publish(5, 'nl/t', 'mine'));
      await ctx.expectSilence(c);
    },
  },
  {
    name: 'v5 no-local: a subscription skipped for no-local still counts as a match (PUBACK 0, 2 bytes)',
    versions: [5],
    async run(ctx) {
      const c = await ctx.connected(5, { clientId: 'nolocal-ack' });
      c.send(m.subscribe(5, 1, [['nla/t', 0x04 | 1]]));
      await ctx.expect(c, m.suback(5, 1, [1]));
      c.send(m.publish(5, 'nla/t', 'mine', { qos: 1, mid: 300 }));
      // Reason 0 without properties is the 2-byte form [MQTT-3.4.2.1]; no 0x10, no delivery.
      await ctx.expect(c, '4002012c');
      c.send(m.publish(5, 'nla/other', 'none', { qos: 1, mid: 301 }));
      await ctx.expect(c, '4003012d10');
      await ctx.expectSilence(c);
    },
  },
  {
    name: 'overlapping subscriptions: one copy for 3.x, one per subscription (with its id) for v5',
    versions: [4, 5],
    async run(ctx, v) {
      const c = await ctx.connected(v, { clientId: `ovl${v}` });
      c.send(m.subscribe(v, 1, [['ovl/+', 0]], v === 5 ? m.props(m.propVarint(0x0b, 1)) : undefined));
      await ctx.expect(c, m.suback(v, 1, [0]));
      c.send(m.subscribe(v, 2, [['ovl/#', 0]], v === 5 ? m.props(m.propVarint(0x0b, 2)) : undefined));
      await ctx.expect(c, m.suback(v, 2, [0]));
      const pub = await ctx.connected(v);
      pub.send(m.publish(v, 'ovl/x', 'o'));
      if (v === 4) {
        await ctx.expect(c, m.publish(4, 'ovl/x', 'o'));
        await ctx.expectSilence(c);
        return;
      }
      const ids = new Set<string>();
      for (let i = 0; i < 2; i++) ids.add(hex(await c.next()));
      assert.deepEqual(ids, new Set([
        hex(m.publish(5, 'ovl/x', 'o', { props: m.props(m.propVarint(0x0b, 1)) })),
        hex(m.publish(5, 'ovl/x', 'o', { props: m.props(m.propVarint(0x0b, 2)) })),
      ]));
    },
  },
  {
    name: 'v5 topic alias set by the client, then used with an empty topic',
    versions: [5],
    async run(ctx) {
      const sub = await ctx.connected(5, { clientId: 'alias-s' });
      sub.send(m.subscribe(5, 1, [['alias/t', 0]]));
      await ctx.expect(sub, m.suback(5, 1, [0]));
      const pub = await ctx.connected(5, { clientId: 'alias-p' });
      pub.send(m.publish(5, 'alias/t', 'first', { props: m.props(m.propU16(0x23, 3)) }));
      pub.send(m.publish(5, '', 'second', { props: m.props(m.propU16(0x23, 3)) }));
      await ctx.expect(sub, m.publish(5, 'alias/t', 'first'));
      await ctx.expect(sub, m.publish(5, 'alias/t', 'second'));
    },
  },
  {
    name: 'v5 request/response properties pass through; a wildcard Response Topic is a protocol error',
    versions: [5],
    debian: 'Mosquitto 2.0.11 forwards an invalid Response Topic; 2.0.20 rejects it',
    async run(ctx) {
      const sub = await ctx.connected(5, { clientId: 'rr-s' });
      sub.send(m.subscribe(5, 1, [['rr/req', 0]]));
      await ctx.expect(sub, m.suback(5, 1, [0]));
      const pub = await ctx.connected(5, { clientId: 'rr-p' });
      const props = m.props(m.propStr(0x08, 'rr/resp'), Buffer.from([0x09, 0x00, 0x02, 0xca, 0xfe]), m.propPair('k', 'v'));
      pub.send(m.publish(5, 'rr/req', 'q', { props }));
      await ctx.expect(sub, m.publish(5, 'rr/req', 'q', { props }));
      pub.send(m.publish(5, 'rr/req', 'q', { props: m.props(m.propStr(0x08, 'rr/+')) }));
      await ctx.expect(pub, 'e00182');
    },
  },
  {
    name: 'v5 PUBLISH properties are forwarded in the order they came, user properties between others included',
    versions: [5],
    async run(ctx) {
      const sub = await ctx.connected(5, { clientId: 'porder-s' });
      sub.send(m.subscribe(5, 1, [['porder/t', 0]]));
      await ctx.expect(sub, m.suback(5, 1, [0]));
      const pub = await ctx.connected(5, { clientId: 'porder-p' });
      const props = m.props(m.propPair('a', '1'), m.propStr(0x03, 'text/x'), m.propPair('b', '2'), m.propByte(0x01, 1), m.propPair('c', '3'));
      pub.send(m.publish(5, 'porder/t', 'x', { props }));
      await ctx.expect(sub, m.publish(5, 'porder/t', 'x', { props }));
    },
  },
  {
    name: 'v5 outgoing topic aliases (Mosquitto 2.1): first delivery sets the alias, later ones use it alone',
    versions: [5],
    debian: 'broker-created topic aliases are new in Mosquitto 2.1',
    async run(ctx) {
      const sub = await ctx.connected(5, { clientId: 'oalias-s', props: m.props(m.propU16(0x22, 2)) });
      sub.send(m.subscribe(5, 1, [['oa/#', 0]]));
      await ctx.expect(sub, m.suback(5, 1, [0]));
      const pub = await ctx.connected(5, { clientId: 'oalias-p' });
      for (const t of ['oa/1', 'oa/1', 'oa/2', 'oa/3', 'oa/2']) pub.send(m.publish(5, t, 'x'));
      await ctx.expect(sub, m.publish(5, 'oa/1', 'x', { props: m.props(m.propU16(0x23, 1)) }));
      await ctx.expect(sub, m.publish(5, '', 'x', { props: m.props(m.propU16(0x23, 1)) }));
      await ctx.expect(sub, m.publish(5, 'oa/2', 'x', { props: m.props(m.propU16(0x23, 2)) }));
      // The client allows two aliases: a third topic goes out in full, without one.
      await ctx.expect(sub, m.publish(5, 'oa/3', 'x'));
      await ctx.expect(sub, m.publish(5, '', 'x', { props: m.props(m.propU16(0x23, 2)) }));
    },
  },
  {
    name: 'v5 message expiry: the remaining lifetime is sent; an expired retained message is gone',
    versions: [5],
    async run(ctx) {
      const pub = await ctx.connected(5, { clientId: 'exp-p' });
      pub.send(m.publish(5, 'exp/short', 'soon', { retain: true, props: m.props(m.propU32(2, 1)) }));
      pub.send(m.publish(5, 'exp/long', 'later', { retain: true, props: m.props(m.propU32(2, 3600)) }));
      await new Promise((r) => setTimeout(r, 2100));
      const sub = await ctx.connected(5, { clientId: 'exp-s' });
      sub.send(m.subscribe(5, 1, [['exp/#', 0]]));
      await ctx.expect(sub, m.suback(5, 1, [0]));
      const p = (await sub.next())!;
      // exp/long, retained, with a Message Expiry Interval a little under 3600 s.
      const expected = m.publish(5, 'exp/long', 'later', { retain: true, props: m.props(m.propU32(2, 0)) });
      assert.equal(hex(p.subarray(0, 14)), hex(expected.subarray(0, 14)));
      assert.equal(hex(p.subarray(18)), hex(expected.subarray(18)));
      const left = p.readUInt32BE(14);
      assert.ok(left <= 3600 && left >= 3590, `remaining expiry ${left}`);
      await ctx.expectSilence(sub);
    },
  },
  {
    name: 'v5 message expiry in an offline queue: the expired message is dropped and its packet id skipped, as Mosquitto numbers on queueing',
    versions: [5],
    async run(ctx) {
      const keep = { clientId: 'expq-s', clean: false, props: m.props(m.propU32(0x11, 60)) };
      const sub = await ctx.connected(5, keep);
      sub.send(m.subscribe(5, 1, [['expq/t', 1]]));
      await ctx.expect(sub, m.suback(5, 1, [1]));
      sub.send(m.disconnect(5));
      await ctx.expectClosed(sub);
      const pub = await ctx.connected(5, { clientId: 'expq-p' });
      pub.send(m.publish(5, 'expq/t', 'short', { qos: 1, mid: 1, props: m.props(m.propU32(2, 1)) }));
      await ctx.expect(pub, m.puback(5, 1));
      pub.send(m.publish(5, 'expq/t', 'plain', { qos: 1, mid: 2 }));
      await ctx.expect(pub, m.puback(5, 2));
      // Mosquitto counts expiry in whole seconds: a 1 s message is surely gone after 2.1 s.
      await new Promise((r) => setTimeout(r, 2100));
      const again = await ctx.connected(5, keep, true);
      await ctx.expect(again, m.publish(5, 'expq/t', 'plain', { qos: 1, mid: 2 }));
      again.send(m.puback(5, 2));
      await ctx.expectSilence(again);
      again.send(m.disconnect(5));
      const clean = await ctx.connected(5, { clientId: 'expq-s' }, false);
      clean.send(m.disconnect(5));
    },
  },
  {
    name: "v5 client Maximum Packet Size: a larger PUBLISH is dropped, its QoS 1 flow ends; the size is compared without the first header byte, as Mosquitto does",
    versions: [5],
    async run(ctx) {
      const c = await ctx.connected(5, { clientId: 'maxps', props: m.props(m.propU32(0x27, 20)) });
      c.send(m.subscribe(5, 1, [['maxps/t', 1]]));
      await ctx.expect(c, m.suback(5, 1, [1]));
      c.send(m.publish(5, 'maxps/t', '123456789012345678', { qos: 1, mid: 1 }));
      await ctx.expect(c, m.puback(5, 1));
      c.send(m.pingreq());
      await ctx.expect(c, m.pingresp(), 'the oversize delivery is dropped');
      // 21 bytes on the wire, 20 without the first byte: Mosquitto sends it. The dropped
      // delivery used packet id 1.
      const fits = m.publish(5, 'maxps/t', '1234567', { qos: 1, mid: 2 });
      assert.equal(fits.length, 21);
      c.send(m.publish(5, 'maxps/t', '1234567', { qos: 1, mid: 2 }));
      const got = new Set([hex(await c.next()), hex(await c.next())]);
      assert.deepEqual(got, new Set([hex(m.puback(5, 2)), hex(fits)]));
      c.send(m.puback(5, 2));
      // One byte more is dropped again.
      c.send(m.publish(5, 'maxps/t', '12345678', { qos: 1, mid: 3 }));
      await ctx.expect(c, m.puback(5, 3));
      await ctx.expectSilence(c);
    },
  },
];

runScenarios('broker protocol', scenarios);
