/**
 * The packet model: one interface per control packet, discriminated by `type`.
 *
 * Conventions:
 * - Byte fields (payloads, binary properties, passwords) are `Uint8Array`; the decoder returns
 *   `Buffer` views into the input chunk (no copy), so a consumer that keeps one beyond the
 *   lifetime of the chunk it came from must not mutate that chunk.
 * - `properties` exists only on MQTT 5 packets. A decoded MQTT 5 packet always has it (an empty
 *   object when the packet carried none); on MQTT 3.x packets the key is absent.
 * - Properties are written in the order of the object's keys, so a decoded packet re-encodes to
 *   the same bytes, and a caller controls the order on the wire (Mosquitto's order, for example).
 */
import type { PacketType, ProtocolVersion } from './constants.js';

export type QoS = 0 | 1 | 2;

export type UserProperties = Array<[string, string]>;

/** MQTT 5 properties (spec 2.2.2.2). Names are the spec's, in camelCase. */
export interface Properties {
  payloadFormatIndicator?: number;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Uint8Array;
  /** One per matching subscription in a server-to-client PUBLISH; exactly one in SUBSCRIBE. */
  subscriptionIdentifiers?: number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Uint8Array;
  requestProblemInformation?: number;
  willDelayInterval?: number;
  requestResponseInformation?: number;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQoS?: number;
  retainAvailable?: number;
  /** In wire order; names may repeat [MQTT-3.3.2-18]. */
  userProperties?: UserProperties;
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: number;
  subscriptionIdentifierAvailable?: number;
  sharedSubscriptionAvailable?: number;
}

export interface Will {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** MQTT 5 only. */
  properties?: Properties;
}

export interface ConnectPacket {
  type: typeof PacketType.Connect;
  /** "MQTT" for 3.1.1 and 5.0, "MQIsdp" for 3.1. */
  protocolName: string;
  protocolVersion: ProtocolVersion;
  /** The bridge bit (0x80) of the protocol level, which Mosquitto's bridges set on 3.x. */
  bridge: boolean;
  /** Clean session (3.x) or clean start (5.0). */
  clean: boolean;
  keepalive: number;
  clientId: string;
  will?: Will;
  username?: string;
  password?: Uint8Array;
  properties?: Properties;
}

export interface ConnackPacket {
  type: typeof PacketType.Connack;
  sessionPresent: boolean;
  /** The 3.x return code (0-5) or the 5.0 reason code. */
  reasonCode: number;
  properties?: Properties;
}

export interface PublishPacket {
  type: typeof PacketType.Publish;
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** 0 for QoS 0 (no packet identifier on the wire). */
  packetId: number;
  properties?: Properties;
}

/** PUBACK, PUBREC, PUBREL and PUBCOMP share one layout. */
export interface PubAckLikePacket<T extends number> {
  type: T;
  packetId: number;
  /** Always 0 on MQTT 3.x. */
  reasonCode: number;
  properties?: Properties;
}
export type PubackPacket = PubAckLikePacket<typeof PacketType.Puback>;
export type PubrecPacket = PubAckLikePacket<typeof PacketType.Pubrec>;
export type PubrelPacket = PubAckLikePacket<typeof PacketType.Pubrel>;
export type PubcompPacket = PubAckLikePacket<typeof PacketType.Pubcomp>;

export interface Subscription {
  topic: string;
  qos: QoS;
  /** MQTT 5 subscription options; false/false/0 on 3.x. */
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
}

export interface SubscribePacket {
  type: typeof PacketType.Subscribe;
  packetId: number;
  subscriptions: Subscription[];
  properties?: Properties;
}

export interface SubackPacket {
  type: typeof PacketType.Suback;
  packetId: number;
  /** Granted QoS or failure code per filter (0x80 on 3.1.1, any 5.0 SUBACK reason code). */
  reasonCodes: number[];
  properties?: Properties;
}

export interface UnsubscribePacket {
  type: typeof PacketType.Unsubscribe;
  packetId: number;
  topics: string[];
  properties?: Properties;
}

export interface UnsubackPacket {
  type: typeof PacketType.Unsuback;
  packetId: number;
  /** MQTT 5 only; empty on 3.x, where UNSUBACK has no payload. */
  reasonCodes: number[];
  properties?: Properties;
}

export interface PingreqPacket {
  type: typeof PacketType.Pingreq;
}

export interface PingrespPacket {
  type: typeof PacketType.Pingresp;
}

export interface DisconnectPacket {
  type: typeof PacketType.Disconnect;
  /** Always 0 on MQTT 3.x. */
  reasonCode: number;
  properties?: Properties;
}

export interface AuthPacket {
  type: typeof PacketType.Auth;
  reasonCode: number;
  properties?: Properties;
}

export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | PubackPacket
  | PubrecPacket
  | PubrelPacket
  | PubcompPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket;

/** Which side is decoding: a server accepts only client-to-server packets, and vice versa.
 * `any` accepts every packet type valid for the protocol version (tools, tests). */
export type Role = 'server' | 'client' | 'any';
