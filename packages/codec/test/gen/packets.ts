/**
 * A seeded generator of VALID control packets in the codec's packet model, for every packet type
 * and protocol version: realistic MQTT 5 properties in random order, UTF-8 strings with 1- to
 * 4-byte characters, payloads of 0 to ~2000 bytes (rarely larger, to reach 3-byte remaining
 * lengths), every QoS and flag combination the spec allows.
 *
 * A generated packet is in the form the decoder returns, so `decode(encode(p))` must deep-equal
 * `p`: MQTT 5 packets always carry `properties` (maybe `{}`), MQTT 3.x packets never do.
 *
 * `mqttPacket` restricts the output to what mqtt-packet 9 can represent or generate
 * (see `GeneratorOptions`); everything else the spec allows stays in the unrestricted mode.
 */
import {
  PROPERTIES,
  PacketType,
  PropertyType,
  ReasonCodesByPacket,
  WILL_PROPERTIES,
  type ProtocolVersion,
} from '../../src/constants.js';
import type {
  ConnectPacket,
  Packet,
  Properties,
  PublishPacket,
  QoS,
  Subscription,
  UserProperties,
  Will,
} from '../../src/types.js';
import type { Random } from './random.js';

export interface GeneratorOptions {
  /**
   * Stay within what mqtt-packet 9 can represent, so a packet survives a trip through its object
   * model. 'parse': what its parser can return faithfully; 'generate': also what its generator
   * can write.
   * - 'parse', user properties: mqtt-packet keeps them in an object keyed by name, so all values
   *   of one name are grouped together and integer-like names ("1", "42") move to the front
   *   (JavaScript orders such keys first). Its parser also drops an empty value when the same
   *   name comes again (it tests the previous value for truthiness). Here names are
   *   non-numeric, each name's values are contiguous and non-empty.
   * - 'generate', CONNECT: mqtt-packet writes a wrong protocol level for the bridge bit on
   *   MQTT 5 (level 3 for 0x85), so the bit is only set on 3.x; and it refuses to write a
   *   password without a username, which MQTT 5 allows (3.1.2.9).
   */
  mqttPacket?: 'parse' | 'generate';
  /** Largest ordinary payload (default 2000). */
  maxPayload?: number;
}

/** Every packet type valid for a protocol version (AUTH only exists in MQTT 5). */
export function packetTypesFor(version: ProtocolVersion): number[] {
  const types: number[] = [];
  for (let t: number = PacketType.Connect; t <= PacketType.Auth; t++) {
    if (t === PacketType.Auth && version !== 5) continue;
    types.push(t);
  }
  return types;
}

// ---------------------------------------------------------------------------------------------
// Strings

/** Printable ASCII without the topic wildcards and separator, so one pool serves topics too. */
const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:;=~!@%&*()[]{}<>?,\' "$^|`';

/** One code point, picked from ranges of 1-, 2-, 3- and 4-byte UTF-8 encodings. Never U+0000
 * [MQTT-1.5.4-2], never a surrogate [MQTT-1.5.4-1], never '/', '+' or '#' (callers add those
 * deliberately). Control characters and non-characters are legal ("SHOULD NOT", [MQTT-1.5.4-3]
 * is about not rejecting them) and appear rarely. */
function codePoint(rng: Random): string {
  const r = rng.float();
  if (r < 0.6) return ASCII.charAt(rng.int(0, ASCII.length - 1));
  if (r < 0.75) return String.fromCodePoint(rng.int(0xa0, 0x7ff)); // 2 bytes
  if (r < 0.88) {
    // 3 bytes, outside the surrogate block D800-DFFF.
    const cp = rng.chance(0.5) ? rng.int(0x800, 0xd7ff) : rng.int(0xe000, 0xfffd);
    return String.fromCodePoint(cp);
  }
  if (r < 0.98) return String.fromCodePoint(rng.int(0x10000, 0x10ffff)); // 4 bytes, a surrogate pair in JS
  // Rare but legal: C0/C1 controls (not U+0000) and the non-characters U+FFFE/U+FFFF.
  return String.fromCodePoint(rng.pick([0x01, 0x09, 0x0a, 0x1f, 0x7f, 0x85, 0x9f, 0xfffe, 0xffff]));
}

