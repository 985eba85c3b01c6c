/**
 * Translation between the codec's packet model and mqtt-packet 9's object model, for the
 * differential tests and the benchmark. mqtt-packet differs in:
 * - `cmd` names instead of numeric types, `messageId` instead of `packetId`, `protocolId`
 *   instead of `protocolName`, `bridgeMode` instead of `bridge`;
 * - CONNACK `returnCode` (3.x) / `reasonCode` (5.0); SUBACK/UNSUBACK `granted`; UNSUBSCRIBE
 *   `unsubscriptions`; subscription options `nl`/`rap`/`rh`;
 * - properties: `subscriptionIdentifier` (a number, or an array when repeated),
 *   `subscriptionIdentifiersAvailable` (plural), the byte-valued flags as booleans, and
 *   `userProperties` as an object { name: value | value[] } (grouped by name, see
 *   GeneratorOptions.mqttPacket);
 * - a decoded packet has `properties` only when some were present.
 */
import mqttPacket from 'mqtt-packet';
import { PacketType, type ProtocolVersion } from '../../src/constants.js';
import type { Packet, Properties, QoS, Subscription, UserProperties } from '../../src/types.js';

export type MqttPacketObject = mqttPacket.Packet;
type Loose = Record<string, unknown>;

const CMD_BY_TYPE: Record<number, string> = {
  1: 'connect',
  2: 'connack',
  3: 'publish',
  4: 'puback',
  5: 'pubrec',
  6: 'pubrel',
  7: 'pubcomp',
  8: 'subscribe',
  9: 'suback',
  10: 'unsubscribe',
  11: 'unsuback',
  12: 'pingreq',
  13: 'pingresp',
  14: 'disconnect',
  15: 'auth',
};
const TYPE_BY_CMD: Record<string, number> = Object.fromEntries(
  Object.entries(CMD_BY_TYPE).map(([t, c]) => [c, Number(t)]),
);

/** Our property names that mqtt-packet spells differently. */
const NAME_TO_MQTT_PACKET: Record<string, string> = {
  subscriptionIdentifiers: 'subscriptionIdentifier',
  subscriptionIdentifierAvailable: 'subscriptionIdentifiersAvailable',
};
const NAME_FROM_MQTT_PACKET: Record<string, string> = Object.fromEntries(
  Object.entries(NAME_TO_MQTT_PACKET).map(([a, b]) => [b, a]),
);

/** Properties mqtt-packet reads and writes as booleans (its 'byte' type). Maximum QoS is a number. */
const BOOLEAN_PROPERTIES = new Set([
  'payloadFormatIndicator',
  'requestProblemInformation',
  'requestResponseInformation',
  'retainAvailable',
  'wildcardSubscriptionAvailable',
  'subscriptionIdentifierAvailable',
  'sharedSubscriptionAvailable',
]);

export function toMqttPacketProperties(props: Properties): Loose {
  const out: Loose = {};
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined) continue;
    const mpName = NAME_TO_MQTT_PACKET[name] ?? name;
    if (name === 'userProperties') {
      const grouped: Record<string, string | string[]> = Object.create(null);
      for (const [k, v] of value as UserProperties) {
        const prev = grouped[k];
        if (prev === undefined) grouped[k] = v;
        else if (Array.isArray(prev)) prev.push(v);
        else grouped[k] = [prev, v];
      }
      out[mpName] = grouped;
    } else if (name === 'subscriptionIdentifiers') {
      const ids = value as number[];
      out[mpName] = ids.length === 1 ? ids[0] : ids.slice();
    } else if (BOOLEAN_PROPERTIES.has(name)) {
      out[mpName] = value === 1;
    } else if (value instanceof Uint8Array) {
      out[mpName] = Buffer.from(value);
    } else {
      out[mpName] = value;
    }
  }
  return out;
}

export function fromMqttPacketProperties(mp: unknown): Properties {
  const out: Record<string, unknown> = {};
  if (mp === undefined || mp === null) return out as Properties;
  for (const name of Object.keys(mp as Loose)) {
    const value = (mp as Loose)[name];
    if (value === undefined) continue;
    const ourName = NAME_FROM_MQTT_PACKET[name] ?? name;
    if (ourName === 'userProperties') {
      // mqtt-packet writes and reads names in own-property order, values of a name together.
      const pairs: UserProperties = [];
      const obj = value as Record<string, string | string[]>;
      for (const k of Object.getOwnPropertyNames(obj)) {
        const v = obj[k];
        if (Array.isArray(v)) for (const one of v) pairs.push([k, one]);
        else if (v !== undefined) pairs.push([k, v]);
      }
      out[ourName] = pairs;
    } else if (ourName === 'subscriptionIdentifiers') {
      out[ourName] = Array.isArray(value) ? value.slice() : [value];
    } else if (BOOLEAN_PROPERTIES.has(ourName)) {
      out[ourName] = value === true ? 1 : 0;
    } else {
      out[ourName] = value;
    }
  }
  return out as Properties;
}

