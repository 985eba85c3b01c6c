import { PacketType, ReasonCode, type ProtocolVersion } from '../constants.js';
import { ErrorCode, malformed, MqttProtocolError, protocolError } from '../errors.js';
import { propertiesLength, readProperties, writeProperties } from '../properties.js';
import type { Reader } from '../reader.js';
import { isValidTopicFilter, parseSharedSubscription } from '../topic.js';
import type { QoS, Role, SubscribePacket, Subscription } from '../types.js';
import { allocPacket, invalid, utf8Length, varintLength, writeU16, writeUtf8 } from '../writer.js';
import { zeroPacketId } from './publish.js';

/** SUBSCRIBE (spec 3.8): packet identifier, properties (5.0), then filter + options pairs. */
export function decodeSubscribe(r: Reader, version: ProtocolVersion, role: Role): SubscribePacket {
  const packetId = r.u16('packet identifier');
  if (packetId === 0) throw zeroPacketId('SUBSCRIBE');
  const properties = version === 5 ? readProperties(r, PacketType.Subscribe, role) : undefined;
  const subscriptions: Subscription[] = [];
  while (r.remaining > 0) {
    const topic = r.utf8('topic filter');
    checkFilter(topic);
    r.checkSlashes(topic);
    const options = r.u8('subscription options');
    const qos = options & 0x03;
    if (qos === 3) {
      // 3.1.1 treats it as malformed [MQTT-3-8.3-4]; 5.0 says "It is a Protocol Error if the
      // Maximum QoS field has the value 3" (3.8.3.1).
      if (version === 5) throw protocolError(ErrorCode.InvalidQoS, 'Subscription with Maximum QoS 3');
      throw malformed(ErrorCode.InvalidQoS, 'Subscription with QoS 3', 'MQTT-3.8.3-4');
    }
    if (version === 5) {
      // Bits 6 and 7 are reserved [MQTT-3.8.3-5]; retain handling 3 is a Protocol Error.
      if ((options & 0xc0) !== 0) {
        throw malformed(ErrorCode.SubscriptionOptions, 'Reserved subscription option bits set', 'MQTT-3.8.3-5');
      }
      const retainHandling = (options >> 4) & 0x03;
      if (retainHandling === 3) {
        throw protocolError(ErrorCode.SubscriptionOptions, 'Retain Handling 3 in SUBSCRIBE');
      }
      const noLocal = (options & 0x04) !== 0;
      // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
      if (noLocal && topic.startsWith('$share/')) {
        throw protocolError(ErrorCode.NoLocalOnShared, 'No Local set on a shared subscription', 'MQTT-3.8.3-4');
      }
      subscriptions.push({
        topic,
        qos: qos as QoS,
        noLocal,
        retainAsPublished: (options & 0x08) !== 0,
        retainHandling: retainHandling as 0 | 1 | 2,
      });
    } else {
      if ((options & 0xfc) !== 0) {
        throw malformed(ErrorCode.SubscriptionOptions, 'Reserved bits of the requested QoS byte set', 'MQTT-3.8.3-4');
      }
      subscriptions.push({ topic, qos: qos as QoS, noLocal: false, retainAsPublished: false, retainHandling: 0 });
    }
  }
  // 3.1.1 and 5.0 require a filter [MQTT-3.8.3-3]; 3.1 had no such rule (Mosquitto answers an
  // empty 3.1 SUBSCRIBE with an empty SUBACK).
  if (subscriptions.length === 0 && version !== 3) {
    throw protocolError(ErrorCode.NoTopicFilters, 'SUBSCRIBE without any topic filter', 'MQTT-3.8.3-3');
  }
  return properties
    ? { type: PacketType.Subscribe, packetId, subscriptions, properties }
    : { type: PacketType.Subscribe, packetId, subscriptions };
}

/** Topic filter rules shared by SUBSCRIBE and UNSUBSCRIBE [MQTT-4.7.1-1..3], [MQTT-4.8.2-1..2]. */
export function checkFilter(topic: string): void {
  if (!isValidTopicFilter(topic)) {
    throw new MqttProtocolError(ErrorCode.InvalidTopicFilter, `Invalid topic filter "${topic}"`, ReasonCode.TopicFilterInvalid, 'MQTT-4.7.1-1');
  }
  if (topic.startsWith('$share/') && parseSharedSubscription(topic) === null) {
    throw new MqttProtocolError(ErrorCode.InvalidSharedSubscription, `Invalid shared subscription "${topic}"`, ReasonCode.TopicFilterInvalid, 'MQTT-4.8.2-1');
  }
}

export function encodeSubscribe(p: SubscribePacket, version: ProtocolVersion): Buffer {
  if (!(p.packetId > 0 && p.packetId <= 65_535)) throw invalid(`SUBSCRIBE packet identifier ${p.packetId}`);
  if (p.subscriptions.length === 0 && version !== 3) throw invalid('SUBSCRIBE needs at least one subscription');
  let rl = 2;
  let propsLen = 0;
  if (version === 5) {
    propsLen = propertiesLength(p.properties);
    rl += varintLength(propsLen) + propsLen;
  }
  const lens = new Array<number>(p.subscriptions.length);
  for (let i = 0; i < p.subscriptions.length; i++) {
    const s = p.subscriptions[i]!;
    if (s.qos !== 0 && s.qos !== 1 && s.qos !== 2) throw invalid(`Subscription QoS ${String(s.qos)}`);
    lens[i] = utf8Length(s.topic);
    rl += 2 + lens[i]! + 1;
  }
  const buf = allocPacket(0x82, rl);
  let pos = writeU16(buf, 1 + varintLength(rl), p.packetId);
  if (version === 5) pos = writeProperties(buf, pos, p.properties, propsLen);
  for (let i = 0; i < p.subscriptions.length; i++) {
    const s = p.subscriptions[i]!;
    pos = writeUtf8(buf, pos, s.topic, lens[i]!);
    let options: number = s.qos;
    if (version === 5) {
      if (s.noLocal) options |= 0x04;
      if (s.retainAsPublished) options |= 0x08;
      options |= (s.retainHandling & 0x03) << 4;
    }
    buf[pos++] = options;
  }
  return buf;
}