/** A UTF-8 string of up to `maxChars` code points. */
export function utf8String(rng: Random, maxChars = 24): string {
  const n = rng.length(maxChars);
  let s = '';
  for (let i = 0; i < n; i++) s += codePoint(rng);
  return s;
}

function nonEmptyString(rng: Random, maxChars = 24): string {
  const s = utf8String(rng, maxChars);
  return s === '' ? codePoint(rng) : s;
}

/** A topic level: no '/', '+', '#' (a level of a topic name or of a filter). */
function topicLevel(rng: Random): string {
  const n = rng.chance(0.1) ? 0 : rng.int(1, 10);
  let s = '';
  for (let i = 0; i < n; i++) s += codePoint(rng);
  return s;
}

/** A valid, non-empty topic name: no wildcards [MQTT-3.3.2-2], at least one character
 * [MQTT-4.7.3-1]; empty levels and a leading '$' or '/' are legal. */
export function topicName(rng: Random): string {
  const levels = rng.int(1, 6);
  const parts: string[] = [];
  for (let i = 0; i < levels; i++) parts.push(topicLevel(rng));
  if (rng.chance(0.05)) parts[0] = rng.pick(['$SYS', '$aws', '$']);
  const s = parts.join('/');
  return s === '' ? 'a' : s;
}

/** A valid topic filter: '+' fills whole levels, '#' only as the last level [MQTT-4.7.1-1/2]. */
export function topicFilter(rng: Random, version: ProtocolVersion): string {
  if (version === 5 && rng.chance(0.1)) {
    // A shared subscription: the share name is non-empty and has no '/', '+' or '#'
    // [MQTT-4.8.2-1], and a filter follows it [MQTT-4.8.2-2].
    let group = '';
    const n = rng.int(1, 8);
    for (let i = 0; i < n; i++) group += codePoint(rng);
    return `$share/${group}/${plainTopicFilter(rng)}`;
  }
  return plainTopicFilter(rng);
}

function plainTopicFilter(rng: Random): string {
  if (rng.chance(0.03)) return '#';
  const levels = rng.int(1, 6);
  const parts: string[] = [];
  for (let i = 0; i < levels; i++) parts.push(rng.chance(0.2) ? '+' : topicLevel(rng));
  if (rng.chance(0.2)) parts.push('#');
  const s = parts.join('/');
  return s === '' ? 'a' : s;
}

export function isSharedFilter(filter: string): boolean {
  return filter.startsWith('$share/');
}

// ---------------------------------------------------------------------------------------------
// Properties

const NUMERIC_NAME = /^(0|[1-9][0-9]*)$/;

function userProperties(rng: Random, options: GeneratorOptions): UserProperties {
  const out: UserProperties = [];
  if (options.mqttPacket !== undefined) {
    const names = new Set<string>();
    const groups = rng.int(1, 4);
    for (let g = 0; g < groups; g++) {
      let name = utf8String(rng, 12);
      // Integer-like names would be reordered by mqtt-packet's object; '__proto__' cannot be a
      // plain own key.
      if (NUMERIC_NAME.test(name) || name === '__proto__' || names.has(name)) continue;
      names.add(name);
      const values = rng.chance(0.8) ? 1 : rng.int(2, 3);
      for (let v = 0; v < values; v++) out.push([name, nonEmptyString(rng, 24)]);
    }
    // Never an empty list: a decoded packet has no `userProperties` key when it carried none.
    if (out.length === 0) out.push(['k', nonEmptyString(rng, 24)]);
    return out;
  }
  // Names drawn partly from a small pool, so repeats and interleavings are common: the spec
  // keeps every pair in order and allows the same name more than once [MQTT-3.3.2-18].
  const pool = ['a', 'key', '1', '42', 'région', '日本', '🦟', ''];
  const n = rng.int(1, 6);
  for (let i = 0; i < n; i++) {
    const name = rng.chance(0.5) ? rng.pick(pool) : utf8String(rng, 12);
    out.push([name, utf8String(rng, 24)]);
  }
  return out;
}