function optionalProperties(props: Properties | undefined): Loose | undefined {
  if (props === undefined || Object.keys(props).length === 0) return undefined;
  return toMqttPacketProperties(props);
}

/**
 * Our packet as an mqtt-packet object for `version`. Empty properties are left out, which makes
 * mqtt-packet write the canonical (shortest) PUBACK-family packets.
 */
export function toMqttPacket(packet: Packet, version: ProtocolVersion): MqttPacketObject {
  const cmd = CMD_BY_TYPE[packet.type];
  const o: Loose = { cmd };
  const v5 = version === 5;
  switch (packet.type) {
    case PacketType.Connect: {
      o['protocolId'] = packet.protocolName;
      o['protocolVersion'] = packet.protocolVersion;
      if (packet.bridge) o['bridgeMode'] = true;
      o['clean'] = packet.clean;
      o['keepalive'] = packet.keepalive;
      o['clientId'] = packet.clientId;
      if (packet.will) {
        const will: Loose = {
          topic: packet.will.topic,
          payload: Buffer.from(packet.will.payload),
          qos: packet.will.qos,
          retain: packet.will.retain,
        };
        const wp = v5 ? optionalProperties(packet.will.properties) : undefined;
        if (wp) will['properties'] = wp;
        o['will'] = will;
      }
      if (packet.username !== undefined) o['username'] = packet.username;
      if (packet.password !== undefined) o['password'] = Buffer.from(packet.password);
      break;
    }
    case PacketType.Connack:
      o['sessionPresent'] = packet.sessionPresent;
      o[v5 ? 'reasonCode' : 'returnCode'] = packet.reasonCode;
      break;
    case PacketType.Publish:
      o['topic'] = packet.topic;
      o['payload'] = Buffer.from(packet.payload);
      o['qos'] = packet.qos;
      o['retain'] = packet.retain;
      o['dup'] = packet.dup;
      if (packet.qos > 0) o['messageId'] = packet.packetId;
      break;
    case PacketType.Puback:
    case PacketType.Pubrec:
    case PacketType.Pubrel:
    case PacketType.Pubcomp:
      o['messageId'] = packet.packetId;
      if (v5) o['reasonCode'] = packet.reasonCode;
      break;
    case PacketType.Subscribe:
      o['messageId'] = packet.packetId;
      o['subscriptions'] = packet.subscriptions.map((s) =>
        v5 ? { topic: s.topic, qos: s.qos, nl: s.noLocal, rap: s.retainAsPublished, rh: s.retainHandling } : { topic: s.topic, qos: s.qos },
      );
      break;
    case PacketType.Suback:
      o['messageId'] = packet.packetId;
      o['granted'] = packet.reasonCodes.slice();
      break;
    case PacketType.Unsubscribe:
      o['messageId'] = packet.packetId;
      o['unsubscriptions'] = packet.topics.slice();
      break;
    case PacketType.Unsuback:
      o['messageId'] = packet.packetId;
      if (v5) o['granted'] = packet.reasonCodes.slice();
      break;
    case PacketType.Pingreq:
    case PacketType.Pingresp:
      break;
    case PacketType.Disconnect:
    case PacketType.Auth:
      if (v5) o['reasonCode'] = packet.reasonCode;
      break;
  }
  if (v5 && 'properties' in packet) {
    const props = optionalProperties(packet.properties);
    if (props) o['properties'] = props;
  }
  return o as unknown as MqttPacketObject;
}

