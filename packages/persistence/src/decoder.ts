/**
 * Decoding of the header and of one chunk at a time from a window of file bytes. The window
 * may end before the chunk does: then `NeedMoreData` is thrown (unless the window reaches the
 * end of the file, in which case the chunk is truncated and therefore corrupt). The streaming
 * reader catches it, reads more of the file and decodes the chunk again from its start.
 *
 * Field by field this follows Mosquitto 2.0's loader (persist_read_v5.c, persist_read_v234.c),
 * including where it does NOT trust the chunk length: known v5/v6 chunks other than
 * MSG_STORE / CLIENT_MSG are read as their fixed struct plus the strings the struct announces,
 * and v2..v4 chunks field by field (their stored lengths are unreliable); only unknown chunks
 * are skipped by length.
 */
import { ChunkType, DB_MAGIC, FixedSize, MAX_PAYLOAD } from './constants.js';
import { PersistenceError, badMagicError, emptyFileError, type CorruptReason } from './errors.js';
import { PropertyBlockError, parsePropertyBlock, type Property } from './properties.js';
import type { DbChunk, DbHeader, DbRecord } from './records.js';

/** Thrown when the window ends before the item being decoded; `needed` counts from its start. */
export class NeedMoreData {
  readonly needed: number;
  constructor(needed: number) {
    this.needed = needed;
  }
}

class Truncated {}

const ZERO = 0n;

/**
 * Reads fields off a window; past its end it throws NeedMoreData, or Truncated at end of file.
 * One instance is reset for every chunk (decoding is synchronous and never re-entrant): millions
 * of chunks should not mean millions of cursors for the garbage collector.
 */
class Cursor {
  buf: Buffer = Buffer.alloc(0);
  start = 0;
  pos = 0;
  eof = false;
  copy = true;

  reset(buf: Buffer, start: number, eof: boolean, copy: boolean): this {
    this.buf = buf;
    this.start = start;
    this.pos = start;
    this.eof = eof;
    this.copy = copy;
    return this;
  }

  private take(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) {
      if (this.eof) throw new Truncated();
      throw new NeedMoreData(at + n - this.start);
    }
    this.pos = at + n;
    return at;
  }

  u8(): number {
    return this.buf[this.take(1)]!;
  }
  u16be(): number {
    return this.buf.readUInt16BE(this.take(2));
  }
  u32be(): number {
    return this.buf.readUInt32BE(this.take(4));
  }
  /**
   * 64-bit fields are written in host order by Mosquitto: little-endian on every platform it
   * ships on. Assembled from two 32-bit halves: most values fit in 32 bits, and BigInt(small)
   * is much cheaper than readBigUInt64LE.
   */
  u64le(): bigint {
    const at = this.take(8);
    const b = this.buf;
    const lo = (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
    const hi = (b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24)) >>> 0;
    if (hi === 0) return lo === 0 ? ZERO : BigInt(lo);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  i64le(): bigint {
    return BigInt.asIntN(64, this.u64le());
  }
  skip(n: number): void {
    this.take(n);
  }
  /**
   * Raw bytes. Copied by default: records outlive the window (the retained store and the
   * queues keep them), and a view would pin the whole read buffer in memory.
   */
  bytes(n: number): Buffer {
    const at = this.take(n);
    const view = this.buf.subarray(at, at + n);
    return this.copy ? Buffer.from(view) : view;
  }
  /** A string stored with its length elsewhere; zero length reads as null (persist__read_string_len). */
  str(n: number): Buffer | null {
    return n === 0 ? null : this.bytes(n);
  }
  /** A v2..v4 string: uint16 BE length then bytes. */
  lstr(): Buffer | null {
    return this.str(this.u16be());
  }
}

export type HeaderResult = { readonly header: DbHeader; readonly next: number };

/**
 * Decodes the 23-byte file header at the start of `buf`. Errors: EMPTY_FILE for a zero-byte
 * file, BAD_MAGIC, TRUNCATED_HEADER (with how far it got).
 */
