/**
 * MQTT 5 properties, driven by the table in constants.ts: each property's wire type, the packets
 * it may appear in, and whether it may repeat. Decoding validates all three, plus the value rules
 * the spec gives per property; encoding writes properties in the key order of the object.
 */
import { PacketType, PROPERTY_BY_ID, PROPERTY_BY_NAME, PropertyType, ReasonCode, WILL_PROPERTIES } from './constants.js';
import { ErrorCode, malformed, MqttProtocolError, protocolError } from './errors.js';
import type { Reader } from './reader.js';
import type { Properties, Role } from './types.js';
import {
  binaryLength,
  invalid,
  utf8Length,
  varintLength,
  writeBinary,
  writeU16,
  writeU32,
  writeUtf8,
  writeVarint,
} from './writer.js';

/** Byte properties that may only be 0 or 1 (spec 3.1.2.11, 3.2.2.3). */
const BOOLEAN_BYTE = new Set([0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2a]);

const where = (packetType: number): string =>
  packetType === WILL_PROPERTIES ? 'will properties' : `packet type ${packetType}`;

/**
 * Reads a property length and the properties after it. `packetType` is where they sit
 * (WILL_PROPERTIES for a will). The reader's bound is narrowed to the property block while
 * reading, so a value cannot run into the packet's payload.
 */
export function readProperties(r: Reader, packetType: number, role: Role): Properties {
  const len = r.varint('property length');
  const props: Properties = {};
  if (len === 0) return props;
  const outerEnd = r.end;
  const end = r.pos + len;
  if (end > outerEnd) throw r.truncated('properties');
  r.end = end;
  // Property ids are all below 64: two 32-bit masks record which were seen.
  let seenLo = 0;
  let seenHi = 0;
  // A property that is well-formed but not allowed here (wrong packet, repeated, bad value) is
  // remembered and thrown once the whole block has been read: a block that is also malformed
  // further on is a Malformed Packet first, as Mosquitto reads all properties before checking
  // any of them.
  let refused: MqttProtocolError | undefined;
  // User properties in more than one run (with other properties between): see PROPERTY_ORDER.
  const start = r.pos;
  let lastId = 0;
  let interleaved = false;
  while (r.pos < end) {
    const id = r.varint('property identifier');
    const desc = id < 256 ? PROPERTY_BY_ID[id] : undefined;
    if (desc === undefined) {
      throw malformed(ErrorCode.UnknownProperty, `Unknown property identifier 0x${id.toString(16)}`);
    }
    if (refused === undefined && !desc.allowedIn.has(packetType)) {
      // "A Control Packet which contains an Identifier which is not valid for its packet type"
      // "... is a Malformed Packet" (spec 2.2.2.2); a broker may answer it as a protocol error.
      refused = malformed(ErrorCode.PropertyNotAllowed, `Property ${desc.name} is not allowed in ${where(packetType)}`);
    }
    // Only a server sends several Subscription Identifiers in one PUBLISH (3.3.2.3.8).
    const repeatable = desc.repeatable && (id !== 0x0b || (packetType === PacketType.Publish && role !== 'server'));
    if (!repeatable) {
      const bit = 1 << (id & 31);
      if (id < 32) {
        if (seenLo & bit) refused ??= duplicate(desc.name);
        seenLo |= bit;
      } else {
        if (seenHi & bit) refused ??= duplicate(desc.name);
        seenHi |= bit;
      }
    }
    switch (desc.type) {
      case PropertyType.Byte: {
        const v = r.u8(desc.name);
        if (v > 1 && BOOLEAN_BYTE.has(id)) refused ??= badValue(desc.name, v);
        (props as Record<string, unknown>)[desc.name] = v;
        break;
      }
      case PropertyType.TwoByteInteger: {
        const v = r.u16(desc.name);
        if (v === 0) {
          // Receive Maximum 0 [MQTT-3.1.2-... "It is a Protocol Error"], Topic Alias 0 [MQTT-3.3.2-8].
          if (id === 0x21) refused ??= badValue(desc.name, v);
          if (id === 0x23) {
            refused ??= new MqttProtocolError(ErrorCode.InvalidPropertyValue, 'Topic Alias 0 is not permitted', ReasonCode.TopicAliasInvalid, 'MQTT-3.3.2-8');
          }
        }
        (props as Record<string, unknown>)[desc.name] = v;
        break;
      }
      case PropertyType.FourByteInteger: {
        const v = r.u32(desc.name);
        if (v === 0 && id === 0x27) refused ??= badValue(desc.name, v); // Maximum Packet Size 0
        (props as Record<string, unknown>)[desc.name] = v;
        break;
      }
      case PropertyType.VariableByteInteger: {
        // The only one is Subscription Identifier: 1..268,435,455 (spec 3.8.2.1.2). A client
        // must not put one in its PUBLISH [MQTT-3.3.4-6]; a server ignores it there, as
        // Mosquitto does (handle-publish drops it).
        const v = r.varint(desc.name);
        if (v === 0) refused ??= badValue(desc.name, v);
        (props.subscriptionIdentifiers ??= []).push(v);
        break;
      }
      case PropertyType.Utf8String:
        (props as Record<string, unknown>)[desc.name] = r.utf8(desc.name);
        break;
      case PropertyType.BinaryData:
        (props as Record<string, unknown>)[desc.name] = r.binary(desc.name);
        break;
      case PropertyType.Utf8StringPair: {
        const name = r.utf8('user property name');
        const value = r.utf8('user property value');
        if (props.userProperties === undefined) props.userProperties = [];
        else if (lastId !== 0x26) interleaved = true;
        props.userProperties.push([name, value]);
        break;
      }
    }
    lastId = id;
  }
  if (refused !== undefined) throw refused;
  r.end = outerEnd;
  if (interleaved) Object.defineProperty(props, PROPERTY_ORDER, { value: propertyIds(r.buf, start, end) });
  return props;
}

