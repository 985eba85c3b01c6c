/**
 * What the bridge tests share: which brokers play the bridging side (ours, and Debian's 2.0.11
 * when it is installed), and a raw 3.1.1 client that is connected before it is handed out.
 */
import assert from 'node:assert/strict';
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
