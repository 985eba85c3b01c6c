import { ErrorCode, MqttProtocolError } from './errors.js';
import { MAX_VARIABLE_BYTE_INTEGER, ReasonCode } from './constants.js';

/** The encoder's second pass writes into one exactly-sized Buffer through these helpers. */

export function invalid(message: string): MqttProtocolError {
  return new MqttProtocolError(ErrorCode.InvalidPacket, message, ReasonCode.MalformedPacket);
}

export function varintLength(n: number): number {
  if (n < 128) return 1;
  if (n < 16_384) return 2;
  if (n < 2_097_152) return 3;
  if (n <= MAX_VARIABLE_BYTE_INTEGER) return 4;
  throw invalid(`Value ${n} does not fit a Variable Byte Integer`);
}

export function writeVarint(buf: Buffer, pos: number, n: number): number {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    buf[pos++] = b;
  } while (n > 0);
  return pos;
}

export function writeU16(buf: Buffer, pos: number, n: number): number {
  buf[pos] = n >>> 8;
  buf[pos + 1] = n & 0xff;
  return pos + 2;
}

export function writeU32(buf: Buffer, pos: number, n: number): number {
  buf[pos] = n >>> 24;
  buf[pos + 1] = (n >>> 16) & 0xff;
  buf[pos + 2] = (n >>> 8) & 0xff;
  buf[pos + 3] = n & 0xff;
  return pos + 4;
}

/** Byte length of a string as UTF-8; ASCII strings (the common topic) skip the scan. */
export function utf8Length(s: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  if (n > 65_535) throw invalid(`String of ${n} bytes is longer than 65535`);
  return n;
}

/** Writes a 2-byte length and the string bytes; `len` is the byte length computed in pass one. */
export function writeUtf8(buf: Buffer, pos: number, s: string, len: number): number {
  buf[pos] = len >>> 8;
  buf[pos + 1] = len & 0xff;
  pos += 2;
  if (len === s.length) buf.latin1Write(s, pos, len);
  else buf.utf8Write(s, pos, len);
  return pos + len;
}

export function binaryLength(b: Uint8Array): number {
  if (b.length > 65_535) throw invalid(`Binary field of ${b.length} bytes is longer than 65535`);
  return b.length;
}

export function writeBinary(buf: Buffer, pos: number, b: Uint8Array): number {
  buf[pos] = b.length >>> 8;
  buf[pos + 1] = b.length & 0xff;
  buf.set(b, pos + 2);
  return pos + 2 + b.length;
}

/** Allocates the exactly-sized packet buffer and writes the fixed header. The body starts at
 * `1 + varintLength(remainingLength)`. */
export function allocPacket(header: number, remainingLength: number): Buffer {
  const buf = Buffer.allocUnsafe(1 + varintLength(remainingLength) + remainingLength);
  buf[0] = header;
  writeVarint(buf, 1, remainingLength);
  return buf;
}
