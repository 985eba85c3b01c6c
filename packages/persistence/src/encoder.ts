/**
 * Encoding of records as version 6 chunks, byte for byte as Mosquitto 2.0 lays them out
 * (persist_write_v5.c): 8-byte header (type, body length; both uint32 BE), then the fixed
 * C struct with 16/32-bit fields in network order, 64-bit fields in host order (little-endian)
 * and zeroed padding, then the variable parts without length prefixes, then for MSG_STORE and
 * CLIENT_MSG the property block when there are properties.
 */
import { ChunkType, DB_MAGIC, DB_VERSION, FixedSize, MAX_PAYLOAD } from './constants.js';
import { propertyBlockLength, writePropertyBlock } from './properties.js';
import type { DbRecord } from './records.js';

const len = (b: Buffer | null): number => (b === null ? 0 : b.length);

/** The 23-byte header of a version 6 file (CRC field 0, as Mosquitto writes it). */
export function encodeHeader(): Buffer {
  const buf = Buffer.alloc(23);
  DB_MAGIC.copy(buf, 0);
  buf.writeUInt32BE(DB_VERSION, 19);
  return buf;
}

/** Chunk type of a record. */
export function chunkTypeOf(record: DbRecord): number {
  switch (record.kind) {
    case 'cfg': return ChunkType.CFG;
    case 'msg_store': return ChunkType.MSG_STORE;
    case 'client_msg': return ChunkType.CLIENT_MSG;
    case 'retain': return ChunkType.RETAIN;
    case 'sub': return ChunkType.SUB;
    case 'client': return ChunkType.CLIENT;
  }
}

/** Body length of the chunk for `record` (what the chunk header announces). */
export function chunkBodyLength(record: DbRecord): number {
  switch (record.kind) {
    case 'cfg': return FixedSize.CFG;
    case 'msg_store':
      return FixedSize.MSG_STORE + len(record.sourceId) + len(record.sourceUsername) + len(record.topic) +
        record.payload.length + (record.properties && record.properties.length > 0 ? propertyBlockLength(record.properties) : 0);
    case 'client_msg':
      return FixedSize.CLIENT_MSG + len(record.clientId) +
        (record.properties && record.properties.length > 0 ? propertyBlockLength(record.properties) : 0);
    case 'retain': return FixedSize.RETAIN;
    case 'sub': return FixedSize.SUB + len(record.clientId) + len(record.topic);
    case 'client': return FixedSize.CLIENT_V6 + len(record.clientId) + len(record.username);
  }
}

function u16(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${name} must fit in 16 bits, got ${v}`);
  return v;
}

function put(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) return pos;
  buf.set(b, pos); // TypedArray#set: cheaper than Buffer#copy for the many short strings
  return pos + b.length;
}

/**
 * Writes the chunk for `record` at `buf[pos]`, header included; `buf` must have
 * 8 + chunkBodyLength(record) bytes from `pos` and be zero-filled there (padding stays 0).
 * Returns the position after the chunk.
 */
export function writeChunk(buf: Buffer, pos: number, record: DbRecord, bodyLength = chunkBodyLength(record)): number {
  buf.writeUInt32BE(chunkTypeOf(record), pos);
  buf.writeUInt32BE(bodyLength, pos + 4);
  const p = pos + 8;
  switch (record.kind) {
    case 'cfg':
      buf.writeBigUInt64LE(record.lastDbId, p);
      buf[p + 8] = record.shutdown;
      buf[p + 9] = record.dbidSize;
      return p + FixedSize.CFG;
    case 'msg_store': {
      // Mosquitto's loader rejects larger payloads (MQTT_MAX_PAYLOAD): never write a file it refuses.
      if (record.payload.length > MAX_PAYLOAD) throw new RangeError(`payload of ${record.payload.length} bytes exceeds ${MAX_PAYLOAD}`);
      buf.writeBigUInt64LE(record.storeId, p);
      buf.writeBigInt64LE(record.expiryTime, p + 8);
      buf.writeUInt32BE(record.payload.length, p + 16);
      buf.writeUInt16BE(u16('sourceMid', record.sourceMid), p + 20);
      buf.writeUInt16BE(u16('source id length', len(record.sourceId)), p + 22);
      buf.writeUInt16BE(u16('source username length', len(record.sourceUsername)), p + 24);
      buf.writeUInt16BE(u16('topic length', len(record.topic)), p + 26);
      buf.writeUInt16BE(u16('sourcePort', record.sourcePort), p + 28);
      buf[p + 30] = record.qos;
      buf[p + 31] = record.retain;
      let q = p + FixedSize.MSG_STORE;
      q = put(buf, q, record.sourceId);
      q = put(buf, q, record.sourceUsername);
      q = put(buf, q, record.topic);
      q = put(buf, q, record.payload);
      if (record.properties && record.properties.length > 0) q = writePropertyBlock(buf, q, record.properties);
      return q;
    }
    case 'client_msg': {
      buf.writeBigUInt64LE(record.storeId, p);
      buf.writeUInt16BE(u16('mid', record.mid), p + 8);
      buf.writeUInt16BE(u16('client id length', len(record.clientId)), p + 10);
      buf[p + 12] = record.qos;
      buf[p + 13] = record.state;
      buf[p + 14] = ((record.retain & 0x0f) << 4) | (record.dup & 0x0f);
      buf[p + 15] = record.direction;
      let q = put(buf, p + FixedSize.CLIENT_MSG, record.clientId);
      if (record.properties && record.properties.length > 0) q = writePropertyBlock(buf, q, record.properties);
      return q;
    }
    case 'retain':
      buf.writeBigUInt64LE(record.storeId, p);
      return p + FixedSize.RETAIN;
    case 'sub': {
      buf.writeUInt32BE(record.identifier >>> 0, p);
      buf.writeUInt16BE(u16('client id length', len(record.clientId)), p + 4);
      buf.writeUInt16BE(u16('topic length', len(record.topic)), p + 6);
      buf[p + 8] = record.qos;
      buf[p + 9] = record.options;
      let q = put(buf, p + FixedSize.SUB, record.clientId);
      q = put(buf, q, record.topic);
      return q;
    }
    case 'client': {
      buf.writeBigInt64LE(record.sessionExpiryTime, p);
      buf.writeUInt32BE(record.sessionExpiryInterval >>> 0, p + 8);
      buf.writeUInt16BE(u16('lastMid', record.lastMid), p + 12);
      buf.writeUInt16BE(u16('client id length', len(record.clientId)), p + 14);
      buf.writeUInt16BE(u16('listenerPort', record.listenerPort), p + 16);
      buf.writeUInt16BE(u16('username length', len(record.username)), p + 18);
      let q = put(buf, p + FixedSize.CLIENT_V6, record.clientId);
      q = put(buf, q, record.username);
      return q;
    }
  }
}

/** Encodes a whole version 6 file (header + chunks in the given order) into one Buffer. */
export function encodeDb(records: Iterable<DbRecord>): Buffer {
  const list = [...records];
  const lengths = list.map(chunkBodyLength);
  let total = 23;
  for (const l of lengths) total += 8 + l;
  const buf = Buffer.alloc(total);
  encodeHeader().copy(buf, 0);
  let pos = 23;
  for (let i = 0; i < list.length; i++) pos = writeChunk(buf, pos, list[i]!, lengths[i]!);
  return buf;
}
