/**
 * Byte fixtures, checked four ways: decode(bytes) equals the packet, encode(packet) equals the
 * bytes, decode(encode(packet)) equals the packet, and a Decoder fed the bytes in two chunks
 * split at every offset, or byte by byte, yields exactly that packet.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketType } from '../src/constants.js';
import { Decoder, decodePacket, encodePacket } from '../src/index.js';
import type { Packet, Role } from '../src/types.js';
import { packetFixtures, streamFixtures, type Version } from './fixtures/index.js';
import { toHex } from './hex.js';

/** Reads the fixed header independently of the codec: its length and the remaining length. */
function fixedHeader(bytes: Uint8Array): { headerLength: number; remainingLength: number } {
  let value = 0;
  let mul = 1;
  for (let i = 1; i <= 4 && i < bytes.length; i++) {
    const b = bytes[i]!;
    value += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return { headerLength: i + 1, remainingLength: value };
    mul *= 128;
  }
  throw new Error('fixture has no complete remaining length');
}

/** Feeds the chunks to a fresh Decoder and returns what it emitted. */
function feed(version: Version, role: Role, chunks: Uint8Array[]): { packets: Packet[]; decoder: Decoder } {
  const decoder = new Decoder({ protocolVersion: version, role });
  const packets: Packet[] = [];
  for (const chunk of chunks) decoder.push(chunk, (p) => packets.push(p));
  return { packets, decoder };
}

const bytewise = (bytes: Buffer): Buffer[] => Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));

describe('byte fixtures: coverage', () => {
  it('has at least 60 packet fixtures', () => {
    assert.ok(packetFixtures.length >= 60, `only ${packetFixtures.length}`);
  });

  it('covers every packet type in every version it exists in, with canonical bytes', () => {
    const missing: string[] = [];
    for (const version of [3, 4, 5] as const) {
      for (let type = 1; type <= 15; type++) {
        if (type === PacketType.Auth && version !== 5) continue;
        const found = packetFixtures.some((f) => f.version === version && f.packet.type === type && !f.canonical);
        if (!found) missing.push(`type ${type} v${version}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it('fixture names are unique', () => {
    const names = packetFixtures.map((f) => f.name);
    assert.equal(new Set(names).size, names.length);
  });
});

for (const f of packetFixtures) {
  const role = f.role ?? 'any';
  const options = { protocolVersion: f.version, role };
  describe(`fixture: ${f.name}`, () => {
    it('remaining length in the fixture matches its bytes', () => {
      const { headerLength, remainingLength } = fixedHeader(f.bytes);
      assert.equal(headerLength + remainingLength, f.bytes.length);
    });

    it('(a) decodes to the packet', () => {
      assert.deepStrictEqual(decodePacket(f.bytes, options), f.packet);
    });

    it(f.canonical ? '(b) encodes to the canonical bytes' : '(b) encodes to the bytes', () => {
      assert.equal(toHex(encodePacket(f.packet, f.version)), toHex(f.canonical ?? f.bytes));
    });

    it('(c) round trips through encode and decode', () => {
      assert.deepStrictEqual(decodePacket(encodePacket(f.packet, f.version), options), f.packet);
    });

    it('(d) a Decoder yields it from two chunks split at every offset, keeping only the tail', () => {
      for (let i = 1; i < f.bytes.length; i++) {
        const decoder = new Decoder(options);
        const packets: Packet[] = [];
        decoder.push(f.bytes.subarray(0, i), (p) => packets.push(p));
        assert.equal(packets.length, 0, `split at ${i}: emitted early`);
        assert.equal(decoder.bufferedBytes, i, `split at ${i}: buffered`);
        decoder.push(f.bytes.subarray(i), (p) => packets.push(p));
        assert.equal(decoder.bufferedBytes, 0, `split at ${i}: left bytes buffered`);
        assert.equal(packets.length, 1, `split at ${i}`);
        assert.deepStrictEqual(packets[0], f.packet, `split at ${i}`);
      }
    });

    it('(d) a Decoder yields it byte by byte, and from one chunk', () => {
      assert.deepStrictEqual(feed(f.version, role, bytewise(f.bytes)).packets, [f.packet]);
      assert.deepStrictEqual(feed(f.version, role, [f.bytes]).packets, [f.packet]);
    });
  });
}

for (const s of streamFixtures) {
  const role = s.role ?? 'any';
  describe(`stream: ${s.name}`, () => {
    it('one chunk yields every packet in order', () => {
      const { packets, decoder } = feed(s.version, role, [s.bytes]);
      assert.deepStrictEqual(packets, s.packets);
      assert.equal(decoder.protocolVersion, s.versionAfter ?? s.version);
      assert.equal(decoder.bufferedBytes, 0);
    });

    it('two chunks split at every offset yield every packet in order', () => {
      for (let i = 1; i < s.bytes.length; i++) {
        const { packets } = feed(s.version, role, [s.bytes.subarray(0, i), s.bytes.subarray(i)]);
        assert.deepStrictEqual(packets, s.packets, `split at ${i}`);
      }
    });

    it('byte by byte yields every packet in order', () => {
      assert.deepStrictEqual(feed(s.version, role, bytewise(s.bytes)).packets, s.packets);
    });

    it('three chunks at every pair of offsets yield every packet in order', () => {
      for (let i = 1; i < s.bytes.length; i++) {
        for (let j = i + 1; j < s.bytes.length; j++) {
          const chunks = [s.bytes.subarray(0, i), s.bytes.subarray(i, j), s.bytes.subarray(j)];
          assert.deepStrictEqual(feed(s.version, role, chunks).packets, s.packets, `split at ${i} and ${j}`);
        }
      }
    });

    it('encoding the packets in order gives the stream back', () => {
      let version: Version = s.version;
      const parts = s.packets.map((p) => {
        if (p.type === PacketType.Connect) version = p.protocolVersion;
        return encodePacket(p, version);
      });
      assert.equal(toHex(Buffer.concat(parts)), toHex(s.bytes));
    });
  });
}
