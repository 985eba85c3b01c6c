/**
 * A fake remote broker for bridge tests: a TCP server on port 0 that frames what a bridge sends,
 * records every packet per connection, and answers like a broker of the protocol level the
 * CONNECT asked for. What it answers to the CONNECT and to QoS 2 flows can be chosen, so a test
 * can look at exact bytes and at flows a real broker would not stop in the middle of.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface FakeRemoteOptions {
  /** CONNACK to answer with (hex); undefined or absent: accepted, for the CONNECT's level. */
  connack?: (connection: number, v5: boolean) => string | undefined;
  /** Answer PUBREL with PUBCOMP (default true). */
  pubcomp?: (connection: number) => boolean;
  /** Listen on this port instead of a fresh one. */
  port?: number;
}

export interface FakeRemote {
  server: Server;
  port: number;
  /** Every packet received, per TCP connection, in order. */
  packets: Buffer[][];
  /** Hex of everything received on connection `i`. */
  hex(i: number): string;
  /** Waits (bounded) until `test` holds. */
  until(test: () => boolean, ms?: number): Promise<boolean>;
  close(): void;
}

/** Splits complete MQTT packets off the front of `buf`. */
export function frames(buf: Buffer<ArrayBufferLike>): { packets: Buffer[]; rest: Buffer<ArrayBufferLike> } {
  const packets: Buffer[] = [];
  for (let guard = 0; guard < 10_000 && buf.length >= 2; guard++) {
    let rl = 0;
    let mul = 1;
    let i = 1;
    for (; i < 5 && i < buf.length; i++) {
      const b = buf[i]!;
      rl += (b & 127) * mul;
      mul *= 128;
      if (!(b & 128)) break;
    }
    i++;
    if (buf.length < i + rl) break;
    packets.push(buf.subarray(0, i + rl));
    buf = buf.subarray(i + rl);
  }
  return { packets, rest: buf };
}

/** Offset of the variable header (after the fixed header's remaining length). */
export function bodyStart(pkt: Buffer): number {
  let i = 1;
  while (i < 5 && pkt[i]! & 0x80) i++;
  return i + 1;
}

/** The packet id of a QoS > 0 PUBLISH. */
export function publishId(pkt: Buffer): number {
  const i = bodyStart(pkt);
  return pkt.readUInt16BE(i + 2 + pkt.readUInt16BE(i));
}

export function fakeRemote(options: FakeRemoteOptions = {}): Promise<FakeRemote> {
  const packets: Buffer[][] = [];
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    const index = packets.push([]) - 1;
    let buf: Buffer<ArrayBufferLike> = Buffer.alloc(0);
    let v5 = false;
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const got = frames(buf);
      buf = got.rest;
      for (const pkt of got.packets) {
        packets[index]!.push(Buffer.from(pkt));
        const i = bodyStart(pkt);
        const type = pkt[0]! >> 4;
        const id = [pkt[i]!, pkt[i + 1]!];
        if (type === 1) {
          v5 = (pkt[i + 2 + pkt.readUInt16BE(i)]! & 0x7f) === 5;
          s.write(Buffer.from(options.connack?.(index, v5) ?? (v5 ? '2003000000' : '20020000'), 'hex'));
        } else if (type === 8) {
          s.write(Buffer.from(v5 ? [0x90, 4, ...id, 0, 0] : [0x90, 3, ...id, 0]));
        } else if (type === 10) {
          s.write(Buffer.from(v5 ? [0xb0, 4, ...id, 0, 0] : [0xb0, 2, ...id]));
        } else if (type === 3) {
          const qos = (pkt[0]! >> 1) & 3;
          const pid = publishId(pkt);
          if (qos === 1) s.write(Buffer.from([0x40, 2, pid >> 8, pid & 0xff]));
          if (qos === 2) s.write(Buffer.from([0x50, 2, pid >> 8, pid & 0xff]));
        } else if (type === 6) {
          if (options.pubcomp?.(index) ?? true) s.write(Buffer.from([0x70, 2, ...id]));
        } else if (type === 12) {
          s.write(Buffer.from([0xd0, 0]));
        }
      }
    });
    s.on('error', () => undefined);
  });
  return new Promise((resolve) => {
    server.listen(options.port ?? 0, '127.0.0.1', () =>
      resolve({
        server,
        port: (server.address() as { port: number }).port,
        packets,
        hex: (i) => (packets[i] ?? []).map((p) => p.toString('hex')).join(''),
        async until(test, ms = 15_000) {
          for (let waited = 0; waited < ms && !test(); waited += 50) await new Promise((r) => setTimeout(r, 50));
          return test();
        },
        close() {
          for (const s of sockets) s.destroy();
          server.close();
        },
      }),
    );
  });
}
