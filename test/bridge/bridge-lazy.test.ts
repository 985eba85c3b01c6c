/**
 * start_type lazy: the bridge connects once `threshold` messages wait for the remote, hands them
 * over in order, and disconnects after `idle_timeout` seconds without traffic. Only ours is
 * tested: Debian 2.0.11's lazy bridge stays at "Connecting bridge (step 1)" and drops the
 * messages ("Outgoing messages are being dropped for client local.<id>.").
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import * as m from '../helpers/mqtt-bytes.js';
import { fakeRemote, type FakeRemote } from './fake-remote.js';
import { sleep, client } from './sides.js';


async function logCount(b: RunningBroker, text: string, count: number): Promise<void> {
  const n = (): number => b.stderr().split(text).length - 1;
  for (let i = 0; i < 200 && n() < count; i++) await sleep(50);
  assert.ok(n() >= count, `log lacks ${count} x "${text}":\n${b.stderr()}`);
}

test('start_type lazy: connects at threshold, delivers in order, disconnects when idle, and again', { timeout: 60_000 }, async () => {
  const remote = await startBroker({ verbose: true });
  const local = await startBroker({
    config: ['connection b1', `address 127.0.0.1:${remote.port}`, 'remote_clientid brx', 'start_type lazy', 'threshold 3', 'idle_timeout 2', 'topic out/# out 1'],
    verbose: true,
  });
  try {
    const r = await client(remote.port, 'r');
    r.send(m.subscribe(4, 1, [['out/#', 1]]));
    await r.next();
    const state = await client(local.port, 'state');
    state.send(m.subscribe(4, 1, [['$SYS/broker/connection/brx/state', 0]]));
    await state.next();
    assert.match((await state.next())!.toString('latin1'), /state0$/);
    const p = await client(local.port, 'p');
    for (const round of [1, 2]) {
      p.send(m.publish(4, 'out/a', `r${round}m1`));
      p.send(m.publish(4, 'out/a', `r${round}m2`, { qos: 1, mid: 1 }));
      assert.equal((await p.next())![0], 0x40);
      // Two messages wait: below the threshold, no connection.
      await sleep(500);
      assert.equal(remote.stderr().split('as brx (p').length - 1, round - 1, remote.stderr());
      p.send(m.publish(4, 'out/a', `r${round}m3`, { qos: 1, mid: 2 }));
      assert.equal((await p.next())![0], 0x40);
      const got: string[] = [];
      for (let i = 0; i < 3; i++) {
        const pkt = (await r.next(10_000))!;
        got.push(pkt.toString('latin1').slice(-4));
        if (((pkt[0]! >> 1) & 3) === 1) r.send(m.puback(4, pkt.readUInt16BE(4 + pkt.readUInt16BE(2))));
      }
      assert.deepEqual(got, [`r${round}m1`, `r${round}m2`, `r${round}m3`]);
      assert.match((await state.next(5000))!.toString('latin1'), /state1$/);
      await logCount(local, 'Bridge connection local.brx has exceeded idle timeout, disconnecting.', round);
      assert.match((await state.next(5000))!.toString('latin1'), /state0$/);
    }
    for (const c of [r, state, p]) c.close();
  } finally {
    await local.stop();
    await remote.stop();
  }
});

test('start_type lazy: the threshold counts messages waiting behind the local in-flight window', { timeout: 60_000 }, async () => {
  // max_inflight_messages is 20: with threshold 25, five of the messages wait in the bridge's
  // local session queue and still count, as Mosquitto counts all its bridge's messages.
  const remote = await startBroker({ verbose: true });
  const local = await startBroker({
    config: ['connection b1', `address 127.0.0.1:${remote.port}`, 'remote_clientid brx', 'start_type lazy', 'threshold 25', 'topic out/# out 1'],
    verbose: true,
  });
  try {
    const r = await client(remote.port, 'r');
    r.send(m.subscribe(4, 1, [['out/#', 1]]));
    await r.next();
    const p = await client(local.port, 'p');
    for (let i = 1; i <= 24; i++) {
      p.send(m.publish(4, 'out/a', `m${String(i).padStart(2, '0')}`, { qos: 1, mid: i }));
      assert.equal((await p.next())![0], 0x40);
    }
    await sleep(1500);
    assert.equal(remote.stderr().split('as brx (p').length - 1, 0, remote.stderr());
    p.send(m.publish(4, 'out/a', 'm25', { qos: 1, mid: 25 }));
    assert.equal((await p.next())![0], 0x40);
    const got: string[] = [];
    for (let i = 0; i < 25; i++) {
      const pkt = (await r.next(15_000))!;
      got.push(pkt.toString('latin1').slice(-3));
      r.send(m.puback(4, pkt.readUInt16BE(4 + pkt.readUInt16BE(2))));
    }
    assert.deepEqual(got, Array.from({ length: 25 }, (_, i) => `m${String(i + 1).padStart(2, '0')}`));
    for (const c of [r, p]) c.close();
  } finally {
    await local.stop();
    await remote.stop();
  }
});

test('start_type lazy: a remote that is down at the threshold is retried while the messages wait', { timeout: 60_000 }, async () => {
  const remotePort = await freePort();
  const local = await startBroker({
    config: ['connection b1', `address 127.0.0.1:${remotePort}`, 'remote_clientid brx', 'start_type lazy', 'threshold 2', 'restart_timeout 1', 'topic out/# out 1'],
    verbose: true,
  });
  let remote: FakeRemote | undefined;
  try {
    const p = await client(local.port, 'p');
    p.send(m.publish(4, 'out/a', 'q0'));
    p.send(m.publish(4, 'out/a', 'q1', { qos: 1, mid: 1 }));
    assert.equal((await p.next())![0], 0x40);
    // Two attempts fail while nothing listens; the messages stay.
    await logCount(local, 'Connecting bridge (step 1) b1', 2);
    remote = await fakeRemote({ port: remotePort });
    const r = remote;
    const published = (): string[] =>
      (r.packets[0] ?? []).filter((pkt) => pkt[0]! >> 4 === 3 && pkt.includes('out/a')).map((pkt) => pkt.toString('latin1').slice(-2));
    assert.ok(await r.until(() => published().length >= 2), r.hex(0));
    assert.deepEqual(published(), ['q0', 'q1']);
    p.close();
  } finally {
    await local.stop();
    remote?.close();
  }
});
