/**
 * A bridge's own MQTT session with its remote, played packet by packet by the test (a scripted
 * remote), with ours and Debian mosquitto 2.0.11 as the bridging broker side by side:
 * - the bridge answers the remote's PINGREQ;
 * - a PUBREC for a packet id the bridge does not know gets a PUBREL (so the remote can finish),
 *   an unknown PUBREL a PUBCOMP, an unknown PUBCOMP is ignored, with Mosquitto's warnings.
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

for (const debian of sides) {
  test(`acknowledgements for unknown packet ids: PUBREC gets PUBREL, PUBREL gets PUBCOMP, PUBCOMP is ignored (${sideName(debian)})`, { timeout: 30_000 }, async () => {
    const remote = await scriptedRemote();
    const local = await startBroker({ oracle: debian, config: bridgeConfig(remote.port, 4, ['topic out/# out 1', 'topic in/# in 1', 'bridge_attempt_unsubscribe false']) });
    try {
      const c = await remote.accept();
      await acceptConnect(c, 4);
      await expectPacket(c, m.subscribe(4, 1, [['in/#', 1]]), 'SUBSCRIBE');
      c.send(m.suback(4, 1, [1]));
      c.send(m.pubrec(4, 2001));
      await expectPacket(c, m.pubrel(4, 2001), 'PUBREL for the unknown PUBREC');
      c.send(m.pubrel(4, 2002));
      await expectPacket(c, m.pubcomp(4, 2002), 'PUBCOMP for the unknown PUBREL');
      c.send(m.pubcomp(4, 2003));
      // Still a working link.
      c.send(m.publish(4, 'in/x', 'still here', { qos: 1, mid: 180 }));
      await expectPacket(c, m.puback(4, 180), 'PUBACK');
      // The unknown PUBCOMP's warning is 2.0.20's; Debian's 2.0.11 warns about the PUBREC only.
      const lines = ['Warning: Received PUBREC from local.rc for an unknown packet identifier 2001.'];
      if (!debian) lines.push('Warning: Received PUBCOMP from local.rc for an unknown packet identifier 2003.');
      for (const line of lines) assert.ok(local.stderr().includes(line), `log lacks "${line}":\n${local.stderr()}`);
    } finally {
      await local.stop();
      remote.close();
    }
  });
}
