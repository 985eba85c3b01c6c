/**
 * The bytes libmosquitto writes where mqtt-packet (MQTT.js's encoder) writes other, equally
 * valid ones. MQTT.js writes each packet to the stream in pieces; for MQTT 5 the stream's
 * write is wrapped so the pieces are framed back into packets, and three packets are put in
 * libmosquitto's form before they leave:
 * - PUBACK/PUBREC/PUBREL/PUBCOMP without properties: libmosquitto leaves the property length
 *   out, and the reason code too when it is 0 (Remaining Length 3 or 2) [MQTT-3.4.2.1];
 *   MQTT.js's own PUBREL and PUBCOMP carry `00 00`.
 * - DISCONNECT without properties: the same, Remaining Length 1, or 0 for reason code 0
 *   [MQTT-3.14.2.1]; mqtt-packet always writes the reason code and a property length
 *   (mosquitto_rr's -W timeout sends `e0 01 04`).
 * - One-byte properties: mqtt-packet takes them as booleans, so `-D publish
 *   payload-format-indicator 5` would go out as 1; libmosquitto sends the byte as given. The
 *   value travels on the properties object under WIRE_BYTE_VALUES and is written into the
 *   encoded PUBLISH here.
 * - CONNECT with a password but no user name: MQTT 5 allows it (the user name and password
 *   flags are independent [MQTT-3.1.2-18], [MQTT-3.1.2-20]) and libmosquitto sends it, but
 *   mqtt-packet refuses a password without a user name; the client gives it an empty user name
 *   and the user name is taken out again here.
 */
import type { Duplex } from 'node:stream';
import { PROPERTIES, type PropertyType, type WireByteValues } from './properties.js';

const TYPE_BY_ID = new Map<number, PropertyType>(PROPERTIES.map((p) => [p.id, p.type]));

/** Reads a variable byte integer [MQTT-1.5.5]: value and size, or undefined if incomplete. */
function readVarint(buf: Buffer, offset: number): { value: number; size: number } | undefined {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 4; i++) {
    const b = buf[offset + i];
    if (b === undefined) return undefined;
    value += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return { value, size: i + 1 };
    mul *= 128;
  }
  return undefined;
}

/** Writes `values` into the one-byte properties of an encoded MQTT 5 PUBLISH. */
function patchPublishBytes(pkt: Buffer, values: WireByteValues): Buffer {
  const out = Buffer.from(pkt);
  const rl = readVarint(out, 1);
  if (!rl) return pkt;
  let off = 1 + rl.size;
  off += 2 + out.readUInt16BE(off);
  if (((out[0] as number) & 0x06) !== 0) off += 2; // packet identifier for QoS > 0
  const pl = readVarint(out, off);
  if (!pl) return pkt;
  off += pl.size;
  const end = off + pl.value;
  while (off < end) {
    const id = out[off++] as number;
    switch (TYPE_BY_ID.get(id)) {
      case 'byte': {
        const v = values[id];
        if (v !== undefined) out[off] = v;
        off += 1;
        break;
      }
      case 'uint16':
        off += 2;
        break;
      case 'uint32':
        off += 4;
        break;
      case 'varint':
        off += readVarint(out, off)?.size ?? end;
        break;
      case 'string':
      case 'binary':
        off += 2 + out.readUInt16BE(off);
        break;
      case 'pair':
        off += 2 + out.readUInt16BE(off);
        off += 2 + out.readUInt16BE(off);
        break;
      default:
        return pkt;
    }
  }
  return out;
}

