/**
 * A bridge's own MQTT session with its remote, played packet by packet by the test (a scripted
 * remote), with ours and Debian mosquitto 2.0.11 as the bridging broker side by side:
 * - the bridge answers the remote's PINGREQ.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBroker } from '../helpers/broker-process.js';
import * as m from '../helpers/mqtt-bytes.js';
import { acceptConnect, expectPacket, scriptedRemote, sideName, sides } from './sides.js';

const protocol = (v: 4 | 5): string => (v === 5 ? 'mqttv50' : 'mqttv311');

function bridgeConfig(port: number, v: 4 | 5, lines: readonly string[]): string[] {
  return [
    'connection b1',
    `address 127.0.0.1:${port}`,
    'remote_clientid rc',
    'notifications false',
    'restart_timeout 1',
    `bridge_protocol_version ${protocol(v)}`,
    ...lines,
  ];
}

for (const debian of sides) {
  test(`the bridge answers the remote's PINGREQ (${sideName(debian)})`, { timeout: 30_000 }, async () => {
    const remote = await scriptedRemote();
    const local = await startBroker({ oracle: debian, config: bridgeConfig(remote.port, 4, ['topic out/# out 1', 'bridge_attempt_unsubscribe false']) });
    try {
      const c = await remote.accept();
      await acceptConnect(c, 4);
      c.send(m.pingreq());
      await expectPacket(c, m.pingresp(), 'PINGRESP');
    } finally {
      await local.stop();
      remote.close();
    }
  });
}
