/**
 * The bridge's local identity and its end of life, ours and Debian mosquitto 2.0.11 side by side
 * as the bridging broker:
 * - local_clientid / local_username / local_password: the local side carries that identity, and
 *   like every Mosquitto bridge connection it is not held to the acl_file (mosquitto_acl_check
 *   returns success for bridge contexts; checked on Debian): a user whose ACL allows nothing
 *   still has its bridge forward both ways, while a client with that user name is denied.
 * - stopping the bridging broker closes the remote link without DISCONNECT, so the remote
 *   publishes the bridge's will: the state topic says "0" there.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { sides, sideName, sleep } from './sides.js';


const tmp = mkdtempSync(join(tmpdir(), 'skeeter-bridge-identity-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function client(port: number, id: string, username?: string): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.send(m.connect(4, { clientId: id, ...(username !== undefined ? { username } : {}) }));
  const ack = (await c.next())!;
  assert.equal(ack[3], 0, ack.toString('hex'));
  return c;
}

async function subscribe(c: RawClient, filter: string, qos = 0): Promise<void> {
  c.send(m.subscribe(4, 1, [[filter, qos]]));
  assert.equal((await c.next())![0], 0x90);
}

async function logHas(b: RunningBroker, text: string): Promise<void> {
  for (let i = 0; i < 300 && !b.stderr().includes(text); i++) await sleep(50);
  assert.ok(b.stderr().includes(text), `log lacks "${text}":\n${b.stderr()}`);
}

/** The PUBLISH packets a client gets within `ms` of quiet, topic and payload as "t p". */
async function received(c: RawClient, ms: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < 50; i++) {
    let p: Buffer | null;
    try {
      p = await c.next(ms);
    } catch {
      break;
    }
    if (!p) break;
    if (p[0]! >> 4 !== 3) continue;
    const tl = p.readUInt16BE(2);
    const qos = (p[0]! >> 1) & 3;
    if (qos > 0) c.send(m.puback(4, p.readUInt16BE(4 + tl)));
    out.push(`${p.subarray(4, 4 + tl).toString()} ${p.subarray(4 + tl + (qos > 0 ? 2 : 0)).toString()}`);
  }
  return out;
}

for (const debian of sides) {
  test(`local_username with an acl_file: the bridge is not held to the ACL (${sideName(debian)})`, { timeout: 60_000 }, async () => {
    const acl = join(tmp, `acl-${debian ? 'd' : 's'}`);
    // Anonymous clients may do anything; alice may only read a topic nobody uses.
    writeFileSync(acl, 'topic readwrite #\n\nuser alice\ntopic read nothing/#\n');
    const remote = await startBroker({ verbose: true });
    const local = await startBroker({
      oracle: debian,
      verbose: true,
      config: [
        `acl_file ${acl}`,
        'connection b1',
        `address 127.0.0.1:${remote.port}`,
        'remote_clientid brx',
        'local_clientid lbx',
        'local_username alice',
        'local_password secret',
        'topic out/# out 1',
        'topic in/# in 1',
      ],
    });
    try {
      await logHas(remote, 'as brx (p');
      const rsub = await client(remote.port, 'rsub');
      await subscribe(rsub, 'out/#', 1);
      const lsub = await client(local.port, 'lsub');
      await subscribe(lsub, 'in/#', 1);
      // Out: an anonymous local publisher; the bridge (alice, no read access) forwards it.
      const lpub = await client(local.port, 'lpub');
      lpub.send(m.publish(4, 'out/a', 'o1', { qos: 1, mid: 1 }));
      assert.equal((await lpub.next())![0], 0x40);
      // A client that is alice is held to the ACL: its publish goes nowhere.
      const alice = await client(local.port, 'alice-client', 'alice');
      alice.send(m.publish(4, 'out/a', 'denied', { qos: 1, mid: 1 }));
      assert.equal((await alice.next())![0], 0x40);
      // In: the bridge (alice, no write access) publishes locally what the remote sends.
      const rpub = await client(remote.port, 'rpub');
      rpub.send(m.publish(4, 'in/b', 'i1', { qos: 1, mid: 1 }));
      assert.equal((await rpub.next())![0], 0x40);
      assert.deepEqual(await received(rsub, 1500), ['out/a o1']);
      assert.deepEqual(await received(lsub, 1500), ['in/b i1']);
      // The bridge's local side is the client local_clientid names.
      await logHas(local, 'Sending PUBLISH to lbx');
      for (const c of [rsub, lsub, lpub, alice, rpub]) c.close();
    } finally {
      await local.stop();
      await remote.stop();
    }
  });

  test(`stopping the bridging broker: the remote publishes the bridge's "0" will (${sideName(debian)})`, { timeout: 60_000 }, async () => {
    const remote = await startBroker({ verbose: true });
    const local = await startBroker({
      oracle: debian,
      config: ['connection b1', `address 127.0.0.1:${remote.port}`, 'remote_clientid brx', 'topic out/# out 1'],
    });
    try {
      await logHas(remote, 'as brx (p');
      const state = await client(remote.port, 'state');
      await subscribe(state, '$SYS/broker/connection/brx/state', 1);
      assert.deepEqual(await received(state, 1500), ['$SYS/broker/connection/brx/state 1']);
      await local.stop();
      assert.deepEqual(await received(state, 3000), ['$SYS/broker/connection/brx/state 0']);
      state.close();
    } finally {
      await local.stop();
      await remote.stop();
    }
  });
}
