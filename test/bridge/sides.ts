/**
 * What the bridge tests share: which brokers play the bridging side (ours, and Debian's 2.0.11
 * when it is installed), a raw 3.1.1 client that is connected before it is handed out, and a
 * remote played packet by packet by the test.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { hasDebianMosquitto } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';

export const oracle = hasDebianMosquitto();
/** `false` is skeeter, `true` is Debian's broker. */
export const sides: readonly boolean[] = oracle ? [false, true] : [false];
export const sideName = (debian: boolean): string => (debian ? 'Debian mosquitto' : 'skeeter');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A 3.1.1 client with a clean session, after its CONNACK 0. */
export async function client(port: number, id: string): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.send(m.connect(4, { clientId: id }));
  const ack = (await c.next())!;
  assert.equal(ack[3], 0, ack.toString('hex'));
  return c;
}

/**
 * A remote the test plays by hand: a TCP server on 127.0.0.1 port 0; each connection the bridge
 * makes comes out of `accept` as a raw client, so a test can answer packet by packet, leave
 * things unanswered, and drop the connection where it likes.
 */
export interface ScriptedRemote {
  port: number;
  /** The bridge's next connection (bounded wait). */
  accept(ms?: number): Promise<RawClient>;
  close(): void;
}

export function scriptedRemote(): Promise<ScriptedRemote> {
  const waiting: RawClient[] = [];
  const all: RawClient[] = [];
  let wake: (() => void) | undefined;
  const server = createServer((s) => {
    const c = RawClient.wrap(s);
    all.push(c);
    waiting.push(c);
    wake?.();
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as { port: number }).port,
        async accept(ms = 15_000) {
          const deadline = Date.now() + ms;
          while (waiting.length === 0) {
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`no bridge connection within ${ms} ms`);
            await new Promise<void>((r) => {
              const t = setTimeout(r, left);
              wake = () => {
                clearTimeout(t);
                r();
              };
            });
            wake = undefined;
          }
          return waiting.shift()!;
        },
        close() {
          for (const c of all) c.close();
          server.close();
        },
      }),
    );
  });
}

/** Reads the bridge's CONNECT on a scripted remote's connection and accepts it. */
export async function acceptConnect(c: RawClient, v: 4 | 5, connackProps?: Buffer): Promise<void> {
  const p = (await c.next(10_000))!;
  assert.equal(p[0], 0x10, `expected CONNECT, got ${p.toString('hex')}`);
  c.send(m.connack(v, 0, false, connackProps));
}

/** The next packet must be exactly `expected`. */
export async function expectPacket(c: RawClient, expected: Buffer, what: string): Promise<void> {
  const p = await c.next(10_000);
  assert.equal(p?.toString('hex'), expected.toString('hex'), what);
}
