/**
 * How the broker ends a connection on a bad packet, as Mosquitto 2.0.20 does it: which MQTT 5
 * DISCONNECT reason code it sends (0x81 malformed, 0x82 protocol error) or whether it closes
 * without one. Debian's 2.0.11 closed silently in most of these cases, so those scenarios do
 * not run against it (2.0.20 is the behaviour we follow; it was checked with 2.0.20's own
 * msg_sequence_test, see scripts/conformance).
 */
import { m, runScenarios, type Scenario } from './harness.js';

const V20 = 'Mosquitto 2.0.11 closes without a DISCONNECT here; 2.0.20 sends one';
const PROTOCOL = 'e00182';
const MALFORMED = 'e00181';

/** A v5 client's bad packet gets `expected` (a DISCONNECT, or nothing) and the connection closes. */
function refused(name: string, bytes: string | Buffer, expected: string | null, debian = V20): Scenario {
  return {
    name,
    versions: [5],
    debian,
    async run(ctx) {
      const c = await ctx.connected(5, { clientId: `pe-${Math.random().toString(36).slice(2, 8)}` });
      c.send(typeof bytes === 'string' ? Buffer.from(bytes.replace(/ /g, ''), 'hex') : bytes);
      if (expected !== null) await ctx.expect(c, expected);
      await ctx.expectClosed(c);
    },
  };
}

const sixteenDeep = (n: number): string => 'a/'.repeat(n) + 'z';

