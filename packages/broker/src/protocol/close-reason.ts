/**
 * Why a connection ends: the one place that maps an outcome to the MQTT 5 DISCONNECT reason code
 * the broker sends (if any) and the log line Mosquitto writes for it (reference 9.2).
 */
import { ErrorCode, ReasonCode, type MqttProtocolError } from '@skeeter/codec';

export type CloseKind =
  | 'disconnect' // the client sent DISCONNECT
  | 'socket' // the peer closed or reset the socket
  | 'keepalive'
  | 'protocol'
  | 'malformed'
  | 'not-authorised'
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

/** Maps a decoder error to how the connection closes. Mosquitto treats most decoding failures
 * as malformed packets and a few as protocol errors; the v5 reason code is the codec's. */
export function closeReasonForDecodeError(e: MqttProtocolError): CloseReason {
  switch (e.code) {
    case ErrorCode.PacketTooLarge:
      return { kind: 'oversize-packet', reasonCode: ReasonCode.PacketTooLarge };
    case ErrorCode.ZeroPacketId:
    case ErrorCode.WrongDirection:
    case ErrorCode.PasswordWithoutUsername:
    case ErrorCode.DuplicateProperty:
    case ErrorCode.PropertyNotAllowed:
    case ErrorCode.InvalidPropertyValue:
    case ErrorCode.NoLocalOnShared:
    case ErrorCode.InvalidReasonCode:
    case ErrorCode.UnknownProtocolName:
      return { kind: 'protocol', reasonCode: ReasonCode.ProtocolError };
    default:
      return { kind: 'malformed', reasonCode: e.reasonCode >= 0x80 ? e.reasonCode : ReasonCode.MalformedPacket };
  }
}
