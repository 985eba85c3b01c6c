import { PacketType, ReasonCode, WILL_PROPERTIES, type ProtocolVersion } from '../constants.js';
import { ErrorCode, malformed, MqttProtocolError, protocolError } from '../errors.js';
import { propertiesLength, readProperties, writeProperties } from '../properties.js';
import type { Reader } from '../reader.js';
import { isValidTopicName } from '../topic.js';
import type { ConnectPacket, QoS, Role, Will } from '../types.js';
import {
  allocPacket,
  binaryLength,
  invalid,
  utf8Length,
  varintLength,
  writeBinary,
  writeU16,
  writeUtf8,
} from '../writer.js';

/**
 * CONNECT (spec 3.1). The protocol name and level decide the version of everything after them:
 * "MQIsdp"/3 is MQTT 3.1, "MQTT"/4 is 3.1.1, "MQTT"/5 is 5.0. The level's high bit is the bridge
 * flag Mosquitto's bridges set.
 */
export function decodeConnect(r: Reader, flags: number, role: Role): ConnectPacket {
  const protocolName = r.utf8('protocol name');
  const level = r.u8('protocol level');
  const bridge = (level & 0x80) !== 0;
  const v = level & 0x7f;
  if (protocolName !== 'MQTT' && protocolName !== 'MQIsdp') {
    throw protocolError(ErrorCode.UnknownProtocolName, `Invalid protocol "${protocolName}" in CONNECT`, 'MQTT-3.1.2-1');
  }
  if ((protocolName === 'MQIsdp' && v !== 3) || (protocolName === 'MQTT' && v !== 4 && v !== 5)) {
    throw new MqttProtocolError(
      ErrorCode.UnsupportedProtocolVersion,
      `Invalid protocol version ${v} in CONNECT`,
      ReasonCode.UnsupportedProtocolVersion,
      'MQTT-3.1.2-2',
      v,
    );
  }
  // MQTT 3.1 left the fixed header flags of CONNECT unchecked; 3.1.1 and 5 fix them to 0.
  if (flags !== 0 && v !== 3) {
    throw malformed(ErrorCode.ReservedFlags, 'CONNECT fixed header flags must be 0', 'MQTT-2.1.3-1');
  }
  const version = v as ProtocolVersion;
  const cf = r.u8('connect flags');
  if (version !== 3 && (cf & 0x01) !== 0) {
    throw malformed(ErrorCode.ConnectFlags, 'CONNECT reserved flag must be 0', 'MQTT-3.1.2-3');
  }
  const hasWill = (cf & 0x04) !== 0;
  const willQos = (cf >> 3) & 0x03;
  const willRetain = (cf & 0x20) !== 0;
  const hasPassword = (cf & 0x40) !== 0;
  const hasUsername = (cf & 0x80) !== 0;
  if (willQos === 3) throw malformed(ErrorCode.InvalidQoS, 'Will QoS 3 in CONNECT', 'MQTT-3.1.2-12');
  if (!hasWill && (willQos !== 0 || willRetain)) {
    throw malformed(ErrorCode.ConnectFlags, 'Will QoS or retain set without a will', 'MQTT-3.1.2-11');
  }
  if (version !== 5 && hasPassword && !hasUsername) {
    throw protocolError(ErrorCode.PasswordWithoutUsername, 'Password flag set without username flag', 'MQTT-3.1.2-22');
  }
  const keepalive = r.u16('keep alive');
  const properties = version === 5 ? readProperties(r, PacketType.Connect, role) : undefined;
  const clientId = r.utf8('client identifier');
  let will: Will | undefined;
  if (hasWill) {
    const willProperties = version === 5 ? readProperties(r, WILL_PROPERTIES, role) : undefined;
    const topic = r.utf8('will topic');
    if (!isValidTopicName(topic)) {
      throw new MqttProtocolError(ErrorCode.InvalidTopicName, 'Invalid will topic', ReasonCode.TopicNameInvalid, 'MQTT-3.1.3-11');
    }
    const payload = r.binary('will payload');
    will = willProperties
      ? { topic, payload, qos: willQos as QoS, retain: willRetain, properties: willProperties }
      : { topic, payload, qos: willQos as QoS, retain: willRetain };
  }
  const username = hasUsername ? r.utf8('user name') : undefined;
  const password = hasPassword ? r.binary('password') : undefined;
  r.expectEnd('CONNECT');
  const packet: ConnectPacket = {
    type: PacketType.Connect,
    protocolName,
    protocolVersion: version,
    bridge,
    clean: (cf & 0x02) !== 0,
    keepalive,
    clientId,
  };
  if (will) packet.will = will;
  if (username !== undefined) packet.username = username;
  if (password !== undefined) packet.password = password;
  if (properties) packet.properties = properties;
  return packet;
}

/** CONNECT carries its own version; the `version` argument is only a default for the name. */
export function encodeConnect(p: ConnectPacket): Buffer {
  const version = p.protocolVersion;
  const v5 = version === 5;
  const name = p.protocolName || (version === 3 ? 'MQIsdp' : 'MQTT');
  const nameLen = utf8Length(name);
  const clientIdLen = utf8Length(p.clientId);
  if (p.keepalive < 0 || p.keepalive > 65_535) throw invalid(`Keep alive ${p.keepalive} out of range`);
  let rl = 2 + nameLen + 1 + 1 + 2 + 2 + clientIdLen;
  let propsLen = 0;
  if (v5) {
    propsLen = propertiesLength(p.properties);
    rl += varintLength(propsLen) + propsLen;
  }
  const will = p.will;
  let willPropsLen = 0;
  let willTopicLen = 0;
  if (will) {
    if (will.qos !== 0 && will.qos !== 1 && will.qos !== 2) throw invalid(`Will QoS ${String(will.qos)}`);
    if (v5) {
      willPropsLen = propertiesLength(will.properties);
      rl += varintLength(willPropsLen) + willPropsLen;
    }
    willTopicLen = utf8Length(will.topic);
    rl += 2 + willTopicLen + 2 + binaryLength(will.payload);
  }
  let usernameLen = 0;
  if (p.username !== undefined) {
    usernameLen = utf8Length(p.username);
    rl += 2 + usernameLen;
  }
  if (p.password !== undefined) rl += 2 + binaryLength(p.password);

  const buf = allocPacket(0x10, rl);
  let pos = 1 + varintLength(rl);
  pos = writeUtf8(buf, pos, name, nameLen);
  buf[pos++] = version | (p.bridge ? 0x80 : 0);
  let cf = p.clean ? 0x02 : 0;
  if (will) cf |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  if (p.password !== undefined) cf |= 0x40;
  if (p.username !== undefined) cf |= 0x80;
  buf[pos++] = cf;
  pos = writeU16(buf, pos, p.keepalive);
  if (v5) pos = writeProperties(buf, pos, p.properties, propsLen);
  pos = writeUtf8(buf, pos, p.clientId, clientIdLen);
  if (will) {
    if (v5) pos = writeProperties(buf, pos, will.properties, willPropsLen);
    pos = writeUtf8(buf, pos, will.topic, willTopicLen);
    pos = writeBinary(buf, pos, will.payload);
  }
  if (p.username !== undefined) pos = writeUtf8(buf, pos, p.username, usernameLen);
  if (p.password !== undefined) writeBinary(buf, pos, p.password);
  return buf;
}
