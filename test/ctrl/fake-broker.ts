/**
 * A minimal MQTT server on loopback for mosquitto_ctrl's wire tests: it records every packet a
 * client sends and answers CONNECT, SUBSCRIBE and PUBLISH the way a test asks (refusals, a
 * response payload, silence, or closing the connection), so that what mosquitto_ctrl sends
 * and how it reacts to each answer can be checked byte for byte.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface FakeBehaviour {
  /** CONNACK reason/return code (default 0). */
  connack?: number;
  /** SUBACK granted QoS / reason code (default: the requested QoS). */
  suback?: number;
  /** PUBACK reason code for MQTT 5 (default 0). */
  puback?: number;
  /** After the request PUBLISH: send this payload on the response topic, say nothing, or close. */
  answer?: Buffer | string | 'silent' | 'close';
}

export interface Connection {
  /** Raw packets from the client, in order. */
  readonly packets: Buffer[];
  closed: boolean;
  readonly done: Promise<void>;
}

export interface FakeBroker {
  readonly port: number;
  readonly connections: Connection[];
  close(): Promise<void>;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

function packet(first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first]), varint(body.length), body]);
}

const RESPONSE_TOPIC = '$CONTROL/dynamic-security/v1/response';

export async function startFakeBroker(behaviour: FakeBehaviour): Promise<FakeBroker> {
  const connections: Connection[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    let resolveDone: () => void = () => undefined;
    const conn: Connection = { packets: [], closed: false, done: new Promise<void>((r) => (resolveDone = r)) };
    connections.push(conn);
    let buf = Buffer.alloc(0);
    let v5 = false;
    s.on('error', () => undefined);
    s.on('close', () => {
      conn.closed = true;
      sockets.delete(s);
      resolveDone();
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2) return;
        let len = 0;
        let mul = 1;
        let i = 1;
        for (; i < 5; i++) {
          const b = buf[i];
          if (b === undefined) return;
          len += (b & 0x7f) * mul;
          mul *= 128;
          if ((b & 0x80) === 0) break;
        }
        const total = i + 1 + len;
        if (buf.length < total) return;
        const pkt = buf.subarray(0, total);
        const body = pkt.subarray(i + 1);
        buf = buf.subarray(total);
        conn.packets.push(Buffer.from(pkt));
        const type = (pkt[0] as number) >> 4;
        if (type === 1) {
          v5 = body[6] === 5;
          s.write(packet(0x20, Buffer.from([0, behaviour.connack ?? 0, ...(v5 ? [0] : [])])));
          if ((behaviour.connack ?? 0) !== 0) s.end();
        } else if (type === 8) {
          // The requested QoS is the last byte (one filter); v5 SUBACK carries a property length.
          const granted = behaviour.suback ?? ((body[body.length - 1] as number) & 3);
          s.write(packet(0x90, Buffer.from([body[0] as number, body[1] as number, ...(v5 ? [0] : []), granted])));
        } else if (type === 3) {
          const qos = ((pkt[0] as number) >> 1) & 3;
          const at = 2 + body.readUInt16BE(0);
          if (qos === 1) {
            const rc = behaviour.puback ?? 0;
            s.write(packet(0x40, Buffer.from([body[at] as number, body[at + 1] as number, ...(v5 && rc !== 0 ? [rc, 0] : [])])));
          } else if (qos === 2) {
            s.write(packet(0x50, Buffer.from([body[at] as number, body[at + 1] as number])));
          }
          const answer = behaviour.answer ?? 'silent';
          if (answer === 'close') {
            s.destroy();
          } else if (answer !== 'silent') {
            const topic = Buffer.from(RESPONSE_TOPIC);
            const payload = typeof answer === 'string' ? Buffer.from(answer, 'utf8') : answer;
            s.write(packet(0x30, Buffer.concat([Buffer.from([0, topic.length]), topic, v5 ? Buffer.from([0]) : Buffer.alloc(0), payload])));
          }
        } else if (type === 6) {
          s.write(packet(0x70, Buffer.from([body[0] as number, body[1] as number])));
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The PUBLISH a client sent: topic, QoS and payload (`v5`: there is a property list). */
export function publishOf(pkt: Buffer, v5: boolean): { topic: string; qos: number; payload: Buffer } | undefined {
  if ((pkt[0] as number) >> 4 !== 3) return undefined;
  let i = 1;
  while (((pkt[i] as number) & 0x80) !== 0) i++;
  let off = i + 1;
  const tlen = pkt.readUInt16BE(off);
  const topic = pkt.subarray(off + 2, off + 2 + tlen).toString('utf8');
  off += 2 + tlen;
  const qos = ((pkt[0] as number) >> 1) & 3;
  if (qos > 0) off += 2;
  if (v5) {
    let plen = 0;
    let mul = 1;
    for (;;) {
      const b = pkt[off++] as number;
      plen += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) break;
    }
    off += plen;
  }
  return { topic, qos, payload: pkt.subarray(off) };
}
