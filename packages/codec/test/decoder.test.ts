/**
 * The incremental Decoder: it keeps only the incomplete tail of a chunk, hands out payloads as
 * views into the chunk when a packet is whole inside it, copies a packet that spans chunks into
 * memory of its own, and (server side) learns the protocol version from CONNECT.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketType } from '../src/constants.js';
import { Decoder } from '../src/index.js';
import type { Packet, PublishPacket } from '../src/types.js';
import { ascii, hex } from './hex.js';

function collector(): { packets: Packet[]; onPacket: (p: Packet) => void } {
  const packets: Packet[] = [];
  return { packets, onPacket: (p) => packets.push(p) };
}

const asPublish = (p: Packet | undefined): PublishPacket => {
  assert.equal(p?.type, PacketType.Publish);
  return p as PublishPacket;
};

/** PUBLISH QoS 0 on 3.1.1: topic "t", the given payload (under 125 bytes). */
const publish4 = (payload: string): Buffer =>
  hex('30', (3 + payload.length).toString(16).padStart(2, '0'), '0001', ascii('t'), ascii(payload));

describe('Decoder: buffering', () => {
  it('keeps exactly the incomplete tail of a chunk, and nothing once it completes', () => {
    const a = publish4('one');
    const b = publish4('two');
    const { packets, onPacket } = collector();
    const decoder = new Decoder();
    assert.equal(decoder.bufferedBytes, 0);
    decoder.push(Buffer.concat([a, b.subarray(0, 3)]), onPacket);
    assert.equal(packets.length, 1);
    assert.equal(decoder.bufferedBytes, 3);
    decoder.push(b.subarray(3), onPacket);
    assert.equal(packets.length, 2);
    assert.equal(decoder.bufferedBytes, 0);
    assert.deepEqual(packets.map((p) => Buffer.from(asPublish(p).payload).toString()), ['one', 'two']);
  });

  it('keeps a lone first byte, then a partial remaining length, byte for byte', () => {
    // PUBLISH with a 2-byte remaining length of 203 (topic "t", 200-byte payload).
    const bytes = hex('30', 'cb01', '0001', ascii('t'), '61'.repeat(200));
    const { packets, onPacket } = collector();
    const decoder = new Decoder();
    decoder.push(bytes.subarray(0, 1), onPacket);
    assert.equal(decoder.bufferedBytes, 1);
    decoder.push(bytes.subarray(1, 2), onPacket);
    assert.equal(decoder.bufferedBytes, 2);
    decoder.push(bytes.subarray(2, 3), onPacket);
    assert.equal(decoder.bufferedBytes, 3);
    decoder.push(bytes.subarray(3, 100), onPacket);
    assert.equal(decoder.bufferedBytes, 100);
    assert.equal(packets.length, 0);
    decoder.push(bytes.subarray(100), onPacket);
    assert.equal(decoder.bufferedBytes, 0);
    assert.equal(asPublish(packets[0]).payload.length, 200);
  });

  it('buffers nothing when chunks end on packet boundaries', () => {
    const { packets, onPacket } = collector();
    const decoder = new Decoder();
    decoder.push(Buffer.concat([publish4('a'), hex('c0', '00'), publish4('b')]), onPacket);
    assert.equal(decoder.bufferedBytes, 0);
    decoder.push(hex('d0', '00'), onPacket);
    assert.equal(decoder.bufferedBytes, 0);
    assert.deepEqual(packets.map((p) => p.type), [PacketType.Publish, PacketType.Pingreq, PacketType.Publish, PacketType.Pingresp]);
  });

  it('ignores empty chunks', () => {
    const { packets, onPacket } = collector();
    const decoder = new Decoder();
    decoder.push(Buffer.alloc(0), onPacket);
    decoder.push(hex('c0'), onPacket);
    decoder.push(Buffer.alloc(0), onPacket);
    assert.equal(decoder.bufferedBytes, 1);
    decoder.push(hex('00'), onPacket);
    assert.deepEqual(packets, [{ type: PacketType.Pingreq }]);
  });

  it('reassembles a 100 KB payload from 1 KB chunks, holding only what has arrived', () => {
    const payload = Buffer.alloc(100 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    // Remaining length 3 + 102400 = 102403 = 0x03 + 0x20 * 128 + 0x06 * 16384 -> 83 a0 06.
    const bytes = Buffer.concat([hex('30', '83a006', '0001', ascii('t')), payload]);
    const { packets, onPacket } = collector();
    const decoder = new Decoder();
    let fed = 0;
    for (let pos = 0; pos < bytes.length; pos += 1024) {
      const chunk = bytes.subarray(pos, Math.min(pos + 1024, bytes.length));
      decoder.push(chunk, onPacket);
      fed += chunk.length;
      if (fed < bytes.length) assert.equal(decoder.bufferedBytes, fed);
    }
    assert.equal(decoder.bufferedBytes, 0);
    assert.equal(packets.length, 1);
    assert.ok(Buffer.from(asPublish(packets[0]).payload).equals(payload));
  });
});

describe('Decoder: payloads are views when the packet is whole inside a chunk', () => {
  it('a PUBLISH payload shares memory with the chunk (no copy)', () => {
    const chunk = Buffer.concat([hex('c0', '00'), publish4('hello'), hex('c0', '00')]);
    const { packets, onPacket } = collector();
    new Decoder().push(chunk, onPacket);
    const p = asPublish(packets[1]);
    assert.equal(Buffer.from(p.payload).toString(), 'hello');
    assert.equal(p.payload.buffer, chunk.buffer);
    assert.equal(p.payload.byteOffset, chunk.byteOffset + 2 + 2 + 3);
    chunk[2 + 2 + 3] = 0x4a; // "h" -> "J" in the chunk shows through the view
    assert.equal(Buffer.from(p.payload).toString(), 'Jello');
  });

  it('is a view into a plain Uint8Array chunk too', () => {
    const bytes = publish4('abc');
    const chunk = new Uint8Array(bytes.length);
    chunk.set(bytes);
    const { packets, onPacket } = collector();
    new Decoder().push(chunk, onPacket);
    const p = asPublish(packets[0]);
    assert.equal(p.payload.buffer, chunk.buffer);
    assert.ok(Buffer.isBuffer(p.payload));
  });

  it('v5 binary properties are views as well', () => {
    // PUBLISH v5: topic "t", correlation data 01 02 03 04, payload "x".
    const chunk = hex('30', '0c', '0001', ascii('t'), '07', '09', '0004', '01020304', ascii('x'));
    const { packets, onPacket } = collector();
    new Decoder({ protocolVersion: 5 }).push(chunk, onPacket);
    const p = asPublish(packets[0]);
    assert.deepEqual([...(p.properties?.correlationData ?? [])], [1, 2, 3, 4]);
    assert.equal(p.properties?.correlationData?.buffer, chunk.buffer);
    // header 2, topic 3, property length 1, identifier 1, data length 2
    assert.equal(p.properties?.correlationData?.byteOffset, chunk.byteOffset + 9);
  });

  it('a packet spanning chunks gets memory of its own, untouched by later pushes or by reuse of the chunks', () => {
    const a = publish4('first-payload');
    const b = publish4('second-payload');
    const { packets, onPacket } = collector();
    const decoder = new Decoder();
    // The caller reuses one read buffer for every chunk, as a socket reader might.
    const readBuffer = Buffer.alloc(64);
    const feed = (bytes: Buffer): void => {
      bytes.copy(readBuffer);
      decoder.push(readBuffer.subarray(0, bytes.length), onPacket);
    };
    feed(a.subarray(0, 9));
    feed(Buffer.concat([a.subarray(9), b.subarray(0, 5)]));
    const first = asPublish(packets[0]);
    assert.equal(Buffer.from(first.payload).toString(), 'first-payload');
    feed(b.subarray(5));
    readBuffer.fill(0x58);
    assert.equal(Buffer.from(first.payload).toString(), 'first-payload');
    assert.equal(Buffer.from(asPublish(packets[1]).payload).toString(), 'second-payload');
  });
});

describe('Decoder: protocol version', () => {
  const connect5 = hex('10', '0e', '0004', ascii('MQTT'), '05', '02', '003c', '00', '0001', ascii('c'));
  const connect4 = hex('10', '0d', '0004', ascii('MQTT'), '04', '02', '003c', '0001', ascii('c'));
  const connect3 = hex('10', '0f', '0006', ascii('MQIsdp'), '03', '02', '003c', '0001', ascii('c'));
  // On 5.0: topic "t", property length 0, payload "x". On 3.1.1 the same bytes are payload "\0x".
  const publishBytes = hex('30', '05', '0001', ascii('t'), '00', ascii('x'));

  it('defaults to 3.1.1', () => {
    const decoder = new Decoder();
    assert.equal(decoder.protocolVersion, 4);
    const { packets, onPacket } = collector();
    decoder.push(publishBytes, onPacket);
    assert.deepEqual([...asPublish(packets[0]).payload], [0x00, 0x78]);
    assert.equal('properties' in packets[0]!, false);
  });

  it('a server-role decoder learns 5.0 from CONNECT and reads what follows as 5.0', () => {
    const decoder = new Decoder({ role: 'server' });
    const { packets, onPacket } = collector();
    decoder.push(connect5, onPacket);
    assert.equal(decoder.protocolVersion, 5);
    decoder.push(publishBytes, onPacket);
    const p = asPublish(packets[1]);
    assert.equal(Buffer.from(p.payload).toString(), 'x');
    assert.deepEqual(p.properties, {});
  });

  it('a server-role decoder learns 3.1 and 3.1.1 too, whatever it started with', () => {
    for (const [connect, version] of [[connect3, 3], [connect4, 4]] as const) {
      const decoder = new Decoder({ role: 'server', protocolVersion: 5 });
      decoder.push(connect, () => {});
      assert.equal(decoder.protocolVersion, version);
    }
  });

  it('learns from a CONNECT split across chunks and applies it to a packet in the same chunk', () => {
    const decoder = new Decoder({ role: 'server' });
    const { packets, onPacket } = collector();
    const stream = Buffer.concat([connect5, publishBytes]);
    decoder.push(stream.subarray(0, 7), onPacket);
    decoder.push(stream.subarray(7), onPacket);
    assert.equal(decoder.protocolVersion, 5);
    assert.equal(Buffer.from(asPublish(packets[1]).payload).toString(), 'x');
  });

  it('a client-role decoder is told the version', () => {
    const decoder = new Decoder({ role: 'client', protocolVersion: 4 });
    const { packets, onPacket } = collector();
    decoder.push(hex('20', '02', '00', '00'), onPacket);
    decoder.protocolVersion = 5;
    decoder.push(hex('20', '03', '00', '00', '00'), onPacket);
    decoder.push(publishBytes, onPacket);
    assert.deepEqual(packets[0], { type: PacketType.Connack, sessionPresent: false, reasonCode: 0 });
    assert.deepEqual(packets[1], { type: PacketType.Connack, sessionPresent: false, reasonCode: 0, properties: {} });
    assert.equal(Buffer.from(asPublish(packets[2]).payload).toString(), 'x');
  });
});

describe('Decoder: maxTopicSlashes (a broker limit, Mosquitto: 200)', () => {
  const publish = (topic: string): Buffer => {
    const t = Buffer.from(topic);
    const body = Buffer.concat([Buffer.from([t.length >> 8, t.length & 0xff]), t, Buffer.from('x')]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  };
  const subscribe = (filter: string): Buffer => {
    const t = Buffer.from(filter);
    const body = Buffer.concat([Buffer.from([0x00, 0x01, t.length >> 8, t.length & 0xff]), t, Buffer.from([0])]);
    return Buffer.concat([Buffer.from([0x82, body.length]), body]);
  };
  const decode = (bytes: Buffer, limit: number): Packet[] => {
    const d = new Decoder({ role: 'server', maxTopicSlashes: limit });
    const out: Packet[] = [];
    d.push(bytes, (p) => out.push(p));
    return out;
  };

  it('accepts a topic with exactly the limit and refuses one more (ASCII and non-ASCII topics)', () => {
    assert.equal(decode(publish('a/'.repeat(3) + 'b'), 3).length, 1);
    assert.throws(() => decode(publish('a/'.repeat(4) + 'b'), 3), { code: 'ERR_INVALID_TOPIC_NAME' });
    assert.equal(decode(publish('é/'.repeat(3) + 'b'), 3).length, 1);
    assert.throws(() => decode(publish('é/'.repeat(4) + 'b'), 3), { code: 'ERR_INVALID_TOPIC_NAME' });
  });

  it('applies to SUBSCRIBE filters too, and 0 means no limit', () => {
    assert.throws(() => decode(subscribe('+/'.repeat(4) + '#'), 3), { code: 'ERR_INVALID_TOPIC_FILTER' });
    assert.equal(decode(subscribe('+/'.repeat(4) + '#'), 0).length, 1);
    assert.equal(decode(publish('/'.repeat(100)), 0).length, 1);
  });
});