/**
 * The wire order of a decoded property block whose user properties came in more than one run
 * (e.g. a user property, a Content Type, another user property): the property identifiers in
 * order, one per property. Key order cannot say where the later runs were, and Mosquitto
 * forwards properties as they came, so writeProperties follows this when it is there. Set only
 * in that rare case, and not enumerable: decoded objects compare as before.
 */
export const PROPERTY_ORDER: unique symbol = Symbol('propertyOrder');

type OrderedProperties = Properties & { [PROPERTY_ORDER]?: readonly number[] };

/** Gives `to` (a copy of `from` with some properties dropped) the wire order of `from`, if any. */
export function keepPropertyOrder(from: Properties, to: Properties): void {
  const order = (from as OrderedProperties)[PROPERTY_ORDER];
  if (order !== undefined) Object.defineProperty(to, PROPERTY_ORDER, { value: order });
}

/** The identifiers of an already validated property block `buf[pos, end)`, in order. */
function propertyIds(buf: Buffer, pos: number, end: number): number[] {
  const ids: number[] = [];
  const skipVarint = (): void => {
    while (buf[pos++]! & 0x80);
  };
  while (pos < end) {
    const id = buf[pos]!; // every identifier is below 128: one byte
    skipVarint();
    ids.push(id);
    switch (PROPERTY_BY_ID[id]!.type) {
      case PropertyType.Byte: pos += 1; break;
      case PropertyType.TwoByteInteger: pos += 2; break;
      case PropertyType.FourByteInteger: pos += 4; break;
      case PropertyType.VariableByteInteger: skipVarint(); break;
      case PropertyType.Utf8String:
      case PropertyType.BinaryData: pos += 2 + buf.readUInt16BE(pos); break;
      case PropertyType.Utf8StringPair:
        pos += 2 + buf.readUInt16BE(pos);
        pos += 2 + buf.readUInt16BE(pos);
        break;
    }
  }
  return ids;
}

function duplicate(name: string): MqttProtocolError {
  return protocolError(ErrorCode.DuplicateProperty, `Property ${name} included more than once`, 'MQTT-2.2.2-2');
}

function badValue(name: string, v: number): MqttProtocolError {
  return protocolError(ErrorCode.InvalidPropertyValue, `Invalid value ${v} for property ${name}`);
}