function u32(rng: Random): number {
  return rng.pick([0, 1, 60, 3600, 0xffffffff, rng.next()]);
}

function u16(rng: Random): number {
  return rng.pick([0, 1, 10, 65535, rng.int(0, 65535)]);
}

/** A property value for a property that has no special rules, by wire type. */
function plainValue(rng: Random, type: number): unknown {
  switch (type) {
    case PropertyType.Byte:
      // Every MQTT 5 byte property is 0 or 1, Maximum QoS too (3.2.2.3.4 and the others).
      return rng.int(0, 1);
    case PropertyType.TwoByteInteger:
      return u16(rng);
    case PropertyType.FourByteInteger:
      return u32(rng);
    case PropertyType.Utf8String:
      return utf8String(rng, 30);
    case PropertyType.BinaryData:
      return rng.bytes(rng.length(40));
    default:
      throw new Error(`no plain value for property type ${type}`);
  }
}

export interface PropertyContext {
  /** A packet type, or WILL_PROPERTIES. */
  where: number;
  options: GeneratorOptions;
}

/**
 * Random properties allowed in `where`, each present with some probability, in random key
 * order (the encoder writes them in key order, so this also exercises wire order).
 */
export function properties(rng: Random, ctx: PropertyContext): Properties {
  const props: Record<string, unknown> = {};
  if (rng.chance(0.3)) return props;
  const density = rng.pick([0.1, 0.3, 0.6]);
  for (const d of rng.shuffle(PROPERTIES)) {
    if (!d.allowedIn.has(ctx.where)) continue;
    if (!rng.chance(density)) continue;
    switch (d.name) {
      case 'userProperties':
        props[d.name] = userProperties(rng, ctx.options);
        break;
      case 'subscriptionIdentifiers': {
        // SUBSCRIBE carries exactly one [MQTT-3.8.2.1.2]; a server-to-client PUBLISH one per
        // matching subscription. Zero is a Protocol Error (3.3.2.3.8, 3.8.2.1.2).
        const n = ctx.where === PacketType.Subscribe ? 1 : rng.int(1, 4);
        const ids: number[] = [];
        for (let i = 0; i < n; i++) ids.push(rng.pick([1, 127, 128, 16383, 16384, 268_435_455, rng.int(1, 268_435_455)]));
        props[d.name] = ids;
        break;
      }
      case 'topicAlias':
        props[d.name] = rng.int(1, 65535); // 0 is not a valid alias [MQTT-3.3.2-8]
        break;
      case 'receiveMaximum':
        props[d.name] = rng.int(1, 65535); // 0 is a Protocol Error (3.1.2.11.3)
        break;
      case 'maximumPacketSize':
        props[d.name] = rng.pick([1, 128, 268_435_460, 0xffffffff, rng.int(1, 0xffffffff)]); // 0 is a Protocol Error
        break;
      case 'responseTopic':
        props[d.name] = topicName(rng); // a topic name, no wildcards [MQTT-3.3.2-14]
        break;
      case 'authenticationData':
        break; // only together with a method, below
      default:
        props[d.name] = plainValue(rng, d.type);
    }
  }
  // Authentication Data without Authentication Method is a Protocol Error (3.1.2.11.10).
  if (props['authenticationMethod'] !== undefined && rng.chance(0.5)) {
    props['authenticationData'] = rng.bytes(rng.length(64));
  }
  return props as Properties;
}

// ---------------------------------------------------------------------------------------------
// Packets

function qos(rng: Random): QoS {
  return rng.int(0, 2) as QoS;
}

function packetId(rng: Random): number {
  return rng.pick([1, 2, 255, 256, 65535, rng.int(1, 65535)]); // never 0 [MQTT-2.2.1-3]
}

function reasonCode(rng: Random, type: number): number {
  const set = ReasonCodesByPacket[type];
  if (!set) throw new Error(`no reason codes for packet type ${type}`);
  // Success half the time, as in real traffic.
  return rng.chance(0.5) && set.has(0) ? 0 : rng.pick([...set]);
}

