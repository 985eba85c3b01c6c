/**
 * Fan-out encoding. A broker delivers one message to many receivers that differ only in QoS,
 * retain, DUP, packet identifier and a few per-delivery properties. `preparePublish` encodes the
 * topic and the message's properties once; `encodePreparedPublish` then builds each receiver's
 * packet with one allocation and three memcpys (topic, properties, payload), never re-encoding
 * strings. A caller that sends the same variant to many receivers (QoS 0, same version) encodes
 * once and writes the same Buffer to all of them.
 */
import type { ProtocolVersion } from './constants.js';
import { propertiesLength, writeProperties } from './properties.js';
import type { Properties, QoS } from './types.js';
import { publishHeader } from './packets/publish.js';
import { allocPacket, invalid, utf8Length, varintLength, writeU16, writeU32, writeVarint } from './writer.js';

export interface PreparedPublish {
  readonly protocolVersion: ProtocolVersion;
  readonly topic: string;
  /** The topic's 2-byte length prefix and UTF-8 bytes. */
  readonly topicBytes: Buffer;
  /** MQTT 5: the message's properties, encoded, without the property length. */
  readonly propertyBytes: Buffer;
  readonly payload: Uint8Array;
}

/** What differs per receiver. */
export interface PublishDelivery {
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** Ignored for QoS 0. */
  packetId: number;
  /** MQTT 5: one per matching subscription, written before the message's properties. */
  subscriptionIdentifiers?: number[] | undefined;
  /** MQTT 5: remaining lifetime in seconds, written after the message's properties. */
  messageExpiryInterval?: number | undefined;
  /** MQTT 5: outgoing topic alias, written first. */
  topicAlias?: number | undefined;
  /** MQTT 5: send an empty topic name (the receiver knows the alias already). */
  omitTopic?: boolean | undefined;
}

const EMPTY = Buffer.alloc(0);

/** `properties` must not contain subscriptionIdentifiers, topicAlias or messageExpiryInterval:
 * those are per delivery. */
export function preparePublish(
  message: { topic: string; payload: Uint8Array; properties?: Properties | undefined },
  protocolVersion: ProtocolVersion,
): PreparedPublish {
  const topicLength = utf8Length(message.topic);
  const topicBytes = Buffer.allocUnsafe(2 + topicLength);
  writeU16(topicBytes, 0, topicLength);
  topicBytes.write(message.topic, 2, 'utf8');
  let propertyBytes = EMPTY;
  if (protocolVersion === 5 && message.properties) {
    const len = propertiesLength(message.properties);
    if (len > 0) {
      const block = Buffer.allocUnsafe(varintLength(len) + len);
      writeProperties(block, 0, message.properties, len);
      propertyBytes = block.subarray(varintLength(len));
    }
  }
  return { protocolVersion, topic: message.topic, topicBytes, propertyBytes, payload: message.payload };
}

export function encodePreparedPublish(p: PreparedPublish, d: PublishDelivery): Buffer {
  const header = publishHeader(d.qos, d.retain, d.dup);
  const topicBytes = d.omitTopic ? EMPTY_TOPIC : p.topicBytes;
  let rl = topicBytes.length + p.payload.length;
  if (d.qos > 0) {
    if (!(d.packetId > 0 && d.packetId <= 65_535)) throw invalid(`PUBLISH packet identifier ${d.packetId}`);
    rl += 2;
  }
  let propsLen = 0;
  const v5 = p.protocolVersion === 5;
  if (v5) {
    propsLen = p.propertyBytes.length;
    if (d.topicAlias !== undefined) propsLen += 3;
    if (d.subscriptionIdentifiers !== undefined) {
      for (const id of d.subscriptionIdentifiers) propsLen += 1 + varintLength(id);
    }
    if (d.messageExpiryInterval !== undefined) propsLen += 5;
    rl += varintLength(propsLen) + propsLen;
  }
  const buf = allocPacket(header, rl);
  let pos = 1 + varintLength(rl);
  buf.set(topicBytes, pos);
  pos += topicBytes.length;
  if (d.qos > 0) pos = writeU16(buf, pos, d.packetId);
  if (v5) {
    pos = writeVarint(buf, pos, propsLen);
    if (d.topicAlias !== undefined) {
      buf[pos++] = 0x23;
      pos = writeU16(buf, pos, d.topicAlias);
    }
    if (d.subscriptionIdentifiers !== undefined) {
      for (const id of d.subscriptionIdentifiers) {
        buf[pos++] = 0x0b;
        pos = writeVarint(buf, pos, id);
      }
    }
    buf.set(p.propertyBytes, pos);
    pos += p.propertyBytes.length;
    if (d.messageExpiryInterval !== undefined) {
      buf[pos++] = 0x02;
      pos = writeU32(buf, pos, d.messageExpiryInterval);
    }
  }
  buf.set(p.payload, pos);
  return buf;
}

const EMPTY_TOPIC = Buffer.from([0, 0]);
