import { MAX_VARIABLE_BYTE_INTEGER, PacketType, ReasonCode, type ProtocolVersion } from './constants.js';
import { ErrorCode, malformed, MqttProtocolError, protocolError } from './errors.js';
import { decodeConnack } from './packets/connack.js';
import { decodeConnect } from './packets/connect.js';
import { decodeAuth, decodeDisconnect } from './packets/disconnect.js';
import { decodePubAckLike } from './packets/pub-ack.js';
import { decodePublish } from './packets/publish.js';
import { decodeSuback } from './packets/suback.js';
import { decodeSubscribe } from './packets/subscribe.js';
import { decodeUnsuback } from './packets/unsuback.js';
import { decodeUnsubscribe } from './packets/unsubscribe.js';
import { Reader } from './reader.js';
import type { Packet, Role } from './types.js';

export interface DecodeOptions {
  /** Protocol version of the connection; default 4 (3.1.1). A CONNECT carries its own. */
  protocolVersion?: ProtocolVersion;
  /** 'server' rejects packets only a server sends, 'client' those only a client sends. */
  role?: Role;
  /** Largest whole packet (fixed header included) accepted; larger ones fail with 0x95. */
  maxPacketSize?: number;
}

/** The largest packet MQTT can express: 1 header byte, 4 length bytes, and the maximum body. */
export const MAX_PACKET_SIZE = 1 + 4 + MAX_VARIABLE_BYTE_INTEGER;

/** Set by frameLength: the size of the fixed header it just read (a module variable rather than
 * a returned object, so framing allocates nothing). */
export let frameHeaderLength = 0;

/**
 * Reads the fixed header at buf[pos]: returns the whole packet's size, or -1 when the remaining
 * length is not complete yet. The size is checked against `maxPacketSize` as soon as the
 * remaining length is known, before any of the body is buffered.
 */
export function frameLength(buf: Uint8Array, pos: number, end: number, maxPacketSize: number): number {
  let rl = 0;
  let mul = 1;
  for (let i = 1; i <= 4; i++) {
    if (pos + i >= end) return -1;
    const b = buf[pos + i]!;
    rl += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      const total = 1 + i + rl;
      frameHeaderLength = 1 + i;
      if (total > maxPacketSize) {
        throw new MqttProtocolError(ErrorCode.PacketTooLarge, `Packet of ${total} bytes exceeds the maximum of ${maxPacketSize}`, ReasonCode.PacketTooLarge, 'MQTT-3.2.2-15');
      }
      return total;
    }
    mul *= 128;
  }
  throw malformed(ErrorCode.BadVarint, 'Remaining length longer than 4 bytes', 'MQTT-1.5.5-1');
}

const CLIENT_TO_SERVER = 1;
const SERVER_TO_CLIENT = 2;
/** Which way each packet type travels; PUBLISH, its acks, DISCONNECT and AUTH go both ways. */
const DIRECTION = [0, CLIENT_TO_SERVER, SERVER_TO_CLIENT, 3, 3, 3, 3, 3, CLIENT_TO_SERVER, SERVER_TO_CLIENT, CLIENT_TO_SERVER, SERVER_TO_CLIENT, CLIENT_TO_SERVER, SERVER_TO_CLIENT, 3, 3];

/** Fixed-header flags each type must carry on 3.1.1 and 5.0 [MQTT-2.1.3-1]; -1 for PUBLISH, and
 * for CONNECT, whose own version decides (decodeConnect). */
const REQUIRED_FLAGS = [0, -1, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0];

