/**
 * The random-input engine shared by test/random.test.ts and scripts/fuzz-codec.mjs: it makes
 * inputs (random bytes, random bodies behind plausible fixed headers, valid packets and mutants
 * of valid packets: bit flips, byte overwrites, truncations, insertions, length-field tampering)
 * and feeds each to `decodePacket` and to a `Decoder` in random chunk splits, for a random
 * protocol version, role and maximum packet size.
 *
 * The only outcomes allowed are packets or an `MqttProtocolError`. On top of that:
 * - `decodePacket` and a `Decoder` agree: one whole packet decodes to the same packet both ways;
 * - whatever the decoder accepts re-encodes and decodes back to the same packet (the encoder can
 *   write everything the decoder can read);
 * - an unmodified valid packet decodes (role 'any', its own version) to the packet generated;
 * - a failed `Decoder` emits nothing more and only ever throws `MqttProtocolError`.
 */
import { deepStrictEqual } from 'node:assert/strict';
import { PacketType, type ProtocolVersion } from '../../src/constants.js';
import { MqttProtocolError } from '../../src/errors.js';
import { decodePacket, Decoder, encodePacket } from '../../src/index.js';
import type { Packet, Role } from '../../src/types.js';
import { generatePacket } from './packets.js';
import { Random } from './random.js';

export interface FuzzFailure {
  /** What went wrong. */
  message: string;
  /** The input, as hex. */
  hex: string;
  version: ProtocolVersion;
  role: Role;
  maxPacketSize: number | undefined;
  /** How it was made ('random', 'mutant:bitflip', ...). */
  kind: string;
}

export interface FuzzStats {
  inputs: number;
  packets: number;
  protocolErrors: number;
  failures: FuzzFailure[];
}

export interface FuzzOptions {
  seed: number;
  /** Stop after this many inputs ... */
  iterations?: number;
  /** ... or at this Date.now() (whichever comes first). */
  deadline?: number;
  /** Restrict to one protocol version (default: all three, chosen per input). */
  versions?: ProtocolVersion[];
  /** Stop collecting after this many failures (default 10). */
  maxFailures?: number;
  /** If given, each input is copied here before it is decoded (length in `currentLength[0]`),
   * so a watchdog in another thread can print the input of a decoder that hangs. */
  currentInput?: Uint8Array;
  currentLength?: Int32Array;
  /** Called every `progressEvery` inputs. */
  onProgress?: (inputs: number) => void;
  progressEvery?: number;
}

const ROLES: readonly Role[] = ['server', 'client', 'any'];

/** A Variable Byte Integer, with `extra` redundant continuation bytes (a non-minimal form). */
function varint(value: number, extra = 0): number[] {
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0 || extra > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  for (let i = 0; i < extra; i++) out.push(i === extra - 1 ? 0x00 : 0x80);
  return out;
}

/** Where the body starts in an encoded packet (after the fixed header). */
function bodyStart(bytes: Uint8Array): number {
  let i = 1;
  while (i < bytes.length && i < 5 && (bytes[i]! & 0x80) !== 0) i++;
  return i + 1;
}

function withRemainingLength(first: number, body: Uint8Array, declared: number, extra = 0): Buffer {
  return Buffer.concat([Buffer.from([first, ...varint(declared, extra)]), body]);
}

function validPacketBytes(rng: Random, version: ProtocolVersion): { packet: Packet; bytes: Buffer } {
  const packet = generatePacket(rng, version, undefined, { maxPayload: 300 });
  return { packet, bytes: encodePacket(packet, version) };
}

interface Input {
  bytes: Buffer;
  kind: string;
  /** Set for unmodified valid packets: what they must decode to (role 'any', own version). */
  expected?: Packet;
}

