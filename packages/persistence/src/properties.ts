/**
 * MQTT v5 property blocks as Mosquitto stores them in MSG_STORE and CLIENT_MSG chunks: the
 * varint length prefix followed by the properties, encoded exactly as in a PUBLISH packet
 * [MQTT-2.2.2]. Values are kept as raw bytes so that a read/write round trip is lossless.
 */
import { isMosquittoUtf8 } from './utf8.js';

/** Property identifiers [MQTT-2.2.2.2]. */
export const PropertyId = {
  PAYLOAD_FORMAT_INDICATOR: 1,
  MESSAGE_EXPIRY_INTERVAL: 2,
  CONTENT_TYPE: 3,
  RESPONSE_TOPIC: 8,
  CORRELATION_DATA: 9,
  SUBSCRIPTION_IDENTIFIER: 11,
  SESSION_EXPIRY_INTERVAL: 17,
  ASSIGNED_CLIENT_IDENTIFIER: 18,
  SERVER_KEEP_ALIVE: 19,
  AUTHENTICATION_METHOD: 21,
  AUTHENTICATION_DATA: 22,
  REQUEST_PROBLEM_INFORMATION: 23,
  WILL_DELAY_INTERVAL: 24,
  REQUEST_RESPONSE_INFORMATION: 25,
  RESPONSE_INFORMATION: 26,
  SERVER_REFERENCE: 28,
  REASON_STRING: 31,
  RECEIVE_MAXIMUM: 33,
  TOPIC_ALIAS_MAXIMUM: 34,
  TOPIC_ALIAS: 35,
  MAXIMUM_QOS: 36,
  RETAIN_AVAILABLE: 37,
  USER_PROPERTY: 38,
  MAXIMUM_PACKET_SIZE: 39,
  WILDCARD_SUB_AVAILABLE: 40,
  SUBSCRIPTION_ID_AVAILABLE: 41,
  SHARED_SUB_AVAILABLE: 42,
} as const;

export type PropertyKind = 'byte' | 'u16' | 'u32' | 'varint' | 'string' | 'binary' | 'pair';

const KIND = new Map<number, PropertyKind>([
  [1, 'byte'], [23, 'byte'], [25, 'byte'], [36, 'byte'], [37, 'byte'], [40, 'byte'], [41, 'byte'], [42, 'byte'],
  [19, 'u16'], [33, 'u16'], [34, 'u16'], [35, 'u16'],
  [2, 'u32'], [17, 'u32'], [24, 'u32'], [39, 'u32'],
  [11, 'varint'],
  [3, 'string'], [8, 'string'], [18, 'string'], [21, 'string'], [26, 'string'], [28, 'string'], [31, 'string'],
  [9, 'binary'], [22, 'binary'],
  [38, 'pair'],
]);

/** The wire type of a property identifier, or undefined for an unknown identifier. */
export function propertyKind(identifier: number): PropertyKind | undefined {
  return KIND.get(identifier);
}

/** Properties allowed on a PUBLISH [MQTT-3.3.2.3], the command Mosquitto checks stored blocks against. */
const PUBLISH_PROPERTIES = new Set<number>([1, 2, 3, 8, 9, 11, 35, 38]);

/**
 * One property. Numeric kinds carry `value` as a number; strings and binary data as raw
 * bytes; a user property also has `name`.
 */
export type Property =
  | { readonly identifier: number; readonly value: number }
  | { readonly identifier: number; readonly value: Buffer; readonly name?: Buffer };

/** Why a property block was rejected; every one of these makes the chunk "corrupt". */
export class PropertyBlockError extends Error {
  override readonly name = 'PropertyBlockError';
}

function readVarint(buf: Buffer, pos: number): [value: number, next: number] {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 4; i++) {
    if (pos >= buf.length) throw new PropertyBlockError('truncated varint');
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return [value, pos];
    multiplier *= 128;
  }
  throw new PropertyBlockError('varint longer than 4 bytes');
}

function need(buf: Buffer, pos: number, n: number): void {
  if (pos + n > buf.length) throw new PropertyBlockError('property runs past the end of the chunk');
}

/**
 * Parses a stored property block (varint length + properties) the way Mosquitto does
 * (property__read_all with CMD_PUBLISH): properties are read while the declared length is
 * positive, bounded by the rest of the chunk; strings must be valid MQTT UTF-8; only PUBLISH
 * properties are accepted and none but user properties may repeat. Returns null for a block
 * that declares no properties.
 */
