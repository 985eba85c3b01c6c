/**
 * The bytes a bridge sends to its remote: CONNECT (bridge bit, will on the state topic), the
 * "1" notification, UNSUBSCRIBE of out topics, SUBSCRIBE of in/both topics. Ours must equal
 * Debian mosquitto 2.0.11's, captured by a fake remote that answers like a broker.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { hasDebianMosquitto, startBroker } from '../helpers/broker-process.js';

/** Captured from Debian's bridge for the config below (remote_clientid rc1). */
const EXPECTED = [
  // CONNECT: MQTT, level 4 | 0x80 (try_private), will QoS 1 retained, clean session off, keepalive 60
  '103400044d515454842c003c00037263310020245359532f62726f6b65722f636f6e6e656374696f6e2f7263312f7374617465000130',
  // PUBLISH QoS 1 retained "1" on the state topic, mid 1
  '33250020245359532f62726f6b65722f636f6e6e656374696f6e2f7263312f7374617465000131',
  // UNSUBSCRIBE out/# (mid 2), SUBSCRIBE rem/in/# QoS 2 (mid 3), SUBSCRIBE both/# QoS 0 (mid 4)
  'a209000200056f75742f23',
  '820d0003000872656d2f696e2f2302',
  '820b00040006626f74682f2300',
].join('');

/** A fake remote: records bytes, answers CONNACK, SUBACK and PUBACK; resolves with the first bytes. */
function fakeRemote(): Promise<{ server: Server; port: number; bytes: () => string }> {
  let seen = '';
  return new Promise((resolve) => {
    const server = createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        seen += d.toString('hex');
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2) {
          let rl = 0;
          let mul = 1;
          let i = 1;
          for (;;) {
            const b = buf[i++]!;
            rl += (b & 127) * mul;
            if (!(b & 128)) break;
            mul *= 128;
          }
          if (buf.length < i + rl) break;
          const pkt = buf.subarray(0, i + rl);
          buf = buf.subarray(i + rl);
          const type = pkt[0]! >> 4;
          if (type === 1) s.write(Buffer.from('20020000', 'hex'));
          if (type === 8) s.write(Buffer.from([0x90, 3, pkt[i]!, pkt[i + 1]!, 0]));
          if (type === 3 && ((pkt[0]! >> 1) & 3) === 1) {
            const tl = pkt.readUInt16BE(i);
            s.write(Buffer.from([0x40, 2, pkt[i + 2 + tl]!, pkt[i + 3 + tl]!]));
          }
        }
      });
      s.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, bytes: () => seen }));
  });
}

for (const oracle of [false, true]) {
  test(`bridge handshake bytes (${oracle ? 'Debian mosquitto 2.0.11' : 'skeeter'})`, { skip: oracle && !hasDebianMosquitto() ? 'Debian mosquitto not installed' : undefined, timeout: 20_000 }, async () => {
    const remote = await fakeRemote();
    const local = await startBroker({
      oracle,
      config: ['connection br1', `address 127.0.0.1:${remote.port}`, 'remote_clientid rc1', 'topic out/# out 1', 'topic in/# in 2 loc/ rem/', 'topic both/# both 0'],
    });
    try {
      for (let i = 0; i < 100 && remote.bytes().length < EXPECTED.length; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(remote.bytes().slice(0, EXPECTED.length), EXPECTED);
    } finally {
      await local.stop();
      remote.server.close();
    }
  });
}
