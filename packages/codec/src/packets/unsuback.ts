import { PacketType, type ProtocolVersion } from '../constants.js';
import { ErrorCode, protocolError } from '../errors.js';
import { propertiesLength, readProperties, writeProperties } from '../properties.js';
import type { Reader } from '../reader.js';
import type { Role, UnsubackPacket } from '../types.js';
import { allocPacket, invalid, varintLength, writeU16 } from '../writer.js';
import { zeroPacketId } from './publish.js';
import { checkReasonCode } from './reason-code.js';

/** UNSUBACK (spec 3.11): on 3.x only the packet identifier; on 5.0 properties and one reason
 * code per filter. */
export function decodeUnsuback(r: Reader, version: ProtocolVersion, role: Role): UnsubackPacket {
  const packetId = r.u16('packet identifier');
  if (packetId === 0) throw zeroPacketId('UNSUBACK');
  if (version !== 5) {
    r.expectEnd('UNSUBACK');
    return { type: PacketType.Unsuback, packetId, reasonCodes: [] };
  }
  const properties = readProperties(r, PacketType.Unsuback, role);
  const reasonCodes: number[] = [];
  while (r.remaining > 0) reasonCodes.push(checkReasonCode(PacketType.Unsuback, r.u8('reason code'), 'UNSUBACK'));
  if (reasonCodes.length === 0) throw protocolError(ErrorCode.NoTopicFilters, 'UNSUBACK without any reason code');
  return { type: PacketType.Unsuback, packetId, reasonCodes, properties };
}

export function encodeUnsuback(p: UnsubackPacket, version: ProtocolVersion): Buffer {
  if (!(p.packetId > 0 && p.packetId <= 65_535)) throw invalid(`UNSUBACK packet identifier ${p.packetId}`);
  if (version !== 5) {
    const buf = allocPacket(0xb0, 2);
    writeU16(buf, 2, p.packetId);
    return buf;
  }
  if (p.reasonCodes.length === 0) throw invalid('UNSUBACK needs at least one reason code on MQTT 5');
  const propsLen = propertiesLength(p.properties);
  const rl = 2 + varintLength(propsLen) + propsLen + p.reasonCodes.length;
  const buf = allocPacket(0xb0, rl);
  let pos = writeU16(buf, 1 + varintLength(rl), p.packetId);
  pos = writeProperties(buf, pos, p.properties, propsLen);
  for (const code of p.reasonCodes) buf[pos++] = code;
  return buf;
}
