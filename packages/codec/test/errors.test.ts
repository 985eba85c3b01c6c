/**
 * Error fixtures: each validation rule rejects its bytes with the exact error code and MQTT 5
 * reason code, from decodePacket and from a Decoder (whole, byte by byte, or from the header
 * alone when the header already shows the error), emits no packet, and leaves the Decoder failed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketType } from '../src/constants.js';
import { ErrorCode, MqttProtocolError } from '../src/errors.js';
import { Decoder, decodePacket, encodePacket } from '../src/index.js';
import type { Packet } from '../src/types.js';
import { errorFixtures, type ErrorFixture } from './fixtures/index.js';
import { hex } from './hex.js';

interface Expected {
  code: string;
  reasonCode: number;
  protocolVersion?: number;
}

/** Runs fn, which must throw an MqttProtocolError matching `expected`; returns the error. */
function expectProtocolError(fn: () => unknown, expected: Expected, context = ''): MqttProtocolError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `${context}: did not throw`);
  assert.ok(caught instanceof MqttProtocolError, `${context}: threw ${String(caught)}, not an MqttProtocolError`);
  const actual: Expected = { code: caught.code, reasonCode: caught.reasonCode };
  const wanted: Expected = { code: expected.code, reasonCode: expected.reasonCode };
  if (expected.protocolVersion !== undefined) {
    actual.protocolVersion = caught.protocolVersion;
    wanted.protocolVersion = expected.protocolVersion;
  }
  assert.deepStrictEqual(actual, wanted, `${context}: ${caught.message}`);
  return caught;
}

const decoderFor = (f: ErrorFixture): Decoder =>
  new Decoder({ protocolVersion: f.version, role: f.role ?? 'any', maxPacketSize: f.maxPacketSize });

const PINGREQ = hex('c0', '00');

describe('error fixtures: coverage', () => {
  it('has a fixture for every decoding error code', () => {
    const decodingCodes = Object.values(ErrorCode).filter((c) => c !== ErrorCode.InvalidPacket);
    const covered = new Set(errorFixtures.map((f) => f.code));
    assert.deepEqual(decodingCodes.filter((c) => !covered.has(c)), []);
  });

  it('fixture names are unique', () => {
    const names = errorFixtures.map((f) => f.name);
    assert.equal(new Set(names).size, names.length);
  });
});

for (const f of errorFixtures) {
  describe(`error: ${f.name}`, () => {
    it('decodePacket throws the expected error', () => {
      const options = { protocolVersion: f.version, role: f.role ?? 'any', maxPacketSize: f.maxPacketSize };
      expectProtocolError(() => decodePacket(f.bytes, options), f, 'decodePacket');
    });

    it('a Decoder fed one chunk throws it and emits nothing', () => {
      const decoder = decoderFor(f);
      const packets: Packet[] = [];
      expectProtocolError(() => decoder.push(f.bytes, (p) => packets.push(p)), f, 'one chunk');
      assert.deepEqual(packets, []);
    });

    it('a Decoder fed byte by byte throws at the first byte that shows the error', () => {
      const decoder = decoderFor(f);
      const packets: Packet[] = [];
      // A body is only decoded once complete; a header error shows as soon as the header does.
      const at = (f.headerOnly ?? f.bytes.length) - 1;
      for (let i = 0; i < at; i++) decoder.push(f.bytes.subarray(i, i + 1), (p) => packets.push(p));
      expectProtocolError(() => decoder.push(f.bytes.subarray(at, at + 1), (p) => packets.push(p)), f, `byte ${at}`);
      assert.deepEqual(packets, []);
    });

    it('the Decoder stays failed afterwards, even for a valid packet', () => {
      const decoder = decoderFor(f);
      const packets: Packet[] = [];
      assert.throws(() => decoder.push(f.bytes, (p) => packets.push(p)), MqttProtocolError);
      expectProtocolError(() => decoder.push(PINGREQ, (p) => packets.push(p)), f, 'after failure');
      expectProtocolError(() => decoder.push(PINGREQ, (p) => packets.push(p)), f, 'after failure, again');
      assert.deepEqual(packets, []);
    });
  });
}

