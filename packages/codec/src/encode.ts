import { PacketType, type ProtocolVersion } from './constants.js';
import { encodeConnack } from './packets/connack.js';
import { encodeConnect } from './packets/connect.js';
import { encodeDisconnect } from './packets/disconnect.js';
import { encodePubAckLike } from './packets/pub-ack.js';
import { encodePublish } from './packets/publish.js';
import { encodeSuback } from './packets/suback.js';
import { encodeSubscribe } from './packets/subscribe.js';
import { encodeUnsuback } from './packets/unsuback.js';
import { encodeUnsubscribe } from './packets/unsubscribe.js';
import type { Packet } from './types.js';
import { allocPacket, invalid } from './writer.js';

/**
 * Encodes a packet for a connection of the given protocol version (a CONNECT uses its own
 * `protocolVersion`). Two passes: the length is computed once, one Buffer of the exact size is
 * allocated, and every field is written into it; payloads are copied exactly once.
 */
export function encodePacket(packet: Packet, protocolVersion: ProtocolVersion): Buffer {
  switch (packet.type) {
    case PacketType.Publish:
      return encodePublish(packet, protocolVersion);
    case PacketType.Connect:
      return encodeConnect(packet);
    case PacketType.Connack:
      return encodeConnack(packet, protocolVersion);
    case PacketType.Puback:
    case PacketType.Pubrec:
    case PacketType.Pubrel:
    case PacketType.Pubcomp:
      return encodePubAckLike(packet, protocolVersion);
    case PacketType.Subscribe:
      return encodeSubscribe(packet, protocolVersion);
    case PacketType.Suback:
      return encodeSuback(packet, protocolVersion);
    case PacketType.Unsubscribe:
      return encodeUnsubscribe(packet, protocolVersion);
    case PacketType.Unsuback:
      return encodeUnsuback(packet, protocolVersion);
    case PacketType.Pingreq:
      return allocPacket(0xc0, 0);
    case PacketType.Pingresp:
      return allocPacket(0xd0, 0);
    case PacketType.Disconnect:
    case PacketType.Auth:
      return encodeDisconnect(packet, protocolVersion);
    default:
      throw invalid(`Unknown packet type ${String((packet as { type: unknown }).type)}`);
  }
}

/** Size on the wire of a packet, fixed header included (for Maximum Packet Size checks). */
export function packetLength(packet: Packet, protocolVersion: ProtocolVersion): number {
  return encodePacket(packet, protocolVersion).length;
}
