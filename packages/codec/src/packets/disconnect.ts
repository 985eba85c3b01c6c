import { PacketType, type ProtocolVersion } from '../constants.js';
import { propertiesLength, readProperties, writeProperties } from '../properties.js';
import type { Reader } from '../reader.js';
import type { AuthPacket, DisconnectPacket, Role } from '../types.js';
import { allocPacket, invalid, varintLength } from '../writer.js';
import { checkReasonCode } from './reason-code.js';

/**
 * DISCONNECT (spec 3.14) and AUTH (3.15) share a layout on MQTT 5: an optional reason code and
 * optional properties; an empty body means reason code 0 [MQTT-3.14.2-1 note], [MQTT-3.15.2-1].
 * On 3.x DISCONNECT has no body at all.
 */
export function decodeDisconnect(r: Reader, version: ProtocolVersion, role: Role): DisconnectPacket {
  if (version !== 5) {
    r.expectEnd('DISCONNECT');
    return { type: PacketType.Disconnect, reasonCode: 0 };
  }
  const [reasonCode, properties] = readReasonAndProperties(r, PacketType.Disconnect, role, 'DISCONNECT');
  return { type: PacketType.Disconnect, reasonCode, properties };
}

export function decodeAuth(r: Reader, role: Role): AuthPacket {
  const [reasonCode, properties] = readReasonAndProperties(r, PacketType.Auth, role, 'AUTH');
  return { type: PacketType.Auth, reasonCode, properties };
}

function readReasonAndProperties(r: Reader, type: number, role: Role, name: string): [number, object] {
  if (r.remaining === 0) return [0, {}];
  const reasonCode = checkReasonCode(type, r.u8('reason code'), name);
  const properties = r.remaining > 0 ? readProperties(r, type, role) : {};
  r.expectEnd(name);
  return [reasonCode, properties];
}

export function encodeDisconnect(p: DisconnectPacket | AuthPacket, version: ProtocolVersion): Buffer {
  const header = p.type << 4;
  if (version !== 5) {
    if (p.type === PacketType.Auth) throw invalid('AUTH exists only in MQTT 5');
    return allocPacket(header, 0);
  }
  const propsLen = propertiesLength(p.properties);
  // Shortest form: no body for reason 0 without properties, as Mosquitto sends it.
  const rl = propsLen > 0 ? 1 + varintLength(propsLen) + propsLen : p.reasonCode !== 0 ? 1 : 0;
  const buf = allocPacket(header, rl);
  if (rl > 0) {
    const pos = 1 + varintLength(rl);
    buf[pos] = p.reasonCode;
    if (propsLen > 0) writeProperties(buf, pos + 1, p.properties, propsLen);
  }
  return buf;
}
