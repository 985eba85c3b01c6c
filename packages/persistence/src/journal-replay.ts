/**
 * Replay: a snapshot (`DbState`, possibly empty) plus the operations of its journals gives the
 * state the broker had when it stopped, again as a `DbState`, so the broker restores it exactly
 * as it restores a plain mosquitto.db. The model mirrors the broker's structures per session:
 * held incoming QoS 2 messages by mid, in-flight messages by mid in send order, and the queue in
 * order. Operations that refer to something unknown (a session or message that does not exist)
 * are ignored, as Mosquitto's loader ignores client messages without a stored message.
 */
import { ClientMessageState, MessageDirection } from './constants.js';
import type { JournalRecord } from './journal-format.js';
import type { ClientMsgRecord, ClientRecord, MsgStoreRecord, SubRecord } from './records.js';
import type { DbSession, DbState } from './state.js';

interface ModelSession {
  client: ClientRecord;
  readonly incoming: Map<number, ClientMsgRecord>;
  readonly inflight: Map<number, ClientMsgRecord>;
  queue: ClientMsgRecord[];
  queueHead: number;
  readonly subs: Map<string, SubRecord>;
}

const key = (b: Buffer | null): string => (b === null ? '' : b.toString('latin1'));

export interface ReplayStats {
  /** Operations applied. */
  applied: number;
  /** Operations that referred to an unknown session, message or mid. */
  ignored: number;
}

/** Applies journal operations to a state, one call per journal, in order. */
export class JournalReplay {
  private lastDbId: bigint;
  private shutdown: number;
  private readonly messages = new Map<bigint, MsgStoreRecord>();
  private readonly retained = new Map<string, bigint>();
  private readonly sessions = new Map<string, ModelSession>();
  readonly stats: ReplayStats = { applied: 0, ignored: 0 };

  constructor(base: DbState | null) {
    this.lastDbId = base?.lastDbId ?? 0n;
    this.shutdown = base?.shutdown ?? 0;
    if (!base) return;
    for (const m of base.messages) this.messages.set(m.storeId, m);
    for (const id of base.retained) {
      const m = this.messages.get(id);
      if (m) this.retained.set(key(m.topic), id);
    }
    for (const { client, messages } of base.sessions) {
      const s = this.session(client.clientId, client);
      for (const r of messages) this.clientMessage(s, r);
    }
    for (const sub of base.subscriptions) {
      const s = this.sessions.get(key(sub.clientId));
      if (s) s.subs.set(key(sub.topic), sub);
    }
  }

  private session(clientId: Buffer | null, client?: ClientRecord): ModelSession {
    const k = key(clientId);
    let s = this.sessions.get(k);
    if (!s) {
      s = {
        client: client ?? { kind: 'client', clientId, username: null, sessionExpiryTime: 0n, sessionExpiryInterval: 0, lastMid: 0, listenerPort: 0 },
        incoming: new Map(),
        inflight: new Map(),
        queue: [],
        queueHead: 0,
        subs: new Map(),
      };
      this.sessions.set(k, s);
    } else if (client) {
      s.client = client;
    }
    return s;
  }

  private clientMessage(s: ModelSession, r: ClientMsgRecord): void {
    if (r.direction === MessageDirection.IN) s.incoming.set(r.mid, r);
    else if (r.state === ClientMessageState.QUEUED) s.queue.push(r);
    else {
      s.inflight.set(r.mid, r);
      if (r.mid !== 0 && r.mid !== s.client.lastMid) s.client = { ...s.client, lastMid: r.mid };
    }
  }

  apply(records: Iterable<JournalRecord>): void {
    for (const r of records) {
      if (this.applyOne(r)) this.stats.applied++;
      else this.stats.ignored++;
    }
  }