function encodeVarint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** Removes the empty user name (and its flag) from an encoded MQTT 5 CONNECT. */
function dropEmptyUsername(pkt: Buffer): Buffer {
  const rl = readVarint(pkt, 1);
  if (!rl) return pkt;
  const start = 1 + rl.size;
  let off = start;
  off += 2 + pkt.readUInt16BE(off); // protocol name
  off += 1; // protocol level
  const flagsAt = off;
  const flags = pkt[off] as number;
  off += 1 + 2; // flags, keepalive
  const props = readVarint(pkt, off);
  if (!props) return pkt;
  off += props.size + props.value;
  off += 2 + pkt.readUInt16BE(off); // client id
  if (flags & 0x04) {
    const willProps = readVarint(pkt, off);
    if (!willProps) return pkt;
    off += willProps.size + willProps.value;
    off += 2 + pkt.readUInt16BE(off); // will topic
    off += 2 + pkt.readUInt16BE(off); // will payload
  }
  if ((flags & 0x80) === 0 || off + 2 > pkt.length || pkt.readUInt16BE(off) !== 0) return pkt;
  const body = Buffer.concat([pkt.subarray(start, off), pkt.subarray(off + 2)]);
  body[flagsAt - start] = flags & ~0x80;
  return Buffer.concat([pkt.subarray(0, 1), encodeVarint(body.length), body]);
}

/** One complete outgoing packet in libmosquitto's form. */
function libmosquittoForm(pkt: Buffer, byteValues: WireByteValues | undefined): Buffer {
  const type = (pkt[0] as number) >> 4;
  // An empty property list is left out, and a reason code 0 with it.
  if (type >= 4 && type <= 7 && pkt.length === 6 && pkt[1] === 4 && pkt[5] === 0) {
    return pkt[4] === 0 ? Buffer.from([pkt[0] as number, 2, pkt[2] as number, pkt[3] as number]) : Buffer.from([pkt[0] as number, 3, pkt[2] as number, pkt[3] as number, pkt[4] as number]);
  }
  if (type === 14 && pkt.length === 4 && pkt[1] === 2 && pkt[3] === 0) {
    return pkt[2] === 0 ? Buffer.from([0xe0, 0]) : Buffer.from([0xe0, 1, pkt[2] as number]);
  }
  if (type === 3 && byteValues) return patchPublishBytes(pkt, byteValues);
  return pkt;
}

type WriteCallback = (err?: Error | null) => void;

/**
 * Wraps `stream.write` (MQTT 5 connections only). `nextPublishBytes` is set from MQTT.js's
 * `packetsend` event, which fires synchronously just before that packet is encoded.
 */
export class OutgoingWire {
  nextPublishBytes: WireByteValues | undefined;
  /** The CONNECT carries a placeholder empty user name for a password sent alone. */
  dropEmptyUsername = false;
  private chunks: Buffer[] = [];
  private size = 0;

  install(stream: Duplex): void {
    const write = stream.write.bind(stream) as (chunk: Buffer, cb?: WriteCallback) => boolean;
    const wrapped = (chunk: Buffer | string, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean => {
      const callback = typeof encoding === 'function' ? encoding : cb;
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk;
      this.chunks.push(buf);
      this.size += buf.length;
      let result = true;
      for (;;) {
        const head = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size);
        const rl = head.length >= 2 ? readVarint(head, 1) : undefined;
        const total = rl ? 1 + rl.size + rl.value : Infinity;
        if (head.length < total) {
          this.chunks = head.length > 0 ? [head] : [];
          // Held until the packet is complete; the caller's callback must still run.
          if (callback) process.nextTick(callback);
          return result;
        }
        let pkt = head.subarray(0, total);
        if (((pkt[0] as number) >> 4) === 3) {
          pkt = libmosquittoForm(pkt, this.nextPublishBytes);
          this.nextPublishBytes = undefined;
        } else if (((pkt[0] as number) >> 4) === 1 && this.dropEmptyUsername) {
          pkt = dropEmptyUsername(pkt);
        } else {
          pkt = libmosquittoForm(pkt, undefined);
        }
        const rest = head.subarray(total);
        this.chunks = rest.length > 0 ? [rest] : [];
        this.size = rest.length;
        if (rest.length === 0) return write(pkt, callback);
        result = write(pkt);
      }
    };
    stream.write = wrapped as typeof stream.write;
  }
}