export function decodeHeader(buf: Buffer, eof: boolean): HeaderResult {
  if (buf.length === 0 && eof) throw emptyFileError();
  if (buf.length < 15) {
    if (!eof) throw new NeedMoreData(23);
    throw truncatedHeader(false);
  }
  if (!buf.subarray(0, 15).equals(DB_MAGIC)) throw badMagicError();
  if (buf.length < 23) {
    if (!eof) throw new NeedMoreData(23);
    // The CRC is read in host order and never converted (persist_read.c).
    throw truncatedHeader(true, buf.length >= 19 ? buf.readUInt32LE(15) : undefined);
  }
  return { header: { crc: buf.readUInt32LE(15), version: buf.readUInt32BE(19) }, next: 23 };
}

function truncatedHeader(magicRead: boolean, crc?: number): PersistenceError {
  const details = crc === undefined ? { magicRead } : { magicRead, crc };
  return new PersistenceError('TRUNCATED_HEADER', 'Error: Unable to restore persistent database. File is truncated.', details);
}

export type ChunkResult =
  | { readonly kind: 'chunk'; readonly chunk: DbChunk; readonly next: number }
  /** An unknown chunk type: the caller warns and skips `skip` bytes from `next`. */
  | { readonly kind: 'unknown'; readonly type: number; readonly length: number; readonly offset: number; readonly next: number; readonly skip: number }
  /** End of file, also when it ends inside a chunk header (Mosquitto stops silently there). */
  | { readonly kind: 'end' };

export interface DecodeOptions {
  /** Copy byte strings out of the window (default true). db_dump passes false for speed. */
  readonly copy?: boolean;
  /**
   * Do not extract the byte strings of MSG_STORE records (source id, source username, topic,
   * payload come back as one shared empty Buffer); everything is still read and checked. For
   * consumers that only count, like `db_dump --stats`.
   */
  readonly skipMessageBodies?: boolean;
}

const EMPTY = Buffer.alloc(0);
const cursor = new Cursor();

/**
 * Decodes the chunk starting at `buf[start]`, which sits at file offset `fileOffset`.
 * `version` selects the layout: 5 and 6 use 8-byte headers and fixed structs, every other
 * version the v2..v4 layout (as Mosquitto's reader does).
 */
export function decodeChunk(
  buf: Buffer,
  start: number,
  eof: boolean,
  version: number,
  fileOffset: number,
  options: DecodeOptions = {},
): ChunkResult {
  const c = cursor.reset(buf, start, eof, options.copy ?? true);
  const skipBodies = options.skipMessageBodies === true;
  const v56 = version === 5 || version === 6;
  let type: number;
  let length: number;
  try {
    if (v56) {
      type = c.u32be();
      length = c.u32be();
    } else {
      type = c.u16be();
      length = c.u32be();
    }
  } catch (e) {
    if (e instanceof Truncated) return { kind: 'end' };
    throw e;
  }
  const bodyStart = c.pos;
  let record: DbRecord;
  try {
    switch (type) {
      case ChunkType.CFG:
        record = v56 ? cfgV56(c) : cfgV234(c);
        break;
      case ChunkType.MSG_STORE:
        record = v56 ? msgStoreV56(c, length, skipBodies) : msgStoreV234(c, version);
        break;
      case ChunkType.CLIENT_MSG:
        record = v56 ? clientMsgV56(c, length) : clientMsgV234(c);
        break;
      case ChunkType.RETAIN:
        record = { kind: 'retain', storeId: c.u64le() };
        break;
      case ChunkType.SUB:
        record = v56 ? subV56(c) : subV234(c);
        break;
      case ChunkType.CLIENT:
        record = v56 ? clientV56(c, version) : clientV234(c, version);
        break;
      default:
        return { kind: 'unknown', type, length, offset: fileOffset, next: bodyStart, skip: length };
    }
  } catch (e) {
    if (e instanceof Truncated) throw corrupt(type, fileOffset, 'truncated');
    if (e instanceof Corrupt) throw corrupt(type, fileOffset, e.reason);
    if (e instanceof PropertyBlockError) throw corrupt(type, fileOffset, 'properties');
    throw e;
  }
  return { kind: 'chunk', chunk: { type, length, offset: fileOffset, record }, next: c.pos };
}