/** Decodes the body r.buf[r.pos, r.end) of a packet whose first byte is `header`. */
export function decodeBody(r: Reader, header: number, version: ProtocolVersion, role: Role): Packet {
  const type = header >> 4;
  const flags = header & 0x0f;
  if (type === 0 || (type === PacketType.Auth && version !== 5)) {
    throw malformed(ErrorCode.ReservedPacketType, `Reserved packet type ${type}`, 'MQTT-2.1.2');
  }
  // PINGREQ and PINGRESP never have a body [MQTT-3.12.1], [MQTT-3.13.1]: a framing error, seen
  // before the packet's type or direction is looked at, as Mosquitto's reader does.
  if ((type === PacketType.Pingreq || type === PacketType.Pingresp) && r.remaining !== 0) {
    throw malformed(ErrorCode.BadRemainingLength, `Remaining length ${r.remaining} for packet type ${type}`, 'MQTT-3.12.1');
  }
  // MQTT 3.1 did not fix these bits (SUBSCRIBE carried QoS 1 and could carry DUP), so only
  // PUBLISH is checked there, as Mosquitto does.
  const required = REQUIRED_FLAGS[type]!;
  const badFlags = required >= 0 && flags !== required && version !== 3;
  if (role !== 'any') {
    // Before MQTT 5 only clients send DISCONNECT.
    const dir = type === PacketType.Disconnect && version !== 5 ? CLIENT_TO_SERVER : DIRECTION[type]!;
    if ((role === 'server' && (dir & CLIENT_TO_SERVER) === 0) || (role === 'client' && (dir & SERVER_TO_CLIENT) === 0)) {
      // A wrong-way SUBACK or UNSUBACK has its fixed header checked first (a malformed packet
      // before a protocol error); CONNACK and PINGRESP are refused whatever their flags.
      if (badFlags && (type === PacketType.Suback || type === PacketType.Unsuback)) throw reservedFlags(type, flags);
      throw protocolError(ErrorCode.WrongDirection, `A ${role} must not receive packet type ${type}`);
    }
  }
  if (badFlags) throw reservedFlags(type, flags);
  switch (type) {
    case PacketType.Connect:
      return decodeConnect(r, flags, role);
    case PacketType.Connack:
      return decodeConnack(r, version, role);
    case PacketType.Publish:
      return decodePublish(r, flags, version, role);
    case PacketType.Puback:
    case PacketType.Pubrec:
    case PacketType.Pubrel:
    case PacketType.Pubcomp:
      return decodePubAckLike(r, type, version, role) as Packet;
    case PacketType.Subscribe:
      return decodeSubscribe(r, version, role);
    case PacketType.Suback:
      return decodeSuback(r, version, role);
    case PacketType.Unsubscribe:
      return decodeUnsubscribe(r, version, role);
    case PacketType.Unsuback:
      return decodeUnsuback(r, version, role);
    case PacketType.Pingreq:
      r.expectEnd('PINGREQ');
      return { type: PacketType.Pingreq };
    case PacketType.Pingresp:
      r.expectEnd('PINGRESP');
      return { type: PacketType.Pingresp };
    case PacketType.Disconnect:
      return decodeDisconnect(r, version, role);
    default:
      return decodeAuth(r, role);
  }
}

function reservedFlags(type: number, flags: number): MqttProtocolError {
  return malformed(ErrorCode.ReservedFlags, `Invalid fixed header flags 0x${flags.toString(16)} for packet type ${type}`, 'MQTT-2.1.3-1');
}

const toBuffer = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Decodes exactly one whole packet. Fewer bytes than the packet needs, or more, is an error. */
export function decodePacket(bytes: Uint8Array, options: DecodeOptions = {}): Packet {
  const buf = toBuffer(bytes);
  if (buf.length === 0) throw malformed(ErrorCode.Truncated, 'Empty input');
  const total = frameLength(buf, 0, buf.length, options.maxPacketSize ?? MAX_PACKET_SIZE);
  if (total < 0 || total > buf.length) throw malformed(ErrorCode.Truncated, 'Packet is incomplete');
  if (total < buf.length) throw malformed(ErrorCode.TrailingBytes, `${buf.length - total} byte(s) after the packet`);
  const r = new Reader(buf, frameHeaderLength, total);
  return decodeBody(r, buf[0]!, options.protocolVersion ?? 4, options.role ?? 'any');
}

export { toBuffer };
