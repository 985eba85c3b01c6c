import type { ProtocolVersion } from './constants.js';
import { PacketType } from './constants.js';
import { decodeBody, frameHeaderLength, frameLength, MAX_PACKET_SIZE, toBuffer } from './decode.js';
import type { MqttProtocolError } from './errors.js';
import { Reader } from './reader.js';
import type { Packet, Role } from './types.js';

export interface DecoderOptions {
  /** Version of the connection. A server-role decoder learns it from the CONNECT. Default 4. */
  protocolVersion?: ProtocolVersion;
  role?: Role;
  /** Largest whole packet accepted (fixed header included); checked before the body is buffered. */
  maxPacketSize?: number;
  /** Refuse control characters (U+0001..U+001F, U+007F..U+009F) in strings, as Mosquitto does. */
  rejectControlCharacters?: boolean;
  /** Refuse topic names and filters with more `/` than this (0, the default: no limit). */
  maxTopicSlashes?: number;
}

/**
 * Incremental decoder: feed it chunks split anywhere. Whole packets inside a chunk are decoded in
 * place (their payloads are views into the chunk); only an incomplete packet at the end of a
 * chunk is kept, copied once into a buffer of its final size as soon as its length is known.
 * After a protocol error it stays failed and rethrows that error on every push.
 */
const INITIAL_PENDING = 65_536;
const NO_BYTES = Buffer.alloc(0);

export class Decoder {
  protocolVersion: ProtocolVersion;
  readonly role: Role;
  maxPacketSize: number;

  private readonly reader = new Reader();
  /** The incomplete packet: its bytes so far, and its total size (0 while the header is partial). */
  /** Empty until a chunk ends inside a packet: idle connections hold no buffer. */
  private pending: Buffer = NO_BYTES;
  private pendingLength = 0;
  private pendingTotal = 0;
  private failed: MqttProtocolError | null = null;

  constructor(options: DecoderOptions = {}) {
    this.protocolVersion = options.protocolVersion ?? 4;
    this.role = options.role ?? 'any';
    this.maxPacketSize = options.maxPacketSize ?? MAX_PACKET_SIZE;
    this.reader.rejectControl = options.rejectControlCharacters === true;
    this.reader.maxTopicSlashes = options.maxTopicSlashes ?? 0;
  }

  /** Bytes held back from earlier chunks: the start of a packet not yet complete. */
  get bufferedBytes(): number {
    return this.pendingLength;
  }

  /** Decodes every whole packet now available, calling `onPacket` for each in order. Throws
   * MqttProtocolError on bad bytes. `onPacket` must not throw. */
  push(chunk: Uint8Array, onPacket: (packet: Packet) => void): void {
    if (this.failed) throw this.failed;
    try {
      this.run(toBuffer(chunk), onPacket);
      // Do not keep the last chunk alive through the reader between pushes.
      this.reader.reset(NO_BYTES, 0, 0);
    } catch (e) {
      this.failed = e as MqttProtocolError;
      this.pendingLength = 0;
      throw e;
    }
  }

  private run(chunk: Buffer, onPacket: (packet: Packet) => void): void {
    let pos = 0;
    const end = chunk.length;
    // First finish the packet left over from earlier chunks.
    while (this.pendingLength > 0 && pos < end) {
      if (this.pendingTotal === 0) {
        // Header still partial: take one byte at a time (at most 5 in all).
        this.pending[this.pendingLength++] = chunk[pos++]!;
        const total = frameLength(this.pending, 0, this.pendingLength, this.maxPacketSize);
        if (total < 0) continue;
        const whole = Buffer.allocUnsafe(Math.min(total, INITIAL_PENDING));
        this.pending.copy(whole, 0, 0, this.pendingLength);
        this.pending = whole;
        this.pendingTotal = total;
      } else {
        const n = Math.min(this.pendingTotal - this.pendingLength, end - pos);
        if (this.pendingLength + n > this.pending.length) this.grow(this.pendingLength + n);
        chunk.copy(this.pending, this.pendingLength, pos, pos + n);
        this.pendingLength += n;
        pos += n;
      }
      if (this.pendingLength === this.pendingTotal) {
        const whole = this.pending;
        const total = this.pendingTotal;
        this.pending = NO_BYTES;
        this.pendingLength = 0;
        this.pendingTotal = 0;
        frameLength(whole, 0, total, this.maxPacketSize);
        this.emit(whole, 0, frameHeaderLength, total, onPacket);
      }
    }
    // Then every whole packet in the chunk, in place.
    while (pos < end) {
      const total = frameLength(chunk, pos, end, this.maxPacketSize);
      if (total < 0) {
        // Keep the partial header (fewer than 5 bytes) in a buffer that can take all five.
        this.pending = Buffer.allocUnsafe(5);
        chunk.copy(this.pending, 0, pos, end);
        this.pendingLength = end - pos;
        this.pendingTotal = 0;
        return;
      }
      if (pos + total > end) {
        // Memory follows the bytes that arrived, not the length a peer announced: a header
        // claiming 256 MB reserves 64 KiB until the data is really there.
        this.pending = Buffer.allocUnsafe(Math.min(total, Math.max(INITIAL_PENDING, end - pos)));
        chunk.copy(this.pending, 0, pos, end);
        this.pendingLength = end - pos;
        this.pendingTotal = total;
        return;
      }
      this.emit(chunk, pos, pos + frameHeaderLength, pos + total, onPacket);
      pos += total;
    }
  }

  /** Grows the pending buffer (doubling, capped at the packet's size) to hold `needed` bytes. */
  private grow(needed: number): void {
    const size = Math.min(this.pendingTotal, Math.max(needed, this.pending.length * 2));
    const next = Buffer.allocUnsafe(size);
    this.pending.copy(next, 0, 0, this.pendingLength);
    this.pending = next;
  }

  private emit(buf: Buffer, start: number, bodyStart: number, end: number, onPacket: (packet: Packet) => void): void {
    let packet: Packet;
    try {
      packet = decodeBody(this.reader.reset(buf, bodyStart, end), buf[start]!, this.protocolVersion, this.role);
    } catch (e) {
      (e as MqttProtocolError).packetType = buf[start]! >> 4;
      throw e;
    }
    if (packet.type === PacketType.Connect && this.role !== 'client') this.protocolVersion = packet.protocolVersion;
    onPacket(packet);
  }
}
