/**
 * The journal beside `mosquitto.db` (skeeter's durable mode): every change the snapshot would
 * record, appended as it happens, so a crash loses nothing the broker acknowledged. This file
 * is the pure format: the file header, frames (length + CRC32C) and the operations inside them.
 *
 * Layout (all integers big-endian, except store ids inside embedded db chunks, which keep the
 * mosquitto.db layout):
 *
 *   header  42 bytes: magic (18) "\0\xB5\0skeeter journal", version u32, base u64 (the CFG
 *           "last db id" of the snapshot this journal follows), created u64 (ms since the
 *           epoch), CRC32C u32 of the 38 bytes before it.
 *   frame   length u32 (bytes of operations), CRC32C u32 (of the length field and the
 *           operations), operations. One frame is one group commit: it is written and fsynced
 *           as a whole, so a torn write loses a whole frame, never half of one.
 *   op      code u8, body length u32, body. MESSAGE, SESSION, SUBSCRIBE and CLIENT_MSG bodies are
 *           version 6 db chunks (8-byte chunk header included) exactly as in mosquitto.db.
 */
import { ChunkType } from './constants.js';
import { decodeChunk } from './decoder.js';
import { chunkBodyLength, writeChunk } from './encoder.js';
import type { ClientMsgRecord, ClientRecord, DbRecord, MsgStoreRecord, SubRecord } from './records.js';

/** "\0\xB5\0skeeter journal": the first 3 bytes are mosquitto.db's, so tools sniff both alike. */
export const JOURNAL_MAGIC: Buffer = Buffer.from('\u0000\u00b5\u0000skeeter journal', 'latin1');
export const JOURNAL_VERSION = 1;
export const JOURNAL_HEADER_LENGTH = JOURNAL_MAGIC.length + 4 + 8 + 8 + 4;
export const FRAME_HEADER_LENGTH = 8;
export const OP_HEADER_LENGTH = 5;

/** Operation codes. */
export const JournalOpCode = {
  /** A message is stored (a MSG_STORE chunk); later operations refer to it by store id. */
  MESSAGE: 1,
  /** A persistent session was created or changed (a CLIENT chunk). Its messages and subscriptions stay. */
  SESSION: 2,
  /** A session ended (expired, cleaned, or no longer persistent): client id. */
  SESSION_END: 3,
  /** A subscription was added or replaced (a SUB chunk). */
  SUBSCRIBE: 4,
  /** A subscription was removed: u16 client id length, client id, topic. */
  UNSUBSCRIBE: 5,
  /** A retained message was set (u64 store id); a message with an empty payload clears its topic. */
  RETAIN: 6,
  /**
   * A client message (a CLIENT_MSG chunk): direction in = a QoS 2 message held until PUBREL;
   * out + QUEUED = appended to the session's queue; out + another state = put in flight.
   */
  CLIENT_MSG: 7,
  /** The head of the session's queue left it: u16 mid (0 = sent at QoS 0 or dropped), client id. */
  DEQUEUE: 8,
  /** An in-flight message changed state: u16 mid, u8 state, client id. */
  STATE: 9,
  /** An outgoing in-flight message was acknowledged (PUBACK, PUBCOMP) or dropped: u16 mid, client id. */
  COMPLETE: 10,
  /** An incoming QoS 2 message was released (PUBREL): u16 mid, client id. */
  RELEASED: 11,
  /**
   * One message appended to the queues of several sessions (a publish fanning out to offline
   * sessions, the common case): u64 store id, u8 QoS, u8 retain, then per session u16 client id
   * length and client id. Same meaning as a CLIENT_MSG (out, QUEUED, mid 0) per session, in a
   * third of the bytes.
   */
  QUEUE_MANY: 12,
  /**
   * QUEUE_MANY to the same sessions, in the same order, as the previous QUEUE_MANY of this
   * journal file (a publish fanning out to the same offline sessions as the one before, the
   * rule under load): u64 store id, u8 QoS, u8 retain. The reader expands it to that
   * QUEUE_MANY's list, so replay and db_dump see a plain QUEUE_MANY. 10 bytes instead of
   * 2 + client id bytes per session, which the writer would copy and checksum per message.
   */
  QUEUE_SAME: 13,
} as const;
export type JournalOpCode = (typeof JournalOpCode)[keyof typeof JournalOpCode];

