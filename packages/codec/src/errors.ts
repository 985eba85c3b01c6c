import { ReasonCode } from './constants.js';

/** Stable error codes; the broker maps these (not message texts) to its own replies. */
export const ErrorCode = {
  /** Remaining length or another Variable Byte Integer longer than 4 bytes [MQTT-1.5.5-1]. */
  BadVarint: 'ERR_BAD_VARINT',
  /** The packet ends before a field it announces, or has bytes left over. */
  Truncated: 'ERR_TRUNCATED',
  TrailingBytes: 'ERR_TRAILING_BYTES',
  /** A remaining length the packet type can never have (PINGREQ/PINGRESP with a body): a framing
   * error, found before the packet is looked at. */
  BadRemainingLength: 'ERR_BAD_REMAINING_LENGTH',
  /** Reserved fixed-header flag bits not as the spec fixes them [MQTT-2.1.3-1]. */
  ReservedFlags: 'ERR_RESERVED_FLAGS',
  /** Packet type 0, or AUTH before MQTT 5. */
  ReservedPacketType: 'ERR_RESERVED_PACKET_TYPE',
  /** A packet that this side of the connection must never receive. */
  WrongDirection: 'ERR_WRONG_DIRECTION',
  PacketTooLarge: 'ERR_PACKET_TOO_LARGE',
  InvalidQoS: 'ERR_INVALID_QOS',
  DupOnQoS0: 'ERR_DUP_ON_QOS0',
  ZeroPacketId: 'ERR_ZERO_PACKET_ID',
  MalformedUtf8: 'ERR_MALFORMED_UTF8',
  UnknownProtocolName: 'ERR_UNKNOWN_PROTOCOL_NAME',
  UnsupportedProtocolVersion: 'ERR_UNSUPPORTED_PROTOCOL_VERSION',
  ConnectFlags: 'ERR_CONNECT_FLAGS',
  PasswordWithoutUsername: 'ERR_PASSWORD_WITHOUT_USERNAME',
  UnknownProperty: 'ERR_UNKNOWN_PROPERTY',
  PropertyNotAllowed: 'ERR_PROPERTY_NOT_ALLOWED',
  DuplicateProperty: 'ERR_DUPLICATE_PROPERTY',
  InvalidPropertyValue: 'ERR_INVALID_PROPERTY_VALUE',
  InvalidReasonCode: 'ERR_INVALID_REASON_CODE',
  InvalidTopicName: 'ERR_INVALID_TOPIC_NAME',
  InvalidTopicFilter: 'ERR_INVALID_TOPIC_FILTER',
  /** `$share/...` that is a valid filter but not a valid shared subscription [MQTT-4.8.2-1]. */
  InvalidSharedSubscription: 'ERR_INVALID_SHARED_SUBSCRIPTION',
  EmptyTopic: 'ERR_EMPTY_TOPIC',
  NoTopicFilters: 'ERR_NO_TOPIC_FILTERS',
  SubscriptionOptions: 'ERR_SUBSCRIPTION_OPTIONS',
  NoLocalOnShared: 'ERR_NO_LOCAL_ON_SHARED',
  ConnackFlags: 'ERR_CONNACK_FLAGS',
  /** Encoder: a value that cannot be put on the wire (string over 65535 bytes, QoS 3, ...). */
  InvalidPacket: 'ERR_INVALID_PACKET',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The only error the codec throws for bad input. `reasonCode` is the MQTT 5 reason code a
 * receiver would send (DISCONNECT or CONNACK); `rule` names the normative statement, such as
 * "MQTT-3.3.1-4", when the spec has one.
 */
export class MqttProtocolError extends Error {
  override readonly name = 'MqttProtocolError';
  readonly code: ErrorCode;
  readonly reasonCode: number;
  readonly rule: string | undefined;
  /** For UnsupportedProtocolVersion: the level the client asked for, so the broker can
   * answer with the right CONNACK before closing. */
  readonly protocolVersion: number | undefined;
  /** The type of the packet being decoded when the error was found (set by the Decoder). */
  packetType: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    reasonCode: number = ReasonCode.MalformedPacket,
    rule?: string,
    protocolVersion?: number,
  ) {
    super(rule ? `${message} [${rule}]` : message);
    this.code = code;
    this.reasonCode = reasonCode;
    this.rule = rule;
    this.protocolVersion = protocolVersion;
  }
}

export const malformed = (code: ErrorCode, message: string, rule?: string): MqttProtocolError =>
  new MqttProtocolError(code, message, ReasonCode.MalformedPacket, rule);

export const protocolError = (code: ErrorCode, message: string, rule?: string): MqttProtocolError =>
  new MqttProtocolError(code, message, ReasonCode.ProtocolError, rule);

export const isMqttProtocolError = (e: unknown): e is MqttProtocolError =>
  e instanceof MqttProtocolError;