describe('errors: limits seen from the header alone', () => {
  it('rejects a remaining length over maxPacketSize before the body arrives', () => {
    const decoder = new Decoder({ maxPacketSize: 1024 });
    const packets: Packet[] = [];
    // PUBLISH with remaining length 2,097,152 (4-byte varint 80 80 80 01): only its header is sent.
    expectProtocolError(() => decoder.push(hex('30', '80808001'), (p) => packets.push(p)), { code: ErrorCode.PacketTooLarge, reasonCode: 0x95 });
    assert.deepEqual(packets, []);
    assert.equal(decoder.bufferedBytes, 0);
  });

  it('accepts a packet of exactly maxPacketSize bytes and rejects one byte more', () => {
    const ten = hex('30', '08', '0001', '74', '6162636465'); // PUBLISH "t" "abcde": 10 bytes
    const packets: Packet[] = [];
    new Decoder({ maxPacketSize: 10 }).push(ten, (p) => packets.push(p));
    assert.equal(packets.length, 1);
    assert.equal(decodePacket(ten, { maxPacketSize: 10 }).type, PacketType.Publish);
    expectProtocolError(() => decodePacket(ten, { maxPacketSize: 9 }), { code: ErrorCode.PacketTooLarge, reasonCode: 0x95 });
  });

  it('rejects the fifth remaining-length byte without waiting for more', () => {
    const decoder = new Decoder();
    const packets: Packet[] = [];
    decoder.push(hex('30', 'ff', 'ff'), (p) => packets.push(p));
    decoder.push(hex('ff'), (p) => packets.push(p));
    expectProtocolError(() => decoder.push(hex('ff'), (p) => packets.push(p)), { code: ErrorCode.BadVarint, reasonCode: 0x81 });
    assert.deepEqual(packets, []);
  });
});

describe('errors: decodePacket needs exactly one whole packet', () => {
  it('rejects empty input', () => {
    expectProtocolError(() => decodePacket(Buffer.alloc(0)), { code: ErrorCode.Truncated, reasonCode: 0x81 });
  });

  it('rejects a packet shorter than its remaining length', () => {
    expectProtocolError(() => decodePacket(hex('30', '05', '0001', '74')), { code: ErrorCode.Truncated, reasonCode: 0x81 });
  });

  it('rejects a lone fixed-header byte', () => {
    expectProtocolError(() => decodePacket(hex('30')), { code: ErrorCode.Truncated, reasonCode: 0x81 });
  });

  it('rejects bytes after the packet', () => {
    expectProtocolError(() => decodePacket(hex('c0', '00', 'c0', '00')), { code: ErrorCode.TrailingBytes, reasonCode: 0x81 });
  });
});

describe('errors: a Decoder emits the good packets before the bad one, then stays failed', () => {
  it('emits packets before the error in the same chunk and none after', () => {
    const decoder = new Decoder({ protocolVersion: 4 });
    const packets: Packet[] = [];
    const stream = hex(
      'c0', '00', // PINGREQ
      '30', '03', '0001', '74', // PUBLISH "t", empty payload
      '40', '02', '0000', // PUBACK with packet id 0: the error
      'd0', '00', // PINGRESP, never reached
    );
    expectProtocolError(() => decoder.push(stream, (p) => packets.push(p)), { code: ErrorCode.ZeroPacketId, reasonCode: 0x82 });
    assert.deepEqual(packets.map((p) => p.type), [PacketType.Pingreq, PacketType.Publish]);
    expectProtocolError(() => decoder.push(hex('d0', '00'), (p) => packets.push(p)), { code: ErrorCode.ZeroPacketId, reasonCode: 0x82 });
    assert.equal(packets.length, 2);
    assert.equal(decoder.bufferedBytes, 0);
  });

  it('a failed decoder rethrows on an empty push too', () => {
    const decoder = new Decoder();
    assert.throws(() => decoder.push(hex('00', '00'), () => assert.fail('no packet')), MqttProtocolError);
    expectProtocolError(() => decoder.push(Buffer.alloc(0), () => assert.fail('no packet')), { code: ErrorCode.ReservedPacketType, reasonCode: 0x81 });
  });
});

describe('errors: the encoder refuses packets it cannot put on the wire', () => {
  const publish = { type: PacketType.Publish, topic: 't', payload: Buffer.alloc(0), retain: false, dup: false } as const;
  const cases: Array<[string, Packet, 3 | 4 | 5]> = [
    ['PUBLISH QoS 3', { ...publish, qos: 3 as 0, packetId: 1 }, 4],
    ['PUBLISH QoS 1 with packet id 0', { ...publish, qos: 1, packetId: 0 }, 4],
    ['PUBLISH with a topic over 65535 bytes', { ...publish, topic: 'x'.repeat(65536), qos: 0, packetId: 0 }, 4],
    ['SUBSCRIBE with no subscriptions', { type: PacketType.Subscribe, packetId: 1, subscriptions: [] }, 4],
    ['AUTH on 3.1.1', { type: PacketType.Auth, reasonCode: 0 }, 4],
    ['subscription identifier over 268435455', { ...publish, qos: 0, packetId: 0, properties: { subscriptionIdentifiers: [268435456] } }, 5],
  ];
  for (const [name, packet, version] of cases) {
    it(`rejects ${name}`, () => {
      expectProtocolError(() => encodePacket(packet, version), { code: ErrorCode.InvalidPacket, reasonCode: 0x81 });
    });
  }
});
