/**
 * Why a connection ends: the one place that maps an outcome to the MQTT 5 DISCONNECT reason code
 * the broker sends (if any) and the log line Mosquitto writes for it (reference 9.2).
 */
import { ErrorCode, PacketType, ReasonCode, type MqttProtocolError } from '@skeeter/codec';

export type CloseKind =
  | 'disconnect' // the client sent DISCONNECT
  | 'socket' // the peer closed or reset the socket
  | 'keepalive'
  | 'protocol'
  | 'malformed'
  | 'not-authorised'
  | 'acl-denied' // refused by an ACL before CONNACK (a will to $CONTROL/)
  | 'oversize-packet'
  | 'not-allowed' // QoS too high, retain not supported, topic alias invalid
  | 'takeover'
  | 'shutdown'
  | 'admin';

export interface CloseReason {
  kind: CloseKind;
  /** MQTT 5 DISCONNECT reason code to send before closing; undefined = close silently. */
  reasonCode?: number | undefined;
}

/** The notice Mosquitto logs when a connection ends, for a known client id. */
export function closeLogLine(kind: CloseKind, id: string): string | undefined {
  switch (kind) {
    case 'disconnect':
      return `Client ${id} disconnected.`;
    case 'socket':
      return `Client ${id} closed its connection.`;
    case 'keepalive':
      return `Client ${id} has exceeded timeout, disconnecting.`;
    case 'protocol':
      return `Client ${id} disconnected due to protocol error.`;
    case 'malformed':
      return `Client ${id} disconnected due to malformed packet.`;
    case 'not-authorised':
      return `Client ${id} disconnected, not authorised.`;
    case 'acl-denied':
      return `Bad socket read/write on client ${id}: Access denied by ACL.`;
    case 'oversize-packet':
      return `Client ${id} disconnected due to oversize packet.`;
    case 'not-allowed':
      return `Client ${id} disconnected due to using not allowed feature (QoS too high, retain not supported, or bad AUTH method).`;
    case 'admin':
      return `Client ${id} been disconnected by administrative action.`;
    case 'takeover':
    case 'shutdown':
      return undefined;
  }
}

/**
 * Maps a decoder error to how the connection closes, as Mosquitto 2.0.20 does it (checked byte
 * for byte against 2.0.20 with its own msg_sequence_test; 2.0.11 sent fewer DISCONNECTs). The
 * rule of thumb there: bytes that cannot be read are a malformed packet (0x81); a readable packet
 * that breaks a rule (wrong direction, a property where it must not be, twice, or with a bad
 * value, a bad reason code) is a protocol error (0x82). The exceptions are listed case by case.
 */
export function closeReasonForDecodeError(e: MqttProtocolError): CloseReason {
  const type = e.packetType;
  switch (e.code) {
    case ErrorCode.BadVarint:
      // A remaining length over four bytes is a framing error: Mosquitto closes without a
      // DISCONNECT. Inside a packet (packetType known) it is a malformed packet like any other.
      return type === undefined ? { kind: 'malformed' } : MALFORMED;
    case ErrorCode.BadRemainingLength:
      // Found by Mosquitto's reader before any handler runs: closed without a DISCONNECT.
      return { kind: 'malformed' };
    case ErrorCode.PacketTooLarge:
      return { kind: 'oversize-packet', reasonCode: ReasonCode.PacketTooLarge };
    case ErrorCode.ZeroPacketId:
      // Packet id 0 is a protocol error in PUBLISH and its acks but a malformed SUBSCRIBE or
      // UNSUBSCRIBE.
      return type === PacketType.Subscribe || type === PacketType.Unsubscribe ? MALFORMED : PROTOCOL;
    case ErrorCode.InvalidTopicName:
    case ErrorCode.EmptyTopic:
      // A PUBLISH topic with wildcards, or empty without an alias, fails Mosquitto's topic check
      // after the packet was read: 0x81. (Elsewhere, a will topic say, it is a protocol error.)
      return type === PacketType.Publish ? MALFORMED : PROTOCOL;
    case ErrorCode.PropertyNotAllowed:
    case ErrorCode.InvalidPropertyValue:
      // SUBSCRIBE and UNSUBSCRIBE turn a property's protocol error into a malformed packet in
      // Mosquitto (a duplicate stays a protocol error).
      if (type === PacketType.Subscribe || type === PacketType.Unsubscribe) return MALFORMED;
      // Topic Alias 0: Mosquitto's property check refuses it before the alias is looked at.
      return PROTOCOL;
    case ErrorCode.ReservedPacketType:
    case ErrorCode.PasswordWithoutUsername:
    case ErrorCode.NoLocalOnShared:
    case ErrorCode.InvalidSharedSubscription:
    case ErrorCode.InvalidReasonCode:
    case ErrorCode.UnknownProtocolName:
    case ErrorCode.WrongDirection:
    case ErrorCode.DuplicateProperty:
      return PROTOCOL;
    default:
      // Everything else, bad filters, empty SUBSCRIBE, truncated or unknown properties
      // included, is a malformed packet to Mosquitto: DISCONNECT 0x81.
      return MALFORMED;
  }
}

const MALFORMED: CloseReason = { kind: 'malformed', reasonCode: ReasonCode.MalformedPacket };
const PROTOCOL: CloseReason = { kind: 'protocol', reasonCode: ReasonCode.ProtocolError };