class Corrupt {
  readonly reason: CorruptReason;
  constructor(reason: CorruptReason) {
    this.reason = reason;
  }
}

function corrupt(chunkType: number, offset: number, reason: CorruptReason): PersistenceError {
  return new PersistenceError('CORRUPT', 'Error: Corrupt persistent database.', { chunkType, offset, reason });
}

function cfgV56(c: Cursor): DbRecord {
  const lastDbId = c.u64le();
  const shutdown = c.u8();
  const dbidSize = c.u8();
  c.skip(6); // struct padding
  return { kind: 'cfg', lastDbId, shutdown, dbidSize };
}

function cfgV234(c: Cursor): DbRecord {
  const shutdown = c.u8();
  const dbidSize = c.u8();
  const lastDbId = c.u64le();
  return { kind: 'cfg', lastDbId, shutdown, dbidSize };
}

/** Body length minus the parts before the property block, as uint32 arithmetic in C. */
function restLength(length: number, used: number): number {
  return (length - used) >>> 0;
}

function properties(c: Cursor, rest: number): readonly Property[] | null {
  if (rest === 0) return null;
  // Read through the cursor (not a view of the window) so truncation is detected first.
  const at = c.pos;
  c.skip(rest);
  return parsePropertyBlock(c.buf.subarray(at, at + rest));
}

function msgStoreV56(c: Cursor, length: number, skipBodies: boolean): DbRecord {
  const storeId = c.u64le();
  const expiryTime = c.i64le();
  const payloadLength = c.u32be();
  if (payloadLength > MAX_PAYLOAD) throw new Corrupt('payload-too-large');
  const sourceMid = c.u16be();
  const sourceIdLength = c.u16be();
  const sourceUsernameLength = c.u16be();
  const topicLength = c.u16be();
  const sourcePort = c.u16be();
  const qos = c.u8();
  const retain = c.u8();
  const rest = restLength(length, FixedSize.MSG_STORE + payloadLength + sourceIdLength + sourceUsernameLength + topicLength);
  if (skipBodies) {
    c.skip(sourceIdLength + sourceUsernameLength + topicLength + payloadLength);
    return {
      kind: 'msg_store', storeId, expiryTime, sourceMid, sourcePort, sourceId: null, sourceUsername: null, topic: null, qos, retain,
      payload: EMPTY, properties: properties(c, rest),
    };
  }
  const sourceId = c.str(sourceIdLength);
  const sourceUsername = c.str(sourceUsernameLength);
  const topic = c.str(topicLength);
  const payload = c.bytes(payloadLength);
  return {
    kind: 'msg_store', storeId, expiryTime, sourceMid, sourcePort, sourceId, sourceUsername, topic, qos, retain, payload,
    properties: properties(c, rest),
  };
}

function msgStoreV234(c: Cursor, version: number): DbRecord {
  const storeId = c.u64le();
  const sourceId = c.lstr();
  let sourceUsername: Buffer | null = null;
  let sourcePort = 0;
  if (version === 4) {
    sourceUsername = c.lstr();
    sourcePort = c.u16be();
  }
  const sourceMid = c.u16be();
  c.skip(2); // the message's own mid, unused
  const topic = c.lstr();
  const qos = c.u8();
  const retain = c.u8();
  const payload = c.bytes(c.u32be());
  return {
    kind: 'msg_store', storeId, expiryTime: 0n, sourceMid, sourcePort, sourceId, sourceUsername, topic, qos, retain, payload,
    properties: null,
  };
}

