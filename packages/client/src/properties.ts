/**
 * MQTT 5 properties by Mosquitto's names (`-D` arguments, `%j` JSON keys), with their wire type,
 * the packets the protocol allows them in [MQTT-2.2.2], and the key MQTT.js uses for them.
 */

export type PropertyType = 'byte' | 'uint16' | 'uint32' | 'varint' | 'string' | 'binary' | 'pair';

/** The packet names Mosquitto's `-D` accepts (`will` stands for the will properties of CONNECT). */
export const PROPERTY_COMMANDS = [
  'connect',
  'connack',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'unsubscribe',
  'disconnect',
  'auth',
  'will',
] as const;
export type PropertyCommand = (typeof PROPERTY_COMMANDS)[number];

export interface PropertyDefinition {
  readonly id: number;
  readonly name: string;
  readonly type: PropertyType;
  /** MQTT.js / mqtt-packet property key. */
  readonly key: string;
  readonly commands: readonly string[];
}

const ACKS = ['puback', 'pubrec', 'pubrel', 'pubcomp'];

export const PROPERTIES: readonly PropertyDefinition[] = [
  { id: 1, name: 'payload-format-indicator', type: 'byte', key: 'payloadFormatIndicator', commands: ['publish', 'will'] },
  { id: 2, name: 'message-expiry-interval', type: 'uint32', key: 'messageExpiryInterval', commands: ['publish', 'will'] },
  { id: 3, name: 'content-type', type: 'string', key: 'contentType', commands: ['publish', 'will'] },
  { id: 8, name: 'response-topic', type: 'string', key: 'responseTopic', commands: ['publish', 'will'] },
  { id: 9, name: 'correlation-data', type: 'binary', key: 'correlationData', commands: ['publish', 'will'] },
  { id: 11, name: 'subscription-identifier', type: 'varint', key: 'subscriptionIdentifier', commands: ['publish', 'subscribe'] },
  { id: 17, name: 'session-expiry-interval', type: 'uint32', key: 'sessionExpiryInterval', commands: ['connect', 'connack', 'disconnect'] },
  { id: 18, name: 'assigned-client-identifier', type: 'string', key: 'assignedClientIdentifier', commands: ['connack'] },
  { id: 19, name: 'server-keep-alive', type: 'uint16', key: 'serverKeepAlive', commands: ['connack'] },
  { id: 21, name: 'authentication-method', type: 'string', key: 'authenticationMethod', commands: ['connect', 'connack', 'auth'] },
  { id: 22, name: 'authentication-data', type: 'binary', key: 'authenticationData', commands: ['connect', 'connack', 'auth'] },
  { id: 23, name: 'request-problem-information', type: 'byte', key: 'requestProblemInformation', commands: ['connect'] },
  { id: 24, name: 'will-delay-interval', type: 'uint32', key: 'willDelayInterval', commands: ['will'] },
  { id: 25, name: 'request-response-information', type: 'byte', key: 'requestResponseInformation', commands: ['connect'] },
  { id: 26, name: 'response-information', type: 'string', key: 'responseInformation', commands: ['connack'] },
  { id: 28, name: 'server-reference', type: 'string', key: 'serverReference', commands: ['connack', 'disconnect'] },
  { id: 31, name: 'reason-string', type: 'string', key: 'reasonString', commands: ['connack', ...ACKS, 'disconnect', 'auth'] },
  { id: 33, name: 'receive-maximum', type: 'uint16', key: 'receiveMaximum', commands: ['connect', 'connack'] },
  { id: 34, name: 'topic-alias-maximum', type: 'uint16', key: 'topicAliasMaximum', commands: ['connect', 'connack'] },
  { id: 35, name: 'topic-alias', type: 'uint16', key: 'topicAlias', commands: ['publish'] },
  { id: 36, name: 'maximum-qos', type: 'byte', key: 'maximumQoS', commands: ['connack'] },
  { id: 37, name: 'retain-available', type: 'byte', key: 'retainAvailable', commands: ['connack'] },
  { id: 38, name: 'user-property', type: 'pair', key: 'userProperties', commands: [...PROPERTY_COMMANDS] },
  { id: 39, name: 'maximum-packet-size', type: 'uint32', key: 'maximumPacketSize', commands: ['connect', 'connack'] },
  { id: 40, name: 'wildcard-subscription-available', type: 'byte', key: 'wildcardSubscriptionAvailable', commands: ['connack'] },
  { id: 41, name: 'subscription-identifier-available', type: 'byte', key: 'subscriptionIdentifiersAvailable', commands: ['connack'] },
  { id: 42, name: 'shared-subscription-available', type: 'byte', key: 'sharedSubscriptionAvailable', commands: ['connack'] },
];

const BY_NAME = new Map(PROPERTIES.map((p) => [p.name, p]));

/** Looks a property up by Mosquitto's name, case-insensitively as `-D` does. */
export function propertyByName(name: string): PropertyDefinition | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** One property value as the tools collect it, in command-line order. */
export interface PropertyEntry {
  readonly property: PropertyDefinition;
  /** number for the integer types, Buffer for string/binary, [name, value] for user-property. */
  readonly value: number | Buffer | readonly [string, string];
}

/**
 * On an MQTT.js properties object: property id -> the byte to send for one-byte properties
 * whose value is not 0 or 1 (wire.ts writes them into the encoded packet).
 */
export const WIRE_BYTE_VALUES = Symbol('skeeter.wireByteValues');
export type WireByteValues = Record<number, number>;

/** MQTT.js's property object shape (userProperties: name -> value or values). */
export type MqttJsProperties = Record<string, unknown>;

/** Converts an ordered property list to the object MQTT.js expects. */
export function toMqttJsProperties(entries: readonly PropertyEntry[]): MqttJsProperties | undefined {
  if (entries.length === 0) return undefined;
  const out: MqttJsProperties = {};
  for (const { property, value } of entries) {
    if (property.type === 'pair') {
      const [k, v] = value as readonly [string, string];
      const user = (out.userProperties ??= {}) as Record<string, string | string[]>;
      const prev = user[k];
      if (prev === undefined) user[k] = v;
      else if (Array.isArray(prev)) prev.push(v);
      else user[k] = [prev, v];
    } else if (property.type === 'string') {
      out[property.key] = (value as Buffer).toString('utf8');
    } else if (property.type === 'byte') {
      // mqtt-packet encodes its one-byte properties from booleans; a value above 1 travels
      // beside it and is written into the encoded packet (wire.ts), as libmosquitto sends it.
      out[property.key] = (value as number) !== 0;
      if ((value as number) > 1) {
        const raw = out as MqttJsProperties & { [WIRE_BYTE_VALUES]?: WireByteValues };
        (raw[WIRE_BYTE_VALUES] ??= {})[property.id] = value as number;
      }
    } else {
      out[property.key] = value;
    }
  }
  return out;
}
