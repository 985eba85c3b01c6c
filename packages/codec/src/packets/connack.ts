import { PacketType, type ProtocolVersion } from '../constants.js';
import { ErrorCode, malformed, protocolError } from '../errors.js';
import { propertiesLength, readProperties, writeProperties } from '../properties.js';
import type { Reader } from '../reader.js';
import type { ConnackPacket, Role } from '../types.js';
import { allocPacket, invalid, varintLength } from '../writer.js';
import { checkReasonCode } from './reason-code.js';

/** CONNACK (spec 3.2): acknowledge flags, return/reason code, and on MQTT 5 properties. */
export function decodeConnack(r: Reader, version: ProtocolVersion, role: Role): ConnackPacket {
  const ackFlags = r.u8('connect acknowledge flags');
  // MQTT 3.1 had a reserved byte here; 3.1.1 and 5.0 use bit 0 and reserve the rest [MQTT-3.2.2-1].
  if (version !== 3 && (ackFlags & 0xfe) !== 0) {
    throw malformed(ErrorCode.ConnackFlags, 'CONNACK reserved flags must be 0', 'MQTT-3.2.2-1');
  }
  const reasonCode = r.u8('return code');
  if (version === 5) {
    checkReasonCode(PacketType.Connack, reasonCode, 'CONNACK');
    const properties = readProperties(r, PacketType.Connack, role);
    r.expectEnd('CONNACK');
    return { type: PacketType.Connack, sessionPresent: (ackFlags & 1) === 1, reasonCode, properties };
  }
  if (reasonCode > 5) throw protocolError(ErrorCode.InvalidReasonCode, `Invalid CONNACK return code ${reasonCode}`);
  r.expectEnd('CONNACK');
  return { type: PacketType.Connack, sessionPresent: version !== 3 && (ackFlags & 1) === 1, reasonCode };
}

export function encodeConnack(p: ConnackPacket, version: ProtocolVersion): Buffer {
  if (!(p.reasonCode >= 0 && p.reasonCode <= 255)) throw invalid(`CONNACK reason code ${p.reasonCode}`);
  if (version !== 5) {
    const buf = allocPacket(0x20, 2);
    buf[2] = version !== 3 && p.sessionPresent ? 1 : 0;
    buf[3] = p.reasonCode;
    return buf;
  }
  const propsLen = propertiesLength(p.properties);
  const rl = 2 + varintLength(propsLen) + propsLen;
  const buf = allocPacket(0x20, rl);
  let pos = 1 + varintLength(rl);
  buf[pos++] = p.sessionPresent ? 1 : 0;
  buf[pos++] = p.reasonCode;
  writeProperties(buf, pos, p.properties, propsLen);
  return buf;
}