function clientMsgV56(c: Cursor, length: number): DbRecord {
  const storeId = c.u64le();
  const mid = c.u16be();
  const idLength = c.u16be();
  const qos = c.u8();
  const state = c.u8();
  const retainDup = c.u8();
  const direction = c.u8();
  const rest = restLength(length, FixedSize.CLIENT_MSG + idLength);
  const clientId = c.str(idLength);
  return {
    kind: 'client_msg', clientId, storeId, mid, qos, state, retain: retainDup >> 4, dup: retainDup & 0x0f, direction,
    properties: properties(c, rest),
  };
}

function clientMsgV234(c: Cursor): DbRecord {
  const clientId = c.lstr();
  const storeId = c.u64le();
  const mid = c.u16be();
  const qos = c.u8();
  const retain = c.u8();
  const direction = c.u8();
  const state = c.u8();
  const dup = c.u8();
  // Stored into one byte as nibbles, as the 2.0 loader does.
  return { kind: 'client_msg', clientId, storeId, mid, qos, state, retain: retain & 0x0f, dup: dup & 0x0f, direction, properties: null };
}

function subV56(c: Cursor): DbRecord {
  const identifier = c.u32be();
  const idLength = c.u16be();
  const topicLength = c.u16be();
  const qos = c.u8();
  const options = c.u8();
  c.skip(2); // struct padding
  const clientId = c.str(idLength);
  const topic = c.str(topicLength);
  return { kind: 'sub', clientId, topic, qos, options, identifier };
}

function subV234(c: Cursor): DbRecord {
  const clientId = c.lstr();
  const topic = c.lstr();
  const qos = c.u8();
  return { kind: 'sub', clientId, topic, qos, options: 0, identifier: 0 };
}

function clientV56(c: Cursor, version: number): DbRecord {
  const sessionExpiryTime = c.i64le();
  const sessionExpiryInterval = c.u32be();
  const lastMid = c.u16be();
  const idLength = c.u16be();
  let listenerPort = 0;
  let usernameLength = 0;
  if (version === 6) {
    listenerPort = c.u16be();
    usernameLength = c.u16be();
    c.skip(4); // struct padding
  }
  const clientId = c.str(idLength);
  if (clientId === null) throw new Corrupt('no-client-id');
  const username = c.str(usernameLength);
  return { kind: 'client', clientId, username, sessionExpiryTime, sessionExpiryInterval, lastMid, listenerPort };
}

function clientV234(c: Cursor, version: number): DbRecord {
  const clientId = c.lstr();
  const lastMid = c.u16be();
  if (version !== 2) c.skip(8); // disconnect time (time_t), ignored by the loader
  return { kind: 'client', clientId, username: null, sessionExpiryTime: 0n, sessionExpiryInterval: 0, lastMid, listenerPort: 0 };
}

/**
 * What `scanChunk` found, in one reused object: counting millions of chunks must not mean
 * millions of records for the garbage collector (`db_dump --stats` is GC-bound otherwise).
 */
export interface ChunkScan {
  /** The chunk type, or -1 at end of file. */
  type: number;
  /** The length field of the chunk header. */
  length: number;
  /** Window index just after the chunk (for an unknown chunk: after its header). */
  next: number;
  /** For an unknown chunk: how many bytes to skip from `next`; else 0. */
  skip: number;
  /** Known chunk types are validated; `known` is false for the ones skipped by length. */
  known: boolean;
  /** CFG only: the dbid size field, which db_dump checks in every mode. */
  dbidSize: number;
}

const scanResult: ChunkScan = { type: -1, length: 0, next: 0, skip: 0, known: false, dbidSize: 0 };

/**
 * Like decodeChunk, with the same checks and the same errors (NeedMoreData, CORRUPT with the
 * same reason), but builds no record: fields are stepped over, not read. Returns one shared
 * object that the next call overwrites.
 */