function payload(rng: Random, options: GeneratorOptions, utf8: boolean): Buffer {
  const max = options.maxPayload ?? 2000;
  // 1% larger, most of those past 16383 bytes: a 3-byte remaining length.
  const n = rng.chance(0.01) ? rng.int(max, 60_000) : rng.length(max);
  if (utf8) {
    const parts: string[] = [];
    for (let bytes = 0; bytes < n; ) {
      const c = codePoint(rng);
      parts.push(c);
      bytes += Buffer.byteLength(c);
    }
    return Buffer.from(parts.join(''), 'utf8');
  }
  return rng.bytes(n);
}

function withProperties<T extends object>(packet: T, rng: Random, version: ProtocolVersion, ctx: PropertyContext): T {
  if (version !== 5) return packet;
  return { ...packet, properties: properties(rng, ctx) };
}

function connect(rng: Random, version: ProtocolVersion, options: GeneratorOptions): ConnectPacket {
  // MQTT 3.1 client ids are 1 to 23 characters; 3.1.1 and 5.0 allow empty ones, but only with
  // a clean session in 3.1.1 [MQTT-3.1.3-7]; in 5.0 an empty id without Clean Start is refused
  // by the server with a CONNACK, and mqtt-packet refuses to generate it: kept out here.
  let clientId = version === 3 ? nonEmptyString(rng, 23) : utf8String(rng, 30);
  if (version === 3) while (clientId.length > 23) clientId = clientId.slice(0, -1);
  // Do not leave half a surrogate pair behind after slicing.
  if (/[\ud800-\udbff]$/.test(clientId)) clientId = clientId.slice(0, -1) || 'c';
  const clean = clientId === '' ? true : rng.bool();
  const packet: ConnectPacket = {
    type: PacketType.Connect,
    protocolName: version === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion: version,
    // Mosquitto accepts the bridge bit on any level; mqtt-packet writes it only on 3.x.
    bridge: (version !== 5 || options.mqttPacket !== 'generate') && rng.chance(0.1),
    clean,
    keepalive: u16(rng),
    clientId,
  };
  if (version === 5) packet.properties = properties(rng, { where: PacketType.Connect, options });
  if (rng.chance(0.4)) {
    const will: Will = {
      topic: topicName(rng),
      payload: Buffer.alloc(0),
      qos: qos(rng),
      retain: rng.bool(),
    };
    if (version === 5) will.properties = properties(rng, { where: WILL_PROPERTIES, options });
    will.payload = payload(rng, { maxPayload: 300 }, will.properties?.payloadFormatIndicator === 1);
    packet.will = will;
  }
  const username = rng.chance(0.5);
  // A password needs a username before MQTT 5 [MQTT-3.1.2-22]; 5.0 allows it alone.
  const password = username ? rng.chance(0.5) : version === 5 && options.mqttPacket !== 'generate' && rng.chance(0.2);
  if (username) packet.username = utf8String(rng, 20);
  if (password) packet.password = rng.bytes(rng.length(40));
  return packet;
}

function subscription(rng: Random, version: ProtocolVersion): Subscription {
  const topic = topicFilter(rng, version);
  if (version !== 5) return { topic, qos: qos(rng), noLocal: false, retainAsPublished: false, retainHandling: 0 };
  return {
    topic,
    qos: qos(rng),
    // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
    noLocal: isSharedFilter(topic) ? false : rng.bool(),
    retainAsPublished: rng.bool(),
    retainHandling: rng.int(0, 2) as 0 | 1 | 2,
  };
}

