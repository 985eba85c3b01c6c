import { PacketType, type ProtocolVersion } from '../constants.js';
import { propertiesLength, readProperties, writeProperties } from '../properties.js';
import type { Reader } from '../reader.js';
import type { PubAckLikePacket, Role } from '../types.js';
import { allocPacket, invalid, varintLength, writeU16 } from '../writer.js';
import { zeroPacketId } from './publish.js';
import { checkReasonCode } from './reason-code.js';

const NAMES: Record<number, string> = { 4: 'PUBACK', 5: 'PUBREC', 6: 'PUBREL', 7: 'PUBCOMP' };

/**
 * PUBACK, PUBREC, PUBREL and PUBCOMP (spec 3.4-3.7) share a layout: packet identifier, then on
 * MQTT 5 an optional reason code and optional properties. A remaining length of 2 means reason
 * code 0 and no properties (3.4.2.1).
 */
export function decodePubAckLike<T extends 4 | 5 | 6 | 7>(
  r: Reader,
  type: T,
  version: ProtocolVersion,
  role: Role,
): PubAckLikePacket<T> {
  const name = NAMES[type]!;
  const packetId = r.u16('packet identifier');
  if (packetId === 0) throw zeroPacketId(name);
  if (version !== 5) {
    r.expectEnd(name);
    return { type, packetId, reasonCode: 0 };
  }
  let reasonCode = 0;
  let properties = {};
  if (r.remaining > 0) {
    reasonCode = checkReasonCode(type, r.u8('reason code'), name);
    if (r.remaining > 0) properties = readProperties(r, type, role);
    r.expectEnd(name);
  }
  return { type, packetId, reasonCode, properties };
}

export function encodePubAckLike(p: PubAckLikePacket<number>, version: ProtocolVersion): Buffer {
  if (!(p.packetId > 0 && p.packetId <= 65_535)) throw invalid(`Packet identifier ${p.packetId}`);
  // PUBREL's reserved flags are 0b0010 [MQTT-3.6.1-1]; the others' are 0.
  const header = (p.type << 4) | (p.type === PacketType.Pubrel ? 0x02 : 0);
  if (version !== 5) {
    const buf = allocPacket(header, 2);
    writeU16(buf, 2, p.packetId);
    return buf;
  }
  const propsLen = propertiesLength(p.properties);
  // Shortest form, as Mosquitto writes it: drop the reason code when it is 0 and nothing follows.
  const rl = propsLen > 0 ? 3 + varintLength(propsLen) + propsLen : p.reasonCode !== 0 ? 3 : 2;
  const buf = allocPacket(header, rl);
  let pos = writeU16(buf, 1 + varintLength(rl), p.packetId);
  if (rl > 2) {
    buf[pos++] = p.reasonCode;
    if (propsLen > 0) writeProperties(buf, pos, p.properties, propsLen);
  }
  return buf;
}

