import { PacketType, ReasonCode, type ProtocolVersion } from '../constants.js';
import { ErrorCode, malformed, MqttProtocolError, protocolError } from '../errors.js';
import { propertiesLength, readProperties, writeProperties } from '../properties.js';
import type { Reader } from '../reader.js';
import type { PublishPacket, QoS, Role } from '../types.js';
import { allocPacket, invalid, utf8Length, varintLength, writeU16, writeUtf8 } from '../writer.js';

/** PUBLISH (spec 3.3). The payload is a view into the input: no copy on the hot path. */
export function decodePublish(r: Reader, flags: number, version: ProtocolVersion, role: Role): PublishPacket {
  const qos = (flags >> 1) & 0x03;
  if (qos === 3) throw malformed(ErrorCode.InvalidQoS, 'PUBLISH with QoS 3', 'MQTT-3.3.1-4');
  const dup = (flags & 0x08) !== 0;
  if (dup && qos === 0) throw malformed(ErrorCode.DupOnQoS0, 'PUBLISH with DUP set on QoS 0', 'MQTT-3.3.1-2');
  const topic = r.topicName();
  let packetId = 0;
  if (qos > 0) {
    packetId = r.u16('packet identifier');
    if (packetId === 0) throw zeroPacketId('PUBLISH');
  }
  if (version === 5) {
    const properties = readProperties(r, PacketType.Publish, role);
    // An empty topic is only allowed when a Topic Alias stands for it [MQTT-3.3.2-1], [MQTT-3.3.4-8].
    if (topic.length === 0 && properties.topicAlias === undefined) {
      throw protocolError(ErrorCode.EmptyTopic, 'PUBLISH with an empty topic and no topic alias', 'MQTT-3.3.2-1');
    }
    return {
      type: PacketType.Publish,
      topic,
      payload: r.rest(),
      qos: qos as QoS,
      retain: (flags & 0x01) !== 0,
      dup,
      packetId,
      properties,
    };
  }
  if (topic.length === 0) throw malformed(ErrorCode.EmptyTopic, 'PUBLISH with an empty topic', 'MQTT-4.7.3-1');
  return {
    type: PacketType.Publish,
    topic,
    payload: r.rest(),
    qos: qos as QoS,
    retain: (flags & 0x01) !== 0,
    dup,
    packetId,
  };
}

export function zeroPacketId(what: string): MqttProtocolError {
  return new MqttProtocolError(ErrorCode.ZeroPacketId, `${what} with packet identifier 0`, ReasonCode.ProtocolError, 'MQTT-2.2.1-3');
}

export function publishHeader(qos: number, retain: boolean, dup: boolean): number {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw invalid(`PUBLISH QoS ${qos}`);
  return 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0);
}

export function encodePublish(p: PublishPacket, version: ProtocolVersion): Buffer {
  const header = publishHeader(p.qos, p.retain, p.dup);
  const topicLen = utf8Length(p.topic);
  const payload = p.payload;
  let rl = 2 + topicLen + payload.length;
  if (p.qos > 0) {
    if (!(p.packetId > 0 && p.packetId <= 65_535)) throw invalid(`PUBLISH packet identifier ${p.packetId}`);
    rl += 2;
  }
  let propsLen = 0;
  if (version === 5) {
    propsLen = propertiesLength(p.properties);
    rl += varintLength(propsLen) + propsLen;
  }
  const buf = allocPacket(header, rl);
  let pos = writeUtf8(buf, 1 + varintLength(rl), p.topic, topicLen);
  if (p.qos > 0) pos = writeU16(buf, pos, p.packetId);
  if (version === 5) pos = writeProperties(buf, pos, p.properties, propsLen);
  buf.set(payload, pos);
  return buf;
}