  private applyOne(r: JournalRecord): boolean {
    switch (r.op) {
      case 'message':
        this.messages.set(r.record.storeId, r.record);
        if (r.record.storeId > this.lastDbId) this.lastDbId = r.record.storeId;
        return true;
      case 'session':
        this.session(r.record.clientId, r.record);
        return true;
      case 'session_end':
        return this.sessions.delete(key(r.clientId));
      case 'subscribe': {
        const s = this.sessions.get(key(r.record.clientId));
        if (!s) return false;
        s.subs.set(key(r.record.topic), r.record);
        return true;
      }
      case 'unsubscribe': {
        const s = this.sessions.get(key(r.clientId));
        return s !== undefined && s.subs.delete(key(r.topic));
      }
      case 'retain': {
        const m = this.messages.get(r.storeId);
        if (!m) return false;
        // An empty retained message clears its topic [MQTT-3.3.1-6].
        if (m.payload.length === 0) this.retained.delete(key(m.topic));
        else this.retained.set(key(m.topic), r.storeId);
        return true;
      }
      case 'client_msg': {
        const s = this.sessions.get(key(r.record.clientId));
        if (!s) return false;
        this.clientMessage(s, r.record);
        return true;
      }
      case 'dequeue': {
        const s = this.sessions.get(key(r.clientId));
        if (!s || s.queueHead >= s.queue.length) return false;
        const head = s.queue[s.queueHead]!;
        s.queue[s.queueHead++] = undefined as unknown as ClientMsgRecord;
        if (s.queueHead === s.queue.length) {
          s.queue = [];
          s.queueHead = 0;
        }
        if (r.mid !== 0) {
          const state = head.qos === 1 ? ClientMessageState.WAIT_FOR_PUBACK : ClientMessageState.WAIT_FOR_PUBREC;
          this.clientMessage(s, { ...head, mid: r.mid, state });
        }
        return true;
      }
      case 'state': {
        const s = this.sessions.get(key(r.clientId));
        const m = s?.inflight.get(r.mid);
        if (!s || !m) return false;
        s.inflight.set(r.mid, { ...m, state: r.state });
        return true;
      }
      case 'complete': {
        const s = this.sessions.get(key(r.clientId));
        return s !== undefined && s.inflight.delete(r.mid);
      }
      case 'released': {
        const s = this.sessions.get(key(r.clientId));
        return s !== undefined && s.incoming.delete(r.mid);
      }
      case 'queue_many': {
        let any = false;
        for (const id of r.clientIds) {
          const s = this.sessions.get(key(id));
          if (!s) continue;
          any = true;
          s.queue.push({
            kind: 'client_msg', clientId: id, storeId: r.storeId, mid: 0, qos: r.qos, state: ClientMessageState.QUEUED,
            retain: r.retain, dup: 0, direction: MessageDirection.OUT, properties: null,
          });
        }
        return any;
      }
    }
  }

  /** The state now: only messages something still refers to, in Mosquitto's record order. */
  state(): DbState {
    const used = new Set<bigint>();
    const sessions: DbSession[] = [];
    const subscriptions: SubRecord[] = [];
    for (const s of this.sessions.values()) {
      const list: ClientMsgRecord[] = [];
      for (const m of s.incoming.values()) list.push(m);
      for (const m of s.inflight.values()) list.push(m);
      for (let i = s.queueHead; i < s.queue.length; i++) list.push(s.queue[i]!);
      for (const m of list) used.add(m.storeId);
      sessions.push({ client: s.client, messages: list });
      for (const sub of s.subs.values()) subscriptions.push(sub);
    }
    const retained = [...this.retained.values()];
    for (const id of retained) used.add(id);
    const messages: MsgStoreRecord[] = [];
    for (const [id, m] of this.messages) if (used.has(id)) messages.push(m);
    return { lastDbId: this.lastDbId, shutdown: this.shutdown, messages, sessions, subscriptions, retained };
  }
}

/** `base` with `journals` (each a list of operations, oldest first) applied. */
export function replayJournals(base: DbState | null, journals: Iterable<Iterable<JournalRecord>>): DbState {
  const r = new JournalReplay(base);
  for (const j of journals) r.apply(j);
  return r.state();
}