/** One valid packet of `type` (random when omitted) for `version`. */
export function generatePacket(
  rng: Random,
  version: ProtocolVersion,
  type: number = rng.pick(packetTypesFor(version)),
  options: GeneratorOptions = {},
): Packet {
  const ctx = { where: type, options };
  switch (type) {
    case PacketType.Connect:
      return connect(rng, version, options);
    case PacketType.Connack: {
      // v3.x return codes 0-5; a refusal never has Session Present [MQTT-3.2.2-4], [MQTT-3.2.2-6].
      const code = version === 5 ? reasonCode(rng, type) : rng.chance(0.5) ? 0 : rng.int(1, 5);
      const sessionPresent = code === 0 && version !== 3 ? rng.bool() : false;
      return withProperties({ type: PacketType.Connack, sessionPresent, reasonCode: code }, rng, version, ctx);
    }
    case PacketType.Publish: {
      const q = qos(rng);
      const base: PublishPacket = {
        type: PacketType.Publish,
        topic: topicName(rng),
        payload: Buffer.alloc(0),
        qos: q,
        retain: rng.bool(),
        dup: q > 0 ? rng.bool() : false, // DUP must be 0 for QoS 0 [MQTT-3.3.1-2]
        packetId: q > 0 ? packetId(rng) : 0,
      };
      const packet = withProperties(base, rng, version, ctx);
      // With a Topic Alias the topic may be empty (3.3.2.3.4).
      if (packet.properties?.topicAlias !== undefined && rng.chance(0.4)) packet.topic = '';
      packet.payload = payload(rng, options, packet.properties?.payloadFormatIndicator === 1);
      return packet;
    }
    case PacketType.Puback:
    case PacketType.Pubrec:
    case PacketType.Pubrel:
    case PacketType.Pubcomp:
      return withProperties(
        { type: type as 4 | 5 | 6 | 7, packetId: packetId(rng), reasonCode: version === 5 ? reasonCode(rng, type) : 0 },
        rng,
        version,
        ctx,
      );
    case PacketType.Subscribe: {
      const subscriptions: Subscription[] = [];
      const n = rng.int(1, 5); // at least one [MQTT-3.8.3-3]
      for (let i = 0; i < n; i++) subscriptions.push(subscription(rng, version));
      return withProperties({ type: PacketType.Subscribe, packetId: packetId(rng), subscriptions }, rng, version, ctx);
    }
    case PacketType.Suback: {
      const n = rng.int(1, 5);
      const codes: number[] = [];
      for (let i = 0; i < n; i++) {
        if (version === 5) codes.push(reasonCode(rng, type));
        else if (version === 4) codes.push(rng.pick([0, 1, 2, 0x80]));
        else codes.push(rng.int(0, 2)); // MQTT 3.1 has no failure code
      }
      return withProperties({ type: PacketType.Suback, packetId: packetId(rng), reasonCodes: codes }, rng, version, ctx);
    }
    case PacketType.Unsubscribe: {
      const topics: string[] = [];
      const n = rng.int(1, 5); // at least one [MQTT-3.10.3-2]
      for (let i = 0; i < n; i++) topics.push(topicFilter(rng, version));
      return withProperties({ type: PacketType.Unsubscribe, packetId: packetId(rng), topics }, rng, version, ctx);
    }
    case PacketType.Unsuback: {
      const codes: number[] = [];
      if (version === 5) {
        const n = rng.int(1, 5);
        for (let i = 0; i < n; i++) codes.push(reasonCode(rng, type));
      }
      return withProperties({ type: PacketType.Unsuback, packetId: packetId(rng), reasonCodes: codes }, rng, version, ctx);
    }
    case PacketType.Pingreq:
      return { type: PacketType.Pingreq };
    case PacketType.Pingresp:
      return { type: PacketType.Pingresp };
    case PacketType.Disconnect:
      return withProperties(
        { type: PacketType.Disconnect, reasonCode: version === 5 ? reasonCode(rng, type) : 0 },
        rng,
        version,
        ctx,
      );
    case PacketType.Auth: {
      if (version !== 5) throw new Error('AUTH exists only in MQTT 5');
      const props = properties(rng, ctx);
      // The Authentication Method is required in AUTH (3.15.2.2.2); put it first or keep the
      // generated position.
      if (props.authenticationMethod === undefined) {
        const rest = props;
        const withMethod: Properties = { authenticationMethod: nonEmptyString(rng, 16), ...rest };
        return { type: PacketType.Auth, reasonCode: reasonCode(rng, type), properties: withMethod };
      }
      return { type: PacketType.Auth, reasonCode: reasonCode(rng, type), properties: props };
    }
    default:
      throw new Error(`unknown packet type ${type}`);
  }
}