export function parsePropertyBlock(block: Buffer): Property[] | null {
  let [remaining, pos] = readVarint(block, 0);
  const out: Property[] = [];
  while (remaining > 0) {
    const start = pos;
    let identifier: number;
    [identifier, pos] = readVarint(block, pos);
    const kind = KIND.get(identifier);
    switch (kind) {
      case 'byte':
        need(block, pos, 1);
        out.push({ identifier, value: block[pos]! });
        pos += 1;
        break;
      case 'u16':
        need(block, pos, 2);
        out.push({ identifier, value: block.readUInt16BE(pos) });
        pos += 2;
        break;
      case 'u32':
        need(block, pos, 4);
        out.push({ identifier, value: block.readUInt32BE(pos) });
        pos += 4;
        break;
      case 'varint': {
        let v: number;
        [v, pos] = readVarint(block, pos);
        out.push({ identifier, value: v });
        break;
      }
      case 'string':
      case 'binary': {
        need(block, pos, 2);
        const len = block.readUInt16BE(pos);
        need(block, pos + 2, len);
        if (kind === 'string' && !isMosquittoUtf8(block, pos + 2, pos + 2 + len)) {
          throw new PropertyBlockError('malformed UTF-8 in a string property');
        }
        out.push({ identifier, value: Buffer.from(block.subarray(pos + 2, pos + 2 + len)) });
        pos += 2 + len;
        break;
      }
      case 'pair': {
        need(block, pos, 2);
        const nlen = block.readUInt16BE(pos);
        need(block, pos + 2, nlen + 2);
        const vlen = block.readUInt16BE(pos + 2 + nlen);
        need(block, pos + 4 + nlen, vlen);
        if (!isMosquittoUtf8(block, pos + 2, pos + 2 + nlen) || !isMosquittoUtf8(block, pos + 4 + nlen, pos + 4 + nlen + vlen)) {
          throw new PropertyBlockError('malformed UTF-8 in a user property');
        }
        out.push({
          identifier,
          name: Buffer.from(block.subarray(pos + 2, pos + 2 + nlen)),
          value: Buffer.from(block.subarray(pos + 4 + nlen, pos + 4 + nlen + vlen)),
        });
        pos += 4 + nlen + vlen;
        break;
      }
      default:
        throw new PropertyBlockError(`unsupported property type ${identifier}`);
    }
    remaining -= pos - start;
  }
  checkPublishProperties(out);
  return out.length > 0 ? out : null;
}

function checkPublishProperties(props: Property[]): void {
  for (let i = 0; i < props.length; i++) {
    const p = props[i]!;
    if (!PUBLISH_PROPERTIES.has(p.identifier)) throw new PropertyBlockError(`property ${p.identifier} not allowed on PUBLISH`);
    // [MQTT-3.3.2-8] a Topic Alias of 0 is a protocol error.
    if (p.identifier === PropertyId.TOPIC_ALIAS && p.value === 0) throw new PropertyBlockError('topic alias 0');
    if (p.identifier === PropertyId.USER_PROPERTY) continue;
    for (let j = i + 1; j < props.length; j++) {
      if (props[j]!.identifier === p.identifier) throw new PropertyBlockError(`duplicate property ${p.identifier}`);
    }
  }
}

function varintLength(n: number): number {
  if (n < 128) return 1;
  if (n < 16384) return 2;
  if (n < 2097152) return 3;
  return 4;
}

function propertyLength(p: Property): number {
  const kind = KIND.get(p.identifier);
  const v = p.value;
  switch (kind) {
    case 'byte': return 2;
    case 'u16': return 3;
    case 'u32': return 5;
    case 'varint': return 1 + varintLength(v as number);
    case 'string':
    case 'binary': return 3 + (v as Buffer).length;
    case 'pair': return 5 + (v as Buffer).length + ('name' in p && p.name ? p.name.length : 0);
    default: throw new RangeError(`unknown property identifier ${p.identifier}`);
  }
}

/** Bytes the block for `props` takes, varint prefix included (property__get_remaining_length). */
export function propertyBlockLength(props: readonly Property[]): number {
  let len = 0;
  for (const p of props) len += propertyLength(p);
  return varintLength(len) + len;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    buf[pos++] = byte;
  } while (n > 0);
  return pos;
}

/** Writes the block (varint length + properties) at `pos`; returns the position after it. */
export function writePropertyBlock(buf: Buffer, pos: number, props: readonly Property[]): number {
  let len = 0;
  for (const p of props) len += propertyLength(p);
  pos = writeVarint(buf, pos, len);
  for (const p of props) {
    buf[pos++] = p.identifier; // every identifier is < 128, so its varint is one byte
    const v = p.value;
    switch (KIND.get(p.identifier)) {
      case 'byte': buf[pos++] = v as number; break;
      case 'u16': buf.writeUInt16BE(v as number, pos); pos += 2; break;
      case 'u32': buf.writeUInt32BE(v as number, pos); pos += 4; break;
      case 'varint': pos = writeVarint(buf, pos, v as number); break;
      case 'string':
      case 'binary': {
        const b = v as Buffer;
        buf.writeUInt16BE(b.length, pos);
        b.copy(buf, pos + 2);
        pos += 2 + b.length;
        break;
      }
      case 'pair': {
        const name = ('name' in p && p.name) || Buffer.alloc(0);
        const b = v as Buffer;
        buf.writeUInt16BE(name.length, pos);
        name.copy(buf, pos + 2);
        pos += 2 + name.length;
        buf.writeUInt16BE(b.length, pos);
        b.copy(buf, pos + 2);
        pos += 2 + b.length;
        break;
      }
      default:
        throw new RangeError(`unknown property identifier ${p.identifier}`);
    }
  }
  return pos;
}
