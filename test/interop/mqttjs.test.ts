/**
 * MQTT.js against our broker, for protocol versions 3 (3.1), 4 (3.1.1) and 5. The same tests run
 * against the Debian broker where it is installed, so every expectation is also checked against
 * Mosquitto itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';

type ProtocolVersion = 3 | 4 | 5;
const VERSIONS: ProtocolVersion[] = [3, 4, 5];

interface Received {
  topic: string;
  payload: string;
  packet: IPublishPacket;
}

/** A connected MQTT.js client with a queue of received messages and bounded waits on it. */
class Peer {
  readonly client: MqttClient;
  readonly received: Received[] = [];
  private wake: (() => void) | undefined;

  constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      this.received.push({ topic, payload: payload.toString(), packet });
      this.wake?.();
    });
  }

  /** Resolves with the next `n` messages (removed from the queue); rejects after `timeoutMs`. */
  async take(n: number, timeoutMs = 5000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${n} messages within ${timeoutMs} ms, got ${JSON.stringify(this.received.map((r) => [r.topic, r.payload]))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.received.splice(0, n);
  }

  /**
   * Proves nothing else is pending for this client without a timed wait: a probe published to
   * the client's own probe topic (it must be subscribed to it) must be the next message.
   */
  async expectOnlyProbe(probeTopic: string): Promise<void> {
    await this.client.publishAsync(probeTopic, 'probe', { qos: 1 });
    const [m] = await this.take(1);
    assert.equal(`${m!.topic} ${m!.payload}`, `${probeTopic} probe`, 'no other message before the probe');
  }

  async end(force = false): Promise<void> {
    await this.client.endAsync(force);
  }
}

const targets: Array<{ name: string; oracle: boolean }> = [{ name: 'skeeter', oracle: false }];
if (hasDebianMosquitto()) targets.push({ name: 'debian mosquitto 2.0.11 (oracle)', oracle: true });
else test('Debian mosquitto not installed: the oracle run of the MQTT.js tests is skipped', { skip: 'apt-get install mosquitto' }, () => {});

