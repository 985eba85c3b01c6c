/**
 * Live broker state <-> mosquitto.db records, in the order Mosquitto 2.0 writes them: CFG, every
 * message the rest refers to, each persistent client followed by its messages, subscriptions,
 * retained messages.
 */
import type { QoS } from '@skeeter/codec';
import {
  ClientMessageState,
  MessageDirection,
  SESSION_EXPIRY_NEVER,
  SubscriptionOption,
  type ClientMsgRecord,
  type ClientRecord,
  type DbRecord,
  type DbState,
  type MsgStoreRecord,
  type SubRecord,
} from '@skeeter/persistence';
import type { Broker } from '../broker.js';
import { lastMessageStoreId, StoredMessage } from '../message.js';
import type { Subscription } from '../router/subscription-tree.js';
import { Session, type OutgoingMessage } from '../session/session.js';
import { fromDbProperties, toDbProperties } from './db-properties.js';

const bytes = (s: string | undefined): Buffer | null => (s === undefined || s.length === 0 ? null : Buffer.from(s, 'utf8'));
const text = (b: Buffer | null): string => (b === null ? '' : b.toString('utf8'));

/**
 * Records for the broker's current state. `shutdown` is 1 for the save at exit. Fully lazy: the
 * writer pulls records in time slices, so even collecting the state never blocks the broker for
 * long. A message that arrives during the save is in the next one; the file is always consistent
 * (every record refers only to messages written before it).
 */
export function* snapshotRecords(broker: Broker, shutdown: number): Generator<DbRecord> {
  yield { kind: 'cfg', lastDbId: BigInt(lastMessageStoreId()), shutdown, dbidSize: 8 };
  const written = new Set<StoredMessage>();
  for (const s of broker.sessions.values()) {
    if (!s.persistent) continue;
    for (const m of messagesOf(s)) {
      if (written.has(m)) continue;
      written.add(m);
      yield messageRecord(m);
    }
  }
  const retained: StoredMessage[] = [];
  for (const m of broker.retained.all()) {
    // $SYS values are never persisted (reference 6 / 11.15).
    if (m.topic.startsWith('$SYS')) continue;
    retained.push(m);
    if (written.has(m)) continue;
    written.add(m);
    yield messageRecord(m);
  }
  const sessions = [...broker.sessions.values()].filter((s) => s.persistent);
  for (const s of sessions) {
    const clientId = Buffer.from(s.clientId, 'utf8');
    yield clientRecord(s, clientId);
    for (const [mid, m] of s.incomingQos2) {
      if (!m || !written.has(m)) continue;
      yield clientMessage(clientId, BigInt(m.storeId), mid, 2, ClientMessageState.WAIT_FOR_PUBREL, false, MessageDirection.IN, null);
    }
    for (const out of s.inflight.values()) {
      if (!written.has(out.message)) continue;
      const state = out.state === 'pubrel'
        ? ClientMessageState.WAIT_FOR_PUBCOMP
        : out.qos === 1 ? ClientMessageState.WAIT_FOR_PUBACK : ClientMessageState.WAIT_FOR_PUBREC;
      yield outgoing(clientId, out, state);
    }
    for (const out of s.queue) if (written.has(out.message)) yield outgoing(clientId, out, ClientMessageState.QUEUED);
  }
  for (const s of sessions) {
    const clientId = Buffer.from(s.clientId, 'utf8');
    for (const sub of s.subscriptions.values()) {
      // Shared subscriptions are not persisted by Mosquitto 2.0.
      const r = subRecord(clientId, sub);
      if (r) yield r;
    }
  }
  for (const m of retained) if (written.has(m)) yield { kind: 'retain', storeId: BigInt(m.storeId) };
}

/**
 * The same records as `snapshotRecords`, for the state at this very moment: what can still
 * change is captured now (each session's record, its in-flight states, the queue as an array
 * of references, subscriptions, retained messages), and the records are then made lazily as
 * the writer pulls them. Journal mode needs this: the journal after the snapshot starts exactly
 * here. Capturing costs a copy of references, not a record per queued message, so the broker
 * pauses far less than building every record at once.
 */
