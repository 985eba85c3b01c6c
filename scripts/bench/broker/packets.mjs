// MQTT 3.1.1 packets built by hand for the load generator, and a reader that frames received
// bytes by their fixed headers only. Written independently of @skeeter/codec on purpose: the
// load generator must cost the same against every broker and must not share code (or bugs)
// with the broker under test.

/** The Remaining Length as MQTT's variable byte integer (spec 1.5.5). */
function remainingLength(n) {
  const out = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function utf8Field(text) {
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

function packet(firstByte, body) {
  return Buffer.concat([Buffer.from([firstByte, ...remainingLength(body.length)]), body]);
}

/** CONNECT, protocol level 4 (3.1.1), clean session, no will, no credentials. */
export function connectPacket(clientId, keepalive = 0) {
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, keepalive >> 8, keepalive & 0xff]);
  return packet(0x10, Buffer.concat([variable, utf8Field(clientId)]));
}

/** SUBSCRIBE (fixed header flags 0010 [MQTT-3.8.1-1]) with one or more filters at one QoS. */
export function subscribePacket(packetId, filters, qos) {
  const parts = [Buffer.from([packetId >> 8, packetId & 0xff])];
  for (const f of filters) parts.push(utf8Field(f), Buffer.from([qos]));
  return packet(0x82, Buffer.concat(parts));
}

/**
 * PUBLISH. For QoS 1/2 the packet id sits right after the topic; `packetIdOffset` says where, so
 * a template can be copied and patched per message instead of re-encoded.
 */
export function publishPacket(topic, payload, qos = 0, packetId = 0, retain = false) {
  const topicField = utf8Field(topic);
  const id = qos > 0 ? Buffer.from([packetId >> 8, packetId & 0xff]) : Buffer.alloc(0);
  const body = Buffer.concat([topicField, id, payload]);
  const buf = packet(0x30 | (qos << 1) | (retain ? 1 : 0), body);
  return buf;
}

/** Where the packet id and the payload start in a PUBLISH built by publishPacket. */
export function publishLayout(buf) {
  let i = 1;
  while (buf[i] & 0x80) i++;
  const topicStart = i + 1;
  const topicLen = buf.readUInt16BE(topicStart);
  const afterTopic = topicStart + 2 + topicLen;
  const qos = (buf[0] >> 1) & 3;
  return { packetIdOffset: qos > 0 ? afterTopic : -1, payloadOffset: qos > 0 ? afterTopic + 2 : afterTopic };
}

export const TYPE = { CONNACK: 2, PUBLISH: 3, PUBACK: 4, PUBREC: 5, PUBREL: 6, PUBCOMP: 7, SUBACK: 9, PINGRESP: 13 };

/** PUBACK/PUBREC/PUBCOMP (flags 0) and PUBREL (flags 0010 [MQTT-3.6.1-1]), written into `out` at `at`. */
export function writeAck(out, at, type, packetId) {
  out[at] = (type << 4) | (type === TYPE.PUBREL ? 0x02 : 0);
  out[at + 1] = 2;
  out[at + 2] = packetId >> 8;
  out[at + 3] = packetId & 0xff;
}

export const PINGREQ = Buffer.from([0xc0, 0x00]);
export const DISCONNECT = Buffer.from([0xe0, 0x00]);

/**
 * Frames a byte stream into packets by fixed header: calls onPacket(firstByte, buf, bodyStart,
 * bodyEnd) with a view of the body, never copying except the partial packet left at the end of a
 * chunk. Most callers only count (firstByte tells type and QoS); nothing is decoded here.
 */
export class FrameReader {
  constructor(onPacket) {
    this.onPacket = onPacket;
    this.pending = null;
  }

  push(chunk) {
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    const end = buf.length;
    let at = 0;
    while (at < end) {
      if (end - at < 2) break;
      // Remaining Length: up to 4 bytes, 7 bits each (spec 1.5.5).
      let len = 0;
      let mul = 1;
      let i = at + 1;
      let complete = false;
      while (i < end && i < at + 5) {
        const b = buf[i++];
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) break;
      if (i + len > end) break;
      this.onPacket(buf[at], buf, i, i + len);
      at = i + len;
    }
    if (at < end) this.pending = Buffer.from(buf.subarray(at));
  }
}