for (const target of targets) {
  describe(`MQTT.js against ${target.name}`, () => {
    let broker: RunningBroker;
    const open: Peer[] = [];
    before(async () => {
      broker = await startBroker({ oracle: target.oracle });
    });
    after(async () => {
      for (const p of open) await p.end(true).catch(() => undefined);
      await broker.stop();
    });

    /**
     * Connects with the message listener attached before the CONNACK, so messages queued for a
     * resumed session (sent right after it) are not missed. Resolves with the CONNACK too.
     */
    const connectPeer = async (v: ProtocolVersion, clientId: string, o: IClientOptions = {}): Promise<{ p: Peer; sessionPresent: boolean }> => {
      const client = connect({
        host: '127.0.0.1',
        port: broker.port,
        protocolVersion: v,
        ...(v === 3 ? { protocolId: 'MQIsdp' as const } : {}),
        clientId,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...o,
      });
      const p = new Peer(client);
      open.push(p);
      const sessionPresent = await new Promise<boolean>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${clientId}: no CONNACK within 6 s`)), 6000);
        client.once('connect', (ack) => {
          clearTimeout(t);
          resolve(ack.sessionPresent);
        });
        client.once('error', (e) => {
          clearTimeout(t);
          reject(e);
        });
      });
      return { p, sessionPresent };
    };
    const peer = async (v: ProtocolVersion, clientId: string, o: IClientOptions = {}): Promise<Peer> => (await connectPeer(v, clientId, o)).p;

    for (const v of VERSIONS) {
      describe(`protocol version ${v}`, { timeout: 30_000 }, () => {
        const id = (s: string): string => `js${v}-${s}`;
        const tp = (s: string): string => `js/${v}/${s}`;

        for (const qos of [0, 1, 2] as const) {
          test(`QoS ${qos} in both directions between two clients`, async () => {
            const a = await peer(v, id(`a${qos}`));
            const b = await peer(v, id(`b${qos}`));
            await a.client.subscribeAsync(tp(`to-a/${qos}`), { qos });
            await b.client.subscribeAsync(tp(`to-b/${qos}`), { qos });
            await a.client.publishAsync(tp(`to-b/${qos}`), 'from a', { qos });
            await b.client.publishAsync(tp(`to-a/${qos}`), 'from b', { qos });
            const [atA] = await a.take(1);
            const [atB] = await b.take(1);
            assert.equal(atA!.payload, 'from b');
            assert.equal(atB!.payload, 'from a');
            assert.equal(atA!.packet.qos, qos);
            assert.equal(atB!.packet.qos, qos);
            assert.equal(atA!.packet.retain, false);
            await a.end();
            await b.end();
          });
        }

        test('retained message: delivered with retain to a later subscriber, then cleared by an empty payload', async () => {
          const p = await peer(v, id('ret-pub'));
          await p.client.publishAsync(tp('ret'), 'kept', { qos: 1, retain: true });
          const s = await peer(v, id('ret-sub'));
          await s.client.subscribeAsync(tp('ret'), { qos: 1 });
          const [m] = await s.take(1);
          assert.equal(m!.payload, 'kept');
          assert.equal(m!.packet.retain, true);
          assert.equal(m!.packet.qos, 1);
          await p.client.publishAsync(tp('ret'), '', { qos: 1, retain: true });
          // The empty retained publish is itself delivered live to the subscriber (retain flag 0).
          const [cleared] = await s.take(1);
          assert.equal(cleared!.payload, '');
          assert.equal(cleared!.packet.retain, false);
          const s2 = await peer(v, id('ret-sub2'));
          await s2.client.subscribeAsync([tp('ret'), tp('ret-probe')], { qos: 1 });
          await s2.expectOnlyProbe(tp('ret-probe'));
          await Promise.all([p.end(), s.end(), s2.end()]);
        });

        test('will: published when the connection drops, not after a normal disconnect', async () => {
          const w = await peer(v, id('will-watch'));
          await w.client.subscribeAsync([tp('will'), tp('will-probe')], { qos: 1 });
          const dying = await peer(v, id('dying'), { will: { topic: tp('will'), payload: Buffer.from('gone'), qos: 1, retain: false } });
          dying.client.stream.destroy();
          const [m] = await w.take(1);
          assert.equal(`${m!.topic} ${m!.payload}`, `${tp('will')} gone`);
          const polite = await peer(v, id('polite'), { will: { topic: tp('will'), payload: Buffer.from('gone'), qos: 1, retain: false } });
          await polite.end();
          await w.expectOnlyProbe(tp('will-probe'));
          await w.end();
        });

        test('persistent session: queued QoS 1/2 messages arrive after reconnect, with session present', async () => {
          const persistent: IClientOptions = v === 5 ? { clean: false, properties: { sessionExpiryInterval: 300 } } : { clean: false };
          const s = await peer(v, id('persist'), persistent);
          await s.client.subscribeAsync(tp('pq'), { qos: 2 });
          await s.end();
          const p = await peer(v, id('persist-pub'));
          await p.client.publishAsync(tp('pq'), 'one', { qos: 1 });
          await p.client.publishAsync(tp('pq'), 'two', { qos: 2 });
          await p.client.publishAsync(tp('pq'), 'zero', { qos: 0 });
          const { p: back, sessionPresent } = await connectPeer(v, id('persist'), persistent);
          // MQTT 3.1 has no session present flag [MQTT-3.2.2-2 is 3.1.1 only].
          assert.equal(sessionPresent, v !== 3);
          const [m1, m2] = await back.take(2);
          assert.deepEqual([m1!.payload, m1!.packet.qos, m2!.payload, m2!.packet.qos], ['one', 1, 'two', 2]);
          // QoS 0 is not queued for an offline client (queue_qos0_messages false).
          await back.client.subscribeAsync(tp('pq-probe'), { qos: 1 });
          await back.expectOnlyProbe(tp('pq-probe'));
          await Promise.all([back.end(), p.end()]);
        });

        test('clean session: a reconnect with clean start has no session and no queued messages', async () => {
          const s = await peer(v, id('clean'), v === 5 ? { clean: false, properties: { sessionExpiryInterval: 300 } } : { clean: false });
          await s.client.subscribeAsync(tp('cl'), { qos: 1 });
          await s.end();
          const p = await peer(v, id('clean-pub'));
          await p.client.publishAsync(tp('cl'), 'queued', { qos: 1 });
          const { p: back, sessionPresent } = await connectPeer(v, id('clean'), { clean: true });
          assert.equal(sessionPresent, false);
          await back.client.subscribeAsync(tp('cl-probe'), { qos: 1 });
          await back.expectOnlyProbe(tp('cl-probe'));
          await Promise.all([back.end(), p.end()]);
        });

        test('automatic reconnect of MQTT.js after a dropped connection resumes the persistent session', async () => {
          const { p: s } = await connectPeer(v, id('auto-re'), {
            clean: false,
            ...(v === 5 ? { properties: { sessionExpiryInterval: 300 } } : {}),
            reconnectPeriod: 100,
            // Only the broker's session can bring the subscription back.
            resubscribe: false,
          });
          const client = s.client;
          await client.subscribeAsync(tp('re'), { qos: 1 });
          const reconnected = new Promise<boolean | 'no reconnect within 5 s'>((resolve) => {
            const t = setTimeout(() => resolve('no reconnect within 5 s'), 5000);
            client.once('connect', (ack) => {
              clearTimeout(t);
              resolve(ack.sessionPresent);
            });
          });
          client.stream.destroy();
          // MQTT 3.1 has no session present flag; delivery below proves the session anyway.
          assert.equal(await reconnected, v !== 3, 'reconnected with session present');
          const p = await peer(v, id('re-pub'));
          await p.client.publishAsync(tp('re'), 'after reconnect', { qos: 1 });
          const [m] = await s.take(1);
          assert.equal(m!.payload, 'after reconnect');
          await Promise.all([s.end(), p.end()]);
        });

        test('shared subscription: each message goes to exactly one member of the group', async () => {
          const a = await peer(v, id('sh-a'));
          const b = await peer(v, id('sh-b'));
          await a.client.subscribeAsync(`$share/g${v}/${tp('sh')}`, { qos: 1 });
          await b.client.subscribeAsync(`$share/g${v}/${tp('sh')}`, { qos: 1 });
          const p = await peer(v, id('sh-pub'));
          for (let i = 0; i < 6; i++) await p.client.publishAsync(tp('sh'), `m${i}`, { qos: 1 });
          // Mosquitto delivers shared messages round robin: three each, and none twice.
          const got = [...(await a.take(3)), ...(await b.take(3))].map((m) => m.payload).sort();
          assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
          await a.client.subscribeAsync(tp('sh-probe'), { qos: 1 });
          await a.expectOnlyProbe(tp('sh-probe'));
          await Promise.all([a.end(), b.end(), p.end()]);
        });

        if (v === 5) {
          test('v5: user properties, content type, response topic and correlation data reach the subscriber', async () => {
            const s = await peer(5, id('props-sub'));
            await s.client.subscribeAsync(tp('props'), { qos: 1 });
            const p = await peer(5, id('props-pub'));
            await p.client.publishAsync(tp('props'), 'x', {
              qos: 1,
              properties: {
                userProperties: { k1: 'v1', k2: ['a', 'b'] },
                contentType: 'text/plain',
                responseTopic: tp('resp'),
                correlationData: Buffer.from('c1'),
                payloadFormatIndicator: true,
              },
            });
            const [m] = await s.take(1);
            const props = m!.packet.properties!;
            assert.deepEqual({ ...props.userProperties }, { k1: 'v1', k2: ['a', 'b'] });
            assert.equal(props.contentType, 'text/plain');
            assert.equal(props.responseTopic, tp('resp'));
            assert.equal(Buffer.from(props.correlationData!).toString(), 'c1');
            assert.equal(props.payloadFormatIndicator, true);
            await Promise.all([s.end(), p.end()]);
          });

          test('v5: subscription identifiers, one per matching subscription', async () => {
            const s = await peer(5, id('subid'));
            await s.client.subscribeAsync(tp('sid/#'), { qos: 1, properties: { subscriptionIdentifier: 7 } });
            await s.client.subscribeAsync(tp('sid/+'), { qos: 1, properties: { subscriptionIdentifier: 300 } });
            const p = await peer(5, id('subid-pub'));
            await p.client.publishAsync(tp('sid/x'), 'both', { qos: 1 });
            const ids = (await s.take(2)).map((m) => m.packet.properties?.subscriptionIdentifier).sort((x, y) => Number(x) - Number(y));
            assert.deepEqual(ids, [7, 300]);
            await Promise.all([s.end(), p.end()]);
          });

          test('v5: a topic alias set by the client is resolved by the broker', async () => {
            const s = await peer(5, id('alias-sub'));
            await s.client.subscribeAsync(tp('alias/long/topic/name'), { qos: 1 });
            const p = await peer(5, id('alias-pub'));
            await p.client.publishAsync(tp('alias/long/topic/name'), 'first', { qos: 1, properties: { topicAlias: 3 } });
            // An empty topic with the alias: the broker must map it back to the full topic.
            await p.client.publishAsync('', 'second', { qos: 1, properties: { topicAlias: 3 } });
            const got = (await s.take(2)).map((m) => `${m.topic} ${m.payload}`);
            assert.deepEqual(got, [`${tp('alias/long/topic/name')} first`, `${tp('alias/long/topic/name')} second`]);
            await Promise.all([s.end(), p.end()]);
          });

          test('v5: message expiry is passed on, and a message that expired while queued is dropped', async () => {
            const s = await peer(5, id('exp'), { clean: false, properties: { sessionExpiryInterval: 300 } });
            await s.client.subscribeAsync([tp('exp'), tp('exp-probe')], { qos: 1 });
            const p = await peer(5, id('exp-pub'));
            await p.client.publishAsync(tp('exp'), 'live', { qos: 1, properties: { messageExpiryInterval: 3600 } });
            const [live] = await s.take(1);
            const left = live!.packet.properties?.messageExpiryInterval;
            assert.ok(left === 3600 || left === 3599, `remaining expiry ${left}`);
            await s.end();
            await p.client.publishAsync(tp('exp'), 'short', { qos: 1, properties: { messageExpiryInterval: 1 } });
            await p.client.publishAsync(tp('exp'), 'long', { qos: 1, properties: { messageExpiryInterval: 100 } });
            // Past the 1 s expiry (whole seconds are counted, so wait over two).
            await new Promise((r) => setTimeout(r, 2200));
            const back = await peer(5, id('exp'), { clean: false, properties: { sessionExpiryInterval: 300 } });
            const [m] = await back.take(1);
            assert.equal(m!.payload, 'long');
            const rest = m!.packet.properties?.messageExpiryInterval ?? 0;
            assert.ok(rest >= 96 && rest <= 98, `remaining expiry ${rest}`);
            await back.expectOnlyProbe(tp('exp-probe'));
            await Promise.all([back.end(), p.end()]);
          });

          test('v5: no-local keeps a client from receiving its own messages', async () => {
            const s = await peer(5, id('nl'));
            await s.client.subscribeAsync(tp('nl'), { qos: 1, nl: true });
            await s.client.subscribeAsync(tp('nl-probe'), { qos: 1 });
            await s.client.publishAsync(tp('nl'), 'own', { qos: 1 });
            await s.expectOnlyProbe(tp('nl-probe'));
            await s.end();
          });
        }
      });
    }
  });
}
