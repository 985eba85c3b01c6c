/**
 * A packet builder for black-box tests, written independently of @skeeter/codec (as Mosquitto's
 * test/mosq_test.py is independent of the broker): the code under test is never its own oracle.
 * Properties are passed as raw bytes built with the prop* helpers.
 */

export function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

export const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
export const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
export const str = (s: string | Buffer): Buffer => {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([u16(b.length), b]);
};

export function packet(header: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([header]), varint(body.length), body]);
}

/** A property block: its length, then the properties. */
export const props = (...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([varint(body.length), body]);
};
export const propByte = (id: number, v: number): Buffer => Buffer.from([id, v]);
export const propU16 = (id: number, v: number): Buffer => Buffer.concat([Buffer.from([id]), u16(v)]);
export const propU32 = (id: number, v: number): Buffer => Buffer.concat([Buffer.from([id]), u32(v)]);
export const propVarint = (id: number, v: number): Buffer => Buffer.concat([Buffer.from([id]), varint(v)]);
export const propStr = (id: number, s: string): Buffer => Buffer.concat([Buffer.from([id]), str(s)]);
export const propPair = (k: string, v: string): Buffer => Buffer.concat([Buffer.from([0x26]), str(k), str(v)]);

export type Version = 3 | 4 | 5;

export interface ConnectOptions {
  clientId?: string;
  clean?: boolean;
  keepalive?: number;
  will?: { topic: string; payload: string | Buffer; qos?: number; retain?: boolean; props?: Buffer };
  username?: string;
  password?: string;
  props?: Buffer;
}

export function connect(v: Version, o: ConnectOptions = {}): Buffer {
  const name = v === 3 ? 'MQIsdp' : 'MQTT';
  let flags = o.clean === false ? 0 : 0x02;
  if (o.will) flags |= 0x04 | ((o.will.qos ?? 0) << 3) | (o.will.retain ? 0x20 : 0);
  if (o.username !== undefined) flags |= 0x80;
  if (o.password !== undefined) flags |= 0x40;
  const parts: Buffer[] = [str(name), Buffer.from([v, flags]), u16(o.keepalive ?? 60)];
  if (v === 5) parts.push(o.props ?? props());
  parts.push(str(o.clientId ?? ''));
  if (o.will) {
    if (v === 5) parts.push(o.will.props ?? props());
    parts.push(str(o.will.topic), str(typeof o.will.payload === 'string' ? Buffer.from(o.will.payload) : o.will.payload));
  }
  if (o.username !== undefined) parts.push(str(o.username));
  if (o.password !== undefined) parts.push(str(o.password));
  return packet(0x10, ...parts);
}

export function connack(v: Version, rc = 0, sessionPresent = false, p?: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([sessionPresent ? 1 : 0, rc])];
  if (v === 5) parts.push(p ?? props());
  return packet(0x20, ...parts);
}

export interface PublishOptions {
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  mid?: number;
  props?: Buffer;
}

export function publish(v: Version, topic: string, payload: string | Buffer, o: PublishOptions = {}): Buffer {
  const qos = o.qos ?? 0;
  const header = 0x30 | (o.dup ? 0x08 : 0) | (qos << 1) | (o.retain ? 1 : 0);
  const parts: Buffer[] = [str(topic)];
  if (qos > 0) parts.push(u16(o.mid ?? 1));
  if (v === 5) parts.push(o.props ?? props());
  parts.push(typeof payload === 'string' ? Buffer.from(payload) : payload);
  return packet(header, ...parts);
}

/** PUBACK/PUBREC/PUBREL/PUBCOMP in the shortest form, as Mosquitto writes them. */
function ackLike(header: number, v: Version, mid: number, rc = 0, p?: Buffer): Buffer {
  if (v !== 5 || (rc === 0 && !p)) return packet(header, u16(mid));
  if (!p) return packet(header, u16(mid), Buffer.from([rc]));
  return packet(header, u16(mid), Buffer.from([rc]), p);
}
export const puback = (v: Version, mid: number, rc = 0, p?: Buffer): Buffer => ackLike(0x40, v, mid, rc, p);
export const pubrec = (v: Version, mid: number, rc = 0, p?: Buffer): Buffer => ackLike(0x50, v, mid, rc, p);
export const pubrel = (v: Version, mid: number, rc = 0, p?: Buffer): Buffer => ackLike(0x62, v, mid, rc, p);
export const pubcomp = (v: Version, mid: number, rc = 0, p?: Buffer): Buffer => ackLike(0x70, v, mid, rc, p);

/** `options` is the whole subscription options byte (QoS in the low bits). */
export function subscribe(v: Version, mid: number, filters: Array<[string, number]>, p?: Buffer): Buffer {
  const parts: Buffer[] = [u16(mid)];
  if (v === 5) parts.push(p ?? props());
  for (const [f, o] of filters) parts.push(str(f), Buffer.from([o]));
  return packet(0x82, ...parts);
}

export function suback(v: Version, mid: number, codes: number[], p?: Buffer): Buffer {
  const parts: Buffer[] = [u16(mid)];
  if (v === 5) parts.push(p ?? props());
  parts.push(Buffer.from(codes));
  return packet(0x90, ...parts);
}

export function unsubscribe(v: Version, mid: number, filters: string[], p?: Buffer): Buffer {
  const parts: Buffer[] = [u16(mid)];
  if (v === 5) parts.push(p ?? props());
  for (const f of filters) parts.push(str(f));
  return packet(0xa2, ...parts);
}

export function unsuback(v: Version, mid: number, codes: number[] = [], p?: Buffer): Buffer {
  if (v !== 5) return packet(0xb0, u16(mid));
  return packet(0xb0, u16(mid), p ?? props(), Buffer.from(codes));
}

export const pingreq = (): Buffer => Buffer.from([0xc0, 0x00]);
export const pingresp = (): Buffer => Buffer.from([0xd0, 0x00]);

export function disconnect(v: Version, rc = 0, p?: Buffer): Buffer {
  if (v !== 5 || (rc === 0 && !p)) return Buffer.from([0xe0, 0x00]);
  if (!p) return packet(0xe0, Buffer.from([rc]));
  return packet(0xe0, Buffer.from([rc]), p);
}