export type JournalRecord =
  | { readonly op: 'message'; readonly record: MsgStoreRecord }
  | { readonly op: 'session'; readonly record: ClientRecord }
  | { readonly op: 'session_end'; readonly clientId: Buffer }
  | { readonly op: 'subscribe'; readonly record: SubRecord }
  | { readonly op: 'unsubscribe'; readonly clientId: Buffer; readonly topic: Buffer }
  | { readonly op: 'retain'; readonly storeId: bigint }
  | { readonly op: 'client_msg'; readonly record: ClientMsgRecord }
  | { readonly op: 'dequeue'; readonly clientId: Buffer; readonly mid: number }
  | { readonly op: 'state'; readonly clientId: Buffer; readonly mid: number; readonly state: number }
  | { readonly op: 'complete'; readonly clientId: Buffer; readonly mid: number }
  | { readonly op: 'released'; readonly clientId: Buffer; readonly mid: number }
  | { readonly op: 'queue_many'; readonly storeId: bigint; readonly qos: number; readonly retain: number; readonly clientIds: readonly Buffer[] };

export interface JournalHeader {
  readonly version: number;
  /** CFG last db id of the snapshot this journal continues. */
  readonly base: bigint;
  /** Creation time, ms since the epoch. */
  readonly created: bigint;
}

// ---------------------------------------------------------------------------------------------
// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), slicing by 8: eight tables let the loop
// consume 8 bytes per step, which matters because every group commit is checksummed.

const TABLES: Uint32Array[] = (() => {
  const t: Uint32Array[] = [];
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  t.push(t0);
  for (let i = 1; i < 8; i++) {
    const prev = t[i - 1]!;
    const cur = new Uint32Array(256);
    for (let n = 0; n < 256; n++) cur[n] = (prev[n]! >>> 8) ^ t0[prev[n]! & 0xff]!;
    t.push(cur);
  }
  return t;
})();
const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];