export function scanChunk(buf: Buffer, start: number, eof: boolean, version: number, fileOffset: number): ChunkScan {
  const c = cursor.reset(buf, start, eof, false);
  const r = scanResult;
  const v56 = version === 5 || version === 6;
  try {
    r.type = v56 ? c.u32be() : c.u16be();
    r.length = c.u32be();
  } catch (e) {
    if (e instanceof Truncated) {
      r.type = -1;
      return r;
    }
    throw e;
  }
  r.known = true;
  r.skip = 0;
  const type = r.type;
  try {
    switch (type) {
      case ChunkType.CFG:
        if (v56) c.skip(8);
        c.skip(1); // shutdown
        r.dbidSize = c.u8();
        c.skip(v56 ? 6 : 8);
        break;
      case ChunkType.MSG_STORE:
        if (v56) scanMsgStoreV56(c, r.length);
        else scanMsgStoreV234(c, version);
        break;
      case ChunkType.CLIENT_MSG:
        if (v56) {
          c.skip(10); // store id, mid
          const idLength = c.u16be();
          c.skip(4); // qos, state, retain/dup, direction
          const rest = restLength(r.length, FixedSize.CLIENT_MSG + idLength);
          c.skip(idLength);
          scanProperties(c, rest);
        } else {
          c.skip(c.u16be());
          c.skip(15); // store id, mid, qos, retain, direction, state, dup
        }
        break;
      case ChunkType.RETAIN:
        c.skip(8);
        break;
      case ChunkType.SUB:
        if (v56) {
          c.skip(4); // identifier
          const idLength = c.u16be();
          const topicLength = c.u16be();
          c.skip(4 + idLength + topicLength); // qos, options, padding, strings
        } else {
          c.skip(c.u16be());
          c.skip(c.u16be());
          c.skip(1);
        }
        break;
      case ChunkType.CLIENT:
        if (v56) {
          c.skip(14); // expiry time, expiry interval, last mid
          const idLength = c.u16be();
          let usernameLength = 0;
          if (version === 6) {
            c.skip(2); // listener port
            usernameLength = c.u16be();
            c.skip(4);
          }
          if (idLength === 0) throw new Corrupt('no-client-id');
          c.skip(idLength + usernameLength);
        } else {
          c.skip(c.u16be());
          c.skip(version !== 2 ? 10 : 2);
        }
        break;
      default:
        r.known = false;
        r.next = c.pos;
        r.skip = r.length;
        return r;
    }
  } catch (e) {
    if (e instanceof Truncated) throw corrupt(type, fileOffset, 'truncated');
    if (e instanceof Corrupt) throw corrupt(type, fileOffset, e.reason);
    if (e instanceof PropertyBlockError) throw corrupt(type, fileOffset, 'properties');
    throw e;
  }
  r.next = c.pos;
  return r;
}

function scanMsgStoreV56(c: Cursor, length: number): void {
  c.skip(16); // store id, expiry time
  const payloadLength = c.u32be();
  if (payloadLength > MAX_PAYLOAD) throw new Corrupt('payload-too-large');
  c.skip(2); // source mid
  const strings = c.u16be() + c.u16be() + c.u16be();
  c.skip(4); // source port, qos, retain
  const rest = restLength(length, FixedSize.MSG_STORE + payloadLength + strings);
  c.skip(strings + payloadLength);
  scanProperties(c, rest);
}

function scanMsgStoreV234(c: Cursor, version: number): void {
  c.skip(8); // store id
  c.skip(c.u16be()); // source id
  if (version === 4) {
    c.skip(c.u16be()); // source username
    c.skip(2); // source port
  }
  c.skip(4); // source mid, mid
  c.skip(c.u16be()); // topic
  c.skip(2); // qos, retain
  c.skip(c.u32be()); // payload
}

/** Properties are rare in stored chunks; they are checked by the same parser as decodeChunk's. */
function scanProperties(c: Cursor, rest: number): void {
  if (rest !== 0) properties(c, rest);
}
