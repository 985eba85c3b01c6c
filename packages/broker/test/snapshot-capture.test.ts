import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeDb } from '@skeeter/persistence';
import { Broker } from '../src/broker.js';
import { defaultConfig, toBrokerSettings } from '../src/config/index.js';
import { StoredMessage } from '../src/message.js';
import { capturedSnapshotRecords, snapshotRecords } from '../src/persist/snapshot.js';
import { Session } from '../src/session/session.js';

/** Sessions (one not persistent) with held, in-flight (both QoS 2 states) and queued messages, subscription ids, retained. */
function brokerWithState(): { broker: Broker; sessions: Session[]; messages: StoredMessage[] } {
  const broker = new Broker(toBrokerSettings(defaultConfig()));
  const sessions: Session[] = [];
  for (let i = 0; i < 5; i++) {
    const s = new Session(`s${i}`);
    s.expiryInterval = i === 4 ? 0 : 0xffffffff;
    broker.sessions.set(s.clientId, s);
    sessions.push(s);
    const sub = { session: s, filter: `t/${i}`, qos: 1 as const, noLocal: i === 1, retainAsPublished: false, retainHandling: 0 as const, identifiers: i === 2 ? [5] : undefined, group: undefined };
    broker.subscribe(s, sub, `t/${i}`);
  }
  const messages = Array.from({ length: 20 }, (_, j) => new StoredMessage(`t/${j}`, Buffer.from(`p${j}`), 2, j === 3, j === 5 ? { contentType: 'x' } : undefined, 0, 'pub', j === 7 ? 'u' : undefined));
  for (const s of sessions) {
    for (const [j, m] of messages.entries()) {
      if (j < 3) s.inflight.set(j + 1, { message: m, qos: 2, retain: false, subscriptionIdentifiers: j === 1 ? [5] : undefined, packetId: j + 1, state: j === 2 ? 'pubrel' : 'publish' });
      else s.queue.push({ message: m, qos: 1, retain: j === 4, subscriptionIdentifiers: j === 6 ? [5] : undefined, packetId: 0, state: 'queued' });
    }
  }
  sessions[0]!.incomingQos2.set(9, messages[10]!);
  sessions[0]!.incomingQos2.set(10, null);
  broker.retained.set('r/x', messages[3]!);
  broker.retained.set('$SYS/x', messages[4]!);
  return { broker, sessions, messages };
}

test('the captured snapshot is byte for byte the lazy one for the same state', () => {
  const { broker } = brokerWithState();
  const lazy = encodeDb(snapshotRecords(broker, 1));
  const captured = encodeDb(capturedSnapshotRecords(broker, 1));
  assert.ok(lazy.length > 1000);
  assert.ok(captured.equals(lazy));
});

test('the captured snapshot is the state at capture time, whatever changes while it is written', () => {
  const { broker, sessions, messages } = brokerWithState();
  const before = encodeDb(snapshotRecords(broker, 0));
  const records = capturedSnapshotRecords(broker, 0);
  // Changes after the capture: a queued message goes in flight, one is acknowledged, a QoS 2
  // delivery moves to PUBREL, a new message is queued, a session ends, a subscription goes.
  const s = sessions[1]!;
  const head = s.queue.shift()!;
  head.packetId = 50;
  head.state = 'publish';
  s.inflight.set(50, head);
  s.inflight.delete(1);
  s.inflight.get(2)!.state = 'pubrel';
  s.queue.push({ message: messages[0]!, qos: 1, retain: false, subscriptionIdentifiers: undefined, packetId: 0, state: 'queued' });
  broker.sessions.delete('s3');
  s.subscriptions.clear();
  broker.retained.set('r/x', new StoredMessage('r/x', Buffer.alloc(0), 0, true, undefined, 0, ''));
  assert.ok(encodeDb(records).equals(before));
});