/** CRC32C of `buf[start, end)`, continuing from `crc` (0 for a fresh checksum). */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length, crc = 0): number {
  let c = ~crc >>> 0;
  let i = start;
  const fast = end - ((end - start) & 7);
  while (i < fast) {
    const a = (c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))) >>> 0;
    c =
      T7[a & 0xff]! ^ T6[(a >>> 8) & 0xff]! ^ T5[(a >>> 16) & 0xff]! ^ T4[a >>> 24]! ^
      T3[buf[i + 4]!]! ^ T2[buf[i + 5]!]! ^ T1[buf[i + 6]!]! ^ T0[buf[i + 7]!]!;
    i += 8;
  }
  while (i < end) c = T0[(c ^ buf[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Header

export function encodeJournalHeader(base: bigint, created: bigint = BigInt(Date.now())): Buffer {
  const buf = Buffer.alloc(JOURNAL_HEADER_LENGTH);
  JOURNAL_MAGIC.copy(buf, 0);
  let p = JOURNAL_MAGIC.length;
  buf.writeUInt32BE(JOURNAL_VERSION, p);
  buf.writeBigUInt64BE(base, p + 4);
  buf.writeBigUInt64BE(created, p + 12);
  buf.writeUInt32BE(crc32c(buf, 0, p + 20), p + 20);
  return buf;
}

/** Whether `buf` starts with the journal magic (as far as it goes: at least 3 bytes needed). */
export function isJournal(buf: Uint8Array): boolean {
  if (buf.length < JOURNAL_MAGIC.length) return false;
  for (let i = 0; i < JOURNAL_MAGIC.length; i++) if (buf[i] !== JOURNAL_MAGIC[i]) return false;
  return true;
}

/** Problems with a journal file's header; records are judged separately (see the reader). */
export class JournalHeaderError extends Error {
  override readonly name = 'JournalHeaderError';
  readonly code: 'BAD_MAGIC' | 'BAD_CHECKSUM' | 'UNSUPPORTED_VERSION';
  constructor(code: JournalHeaderError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** Decodes a complete header (the caller checks there are JOURNAL_HEADER_LENGTH bytes). */
export function decodeJournalHeader(buf: Buffer): JournalHeader {
  if (!isJournal(buf)) throw new JournalHeaderError('BAD_MAGIC', 'not a skeeter journal (bad magic)');
  const p = JOURNAL_MAGIC.length;
  if (buf.readUInt32BE(p + 20) !== crc32c(buf, 0, p + 20)) throw new JournalHeaderError('BAD_CHECKSUM', 'journal header checksum mismatch');
  const version = buf.readUInt32BE(p);
  if (version !== JOURNAL_VERSION) throw new JournalHeaderError('UNSUPPORTED_VERSION', `unsupported journal version ${version}`);
  return { version, base: buf.readBigUInt64BE(p + 4), created: buf.readBigUInt64BE(p + 12) };
}

// ---------------------------------------------------------------------------------------------
// Operations

const len = (b: Buffer | null): number => (b === null ? 0 : b.length);

/** Bytes the operation takes in a frame, its 5-byte header included. */
export function journalRecordLength(r: JournalRecord): number {
  return OP_HEADER_LENGTH + journalBodyLength(r);
}

function journalBodyLength(r: JournalRecord): number {
  switch (r.op) {
    case 'message':
    case 'session':
    case 'subscribe':
    case 'client_msg':
      return 8 + chunkBodyLength(r.record);
    case 'session_end':
      return r.clientId.length;
    case 'unsubscribe':
      return 2 + r.clientId.length + r.topic.length;
    case 'retain':
      return 8;
    case 'dequeue':
    case 'complete':
    case 'released':
      return 2 + r.clientId.length;
    case 'state':
      return 3 + r.clientId.length;
    case 'queue_many': {
      let n = QUEUE_MANY_FIXED;
      for (const id of r.clientIds) n += 2 + id.length;
      return n;
    }
  }
}

/** Store id, QoS, retain. */
export const QUEUE_MANY_FIXED = 10;

const CODE: Record<JournalRecord['op'], JournalOpCode> = {
  message: JournalOpCode.MESSAGE,
  session: JournalOpCode.SESSION,
  session_end: JournalOpCode.SESSION_END,
  subscribe: JournalOpCode.SUBSCRIBE,
  unsubscribe: JournalOpCode.UNSUBSCRIBE,
  retain: JournalOpCode.RETAIN,
  client_msg: JournalOpCode.CLIENT_MSG,
  dequeue: JournalOpCode.DEQUEUE,
  state: JournalOpCode.STATE,
  complete: JournalOpCode.COMPLETE,
  released: JournalOpCode.RELEASED,
  queue_many: JournalOpCode.QUEUE_MANY,
};

/**
 * Writes `r` at `buf[pos]`; `buf` must have journalRecordLength(r) zeroed bytes there (db chunk
 * padding stays 0). Returns the position after it.
 */
export function writeJournalRecord(buf: Buffer, pos: number, r: JournalRecord): number {
  const body = journalBodyLength(r);
  buf[pos] = CODE[r.op];
  buf.writeUInt32BE(body, pos + 1);
  const p = pos + OP_HEADER_LENGTH;
  switch (r.op) {
    case 'message':
    case 'session':
    case 'subscribe':
    case 'client_msg':
      writeChunk(buf, p, r.record, body - 8);
      break;
    case 'session_end':
      buf.set(r.clientId, p);
      break;
    case 'unsubscribe':
      buf.writeUInt16BE(r.clientId.length, p);
      buf.set(r.clientId, p + 2);
      buf.set(r.topic, p + 2 + r.clientId.length);
      break;
    case 'retain':
      buf.writeBigUInt64BE(r.storeId, p);
      break;
    case 'dequeue':
    case 'complete':
    case 'released':
      buf.writeUInt16BE(r.mid, p);
      buf.set(r.clientId, p + 2);
      break;
    case 'state':
      buf.writeUInt16BE(r.mid, p);
      buf[p + 2] = r.state;
      buf.set(r.clientId, p + 3);
      break;
    case 'queue_many': {
      buf.writeBigUInt64BE(r.storeId, p);
      buf[p + 8] = r.qos;
      buf[p + 9] = r.retain;
      let q = p + QUEUE_MANY_FIXED;
      for (const id of r.clientIds) {
        buf.writeUInt16BE(id.length, q);
        buf.set(id, q + 2);
        q += 2 + id.length;
      }
      break;
    }
  }
  return p + body;
}

/**
 * Fast path of QUEUE_MANY for one session: the op header and fixed part, then the first
 * session. `writeQueueManyMore` appends further sessions (the caller patches the body length
 * at `opStart + 1` with `patchOpLength`).
 */
export function queueManyOpLength(clientId: Buffer): number {
  return OP_HEADER_LENGTH + QUEUE_MANY_FIXED + 2 + clientId.length;
}

export function writeQueueManyOp(buf: Buffer, pos: number, storeId: number, qos: number, retain: number, clientId: Buffer): number {
  buf[pos] = JournalOpCode.QUEUE_MANY;
  buf.writeUInt32BE(QUEUE_MANY_FIXED + 2 + clientId.length, pos + 1);
  const p = pos + OP_HEADER_LENGTH;
  buf.writeUInt32BE(Math.floor(storeId / 0x1_0000_0000), p);
  buf.writeUInt32BE(storeId >>> 0, p + 4);
  buf[p + 8] = qos;
  buf[p + 9] = retain;
  buf.writeUInt16BE(clientId.length, p + 10);
  buf.set(clientId, p + 12);
  return p + 12 + clientId.length;
}

export function writeQueueManyMore(buf: Buffer, pos: number, clientId: Buffer): number {
  buf.writeUInt16BE(clientId.length, pos);
  buf.set(clientId, pos + 2);
  return pos + 2 + clientId.length;
}

/** Sets the body length of the operation starting at `opStart` so that it ends at `end`. */
export function patchOpLength(buf: Buffer, opStart: number, end: number): void {
  buf.writeUInt32BE(end - opStart - OP_HEADER_LENGTH, opStart + 1);
}

/**
 * Fast path for the commonest operation (a message queued for or in flight with a session),
 * without building a record object: the CLIENT_MSG chunk of mosquitto.db (no properties unless
 * `props` is a pre-encoded property block). Returns the position after it.
 */
export function clientMsgOpLength(clientId: Buffer, props: Buffer | null): number {
  return OP_HEADER_LENGTH + 8 + 16 + clientId.length + len(props);
}

export function writeClientMsgOp(
  buf: Buffer,
  pos: number,
  clientId: Buffer,
  storeId: number,
  mid: number,
  qos: number,
  state: number,
  retain: number,
  direction: number,
  props: Buffer | null,
): number {
  const chunkBody = 16 + clientId.length + len(props);
  buf[pos] = JournalOpCode.CLIENT_MSG;
  buf.writeUInt32BE(8 + chunkBody, pos + 1);
  let p = pos + OP_HEADER_LENGTH;
  buf.writeUInt32BE(ChunkType.CLIENT_MSG, p);
  buf.writeUInt32BE(chunkBody, p + 4);
  p += 8;
  // Store ids are below 2^53: two 32-bit halves, little-endian as in mosquitto.db.
  buf.writeUInt32LE(storeId % 0x1_0000_0000, p);
  buf.writeUInt32LE(Math.floor(storeId / 0x1_0000_0000), p + 4);
  buf.writeUInt16BE(mid, p + 8);
  buf.writeUInt16BE(clientId.length, p + 10);
  buf[p + 12] = qos;
  buf[p + 13] = state;
  buf[p + 14] = (retain & 0x0f) << 4;
  buf[p + 15] = direction;
  buf.set(clientId, p + 16);
  p += 16 + clientId.length;
  if (props !== null) {
    buf.set(props, p);
    p += props.length;
  }
  return p;
}

/**
 * Fast path for MESSAGE from the broker's own fields (strings as UTF-8, no properties): the
 * MSG_STORE chunk of mosquitto.db without building a record. Lengths in bytes.
 */
export function messageOpLength(topicBytes: number, payloadBytes: number, originBytes: number, usernameBytes: number): number {
  return OP_HEADER_LENGTH + 8 + 32 + originBytes + usernameBytes + topicBytes + payloadBytes;
}

export function writeMessageOp(
  buf: Buffer,
  pos: number,
  storeId: number,
  expirySeconds: number,
  topic: string,
  topicBytes: number,
  payload: Uint8Array,
  origin: string,
  originBytes: number,
  username: string | undefined,
  usernameBytes: number,
  qos: number,
  retain: number,
  sourcePort = 0,
): number {
  const body = 32 + originBytes + usernameBytes + topicBytes + payload.length;
  buf[pos] = JournalOpCode.MESSAGE;
  buf.writeUInt32BE(8 + body, pos + 1);
  let p = pos + OP_HEADER_LENGTH;
  buf.writeUInt32BE(ChunkType.MSG_STORE, p);
  buf.writeUInt32BE(body, p + 4);
  p += 8;
  buf.writeUInt32LE(storeId % 0x1_0000_0000, p);
  buf.writeUInt32LE(Math.floor(storeId / 0x1_0000_0000), p + 4);
  buf.writeUInt32LE(expirySeconds % 0x1_0000_0000, p + 8);
  buf.writeUInt32LE(Math.floor(expirySeconds / 0x1_0000_0000), p + 12);
  buf.writeUInt32BE(payload.length, p + 16);
  buf.writeUInt16BE(0, p + 20);
  buf.writeUInt16BE(originBytes, p + 22);
  buf.writeUInt16BE(usernameBytes, p + 24);
  buf.writeUInt16BE(topicBytes, p + 26);
  buf.writeUInt16BE(sourcePort, p + 28);
  buf[p + 30] = qos;
  buf[p + 31] = retain;
  p += 32;
  if (originBytes > 0) p += putString(buf, p, origin, originBytes);
  if (usernameBytes > 0) p += putString(buf, p, username!, usernameBytes);
  p += putString(buf, p, topic, topicBytes);
  buf.set(payload, p);
  return p + payload.length;
}

/**
 * Writes `s` (`bytes` long in UTF-8) at `buf[p]`. A short ASCII string (UTF-8 length equal to
 * its UTF-16 length means ASCII: every other code point takes more bytes than units) is copied
 * by hand, which costs less than Buffer#write's checks for client ids and topics.
 */
function putString(buf: Buffer, p: number, s: string, bytes: number): number {
  if (bytes === s.length && bytes <= 64) {
    for (let i = 0; i < bytes; i++) buf[p + i] = s.charCodeAt(i);
    return bytes;
  }
  return buf.write(s, p, bytes, 'utf8');
}

/** Fast path for DEQUEUE / COMPLETE / RELEASED / STATE (state only for STATE). */
export function shortOpLength(code: JournalOpCode, clientId: Buffer): number {
  return OP_HEADER_LENGTH + (code === JournalOpCode.STATE ? 3 : 2) + clientId.length;
}

export function writeShortOp(buf: Buffer, pos: number, code: JournalOpCode, clientId: Buffer, mid: number, state = 0): number {
  const extra = code === JournalOpCode.STATE ? 3 : 2;
  buf[pos] = code;
  buf.writeUInt32BE(extra + clientId.length, pos + 1);
  const p = pos + OP_HEADER_LENGTH;
  buf.writeUInt16BE(mid, p);
  if (extra === 3) buf[p + 2] = state;
  buf.set(clientId, p + extra);
  return p + extra + clientId.length;
}

/** An operation that cannot be decoded although its frame's checksum held: written by something else. */
export class JournalRecordError extends Error {
  override readonly name = 'JournalRecordError';
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

const EXPECTED_CHUNK: Partial<Record<number, number>> = {
  [JournalOpCode.MESSAGE]: ChunkType.MSG_STORE,
  [JournalOpCode.SESSION]: ChunkType.CLIENT,
  [JournalOpCode.SUBSCRIBE]: ChunkType.SUB,
  [JournalOpCode.CLIENT_MSG]: ChunkType.CLIENT_MSG,
};

/** What decoding carries from frame to frame of one file: the last QUEUE_MANY's sessions. */
export interface JournalDecodeState {
  lastFanout: readonly Buffer[] | null;
}

/**
 * Decodes the operations of one frame: `buf[start, end)`, at file offset `fileOffset`. Throws
 * JournalRecordError for an unknown code or a malformed body. `state` carries what QUEUE_SAME
 * refers to across the frames of one file (without it, a QUEUE_SAME is an error).
 */
export function decodeJournalOps(buf: Buffer, start: number, end: number, fileOffset: number, out: JournalRecord[], state?: JournalDecodeState): void {
  let p = start;
  while (p < end) {
    const at = fileOffset + (p - start);
    if (p + OP_HEADER_LENGTH > end) throw new JournalRecordError(`operation header cut short at offset ${at}`, at);
    const code = buf[p]!;
    const body = buf.readUInt32BE(p + 1);
    const b = p + OP_HEADER_LENGTH;
    const e = b + body;
    if (e > end) throw new JournalRecordError(`operation at offset ${at} runs past its frame`, at);
    const chunkType = EXPECTED_CHUNK[code];
    if (chunkType !== undefined) {
      let record: DbRecord;
      try {
        const r = decodeChunk(buf.subarray(b, e), 0, true, 6, at + OP_HEADER_LENGTH);
        if (r.kind !== 'chunk' || r.chunk.type !== chunkType || r.next !== body) throw new Error('bad chunk');
        record = r.chunk.record;
      } catch {
        throw new JournalRecordError(`malformed operation ${code} at offset ${at}`, at);
      }
      switch (code) {
        case JournalOpCode.MESSAGE: out.push({ op: 'message', record: record as MsgStoreRecord }); break;
        case JournalOpCode.SESSION: out.push({ op: 'session', record: record as ClientRecord }); break;
        case JournalOpCode.SUBSCRIBE: out.push({ op: 'subscribe', record: record as SubRecord }); break;
        default: out.push({ op: 'client_msg', record: record as ClientMsgRecord }); break;
      }
    } else {
      const copy = (s: number, t: number): Buffer => Buffer.from(buf.subarray(s, t));
      const need = (n: number): void => {
        if (body < n) throw new JournalRecordError(`operation ${code} at offset ${at} is too short`, at);
      };
      switch (code) {
        case JournalOpCode.SESSION_END:
          out.push({ op: 'session_end', clientId: copy(b, e) });
          break;
        case JournalOpCode.UNSUBSCRIBE: {
          need(2);
          const n = buf.readUInt16BE(b);
          if (2 + n > body) throw new JournalRecordError(`operation ${code} at offset ${at} is too short`, at);
          out.push({ op: 'unsubscribe', clientId: copy(b + 2, b + 2 + n), topic: copy(b + 2 + n, e) });
          break;
        }
        case JournalOpCode.RETAIN:
          if (body !== 8) throw new JournalRecordError(`operation ${code} at offset ${at} has the wrong size`, at);
          out.push({ op: 'retain', storeId: buf.readBigUInt64BE(b) });
          break;
        case JournalOpCode.DEQUEUE:
          need(2);
          out.push({ op: 'dequeue', mid: buf.readUInt16BE(b), clientId: copy(b + 2, e) });
          break;
        case JournalOpCode.COMPLETE:
          need(2);
          out.push({ op: 'complete', mid: buf.readUInt16BE(b), clientId: copy(b + 2, e) });
          break;
        case JournalOpCode.RELEASED:
          need(2);
          out.push({ op: 'released', mid: buf.readUInt16BE(b), clientId: copy(b + 2, e) });
          break;
        case JournalOpCode.STATE:
          need(3);
          out.push({ op: 'state', mid: buf.readUInt16BE(b), state: buf[b + 2]!, clientId: copy(b + 3, e) });
          break;
        case JournalOpCode.QUEUE_MANY: {
          need(QUEUE_MANY_FIXED);
          const clientIds: Buffer[] = [];
          let q = b + QUEUE_MANY_FIXED;
          while (q < e) {
            if (q + 2 > e) throw new JournalRecordError(`operation ${code} at offset ${at} is malformed`, at);
            const n = buf.readUInt16BE(q);
            if (q + 2 + n > e) throw new JournalRecordError(`operation ${code} at offset ${at} is malformed`, at);
            clientIds.push(copy(q + 2, q + 2 + n));
            q += 2 + n;
          }
          out.push({ op: 'queue_many', storeId: buf.readBigUInt64BE(b), qos: buf[b + 8]!, retain: buf[b + 9]!, clientIds });
          if (state !== undefined) state.lastFanout = clientIds;
          break;
        }
        case JournalOpCode.QUEUE_SAME: {
          if (body !== QUEUE_MANY_FIXED) throw new JournalRecordError(`operation ${code} at offset ${at} has the wrong size`, at);
          const clientIds = state?.lastFanout;
          if (clientIds === undefined || clientIds === null) throw new JournalRecordError(`operation ${code} at offset ${at} follows no QUEUE_MANY`, at);
          out.push({ op: 'queue_many', storeId: buf.readBigUInt64BE(b), qos: buf[b + 8]!, retain: buf[b + 9]!, clientIds });
          break;
        }
        default:
          throw new JournalRecordError(`unknown operation ${code} at offset ${at}`, at);
      }
    }
    p = e;
  }
}

/** Encodes operations as one frame (length, CRC32C, operations): what one group commit writes. */
export function encodeJournalFrame(records: readonly JournalRecord[]): Buffer {
  let total = FRAME_HEADER_LENGTH;
  for (const r of records) total += journalRecordLength(r);
  const buf = Buffer.alloc(total);
  let p = FRAME_HEADER_LENGTH;
  for (const r of records) p = writeJournalRecord(buf, p, r);
  sealFrame(buf, 0, total);
  return buf;
}

/** Fills in the frame header of the frame at `buf[start, end)` (its operations already written). */
export function sealFrame(buf: Buffer, start: number, end: number): void {
  buf.writeUInt32BE(end - start - FRAME_HEADER_LENGTH, start);
  const crc = crc32c(buf, start, start + 4);
  buf.writeUInt32BE(crc32c(buf, start + FRAME_HEADER_LENGTH, end, crc), start + 4);
}
