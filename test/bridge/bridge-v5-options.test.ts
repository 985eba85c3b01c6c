/**
 * Mosquitto 2.1's bridge_receive_maximum and bridge_session_expiry_interval (develop; Debian's
 * 2.0.11 refuses both as unknown options, so there is no oracle run): they go into a v5 bridge's
 * CONNECT as Receive Maximum and Session Expiry Interval, in develop's order (session expiry
 * first), and change nothing for a 3.x bridge. The bytes are read by a raw server on port 0.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBroker } from '../helpers/broker-process.js';
import { fakeRemote } from './fake-remote.js';

const WILL_AND_REST = '0003726331' + '00' + '0020' + Buffer.from('$SYS/broker/connection/rc1/state').toString('hex') + '000130';

/** A v5 bridge CONNECT (client id rc1, will on the state topic, keepalive 60) with these properties. */
function v5Connect(props: string): string {
  const body = '00044d51545405' + '2c' + '003c' + (props.length / 2).toString(16).padStart(2, '0') + props + WILL_AND_REST;
  return '10' + (body.length / 2).toString(16).padStart(2, '0') + body;
}

async function connectBytes(lines: string[]): Promise<string> {
  const remote = await fakeRemote();
  const local = await startBroker({ config: ['connection b1', `address 127.0.0.1:${remote.port}`, 'remote_clientid rc1', ...lines, 'topic in/# in 1'] });
  try {
    assert.ok(await remote.until(() => (remote.packets[0]?.length ?? 0) > 0));
    return remote.packets[0]![0]!.toString('hex');
  } finally {
    await local.stop();
    remote.close();
  }
}

test('the default v5 bridge CONNECT carries Receive Maximum 20 only (as Debian 2.0.11 sends it)', { timeout: 30_000 }, async () => {
  const got = await connectBytes(['bridge_protocol_version mqttv50']);
  // Captured from Debian's 2.0.11 bridge with the same config.
  assert.equal(got, '103900044d515454052c003c032100140003726331000020245359532f62726f6b65722f636f6e6e656374696f6e2f7263312f7374617465000130');
  assert.equal(got, v5Connect('210014'));
});

test('bridge_receive_maximum sets the CONNECT Receive Maximum', { timeout: 30_000 }, async () => {
  assert.equal(await connectBytes(['bridge_protocol_version mqttv50', 'bridge_receive_maximum 7']), v5Connect('210007'));
});

test('bridge_session_expiry_interval adds Session Expiry Interval before Receive Maximum', { timeout: 30_000 }, async () => {
  assert.equal(await connectBytes(['bridge_protocol_version mqttv50', 'bridge_session_expiry_interval 3600']), v5Connect('1100000e10' + '210014'));
  assert.equal(
    await connectBytes(['bridge_protocol_version mqttv50', 'bridge_session_expiry_interval 4294967', 'bridge_receive_maximum 65535']),
    v5Connect('1100418937' + '21ffff'),
  );
});

test('a 3.1.1 bridge sends no properties for them', { timeout: 30_000 }, async () => {
  const plain = await connectBytes([]);
  assert.equal(await connectBytes(['bridge_receive_maximum 7', 'bridge_session_expiry_interval 3600']), plain);
  assert.equal(plain.slice(16, 18), '84');
});

for (const [line, error] of [
  ['bridge_receive_maximum 0', 'Error: bridge_receive_maximum must be greater than 0.'],
  ['bridge_receive_maximum 65536', 'Error: bridge_receive_maximum must be lower than 65535.'],
  ['bridge_session_expiry_interval -1', 'Error: bridge_session_expiry_interval must not be negative.'],
] as const) {
  test(`config: "${line}" is refused with develop's message`, { timeout: 30_000 }, async () => {
    await assert.rejects(
      startBroker({ config: ['connection b1', 'address 127.0.0.1:1', line, 'topic in/# in 1'] }),
      (e: Error) => e.message.includes(error),
    );
  });
}
