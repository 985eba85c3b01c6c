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
 * Maps a decoder error to how the connection closes, as Mosquitto does it (checked byte for byte
 * against the Debian 2.0.11 broker; where 2.0.20 is stricter than 2.0.11, the 2.0.20 rule from
 * the reference is kept and the codec's reason code is sent).
 */
export function closeReasonForDecodeError(e: MqttProtocolError): CloseReason {
  switch (e.code) {
    case ErrorCode.BadVarint:
      // A remaining length over four bytes is a framing error: Mosquitto closes without a
      // DISCONNECT. Inside a packet (packetType known) it is a malformed packet like any other.
      return e.packetType === undefined
        ? { kind: 'malformed' }
        : { kind: 'malformed', reasonCode: ReasonCode.MalformedPacket };
    case ErrorCode.PacketTooLarge:
      return { kind: 'oversize-packet', reasonCode: ReasonCode.PacketTooLarge };
    case ErrorCode.ZeroPacketId:
      // Packet id 0 is a protocol error in PUBLISH but a malformed SUBSCRIBE/UNSUBSCRIBE.
      return e.packetType === PacketType.Publish
        ? { kind: 'protocol', reasonCode: ReasonCode.ProtocolError }
        : { kind: 'malformed', reasonCode: ReasonCode.MalformedPacket };
    case ErrorCode.InvalidTopicName:
    case ErrorCode.EmptyTopic:
    case ErrorCode.ReservedPacketType:
    case ErrorCode.PasswordWithoutUsername:
    case ErrorCode.NoLocalOnShared:
    case ErrorCode.InvalidReasonCode:
    case ErrorCode.UnknownProtocolName:
      return { kind: 'protocol', reasonCode: ReasonCode.ProtocolError };
    case ErrorCode.WrongDirection:
    case ErrorCode.DuplicateProperty:
      // Mosquitto drops these connections without a DISCONNECT.
      return { kind: 'protocol' };
    default:
      // Everything else, bad filters, empty SUBSCRIBE, bad or misplaced properties included,
      // is a malformed packet to Mosquitto: DISCONNECT 0x81.
      return { kind: 'malformed', reasonCode: ReasonCode.MalformedPacket };
  }
}