/** One mutant of a valid packet. */
function mutate(rng: Random, bytes: Buffer): Input {
  const out = Buffer.from(bytes);
  const start = bodyStart(out);
  const body = out.subarray(start);
  switch (rng.int(0, 8)) {
    case 0: {
      const flips = rng.int(1, 4);
      for (let i = 0; i < flips; i++) {
        const at = rng.int(0, out.length - 1);
        out[at] = out[at]! ^ (1 << rng.int(0, 7));
      }
      return { bytes: out, kind: 'mutant:bitflip' };
    }
    case 1: {
      const n = rng.int(1, 3);
      for (let i = 0; i < n; i++) out[rng.int(0, out.length - 1)] = rng.pick([0x00, 0xff, 0x7f, 0x80, 0xc0, 0xed, rng.int(0, 255)]);
      return { bytes: out, kind: 'mutant:overwrite' };
    }
    case 2:
      // Plain truncation: the declared length stays, the bytes end early.
      return { bytes: out.subarray(0, rng.int(0, out.length - 1)), kind: 'mutant:truncate' };
    case 3: {
      // Truncate the body and fix the remaining length to match, so the body decoder itself
      // meets the short field.
      const cut = body.subarray(0, rng.int(0, Math.max(0, body.length - 1)));
      return { bytes: withRemainingLength(out[0]!, cut, cut.length), kind: 'mutant:short-body' };
    }
    case 4: {
      // Declared remaining length off by a little (or a lot) from the real body.
      const delta = rng.pick([-3, -2, -1, 1, 2, 3, 100, -body.length]);
      const declared = Math.max(0, body.length + delta);
      return { bytes: withRemainingLength(out[0]!, body, declared), kind: 'mutant:length' };
    }
    case 5: {
      // Non-minimal (1-3 redundant bytes) or overlong (5+ bytes) remaining length.
      const extra = rng.int(1, 4);
      return { bytes: withRemainingLength(out[0]!, body, body.length, extra), kind: 'mutant:varint' };
    }
    case 6: {
      // Tamper with an inner 2-byte length or a property length: overwrite two body bytes at a
      // random place with a small or large big-endian number.
      if (body.length < 2) return { bytes: out, kind: 'mutant:none' };
      const at = rng.int(0, body.length - 2);
      const v = rng.pick([0, 1, 2, 0x7f, 0x80, 0xffff, rng.int(0, 0xffff)]);
      body[at] = v >> 8;
      body[at + 1] = v & 0xff;
      return { bytes: out, kind: 'mutant:inner-length' };
    }
    case 7: {
      // Insert or delete bytes inside the body, keeping the remaining length consistent.
      const at = rng.int(0, body.length);
      const b = rng.chance(0.5)
        ? Buffer.concat([body.subarray(0, at), rng.bytes(rng.int(1, 4)), body.subarray(at)])
        : Buffer.concat([body.subarray(0, at), body.subarray(Math.min(body.length, at + rng.int(1, 4)))]);
      return { bytes: withRemainingLength(out[0]!, b, b.length), kind: 'mutant:splice' };
    }
    default: {
      // Change the fixed header's type and flags, keeping the body.
      out[0] = rng.int(0, 255);
      return { bytes: out, kind: 'mutant:header' };
    }
  }
}

function makeInput(rng: Random, version: ProtocolVersion): Input {
  const r = rng.float();
  if (r < 0.12) return { bytes: rng.bytes(rng.chance(0.9) ? rng.int(0, 24) : rng.int(0, 400)), kind: 'random' };
  if (r < 0.32) {
    // A random body behind a plausible fixed header: gets past framing into the body decoders.
    const type = rng.int(1, 15);
    const flags = type === PacketType.Publish ? rng.int(0, 15) : rng.chance(0.8) ? [0, 0, 0, 0, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0][type]! : rng.int(0, 15);
    const body = rng.bytes(rng.chance(0.8) ? rng.int(0, 40) : rng.int(0, 400));
    return { bytes: withRemainingLength((type << 4) | flags, body, body.length), kind: 'random-body' };
  }
  const { packet, bytes } = validPacketBytes(rng, version);
  if (r < 0.4) return { bytes, kind: 'valid', expected: packet };
  return mutate(rng, bytes);
}