export function capturedSnapshotRecords(broker: Broker, shutdown: number): Iterable<DbRecord> {
  const cfg: DbRecord = { kind: 'cfg', lastDbId: BigInt(lastMessageStoreId()), shutdown, dbidSize: 8 };
  interface Captured {
    readonly clientId: Buffer;
    readonly client: ClientRecord;
    readonly incoming: Array<[number, StoredMessage]>;
    readonly inflight: Array<{ readonly out: OutgoingMessage; readonly packetId: number; readonly state: number }>;
    readonly queue: OutgoingMessage[];
    readonly subs: Subscription[];
  }
  const sessions: Captured[] = [];
  for (const s of broker.sessions.values()) {
    if (!s.persistent) continue;
    const clientId = Buffer.from(s.clientId, 'utf8');
    const incoming: Array<[number, StoredMessage]> = [];
    for (const [mid, m] of s.incomingQos2) if (m) incoming.push([mid, m]);
    const inflight: Captured['inflight'] = [];
    for (const out of s.inflight.values()) {
      const state = out.state === 'pubrel'
        ? ClientMessageState.WAIT_FOR_PUBCOMP
        : out.qos === 1 ? ClientMessageState.WAIT_FOR_PUBACK : ClientMessageState.WAIT_FOR_PUBREC;
      inflight.push({ out, packetId: out.packetId, state });
    }
    sessions.push({ clientId, client: clientRecord(s, clientId), incoming, inflight, queue: s.queue.toArray(), subs: [...s.subscriptions.values()] });
  }
  const retained: StoredMessage[] = [];
  for (const m of broker.retained.all()) if (!m.topic.startsWith('$SYS')) retained.push(m);
  return (function* (): Generator<DbRecord> {
    yield cfg;
    const written = new Set<StoredMessage>();
    for (const c of sessions) {
      for (const [, m] of c.incoming) if (!written.has(m)) {
        written.add(m);
        yield messageRecord(m);
      }
      for (const { out } of c.inflight) if (!written.has(out.message)) {
        written.add(out.message);
        yield messageRecord(out.message);
      }
      for (const out of c.queue) if (!written.has(out.message)) {
        written.add(out.message);
        yield messageRecord(out.message);
      }
    }
    for (const m of retained) if (!written.has(m)) {
      written.add(m);
      yield messageRecord(m);
    }
    for (const c of sessions) {
      yield c.client;
      for (const [mid, m] of c.incoming) {
        yield clientMessage(c.clientId, BigInt(m.storeId), mid, 2, ClientMessageState.WAIT_FOR_PUBREL, false, MessageDirection.IN, null);
      }
      for (const { out, packetId, state } of c.inflight) {
        const props = out.subscriptionIdentifiers ? toDbProperties({ subscriptionIdentifiers: out.subscriptionIdentifiers }) : null;
        yield clientMessage(c.clientId, BigInt(out.message.storeId), packetId, out.qos, state, out.retain, MessageDirection.OUT, props);
      }
      for (const out of c.queue) {
        // Queued at capture time: mid 0 whatever the entry became since.
        const props = out.subscriptionIdentifiers ? toDbProperties({ subscriptionIdentifiers: out.subscriptionIdentifiers }) : null;
        yield clientMessage(c.clientId, BigInt(out.message.storeId), 0, out.qos, ClientMessageState.QUEUED, out.retain, MessageDirection.OUT, props);
      }
    }
    for (const c of sessions) {
      for (const sub of c.subs) {
        const r = subRecord(c.clientId, sub);
        if (r) yield r;
      }
    }
    for (const m of retained) yield { kind: 'retain', storeId: BigInt(m.storeId) };
  })();
}

/** The CLIENT record of a persistent session (also appended to the journal when it changes). */
export function clientRecord(s: Session, clientId: Buffer): ClientRecord {
  const expiryTime = s.connection || s.expiryInterval === SESSION_EXPIRY_NEVER || s.disconnectedAt === 0
    ? 0n
    : BigInt(Math.floor((s.disconnectedAt + s.expiryInterval * 1000) / 1000));
  return {
    kind: 'client',
    clientId,
    username: bytes(s.username),
    sessionExpiryTime: expiryTime,
    sessionExpiryInterval: s.expiryInterval,
    lastMid: s.lastPacketId,
    listenerPort: s.listenerPort,
  };
}

/** The SUB record of a subscription, or undefined for a shared one (Mosquitto 2.0 does not persist those). */
export function subRecord(clientId: Buffer, sub: Subscription): SubRecord | undefined {
  if (sub.group !== undefined) return undefined;
  return {
    kind: 'sub',
    clientId,
    topic: Buffer.from(sub.filter, 'utf8'),
    qos: sub.qos,
    options: (sub.noLocal ? SubscriptionOption.NO_LOCAL : 0) | (sub.retainAsPublished ? SubscriptionOption.RETAIN_AS_PUBLISHED : 0) | (sub.retainHandling << 4),
    identifier: sub.identifiers?.[0] ?? 0,
  };
}

/** Every message a session refers to: held QoS 2 messages, in flight, queued. */
function* messagesOf(s: Session): Generator<StoredMessage> {
  for (const m of s.incomingQos2.values()) if (m) yield m;
  for (const out of s.inflight.values()) yield out.message;
  for (const out of s.queue) yield out.message;
}

export function messageRecord(m: StoredMessage): MsgStoreRecord {
  return {
    kind: 'msg_store',
    storeId: BigInt(m.storeId),
    expiryTime: m.expiresAt === 0 ? 0n : BigInt(Math.floor(m.expiresAt / 1000)),
    sourceMid: 0,
    // The publisher's listener, as Mosquitto records it (check_retain_source after a restart).
    sourcePort: m.originListener?.port ?? 0,
    sourceId: bytes(m.origin),
    sourceUsername: bytes(m.originUsername),
    topic: Buffer.from(m.topic, 'utf8'),
    qos: m.qos,
    retain: m.retain ? 1 : 0,
    // A view, not a copy: a stored payload never changes, and a save may hold every one of them.
    payload: Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength),
    properties: toDbProperties(m.properties),
  };
}