/** Byte length of the property block's content (without its own length varint). */
export function propertiesLength(props: Properties | undefined): number {
  if (props === undefined) return 0;
  let n = 0;
  for (const key in props) {
    const value = (props as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const desc = PROPERTY_BY_NAME[key];
    if (desc === undefined) throw invalid(`Unknown property ${key}`);
    switch (desc.type) {
      case PropertyType.Byte:
        n += 2;
        break;
      case PropertyType.TwoByteInteger:
        n += 3;
        break;
      case PropertyType.FourByteInteger:
        n += 5;
        break;
      case PropertyType.VariableByteInteger:
        for (const id of value as number[]) n += 1 + varintLength(id);
        break;
      case PropertyType.Utf8String:
        n += 3 + utf8Length(value as string);
        break;
      case PropertyType.BinaryData:
        n += 3 + binaryLength(value as Uint8Array);
        break;
      case PropertyType.Utf8StringPair:
        for (const [k, v] of value as Array<[string, string]>) n += 5 + utf8Length(k) + utf8Length(v);
        break;
    }
  }
  return n;
}

/** Writes the property length `len` (from propertiesLength) and the properties. */
export function writeProperties(buf: Buffer, pos: number, props: Properties | undefined, len: number): number {
  pos = writeVarint(buf, pos, len);
  if (props === undefined || len === 0) return pos;
  const order = (props as OrderedProperties)[PROPERTY_ORDER];
  if (order !== undefined) return writeInOrder(buf, pos, props, order);
  for (const key in props) {
    const value = (props as Record<string, unknown>)[key];
    if (value === undefined) continue;
    pos = writeValue(buf, pos, PROPERTY_BY_NAME[key]!, value);
  }
  return pos;
}

/**
 * writeProperties for a block with PROPERTY_ORDER: each property where it came; what the order
 * does not name (added since) follows in key order.
 */
function writeInOrder(buf: Buffer, pos: number, props: Properties, order: readonly number[]): number {
  const values = props as Record<string, unknown>;
  const written = new Set<string>();
  const next: Record<string, number> = {};
  for (const id of order) {
    const desc = PROPERTY_BY_ID[id]!;
    const value = values[desc.name];
    if (value === undefined) continue;
    if (desc.type === PropertyType.Utf8StringPair || desc.type === PropertyType.VariableByteInteger) {
      // Repeated properties: the next one of the list.
      const list = value as unknown[];
      const i = next[desc.name] ?? 0;
      if (i >= list.length) continue;
      next[desc.name] = i + 1;
      pos = writeValue(buf, pos, desc, [list[i]]);
    } else if (!written.has(desc.name)) {
      written.add(desc.name);
      pos = writeValue(buf, pos, desc, value);
    }
  }
  for (const key in props) {
    const value = values[key];
    if (value === undefined || written.has(key)) continue;
    const list = Array.isArray(value) ? value.slice(next[key] ?? 0) : value;
    pos = writeValue(buf, pos, PROPERTY_BY_NAME[key]!, list);
  }
  return pos;
}

/** One property (every value of a repeated one), at `pos`; returns the end. */
function writeValue(buf: Buffer, pos: number, desc: { id: number; type: PropertyType }, value: unknown): number {
  const id = desc.id;
  switch (desc.type) {
    case PropertyType.Byte:
      buf[pos++] = id;
      buf[pos++] = value as number;
      break;
    case PropertyType.TwoByteInteger:
      buf[pos++] = id;
      pos = writeU16(buf, pos, value as number);
      break;
    case PropertyType.FourByteInteger:
      buf[pos++] = id;
      pos = writeU32(buf, pos, value as number);
      break;
    case PropertyType.VariableByteInteger:
      for (const v of value as number[]) {
        buf[pos++] = id;
        pos = writeVarint(buf, pos, v);
      }
      break;
    case PropertyType.Utf8String: {
      buf[pos++] = id;
      const s = value as string;
      pos = writeUtf8(buf, pos, s, Buffer.byteLength(s, 'utf8'));
      break;
    }
    case PropertyType.BinaryData:
      buf[pos++] = id;
      pos = writeBinary(buf, pos, value as Uint8Array);
      break;
    case PropertyType.Utf8StringPair:
      for (const [k, v] of value as Array<[string, string]>) {
        buf[pos++] = id;
        pos = writeUtf8(buf, pos, k, Buffer.byteLength(k, 'utf8'));
        pos = writeUtf8(buf, pos, v, Buffer.byteLength(v, 'utf8'));
      }
      break;
  }
  return pos;
}

/** Length of a property block on the wire: its length varint plus its content. */
export function propertyBlockLength(contentLength: number): number {
  return varintLength(contentLength) + contentLength;
}
