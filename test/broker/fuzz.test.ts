/**
 * A bounded fuzz run against a live broker process (the long run is scripts/fuzz-broker.mjs):
 * random bytes and mutated packets from many connections, in all three versions, while
 * well-behaved clients keep doing QoS 1 round trips. Afterwards the broker must still run, serve
 * a fresh client, hold no leftover sockets, and have written no stack trace or crash line.
 * The seed is printed; FUZZ_SEED=<n> repeats a run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { crashLines, fuzzBroker, RoundTripper, socketCount } from '../interop/broker-fuzz.js';

const SECONDS = 18;

test(`broker survives ${SECONDS} s of random and mutated packets and keeps serving clients`, { timeout: 50_000 }, async (t) => {
  const seed = process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  t.diagnostic(`seed ${seed} (repeat with FUZZ_SEED=${seed})`);
  // Small limits so that the limit paths are fuzzed too.
  const broker = await startBroker({ config: ['max_inflight_messages 5', 'max_queued_messages 20', 'max_packet_size 10000'] });
  try {
    const baseline = socketCount(broker.pid);
    const report = await fuzzBroker({ port: broker.port, seconds: SECONDS, seed });
    t.diagnostic(
      `${report.attacks} attack connections (${JSON.stringify(report.byKind)}), ${report.bytes} bytes, ` +
        `${report.closedByBroker} closed by the broker, ${report.roundTrips} QoS 1 round trips`,
    );
    assert.deepEqual(report.failures, [], `well-behaved clients failed (seed ${seed})`);
    assert.ok(report.attacks > 200, `enough attacks ran: ${report.attacks}`);
    assert.ok(report.roundTrips > 50, `round trips kept going: ${report.roundTrips}`);
    assert.equal(broker.process.exitCode, null, `broker exited: ${broker.stderr().slice(-2000)}`);
    assert.equal(broker.process.signalCode, null);

    // A fresh client in every version is served.
    for (const v of [3, 4, 5] as const) {
      const fresh = new RoundTripper(v, `fresh-v${v}`);
      try {
        await fresh.open(broker.port);
        await fresh.roundTrip();
      } finally {
        fresh.close();
      }
    }

    // Every attacker socket is gone on our side: the broker must have closed its side too.
    if (baseline !== undefined) {
      let now = socketCount(broker.pid)!;
      for (let i = 0; i < 50 && now > baseline; i++) {
        await new Promise((r) => setTimeout(r, 100));
        now = socketCount(broker.pid)!;
      }
      assert.ok(now <= baseline, `broker holds ${now} sockets, ${baseline} before the run (leaked connections)`);
    }

    assert.deepEqual(crashLines(broker.stderr()), [], 'no stack trace or crash line on stderr');
  } finally {
    const code = await broker.stop();
    assert.equal(code, 0, 'clean exit on SIGTERM after the run');
  }
});

// ---------------------------------------------------------------------------------------------
// Inputs where the fuzzer (differential mode: scripts/fuzz-broker.mjs --differential) found our
// broker answering differently from Mosquitto, shrunk by hand to the packet that matters. Each
// runs against the Debian broker too, so the expected bytes are Mosquitto's own. An expected
// "open" connection is proven with a PINGREQ/PINGRESP, never by waiting.

interface WireCase {
  name: string;
  /** Bytes sent at once after the TCP connect. */
  send: string;
  /** The packets expected back, in order (hex). */
  expect: string[];
  after: 'closed' | 'open';
  todo?: string;
}

const hexStr = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
const utf8Hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
const u16 = (n: number): string => n.toString(16).padStart(4, '0');
const mqttStr = (s: string): string => u16(Buffer.byteLength(s, 'utf8')) + utf8Hex(s);
const withLength = (first: string, body: string): string => first + (body.length / 2).toString(16).padStart(2, '0') + body;
/** CONNECT (clean, keepalive 60) with a client id, optionally a username and a will. */
const connectHex = (v: 3 | 4 | 5, id: string, o: { user?: string; willTopic?: string } = {}): string => {
  let flags = 0x02;
  if (o.willTopic !== undefined) flags |= 0x04;
  if (o.user !== undefined) flags |= 0x80;
  const head = (v === 3 ? mqttStr('MQIsdp') : mqttStr('MQTT')) + v.toString(16).padStart(2, '0') + flags.toString(16).padStart(2, '0') + '003c';
  let body = head + (v === 5 ? '00' : '') + mqttStr(id);
  if (o.willTopic !== undefined) body += (v === 5 ? '00' : '') + mqttStr(o.willTopic) + mqttStr('hi');
  if (o.user !== undefined) body += mqttStr(o.user);
  return withLength('10', body);
};
const CONNACK: Record<3 | 4 | 5, string> = { 3: '20020000', 4: '20020000', 5: '200900000622000a210014' };

