import { ErrorCode, malformed, MqttProtocolError } from './errors.js';
import { ReasonCode } from './constants.js';
import { findInvalidMqttUtf8 } from './utf8.js';

/**
 * A bounds-checked cursor over one packet body, `buf[pos, end)`. Every read checks the bound
 * and throws a malformed-packet error instead of reading past it. One Reader is reused for all
 * packets of a Decoder, so decoding allocates no cursor per packet.
 */
export class Reader {
  buf: Buffer;
  pos: number;
  end: number;
  /** Refuse control characters in strings, as Mosquitto does (see findInvalidMqttUtf8). */
  rejectControl = false;
  /** The most `/` a topic name or filter may hold; 0 = no limit (spec). Mosquitto's broker
   * refuses more than 200 (its TOPIC_HIERARCHY_LIMIT). */
  maxTopicSlashes = 0;

  constructor(buf: Buffer = EMPTY, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  reset(buf: Buffer, pos: number, end: number): this {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  truncated(what: string): MqttProtocolError {
    return malformed(ErrorCode.Truncated, `Packet too short to hold its ${what}`);
  }

  u8(what: string): number {
    if (this.pos >= this.end) throw this.truncated(what);
    return this.buf[this.pos++]!;
  }

  u16(what: string): number {
    const p = this.pos;
    if (p + 2 > this.end) throw this.truncated(what);
    this.pos = p + 2;
    return (this.buf[p]! << 8) | this.buf[p + 1]!;
  }

  u32(what: string): number {
    const p = this.pos;
    if (p + 4 > this.end) throw this.truncated(what);
    this.pos = p + 4;
    return this.buf[p]! * 0x1000000 + ((this.buf[p + 1]! << 16) | (this.buf[p + 2]! << 8) | this.buf[p + 3]!);
  }

  /** Variable Byte Integer, at most 4 bytes [MQTT-1.5.5-1]. */
  varint(what: string): number {
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 4; i++) {
      if (this.pos >= this.end) throw this.truncated(what);
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        // A trailing zero byte means a longer encoding than needed [MQTT-1.5.5-1].
        if (b === 0 && i > 0) {
          throw malformed(ErrorCode.BadVarint, `Variable Byte Integer not in its shortest form in ${what}`, 'MQTT-1.5.5-1');
        }
        return value;
      }
      mul *= 128;
    }
    throw malformed(ErrorCode.BadVarint, `Variable Byte Integer longer than 4 bytes in ${what}`, 'MQTT-1.5.5-1');
  }

  /** UTF-8 Encoded String: 2-byte length then bytes that obey MQTT's rules [MQTT-1.5.4-1..3]. */
  utf8(what: string): string {
    const len = this.u16(what);
    const start = this.pos;
    const stop = start + len;
    if (stop > this.end) throw this.truncated(what);
    this.pos = stop;
    const buf = this.buf;
    // Fast path: plain ASCII without NUL (or without any control character in Mosquitto's
    // mode) decodes as latin1, which is far cheaper than UTF-8.
    const lo = this.rejectControl ? 0x20 : 0x01;
    const hi = this.rejectControl ? 0x7f : 0x80;
    for (let i = start; i < stop; i++) {
      const b = buf[i]!;
      if (b < lo || b >= hi) return decodeUtf8Slow(buf, start, stop, what, this.rejectControl);
    }
    return buf.latin1Slice(start, stop);
  }

  /**
   * A PUBLISH Topic Name: a UTF-8 string without wildcards [MQTT-3.3.2-2]. The wildcard check is
   * folded into the ASCII scan so the hot path reads each topic byte once.
   */
  topicName(): string {
    const len = this.u16('topic name');
    const start = this.pos;
    const stop = start + len;
    if (stop > this.end) throw this.truncated('topic name');
    this.pos = stop;
    const buf = this.buf;
    const lo = this.rejectControl ? 0x20 : 0x01;
    const hi = this.rejectControl ? 0x7f : 0x80;
    let slashes = 0;
    for (let i = start; i < stop; i++) {
      const b = buf[i]!;
      if (b === 0x2f) slashes++;
      else if (b === 0x2b || b === 0x23) throw wildcardInTopic();
      else if (b < lo || b >= hi) {
        const topic = decodeUtf8Slow(buf, start, stop, 'topic name', this.rejectControl);
        if (topic.includes('+') || topic.includes('#')) throw wildcardInTopic();
        this.checkSlashes(topic, 'topic name');
        return topic;
      }
    }
    const limit = this.maxTopicSlashes;
    if (limit > 0 && slashes > limit) throw tooDeep('topic name', limit);
    return buf.latin1Slice(start, stop);
  }

  /** Throws when a topic filter has more levels than maxTopicSlashes allows. */
  checkSlashes(topic: string, what = 'topic filter'): void {
    const limit = this.maxTopicSlashes;
    if (limit === 0 || topic.length <= limit) return;
    let n = 0;
    for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 0x2f && ++n > limit) throw tooDeep(what, limit);
  }

  /** Binary Data: 2-byte length then bytes, returned as a view (no copy). */
  binary(what: string): Buffer {
    const len = this.u16(what);
    const start = this.pos;
    if (start + len > this.end) throw this.truncated(what);
    this.pos = start + len;
    return this.buf.subarray(start, start + len);
  }

  /** The rest of the body as a view (no copy). */
  rest(): Buffer {
    const view = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return view;
  }

  expectEnd(what: string): void {
    if (this.pos !== this.end) {
      throw malformed(ErrorCode.TrailingBytes, `${this.end - this.pos} unexpected byte(s) at the end of ${what}`);
    }
  }
}

function wildcardInTopic(): MqttProtocolError {
  return new MqttProtocolError(ErrorCode.InvalidTopicName, 'Wildcard in a PUBLISH topic name', ReasonCode.TopicNameInvalid, 'MQTT-3.3.2-2');
}

function tooDeep(what: string, limit: number): MqttProtocolError {
  return what === 'topic name'
    ? new MqttProtocolError(ErrorCode.InvalidTopicName, `More than ${limit} levels in a ${what}`, ReasonCode.TopicNameInvalid)
    : new MqttProtocolError(ErrorCode.InvalidTopicFilter, `More than ${limit} levels in a ${what}`, ReasonCode.TopicFilterInvalid);
}

function decodeUtf8Slow(buf: Buffer, start: number, stop: number, what: string, rejectControl: boolean): string {
  const bad = findInvalidMqttUtf8(buf, start, stop, rejectControl);
  if (bad !== -1) {
    const rule = buf[bad] === 0 ? 'MQTT-1.5.4-2' : 'MQTT-1.5.4-1';
    throw new MqttProtocolError(ErrorCode.MalformedUtf8, `Invalid UTF-8 in ${what}`, ReasonCode.MalformedPacket, rule);
  }
  return buf.utf8Slice(start, stop);
}

const EMPTY = Buffer.alloc(0);

declare global {
  // Node's Buffer has these fast slice methods; @types/node does not declare them.
  interface Buffer {
    latin1Slice(start: number, end: number): string;
    utf8Slice(start: number, end: number): string;
    latin1Write(s: string, offset: number, length?: number): number;
    utf8Write(s: string, offset: number, length?: number): number;
  }
}
