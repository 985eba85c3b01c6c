import { PacketType, type ProtocolVersion } from '../constants.js';
import { ErrorCode, protocolError } from '../errors.js';
import { propertiesLength, readProperties, writeProperties } from '../properties.js';
import type { Reader } from '../reader.js';
import type { Role, UnsubscribePacket } from '../types.js';
import { allocPacket, invalid, utf8Length, varintLength, writeU16, writeUtf8 } from '../writer.js';
import { zeroPacketId } from './publish.js';
import { checkFilter } from './subscribe.js';

/** UNSUBSCRIBE (spec 3.10): packet identifier, properties (5.0), then at least one filter. */
export function decodeUnsubscribe(r: Reader, version: ProtocolVersion, role: Role): UnsubscribePacket {
  const packetId = r.u16('packet identifier');
  if (packetId === 0) throw zeroPacketId('UNSUBSCRIBE');
  const properties = version === 5 ? readProperties(r, PacketType.Unsubscribe, role) : undefined;
  const topics: string[] = [];
  while (r.remaining > 0) {
    const topic = r.utf8('topic filter');
    checkFilter(topic);
    r.checkSlashes(topic);
    topics.push(topic);
  }
  // As for SUBSCRIBE: required from 3.1.1 on [MQTT-3.10.3-2], not in 3.1.
  if (topics.length === 0 && version !== 3) {
    throw protocolError(ErrorCode.NoTopicFilters, 'UNSUBSCRIBE without any topic filter', 'MQTT-3.10.3-2');
  }
  return properties
    ? { type: PacketType.Unsubscribe, packetId, topics, properties }
    : { type: PacketType.Unsubscribe, packetId, topics };
}

export function encodeUnsubscribe(p: UnsubscribePacket, version: ProtocolVersion): Buffer {
  if (!(p.packetId > 0 && p.packetId <= 65_535)) throw invalid(`UNSUBSCRIBE packet identifier ${p.packetId}`);
  if (p.topics.length === 0 && version !== 3) throw invalid('UNSUBSCRIBE needs at least one topic filter');
  let rl = 2;
  let propsLen = 0;
  if (version === 5) {
    propsLen = propertiesLength(p.properties);
    rl += varintLength(propsLen) + propsLen;
  }
  const lens = p.topics.map(utf8Length);
  for (const n of lens) rl += 2 + n;
  const buf = allocPacket(0xa2, rl);
  let pos = writeU16(buf, 1 + varintLength(rl), p.packetId);
  if (version === 5) pos = writeProperties(buf, pos, p.properties, propsLen);
  for (let i = 0; i < p.topics.length; i++) pos = writeUtf8(buf, pos, p.topics[i]!, lens[i]!);
  return buf;
}
