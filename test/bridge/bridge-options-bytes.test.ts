/**
 * What a bridge sends its remote for each handshake option, ours against Debian mosquitto
 * 2.0.11's bridge with the same config: CONNECT (protocol, bridge bit, clean session, keepalive,
 * credentials, will), notifications, UNSUBSCRIBE/SUBSCRIBE. A fake remote records the bytes and
 * answers like a broker of the protocol version it was asked for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasDebianMosquitto, startBroker } from '../helpers/broker-process.js';
import { fakeRemote, type FakeRemoteOptions } from './fake-remote.js';

/** A remote that refuses the first CONNECT with `connack` (hex) and accepts the later ones. */
const refusingFirst = (connack: string): FakeRemoteOptions => ({ connack: (i) => (i === 0 ? connack : undefined) });

/** The last topic every config below ends with: its SUBSCRIBE closes the handshake. */
const LAST = 'topic zz/# in 0';
const LAST_HEX = Buffer.from('zz/#').toString('hex');

async function handshakeBytes(oracle: boolean, lines: string[]): Promise<string> {
  const remote = await fakeRemote();
  const local = await startBroker({ oracle, config: ['connection b1', `address 127.0.0.1:${remote.port}`, 'remote_clientid rc1', ...lines, LAST] });
  try {
    for (let i = 0; i < 100 && !remote.hex(0).includes(LAST_HEX); i++) await new Promise((r) => setTimeout(r, 50));
    // Anything sent after the last SUBSCRIBE (there should be nothing) is caught too.
    await new Promise((r) => setTimeout(r, 200));
    return remote.hex(0);
  } finally {
    await local.stop();
    remote.close();
  }
}

const CASES: Record<string, string[]> = {
  'bridge_protocol_version mqttv50': ['bridge_protocol_version mqttv50', 'topic in/# in 1', 'topic out/# out 2'],
  'bridge_protocol_version mqttv31': ['bridge_protocol_version mqttv31', 'topic in/# in 1', 'topic out/# out 2'],
  'notifications false': ['notifications false', 'topic in/# in 1'],
  'notifications_local_only true': ['notifications_local_only true', 'topic in/# in 1'],
  'notification_topic': ['notification_topic bridges/b1/up', 'topic in/# in 1'],
  'notification_topic with v5': ['notification_topic bridges/b1/up', 'bridge_protocol_version mqttv50', 'topic in/# in 1'],
  'cleansession true, keepalive_interval 17': ['cleansession true', 'keepalive_interval 17', 'topic in/# in 1'],
  'local_cleansession true': ['local_cleansession true', 'topic out/# out 1'],
  'remote_username and remote_password': ['remote_username alice', 'remote_password s3cret', 'topic in/# in 1'],
  'remote_username only': ['remote_username bob', 'topic in/# in 1'],
  'bridge_attempt_unsubscribe false': ['bridge_attempt_unsubscribe false', 'topic out/# out 1', 'topic both/# both 1'],
  'try_private false': ['try_private false', 'topic in/# in 1'],
  'prefixes and a "" topic': ['topic "" in 1 loc/one rem/one', 'topic t/# both 2 l/ r/'],
};

const oracleMissing = hasDebianMosquitto() ? undefined : 'Debian mosquitto not installed';

for (const [name, lines] of Object.entries(CASES)) {
  test(`bridge handshake bytes equal Debian's: ${name}`, { skip: oracleMissing, timeout: 30_000 }, async () => {
    const [ours, theirs] = await Promise.all([handshakeBytes(false, lines), handshakeBytes(true, lines)]);
    assert.ok(theirs.includes(LAST_HEX), `Debian's bridge did not finish its handshake: ${theirs}`);
    assert.equal(ours, theirs);
  });
}

test('bridge_protocol_version mqttv50 falls back to 3.1.1 when the remote refuses 5.0', { timeout: 30_000 }, async () => {
  // A 3.1.1-only broker answers a 5.0 CONNECT with return code 1 (unacceptable protocol version).
  const remote = await fakeRemote(refusingFirst('20020001'));
  const local = await startBroker({
    config: ['connection b1', `address 127.0.0.1:${remote.port}`, 'remote_clientid rc1', 'bridge_protocol_version mqttv50', 'restart_timeout 1', LAST],
    verbose: true,
  });
  try {
    for (let i = 0; i < 200 && !remote.hex(1).includes(LAST_HEX); i++) await new Promise((r) => setTimeout(r, 50));
    // First CONNECT: MQTT level 5; second: level 4 with the bridge bit (0x84).
    assert.equal(remote.hex(0).slice(16, 18), '05');
    assert.equal(remote.hex(1).slice(16, 18), '84');
    assert.ok(local.stderr().includes('Warning: Remote bridge b1 does not support MQTT v5.0, reconnecting using MQTT v3.1.1.'), local.stderr());
  } finally {
    await local.stop();
    remote.close();
  }
});

test('try_private: a remote refusing the bridge bit gets a plain 3.1.1 CONNECT next', { timeout: 30_000 }, async () => {
  const remote = await fakeRemote(refusingFirst('20020001'));
  const local = await startBroker({ config: ['connection b1', `address 127.0.0.1:${remote.port}`, 'remote_clientid rc1', 'restart_timeout 1', LAST], verbose: true });
  try {
    for (let i = 0; i < 200 && !remote.hex(1).includes(LAST_HEX); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(remote.hex(0).slice(16, 18), '84');
    assert.equal(remote.hex(1).slice(16, 18), '04');
    assert.ok(local.stderr().includes('Connection Refused: unacceptable protocol version'), local.stderr());
  } finally {
    await local.stop();
    remote.close();
  }
});