const wireCases: WireCase[] = [
  {
    name: 'a first byte that is not CONNECT closes at once, before the rest of a huge packet arrives [MQTT-3.1.0-1]',
    send: '30ffffff7f',
    expect: [],
    after: 'closed',
  },
  { name: 'an incomplete PINGREQ as first packet closes at once', send: 'c005', expect: [], after: 'closed' },
  { name: 'v3.1.1 client id with U+000B: closed without CONNACK', send: connectHex(4, 'fz\x0bid'), expect: [], after: 'closed' },
  { name: 'v5 client id with U+000B: closed without CONNACK', send: connectHex(5, 'fz\x0bid'), expect: [], after: 'closed' },
  { name: 'v3.1.1 client id with U+007F: closed without CONNACK', send: connectHex(4, 'fz\x7fid'), expect: [], after: 'closed' },
  { name: 'v3.1.1 client id with U+0085: closed without CONNACK', send: connectHex(4, 'fz\u0085id'), expect: [], after: 'closed' },
  { name: 'v3.1.1 username with U+000B: closed without CONNACK', send: connectHex(4, 'fz-user', { user: 'u\x0bser' }), expect: [], after: 'closed' },
  { name: 'v3.1.1 will topic with U+000B: closed without CONNACK', send: connectHex(4, 'fz-will', { willTopic: 'w\x0bt' }), expect: [], after: 'closed' },
  {
    name: 'v3.1.1 PUBLISH topic with U+000B: closed',
    send: connectHex(4, 'fz-pub4') + withLength('30', mqttStr('a\x0bb') + hexStr('x')),
    expect: [CONNACK[4]],
    after: 'closed',
  },
  {
    name: 'v5 PUBLISH topic with U+000B: DISCONNECT 0x81 malformed packet',
    send: connectHex(5, 'fz-pub5') + withLength('30', mqttStr('a\x0bb') + '00' + hexStr('x')),
    expect: [CONNACK[5], 'e00181'],
    after: 'closed',
  },
  {
    name: 'v3.1.1 SUBSCRIBE filter with U+000B: closed, no SUBACK',
    send: connectHex(4, 'fz-sub4') + withLength('82', '0001' + mqttStr('a\x0bb') + '00'),
    expect: [CONNACK[4]],
    after: 'closed',
  },
  {
    name: 'v5 remaining length of five bytes: closed without a DISCONNECT (a framing error, not a packet error)',
    send: connectHex(5, 'fz-len5') + 'a2ffffffff7f',
    expect: [CONNACK[5]],
    after: 'closed',
  },
  {
    name: 'v3.1 SUBSCRIBE without any filter is answered with an empty SUBACK (3.1 has no such rule)',
    send: connectHex(3, 'fz-s31') + '8202e8ce',
    expect: [CONNACK[3], '9002e8ce'],
    after: 'open',
  },
  {
    name: 'v3.1 UNSUBSCRIBE without any filter is answered with UNSUBACK (3.1 has no such rule)',
    send: connectHex(3, 'fz-u31') + 'a202fdd4',
    expect: [CONNACK[3], 'b002fdd4'],
    after: 'open',
  },
  // Controls: the same shapes that both brokers already handle alike.
  { name: 'control: a second CONNECT closes the connection without DISCONNECT', send: connectHex(5, 'fz-c2') + connectHex(5, 'fz-c2'), expect: [CONNACK[5]], after: 'closed' },
  { name: 'control: v3.1.1 remaining length of five bytes closes', send: connectHex(4, 'fz-len4') + 'a2ffffffff7f', expect: [CONNACK[4]], after: 'closed' },
  { name: 'control: v3.1 PUBREC with flags 3 is answered with PUBREL', send: connectHex(3, 'fz-prec') + '53020004', expect: [CONNACK[3], '62020004'], after: 'open' },
];

const oracleTargets = [{ name: 'skeeter', oracle: false }, ...(hasDebianMosquitto() ? [{ name: 'debian mosquitto 2.0.11 (oracle)', oracle: true }] : [])];
for (const target of oracleTargets) {
  describe(`inputs found by fuzzing [${target.name}]`, () => {
    let broker: RunningBroker;
    before(async () => {
      broker = await startBroker({ oracle: target.oracle });
    });
    after(async () => {
      await broker.stop();
    });
    for (const c of wireCases) {
      test(c.name, { timeout: 15_000, ...(c.todo && !target.oracle ? { todo: c.todo } : {}) }, async () => {
        const client = await RawClient.open(broker.port);
        try {
          client.send(Buffer.from(c.send, 'hex'));
          for (const want of c.expect) {
            const got = await client.next(3000);
            assert.equal(got === null ? 'CLOSED' : got.toString('hex'), want, `after sending ${c.send}`);
          }
          if (c.after === 'closed') {
            // Bounded: Mosquitto closes within a millisecond or two here.
            const got = await client.next(2000).catch((e: Error) => e.message);
            assert.equal(got === null ? 'CLOSED' : typeof got === 'string' ? got : got.toString('hex'), 'CLOSED', `after sending ${c.send}`);
          } else {
            client.send(Buffer.from('c000', 'hex'));
            const got = await client.next(3000);
            assert.equal(got === null ? 'CLOSED' : got.toString('hex'), 'd000', 'still connected: PINGRESP');
          }
        } finally {
          client.close();
        }
      });
    }
  });
}