const scenarios: Scenario[] = [
  // Packets only a server sends: a protocol error, whatever their flags or length.
  refused('v5 CONNACK from a client: DISCONNECT 0x82', '20 02 00 00', PROTOCOL),
  refused('v5 CONNACK with reserved flags from a client: still 0x82 (direction first)', '21 02 00 00', PROTOCOL),
  refused('v5 SUBACK from a client: DISCONNECT 0x82', '90 04 00 01 00 00', PROTOCOL),
  refused('v5 SUBACK with reserved flags from a client: 0x81 (fixed header first)', '91 04 00 01 00 00', MALFORMED),
  refused('v5 UNSUBACK from a client: DISCONNECT 0x82', 'b0 04 00 01 00 00', PROTOCOL),
  refused('v5 PINGRESP from a client: DISCONNECT 0x82', 'd0 00', PROTOCOL),
  refused('v5 PINGREQ with a body: closed without a DISCONNECT (a framing error)', 'c0 01 00', null, 'Mosquitto 2.0.11 sends DISCONNECT 0x81 here'),
  refused('v5 PINGRESP with a body: closed without a DISCONNECT (a framing error)', 'd0 01 00', null, 'Mosquitto 2.0.11 leaves the connection open here'),
  // Properties that are readable but not allowed: 0x82; unreadable: 0x81.
  refused('v5 PUBACK with a Topic Alias property: 0x82', '40 07 00 01 00 03 23 00 01', PROTOCOL),
  refused('v5 PUBLISH with a Session Expiry Interval: 0x82', '30 0b 00 01 74 05 11 00 00 00 01 70 6c', PROTOCOL),
  refused('v5 PUBLISH with two Payload Format Indicators: 0x82', '30 0a 00 01 74 04 01 01 01 01 70 6c', PROTOCOL),
  refused('v5 PUBLISH with Payload Format Indicator 2: 0x82', '30 08 00 01 74 02 01 02 70 6c', PROTOCOL),
  refused(
    'v5 PUBLISH with a refused property before a truncated one: 0x81 (all properties are read first)',
    '30 0b 00 01 74 07 11 00 00 00 01 02 00',
    MALFORMED,
    'same',
  ),
  refused('v5 DISCONNECT with two Reason Strings: 0x82', 'e0 0a 00 08 1f 00 01 61 1f 00 01 62', PROTOCOL),
  refused('v5 SUBSCRIBE with a refused property: 0x81 (SUBSCRIBE turns it into a malformed packet)', '82 09 00 01 02 2a 00 00 01 70 00', MALFORMED, 'same'),
  refused('v5 SUBSCRIBE with two Subscription Identifiers: 0x82', '82 0b 00 01 04 0b 01 0b 01 00 01 70 00', PROTOCOL),
  refused('v5 SUBSCRIBE to "$share/g" (no filter after the group): 0x82', '82 0e 00 01 00 00 08 24 73 68 61 72 65 2f 67 00', PROTOCOL),
  refused('v5 AUTH without extended authentication: 0x82 even with bad flags', 'f1 00', PROTOCOL),
  refused('v5 AUTH without extended authentication: 0x82', 'f0 02 18 00', PROTOCOL),
  refused('v5 PUBACK with packet id 0: 0x82', '40 02 00 00', PROTOCOL),
  // PUBLISH topics: a wildcard, or empty without an alias, is malformed to Mosquitto.
  refused('v5 PUBLISH topic with a wildcard: 0x81', '30 06 00 02 61 2b 00 70', MALFORMED),
  refused('v5 PUBLISH with an empty topic and no alias: 0x81', '30 04 00 00 00 70', MALFORMED),
  refused(`v5 PUBLISH topic of more than 200 levels: 0x81`, m.publish(5, sixteenDeep(201), 'x', { qos: 1, mid: 7 }), MALFORMED),
  refused(`v5 SUBSCRIBE filter of more than 200 levels: 0x81`, m.subscribe(5, 3, [[sixteenDeep(201), 0]]), MALFORMED),
  {
    name: 'topics and filters of exactly 200 levels are fine',
    versions: [4, 5],
    async run(ctx, v) {
      const c = await ctx.connected(v, { clientId: `deep200-${v}` });
      const t = sixteenDeep(200);
      c.send(m.subscribe(v, 3, [[t, 1]]));
      await ctx.expect(c, m.suback(v, 3, [1]));
      c.send(m.publish(v, t, 'x', { qos: 1, mid: 4 }));
      const first = await c.next();
      const second = await c.next();
      const got = [first!.toString('hex'), second!.toString('hex')].sort();
      const want = [m.publish(v, t, 'x', { qos: 1, mid: 1 }).toString('hex'), m.puback(v, 4).toString('hex')].sort();
      if (got.join() !== want.join()) throw new Error(`got ${got.join(', ')}`);
    },
  },
  {
    name: 'v3.1.1 PUBLISH topic of more than 200 levels: closed',
    versions: [4],
    async run(ctx) {
      const c = await ctx.connected(4, { clientId: 'deep201-4' });
      c.send(m.publish(4, sixteenDeep(201), 'x', { qos: 1, mid: 7 }));
      await ctx.expectClosed(c);
    },
  },
  // A client's DISCONNECT is taken at its word whatever its reason code.
  {
    name: 'v5 DISCONNECT with a reason code DISCONNECT may not carry: closed normally, will discarded',
    versions: [5],
    debian: 'same',
    async run(ctx) {
      const w = await ctx.connected(5, { clientId: 'dis-w' });
      w.send(m.subscribe(5, 1, [['dis/will', 0]]));
      await ctx.expect(w, m.suback(5, 1, [0]));
      const c = await ctx.connected(5, { clientId: 'dis-c', will: { topic: 'dis/will', payload: 'gone' } });
      c.send(m.disconnect(5, 0x01));
      await ctx.expectClosed(c);
      await ctx.expectSilence(w);
    },
  },
  // Acknowledgements that belong to the other QoS flow.
  ...([
    ['PUBREC for a QoS 1 message', 1, (v: 4 | 5) => m.pubrec(v, 1)],
    ['PUBCOMP for a QoS 1 message', 1, (v: 4 | 5) => m.pubcomp(v, 1)],
    ['PUBACK for a QoS 2 message', 2, (v: 4 | 5) => m.puback(v, 1)],
    ['PUBCOMP for a QoS 2 message before PUBREC', 2, (v: 4 | 5) => m.pubcomp(v, 1)],
  ] as const).map(
    ([what, qos, ack]): Scenario => ({
      name: `${what} is a protocol error`,
      versions: [4, 5],
      debian: V20,
      async run(ctx, v) {
        const id = `flow-${qos}-${what.length}-${v}`;
        const sub = await ctx.connected(v, { clientId: id });
        sub.send(m.subscribe(v, 1, [[`flow/${id}`, qos]]));
        await ctx.expect(sub, m.suback(v, 1, [qos]));
        const pub = await ctx.connected(v, { clientId: `${id}-p` });
        pub.send(m.publish(v, `flow/${id}`, 'm', { qos, mid: 9 }));
        if (qos === 2) {
          // A QoS 2 message is passed on at PUBREL.
          await ctx.expect(pub, m.pubrec(v, 9));
          pub.send(m.pubrel(v, 9));
        }
        await ctx.expect(sub, m.publish(v, `flow/${id}`, 'm', { qos, mid: 1 }));
        sub.send(ack(v as 4 | 5));
        if (v === 5) await ctx.expect(sub, PROTOCOL);
        await ctx.expectClosed(sub);
      },
    }),
  ),
  {
    name: 'an unknown packet id in PUBACK is ignored',
    versions: [4, 5],
    async run(ctx, v) {
      const c = await ctx.connected(v, { clientId: `unk-ack-${v}` });
      c.send(m.puback(v, 77));
      c.send(m.pingreq());
      await ctx.expect(c, m.pingresp());
    },
  },
  // QoS 2 retransmission: one resend before PUBREL is answered, a second is a protocol error.
  {
    name: 'a QoS 2 PUBLISH sent a third time before PUBREL is a protocol error',
    versions: [4, 5],
    debian: V20,
    async run(ctx, v) {
      const c = await ctx.connected(v, { clientId: `q2dup-${v}` });
      const p = m.publish(v, 'q2dup', 'm', { qos: 2, mid: 1, dup: true });
      c.send(p);
      await ctx.expect(c, m.pubrec(v, 1));
      c.send(p);
      await ctx.expect(c, m.pubrec(v, 1));
      c.send(p);
      if (v === 5) await ctx.expect(c, PROTOCOL);
      await ctx.expectClosed(c);
    },
  },
  {
    name: 'a QoS 2 PUBLISH may be resent once more after each reconnect',
    versions: [5],
    async run(ctx) {
      const p = m.publish(5, 'q2re', 'm', { qos: 2, mid: 1, dup: true });
      for (let i = 0; i < 3; i++) {
        const c = await ctx.connected(5, { clientId: 'q2re', clean: false, props: m.props(m.propU32(0x11, 60)) }, i > 0);
        // The first connection sends it and resends it; each later one resends it once.
        for (let n = i === 0 ? 2 : 1; n > 0; n--) {
          c.send(p);
          await ctx.expect(c, m.pubrec(5, 1));
        }
        c.close();
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  },
  // CONNACK properties in 2.0.20's order, and a CONNACK the client cannot take.
  {
    name: 'v5 CONNACK: Server Keep Alive comes before Topic Alias Maximum and Receive Maximum',
    versions: [5],
    config: ['max_keepalive 60'],
    debian: 'Mosquitto 2.0.11 puts Server Keep Alive after Topic Alias Maximum',
    async run(ctx) {
      const c = await ctx.open();
      c.send(m.connect(5, { clientId: 'ska', keepalive: 120 }));
      await ctx.expect(c, '200c0000091300 3c22000a210014'.replace(/ /g, ''));
    },
  },
  {
    name: 'v5 CONNECT with a Maximum Packet Size smaller than the CONNACK: closed without one',
    versions: [5],
    async run(ctx) {
      const c = await ctx.open();
      c.send(m.connect(5, { clientId: 'tiny', props: m.props(m.propU32(0x27, 2)) }));
      await ctx.expectClosed(c);
    },
  },
  {
    name: 'v3.1 CONNECT with fixed header flags set is accepted (3.1 did not fix them)',
    versions: [3],
    async run(ctx) {
      const c = await ctx.open();
      const b = m.connect(3, { clientId: 'c31flags' });
      b[0] = 0x14;
      c.send(b);
      await ctx.expect(c, '20020000');
    },
  },
];

runScenarios('protocol errors (Mosquitto 2.0.20)', scenarios);