export function outgoing(clientId: Buffer, out: OutgoingMessage, state: number): ClientMsgRecord {
  const props = out.subscriptionIdentifiers ? toDbProperties({ subscriptionIdentifiers: out.subscriptionIdentifiers }) : null;
  return clientMessage(clientId, BigInt(out.message.storeId), out.packetId, out.qos, state, out.retain, MessageDirection.OUT, props);
}

export function clientMessage(
  clientId: Buffer,
  storeId: bigint,
  mid: number,
  qos: number,
  state: number,
  retain: boolean,
  direction: number,
  properties: ClientMsgRecord['properties'],
): ClientMsgRecord {
  return { kind: 'client_msg', clientId, storeId, mid, qos, state, retain: retain ? 1 : 0, dup: 0, direction, properties };
}

/** Puts a loaded state into an empty broker (before its listeners open). */
export function restoreState(broker: Broker, state: DbState): void {
  const messages = new Map<bigint, StoredMessage>();
  for (const r of state.messages) {
    const expiresAt = r.expiryTime === 0n ? 0 : Number(r.expiryTime) * 1000;
    messages.set(
      r.storeId,
      new StoredMessage(
        text(r.topic), r.payload, Math.min(r.qos, 2) as QoS, r.retain !== 0, fromDbProperties(r.properties), expiresAt,
        text(r.sourceId), r.sourceUsername ? text(r.sourceUsername) : undefined,
        // Mosquitto finds the publisher's listener again by its port alone.
        r.sourcePort !== 0 ? broker.settings.listeners.find((l) => l.port === r.sourcePort) : undefined,
      ),
    );
  }
  for (const id of state.retained) {
    const m = messages.get(id);
    if (m) broker.retained.set(m.topic, m);
  }
  const now = Date.now();
  const byId = new Map<string, Session>();
  for (const { client, messages: list } of state.sessions) {
    const clientId = text(client.clientId);
    const s = new Session(clientId);
    s.username = client.username ? text(client.username) : undefined;
    s.expiryInterval = client.sessionExpiryInterval;
    s.listenerPort = client.listenerPort;
    s.lastPacketId = client.lastMid;
    s.nextPacketId = client.lastMid >= 65_535 ? 1 : client.lastMid + 1;
    s.disconnectedAt = now;
    s.sendQuota = broker.settings.maxInflightMessages;
    for (const r of list) {
      const m = messages.get(r.storeId);
      if (!m) continue;
      const subIds = fromDbProperties(r.properties)?.subscriptionIdentifiers;
      if (r.direction === MessageDirection.IN) {
        if (r.state === ClientMessageState.WAIT_FOR_PUBREL || r.state === ClientMessageState.SEND_PUBREC) s.incomingQos2.set(r.mid, m);
        continue;
      }
      const qos = Math.min(r.qos, 2) as QoS;
      const base = { message: m, qos, retain: r.retain !== 0, subscriptionIdentifiers: subIds, packetId: r.mid };
      if (r.state === ClientMessageState.WAIT_FOR_PUBACK || r.state === ClientMessageState.WAIT_FOR_PUBREC) {
        s.inflight.set(r.mid, { ...base, state: 'publish' });
        s.inflightBytes += m.payload.length;
      } else if (r.state === ClientMessageState.WAIT_FOR_PUBCOMP || r.state === ClientMessageState.RESEND_PUBREL) {
        s.inflight.set(r.mid, { ...base, state: 'pubrel' });
        s.inflightBytes += m.payload.length;
      } else {
        s.queue.push({ ...base, packetId: 0, state: 'queued' });
        s.queuedBytes += m.payload.length;
      }
    }
    broker.sessions.set(clientId, s);
    byId.set(clientId, s);
    // The countdown of an offline session restarts from what was left [MQTT-3.1.2-23].
    if (client.sessionExpiryInterval !== SESSION_EXPIRY_NEVER) {
      const left = client.sessionExpiryTime > 0n ? Number(client.sessionExpiryTime) * 1000 - now : client.sessionExpiryInterval * 1000;
      broker.scheduleExpiry(s, Math.max(0, left));
    }
  }
  for (const r of state.subscriptions) {
    const s = byId.get(text(r.clientId));
    if (!s || r.topic === null) continue;
    const filter = text(r.topic);
    const sub: Subscription = {
      session: s,
      filter,
      qos: Math.min(r.qos, 2) as QoS,
      noLocal: (r.options & SubscriptionOption.NO_LOCAL) !== 0,
      retainAsPublished: (r.options & SubscriptionOption.RETAIN_AS_PUBLISHED) !== 0,
      retainHandling: ((r.options >> 4) & 0x03) as 0 | 1 | 2,
      identifiers: r.identifier ? [r.identifier] : undefined,
      group: undefined,
    };
    broker.subscribe(s, sub, filter);
  }
}