/** An mqtt-packet object (as its parser emits it) in our model, decoded as `version`. */
export function fromMqttPacket(mp: MqttPacketObject, version: ProtocolVersion): Packet {
  const o = mp as unknown as Loose;
  const type = TYPE_BY_CMD[String(o['cmd'])];
  if (type === undefined) throw new Error(`unknown mqtt-packet cmd ${String(o['cmd'])}`);
  const v5 = version === 5;
  const props = (): { properties?: Properties } => (v5 ? { properties: fromMqttPacketProperties(o['properties']) } : {});
  const id = (): number => Number(o['messageId']);
  switch (type) {
    case PacketType.Connect: {
      const connectVersion = Number(o['protocolVersion']) as ProtocolVersion;
      const p: Packet = {
        type: PacketType.Connect,
        protocolName: String(o['protocolId']),
        protocolVersion: connectVersion,
        bridge: o['bridgeMode'] === true,
        clean: o['clean'] === true,
        keepalive: Number(o['keepalive']),
        clientId: String(o['clientId']),
      };
      const will = o['will'] as Loose | undefined;
      if (will) {
        p.will = {
          topic: String(will['topic']),
          payload: will['payload'] as Buffer,
          qos: Number(will['qos']) as QoS,
          retain: will['retain'] === true,
        };
        if (connectVersion === 5) p.will.properties = fromMqttPacketProperties(will['properties']);
      }
      if (o['username'] !== undefined) p.username = String(o['username']);
      if (o['password'] !== undefined) p.password = o['password'] as Buffer;
      if (connectVersion === 5) p.properties = fromMqttPacketProperties(o['properties']);
      return p;
    }
    case PacketType.Connack:
      return {
        type: PacketType.Connack,
        sessionPresent: o['sessionPresent'] === true,
        reasonCode: Number(v5 ? o['reasonCode'] : o['returnCode']),
        ...props(),
      };
    case PacketType.Publish: {
      const qos = Number(o['qos']) as QoS;
      return {
        type: PacketType.Publish,
        topic: String(o['topic']),
        payload: o['payload'] as Buffer,
        qos,
        retain: o['retain'] === true,
        dup: o['dup'] === true,
        packetId: qos > 0 ? id() : 0,
        ...props(),
      };
    }
    case PacketType.Puback:
    case PacketType.Pubrec:
    case PacketType.Pubrel:
    case PacketType.Pubcomp:
      return {
        type: type as 4 | 5 | 6 | 7,
        packetId: id(),
        reasonCode: v5 ? Number(o['reasonCode'] ?? 0) : 0,
        ...props(),
      };
    case PacketType.Subscribe:
      return {
        type: PacketType.Subscribe,
        packetId: id(),
        subscriptions: (o['subscriptions'] as Loose[]).map(
          (s): Subscription => ({
            topic: String(s['topic']),
            qos: Number(s['qos']) as QoS,
            noLocal: v5 ? s['nl'] === true : false,
            retainAsPublished: v5 ? s['rap'] === true : false,
            retainHandling: (v5 ? Number(s['rh'] ?? 0) : 0) as 0 | 1 | 2,
          }),
        ),
        ...props(),
      };
    case PacketType.Suback:
      return { type: PacketType.Suback, packetId: id(), reasonCodes: (o['granted'] as number[]).slice(), ...props() };
    case PacketType.Unsubscribe:
      return { type: PacketType.Unsubscribe, packetId: id(), topics: (o['unsubscriptions'] as string[]).slice(), ...props() };
    case PacketType.Unsuback:
      return {
        type: PacketType.Unsuback,
        packetId: id(),
        reasonCodes: v5 ? ((o['granted'] as number[] | undefined) ?? []).slice() : [],
        ...props(),
      };
    case PacketType.Pingreq:
      return { type: PacketType.Pingreq };
    case PacketType.Pingresp:
      return { type: PacketType.Pingresp };
    case PacketType.Disconnect:
      return { type: PacketType.Disconnect, reasonCode: v5 ? Number(o['reasonCode'] ?? 0) : 0, ...props() };
    case PacketType.Auth:
      return { type: PacketType.Auth, reasonCode: Number(o['reasonCode'] ?? 0), ...props() };
    default:
      throw new Error(`unhandled type ${type}`);
  }
}

export interface MqttPacketParseResult {
  packets: MqttPacketObject[];
  error: Error | undefined;
  /** Bytes the parser kept buffered after the last packet. */
  leftover: number;
}

/** Parses `bytes` with a fresh mqtt-packet parser (fresh, because parsing a CONNECT makes the
 * parser adopt its settings, bridge mode included). */
export function mqttPacketParse(bytes: Buffer, version: ProtocolVersion): MqttPacketParseResult {
  const parser = mqttPacket.parser({ protocolVersion: version });
  const packets: MqttPacketObject[] = [];
  let error: Error | undefined;
  parser.on('packet', (p) => packets.push(p));
  parser.on('error', (e: Error) => {
    error ??= e;
  });
  const leftover = parser.parse(bytes);
  return { packets, error, leftover };
}

export function mqttPacketGenerate(packet: MqttPacketObject, version: ProtocolVersion): Buffer {
  return mqttPacket.generate(packet, { protocolVersion: version });
}
