import { PacketType, type ProtocolVersion } from '../constants.js';
import { ErrorCode, protocolError } from '../errors.js';
import { propertiesLength, readProperties, writeProperties } from '../properties.js';
import type { Reader } from '../reader.js';
import type { Role, SubackPacket } from '../types.js';
import { allocPacket, invalid, varintLength, writeU16 } from '../writer.js';
import { zeroPacketId } from './publish.js';
import { checkReasonCode } from './reason-code.js';

/** SUBACK (spec 3.9): one return/reason code per filter of the SUBSCRIBE, in order. */
export function decodeSuback(r: Reader, version: ProtocolVersion, role: Role): SubackPacket {
  const packetId = r.u16('packet identifier');
  if (packetId === 0) throw zeroPacketId('SUBACK');
  const properties = version === 5 ? readProperties(r, PacketType.Suback, role) : undefined;
  const reasonCodes: number[] = [];
  while (r.remaining > 0) {
    const code = r.u8('return code');
    if (version === 5) checkReasonCode(PacketType.Suback, code, 'SUBACK');
    // 3.1.1 allows 0, 1, 2 and 0x80 [MQTT-3.9.3-2]; 3.1 predates 0x80 but brokers send it.
    else if (code > 2 && code !== 0x80) throw protocolError(ErrorCode.InvalidReasonCode, `Invalid SUBACK return code ${code}`, 'MQTT-3.9.3-2');
    reasonCodes.push(code);
  }
  if (reasonCodes.length === 0 && version !== 3) throw protocolError(ErrorCode.NoTopicFilters, 'SUBACK without any return code');
  return properties
    ? { type: PacketType.Suback, packetId, reasonCodes, properties }
    : { type: PacketType.Suback, packetId, reasonCodes };
}

export function encodeSuback(p: SubackPacket, version: ProtocolVersion): Buffer {
  if (!(p.packetId > 0 && p.packetId <= 65_535)) throw invalid(`SUBACK packet identifier ${p.packetId}`);
  if (p.reasonCodes.length === 0 && version !== 3) throw invalid('SUBACK needs at least one return code');
  let rl = 2 + p.reasonCodes.length;
  let propsLen = 0;
  if (version === 5) {
    propsLen = propertiesLength(p.properties);
    rl += varintLength(propsLen) + propsLen;
  }
  const buf = allocPacket(0x90, rl);
  let pos = writeU16(buf, 1 + varintLength(rl), p.packetId);
  if (version === 5) pos = writeProperties(buf, pos, p.properties, propsLen);
  for (const code of p.reasonCodes) buf[pos++] = code;
  return buf;
}
