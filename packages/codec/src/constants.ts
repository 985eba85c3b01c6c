/**
 * Protocol constants as `as const` tables (no TS enums: `erasableSyntaxOnly`).
 * Numbers come from the MQTT 3.1, 3.1.1 and 5.0 specifications.
 */

/** The protocol level byte in CONNECT: 3 = MQTT 3.1 ("MQIsdp"), 4 = 3.1.1, 5 = 5.0. */
export const ProtocolVersion = {
  V31: 3,
  V311: 4,
  V5: 5,
} as const;
export type ProtocolVersion = (typeof ProtocolVersion)[keyof typeof ProtocolVersion];

export const PacketType = {
  Connect: 1,
  Connack: 2,
  Publish: 3,
  Puback: 4,
  Pubrec: 5,
  Pubrel: 6,
  Pubcomp: 7,
  Subscribe: 8,
  Suback: 9,
  Unsubscribe: 10,
  Unsuback: 11,
  Pingreq: 12,
  Pingresp: 13,
  Disconnect: 14,
  Auth: 15,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

/** Upper-case names as Mosquitto prints them in its logs ("Received PUBLISH from ..."). */
export const PacketTypeName: Readonly<Record<number, string>> = {
  1: 'CONNECT',
  2: 'CONNACK',
  3: 'PUBLISH',
  4: 'PUBACK',
  5: 'PUBREC',
  6: 'PUBREL',
  7: 'PUBCOMP',
  8: 'SUBSCRIBE',
  9: 'SUBACK',
  10: 'UNSUBSCRIBE',
  11: 'UNSUBACK',
  12: 'PINGREQ',
  13: 'PINGRESP',
  14: 'DISCONNECT',
  15: 'AUTH',
};

/** The largest value a Variable Byte Integer can hold (4 bytes) [MQTT-1.5.5]. */
export const MAX_VARIABLE_BYTE_INTEGER = 268_435_455;

/** The MQTT 3.x CONNACK return codes. */
export const ConnackReturnCode = {
  Accepted: 0,
  UnacceptableProtocolVersion: 1,
  IdentifierRejected: 2,
  ServerUnavailable: 3,
  BadUsernameOrPassword: 4,
  NotAuthorized: 5,
} as const;

/** MQTT 5.0 reason codes (section 2.4). Several numbers share a value: 0 is Success,
 * Normal disconnection and Granted QoS 0. */
export const ReasonCode = {
  Success: 0x00,
  NormalDisconnection: 0x00,
  GrantedQoS0: 0x00,
  GrantedQoS1: 0x01,
  GrantedQoS2: 0x02,
  DisconnectWithWillMessage: 0x04,
  NoMatchingSubscribers: 0x10,
  NoSubscriptionExisted: 0x11,
  ContinueAuthentication: 0x18,
  ReAuthenticate: 0x19,
  UnspecifiedError: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  Banned: 0x8a,
  ServerShuttingDown: 0x8b,
  BadAuthenticationMethod: 0x8c,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketIdentifierInUse: 0x91,
  PacketIdentifierNotFound: 0x92,
  ReceiveMaximumExceeded: 0x93,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
  MessageRateTooHigh: 0x96,
  QuotaExceeded: 0x97,
  AdministrativeAction: 0x98,
  PayloadFormatInvalid: 0x99,
  RetainNotSupported: 0x9a,
  QoSNotSupported: 0x9b,
  UseAnotherServer: 0x9c,
  ServerMoved: 0x9d,
  SharedSubscriptionsNotSupported: 0x9e,
  ConnectionRateExceeded: 0x9f,
  MaximumConnectTime: 0xa0,
  SubscriptionIdentifiersNotSupported: 0xa1,
  WildcardSubscriptionsNotSupported: 0xa2,
} as const;
export type ReasonCode = (typeof ReasonCode)[keyof typeof ReasonCode];

/** Reason strings as `mosquitto_reason_string()` words them (used by the tools' messages). */
export const ReasonCodeName: Readonly<Record<number, string>> = {
  0x00: 'Success',
  0x01: 'Granted QoS 1',
  0x02: 'Granted QoS 2',
  0x04: 'Disconnect with Will Message',
  0x10: 'No matching subscribers',
  0x11: 'No subscription existed',
  0x18: 'Continue authentication',
  0x19: 'Re-authenticate',
  0x80: 'Unspecified error',
  0x81: 'Malformed Packet',
  0x82: 'Protocol Error',
  0x83: 'Implementation specific error',
  0x84: 'Unsupported Protocol Version',
  0x85: 'Client Identifier not valid',
  0x86: 'Bad User Name or Password',
  0x87: 'Not authorized',
  0x88: 'Server unavailable',
  0x89: 'Server busy',
  0x8a: 'Banned',
  0x8b: 'Server shutting down',
  0x8c: 'Bad authentication method',
  0x8d: 'Keep Alive timeout',
  0x8e: 'Session taken over',
  0x8f: 'Topic Filter invalid',
  0x90: 'Topic Name invalid',
  0x91: 'Packet Identifier in use',
  0x92: 'Packet Identifier not found',
  0x93: 'Receive Maximum exceeded',
  0x94: 'Topic Alias invalid',
  0x95: 'Packet too large',
  0x96: 'Message rate too high',
  0x97: 'Quota exceeded',
  0x98: 'Administrative action',
  0x99: 'Payload format invalid',
  0x9a: 'Retain not supported',
  0x9b: 'QoS not supported',
  0x9c: 'Use another server',
  0x9d: 'Server moved',
  0x9e: 'Shared Subscriptions not supported',
  0x9f: 'Connection rate exceeded',
  0xa0: 'Maximum connect time',
  0xa1: 'Subscription identifiers not supported',
  0xa2: 'Wildcard Subscriptions not supported',
};

const set = (...codes: number[]): ReadonlySet<number> => new Set(codes);

/** Which MQTT 5 reason codes each packet type may carry (spec 2.4 and each packet's section).
 * A code outside its packet's set is a Protocol Error. */
export const ReasonCodesByPacket: Readonly<Record<number, ReadonlySet<number>>> = {
  [PacketType.Connack]: set(
    0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95,
    0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f,
  ),
  [PacketType.Puback]: set(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99),
  [PacketType.Pubrec]: set(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99),
  [PacketType.Pubrel]: set(0x00, 0x92),
  [PacketType.Pubcomp]: set(0x00, 0x92),
  [PacketType.Suback]: set(0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2),
  [PacketType.Unsuback]: set(0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91),
  [PacketType.Disconnect]: set(
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94,
    0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
  ),
  [PacketType.Auth]: set(0x00, 0x18, 0x19),
};

/** The wire type of a property value (spec 2.2.2.2). */
export const PropertyType = {
  Byte: 1,
  TwoByteInteger: 2,
  FourByteInteger: 3,
  VariableByteInteger: 4,
  Utf8String: 5,
  BinaryData: 6,
  Utf8StringPair: 7,
} as const;
export type PropertyType = (typeof PropertyType)[keyof typeof PropertyType];

export const PropertyId = {
  PayloadFormatIndicator: 0x01,
  MessageExpiryInterval: 0x02,
  ContentType: 0x03,
  ResponseTopic: 0x08,
  CorrelationData: 0x09,
  SubscriptionIdentifier: 0x0b,
  SessionExpiryInterval: 0x11,
  AssignedClientIdentifier: 0x12,
  ServerKeepAlive: 0x13,
  AuthenticationMethod: 0x15,
  AuthenticationData: 0x16,
  RequestProblemInformation: 0x17,
  WillDelayInterval: 0x18,
  RequestResponseInformation: 0x19,
  ResponseInformation: 0x1a,
  ServerReference: 0x1c,
  ReasonString: 0x1f,
  ReceiveMaximum: 0x21,
  TopicAliasMaximum: 0x22,
  TopicAlias: 0x23,
  MaximumQoS: 0x24,
  RetainAvailable: 0x25,
  UserProperty: 0x26,
  MaximumPacketSize: 0x27,
  WildcardSubscriptionAvailable: 0x28,
  SubscriptionIdentifierAvailable: 0x29,
  SharedSubscriptionAvailable: 0x2a,
} as const;
export type PropertyId = (typeof PropertyId)[keyof typeof PropertyId];

/** Where a property may appear: a packet type, or WILL for the will properties in CONNECT. */
export const WILL_PROPERTIES = 0;

export interface PropertyDescriptor {
  readonly id: number;
  /** The field name in a decoded `Properties` object. */
  readonly name: string;
  /** Mosquitto's name for it (`-D` option of the tools). */
  readonly cliName: string;
  readonly type: PropertyType;
  /** Packet types (and WILL_PROPERTIES) this property is allowed in. */
  readonly allowedIn: ReadonlySet<number>;
  /** Whether it may occur more than once in one packet. */
  readonly repeatable: boolean;
}

const P = PacketType;
const W = WILL_PROPERTIES;
const ALL_WITH_PROPERTIES = [
  P.Connect, P.Connack, P.Publish, P.Puback, P.Pubrec, P.Pubrel, P.Pubcomp, P.Subscribe,
  P.Suback, P.Unsubscribe, P.Unsuback, P.Disconnect, P.Auth, W,
];
const ACKS_WITH_REASON_STRING = [
  P.Connack, P.Puback, P.Pubrec, P.Pubrel, P.Pubcomp, P.Suback, P.Unsuback, P.Disconnect, P.Auth,
];

const d = (
  id: number,
  name: string,
  cliName: string,
  type: PropertyType,
  allowedIn: number[],
  repeatable = false,
): PropertyDescriptor => ({ id, name, cliName, type, allowedIn: new Set(allowedIn), repeatable });

const T = PropertyType;
/** Every MQTT 5 property: id, value type and the packets it may appear in (spec table 2-4). */
export const PROPERTIES: readonly PropertyDescriptor[] = [
  d(0x01, 'payloadFormatIndicator', 'payload-format-indicator', T.Byte, [P.Publish, W]),
  d(0x02, 'messageExpiryInterval', 'message-expiry-interval', T.FourByteInteger, [P.Publish, W]),
  d(0x03, 'contentType', 'content-type', T.Utf8String, [P.Publish, W]),
  d(0x08, 'responseTopic', 'response-topic', T.Utf8String, [P.Publish, W]),
  d(0x09, 'correlationData', 'correlation-data', T.BinaryData, [P.Publish, W]),
  // Repeatable only in PUBLISH (one per matching subscription) [MQTT-3.3.4-4]; the
  // decoder rejects a second one in SUBSCRIBE.
  d(0x0b, 'subscriptionIdentifiers', 'subscription-identifier', T.VariableByteInteger, [P.Publish, P.Subscribe], true),
  d(0x11, 'sessionExpiryInterval', 'session-expiry-interval', T.FourByteInteger, [P.Connect, P.Connack, P.Disconnect]),
  d(0x12, 'assignedClientIdentifier', 'assigned-client-identifier', T.Utf8String, [P.Connack]),
  d(0x13, 'serverKeepAlive', 'server-keep-alive', T.TwoByteInteger, [P.Connack]),
  d(0x15, 'authenticationMethod', 'authentication-method', T.Utf8String, [P.Connect, P.Connack, P.Auth]),
  d(0x16, 'authenticationData', 'authentication-data', T.BinaryData, [P.Connect, P.Connack, P.Auth]),
  d(0x17, 'requestProblemInformation', 'request-problem-information', T.Byte, [P.Connect]),
  d(0x18, 'willDelayInterval', 'will-delay-interval', T.FourByteInteger, [W]),
  d(0x19, 'requestResponseInformation', 'request-response-information', T.Byte, [P.Connect]),
  d(0x1a, 'responseInformation', 'response-information', T.Utf8String, [P.Connack]),
  d(0x1c, 'serverReference', 'server-reference', T.Utf8String, [P.Connack, P.Disconnect]),
  d(0x1f, 'reasonString', 'reason-string', T.Utf8String, ACKS_WITH_REASON_STRING),
  d(0x21, 'receiveMaximum', 'receive-maximum', T.TwoByteInteger, [P.Connect, P.Connack]),
  d(0x22, 'topicAliasMaximum', 'topic-alias-maximum', T.TwoByteInteger, [P.Connect, P.Connack]),
  d(0x23, 'topicAlias', 'topic-alias', T.TwoByteInteger, [P.Publish]),
  d(0x24, 'maximumQoS', 'maximum-qos', T.Byte, [P.Connack]),
  d(0x25, 'retainAvailable', 'retain-available', T.Byte, [P.Connack]),
  d(0x26, 'userProperties', 'user-property', T.Utf8StringPair, ALL_WITH_PROPERTIES, true),
  d(0x27, 'maximumPacketSize', 'maximum-packet-size', T.FourByteInteger, [P.Connect, P.Connack]),
  d(0x28, 'wildcardSubscriptionAvailable', 'wildcard-subscription-available', T.Byte, [P.Connack]),
  d(0x29, 'subscriptionIdentifierAvailable', 'subscription-identifier-available', T.Byte, [P.Connack]),
  d(0x2a, 'sharedSubscriptionAvailable', 'shared-subscription-available', T.Byte, [P.Connack]),
];

/** Property descriptors indexed by id (sparse; undefined for unknown ids). */
export const PROPERTY_BY_ID: readonly (PropertyDescriptor | undefined)[] = (() => {
  const table: (PropertyDescriptor | undefined)[] = new Array(256).fill(undefined);
  for (const p of PROPERTIES) table[p.id] = p;
  return table;
})();

/** Property descriptors indexed by their `Properties` field name. */
export const PROPERTY_BY_NAME: Readonly<Record<string, PropertyDescriptor>> = Object.fromEntries(
  PROPERTIES.map((p) => [p.name, p]),
);