function isAllowedError(e: unknown): boolean {
  return e instanceof MqttProtocolError;
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}\n${e.stack ?? ''}`;
  return String(e);
}

/** Decodes `bytes` with a Decoder fed in random chunks; returns what happened. */
function decodeInChunks(
  rng: Random,
  bytes: Buffer,
  options: { protocolVersion: ProtocolVersion; role: Role; maxPacketSize?: number },
): { packets: Packet[]; error: unknown; buffered: number } {
  const decoder = new Decoder(options);
  const packets: Packet[] = [];
  const onPacket = (p: Packet): void => {
    packets.push(p);
  };
  let pos = 0;
  let error: unknown;
  // Split points: one chunk, single bytes, or random sizes.
  const mode = rng.int(0, 2);
  try {
    while (pos < bytes.length) {
      const n = mode === 0 ? bytes.length : mode === 1 ? 1 : rng.int(1, Math.max(1, Math.ceil(bytes.length / 3)));
      // Each chunk is its own copy, as from a socket: packets must not depend on later chunks.
      decoder.push(Buffer.from(bytes.subarray(pos, pos + n)), onPacket);
      pos += n;
    }
    if (bytes.length === 0) decoder.push(new Uint8Array(0), onPacket);
  } catch (e) {
    error = e;
  }
  if (error !== undefined && isAllowedError(error)) {
    // A failed decoder stays failed: it emits nothing more.
    const before = packets.length;
    try {
      decoder.push(Buffer.from([0xc0, 0x00]), onPacket);
    } catch (e) {
      if (!isAllowedError(e)) error = e;
    }
    if (packets.length !== before) error = new Error('a failed Decoder emitted a packet');
  }
  return { packets, error, buffered: error === undefined ? decoder.bufferedBytes : 0 };
}

function versionOf(packet: Packet, version: ProtocolVersion): ProtocolVersion {
  return packet.type === PacketType.Connect ? packet.protocolVersion : version;
}

/** Runs inputs until `iterations` or `deadline`; returns counts and failures (never throws for
 * a codec failure: each one is recorded with its input). */
export function runFuzz(options: FuzzOptions): FuzzStats {
  const rng = new Random(options.seed);
  const versions = options.versions ?? [3, 4, 5];
  const maxFailures = options.maxFailures ?? 10;
  const stats: FuzzStats = { inputs: 0, packets: 0, protocolErrors: 0, failures: [] };
  const every = options.progressEvery ?? 1000;
  const iterations = options.iterations ?? Number.POSITIVE_INFINITY;
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;

  while (stats.inputs < iterations && stats.failures.length < maxFailures) {
    if (stats.inputs % 256 === 0 && Date.now() >= deadline) break;
    const version = rng.pick(versions);
    // Sometimes a stream of several inputs, to exercise the Decoder across packet boundaries.
    let input: Input;
    if (rng.chance(0.08)) {
      const parts: Buffer[] = [];
      const n = rng.int(2, 5);
      for (let i = 0; i < n; i++) parts.push(rng.chance(0.7) ? validPacketBytes(rng, version).bytes : makeInput(rng, version).bytes);
      input = { bytes: Buffer.concat(parts), kind: 'stream' };
    } else {
      input = makeInput(rng, version);
    }
    const role = input.expected ? 'any' : rng.pick(ROLES);
    const maxPacketSize = !input.expected && rng.chance(0.05) ? rng.int(2, 200) : undefined;
    const opts = maxPacketSize === undefined ? { protocolVersion: version, role } : { protocolVersion: version, role, maxPacketSize };
    stats.inputs++;
    if (options.currentInput && options.currentLength) {
      const n = Math.min(input.bytes.length, options.currentInput.length);
      options.currentInput.set(input.bytes.subarray(0, n));
      Atomics.store(options.currentLength, 0, n);
    }
    if (options.onProgress && stats.inputs % every === 0) options.onProgress(stats.inputs);

    const fail = (message: string): void => {
      stats.failures.push({ message, hex: input.bytes.toString('hex'), version, role, maxPacketSize, kind: input.kind });
    };

    // 1. decodePacket: exactly one whole packet.
    let single: Packet | undefined;
    let singleError: unknown;
    try {
      single = decodePacket(Buffer.from(input.bytes), opts);
    } catch (e) {
      singleError = e;
    }
    if (singleError !== undefined && !isAllowedError(singleError)) {
      fail(`decodePacket threw a non-protocol error: ${describe(singleError)}`);
      continue;
    }
    if (singleError !== undefined) stats.protocolErrors++;
    else stats.packets++;

    if (input.expected) {
      if (single === undefined) {
        fail(`a valid packet was rejected: ${describe(singleError)}`);
        continue;
      }
      try {
        deepStrictEqual(single, input.expected);
      } catch (e) {
        fail(`a valid packet decoded differently: ${describe(e)}`);
        continue;
      }
    }

    // 2. The same bytes through a Decoder in random chunks.
    const chunked = decodeInChunks(rng, input.bytes, opts);
    if (chunked.error !== undefined && !isAllowedError(chunked.error)) {
      fail(`Decoder threw a non-protocol error: ${describe(chunked.error)}`);
      continue;
    }
    const decoderSawOneWholePacket = chunked.error === undefined && chunked.packets.length === 1 && chunked.buffered === 0;
    if (single !== undefined && !decoderSawOneWholePacket) {
      fail(
        `decodePacket accepted one packet but the Decoder gave ${chunked.packets.length} packet(s), ` +
          `${chunked.buffered} buffered byte(s), error ${chunked.error === undefined ? 'none' : describe(chunked.error)}`,
      );
      continue;
    }
    if (single === undefined && decoderSawOneWholePacket) {
      fail(`the Decoder accepted one whole packet that decodePacket rejected: ${describe(singleError)}`);
      continue;
    }
    if (single !== undefined) {
      try {
        deepStrictEqual(chunked.packets[0], single);
      } catch (e) {
        fail(`decodePacket and the Decoder disagree: ${describe(e)}`);
        continue;
      }
    }

    // 3. Whatever was accepted re-encodes and decodes back to itself.
    const accepted = single !== undefined ? [single] : chunked.packets;
    // A server-role Decoder switches version at a CONNECT; track it as it does.
    let v = version;
    for (const packet of accepted) {
      const pv = versionOf(packet, v);
      if (packet.type === PacketType.Connect && role !== 'client') v = packet.protocolVersion;
      let again: Packet;
      try {
        const bytes = encodePacket(packet, pv);
        again = decodePacket(bytes, { protocolVersion: pv, role: 'any' });
      } catch (e) {
        fail(`an accepted packet did not re-encode and decode (version ${pv}): ${describe(e)}\npacket: ${inspectPacket(packet)}`);
        break;
      }
      try {
        deepStrictEqual(again, packet);
      } catch (e) {
        fail(`an accepted packet changed through encode/decode: ${describe(e)}`);
        break;
      }
    }
  }
  return stats;
}

function inspectPacket(packet: Packet): string {
  return JSON.stringify(packet, (_k, v: unknown) =>
    v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? `<hex ${Buffer.from((v as { data: number[] }).data).toString('hex')}>` : v,
  );
}

export function formatFailure(f: FuzzFailure, seed: number): string {
  return (
    `[seed ${seed}] ${f.kind} input, version ${f.version}, role ${f.role}` +
    `${f.maxPacketSize === undefined ? '' : `, maxPacketSize ${f.maxPacketSize}`}\n` +
    `input hex: ${f.hex}\n${f.message}`
  );
}
