/**
 * The broker's side of the journal (`persistence_journal true`, docs/durable-journal.md): one
 * method per state change the snapshot records, called by the broker and the protocol handlers
 * right where the change happens, and `afterDurable` for the acknowledgements that must wait for
 * the group commit covering those changes.
 *
 * Only sessions the snapshot would hold (persistent ones) are journaled: `session.journaled`
 * says so, and the callers test it before calling, so non-persistent clients cost nothing. A
 * message is written once per journal generation, the first time a journaled session or the
 * retained store refers to it (`message.journalGen`); each snapshot starts a new generation
 * and marks what it holds, so the journal after it only refers to messages in it or written
 * after it.
 */
import {
  ClientMessageState,
  clientMsgOpLength,
  JournalOpCode,
  MessageDirection,
  patchOpLength,
  queueManyOpLength,
  shortOpLength,
  writeClientMsgOp,
  writeQueueManyMore,
  writeQueueManyOp,
  writeShortOp,
  type JournalWriter,
} from '@skeeter/persistence';
import type { Broker } from '../broker.js';
import type { StoredMessage } from '../message.js';
import type { Subscription } from '../router/subscription-tree.js';
import type { OutgoingMessage, Session } from '../session/session.js';
import { clientRecord, messageRecord, outgoing, subRecord } from './snapshot.js';

export class BrokerJournal {
  readonly writer: JournalWriter;
  /** Current generation: bumped by every snapshot. */
  private gen = 1;
  /** Client ids as bytes, per journaled session. */
  private readonly ids = new Map<string, Buffer>();
  /**
   * The QUEUE_MANY operation last written, while it is still the last thing in the open frame:
   * a publish queueing one message for many sessions grows it instead of writing one
   * operation per session.
   */
  private fanMessage: StoredMessage | undefined;
  private fanQos = 0;
  private fanRetain = false;
  private fanStart = 0;
  private fanEnd = -1;
  private fanGen = -1;

  constructor(writer: JournalWriter) {
    this.writer = writer;
  }

  /** Runs `cb` once every change appended so far is on disk (in registration order). */
  afterDurable(cb: () => void): void {
    this.writer.afterDurable(cb);
  }

  private idOf(session: Session): Buffer {
    let id = this.ids.get(session.clientId);
    if (id === undefined) this.ids.set(session.clientId, (id = Buffer.from(session.clientId, 'utf8')));
    return id;
  }

  private message(m: StoredMessage): void {
    if (m.journalGen === this.gen) return;
    m.journalGen = this.gen;
    this.writer.append({ op: 'message', record: messageRecord(m) });
  }

  /**
   * A message put in the queue (state 'queued') or straight in flight for a journaled session.
   */
  outgoing(session: Session, out: OutgoingMessage): void {
    this.message(out.message);
    if (out.state === 'queued' && out.subscriptionIdentifiers === undefined) {
      this.queued(session, out);
      return;
    }
    const state = out.state === 'queued'
      ? ClientMessageState.QUEUED
      : out.state === 'pubrel'
        ? ClientMessageState.WAIT_FOR_PUBCOMP
        : out.qos === 1 ? ClientMessageState.WAIT_FOR_PUBACK : ClientMessageState.WAIT_FOR_PUBREC;
    const id = this.idOf(session);
    if (out.subscriptionIdentifiers !== undefined) {
      this.writer.append({ op: 'client_msg', record: outgoing(id, out, state) });
      return;
    }
    const w = this.writer;
    const n = clientMsgOpLength(id, null);
    const buf = w.reserve(n);
    writeClientMsgOp(buf, w.position, id, out.message.storeId, out.packetId, out.qos, state, out.retain ? 1 : 0, MessageDirection.OUT, null);
    w.advance(n);
  }

  private queued(session: Session, out: OutgoingMessage): void {
    const w = this.writer;
    const id = this.idOf(session);
    const gen = w.generation;
    if (this.fanMessage === out.message && this.fanQos === out.qos && this.fanRetain === out.retain && gen === this.fanGen && w.position === this.fanEnd) {
      const n = 2 + id.length;
      const buf = w.extend(n);
      patchOpLength(buf, this.fanStart, writeQueueManyMore(buf, w.position, id));
      w.advance(n);
    } else {
      const n = queueManyOpLength(id);
      const buf = w.reserve(n);
      this.fanStart = w.position;
      writeQueueManyOp(buf, w.position, out.message.storeId, out.qos, out.retain ? 1 : 0, id);
      w.advance(n);
      this.fanMessage = out.message;
      this.fanQos = out.qos;
      this.fanRetain = out.retain;
    }
    // If that closed the frame, the operation is sealed: the next session starts a new one.
    if (w.generation !== gen) this.fanMessage = undefined;
    this.fanGen = w.generation;
    this.fanEnd = w.position;
  }

  private short(code: JournalOpCode, session: Session, mid: number, state = 0): void {
    const id = this.idOf(session);
    const w = this.writer;
    const n = shortOpLength(code, id);
    const buf = w.reserve(n);
    writeShortOp(buf, w.position, code, id, mid, state);
    w.advance(n);
  }

  /** The head of the queue left it: in flight with `mid`, or (mid 0) sent at QoS 0 or dropped as expired. */
  dequeue(session: Session, mid: number): void {
    this.short(JournalOpCode.DEQUEUE, session, mid);
  }

  /** PUBREC received for an outgoing QoS 2 message: it now waits for PUBCOMP. */
  pubrecReceived(session: Session, mid: number): void {
    this.short(JournalOpCode.STATE, session, mid, ClientMessageState.WAIT_FOR_PUBCOMP);
  }

  /** An outgoing in-flight message is done (PUBACK, PUBCOMP, failed PUBREC, dropped). */
  complete(session: Session, mid: number): void {
    this.short(JournalOpCode.COMPLETE, session, mid);
  }

  /** An incoming QoS 2 message held until PUBREL. */
  incoming(session: Session, mid: number, m: StoredMessage): void {
    this.message(m);
    const id = this.idOf(session);
    const w = this.writer;
    const n = clientMsgOpLength(id, null);
    const buf = w.reserve(n);
    writeClientMsgOp(buf, w.position, id, m.storeId, mid, 2, ClientMessageState.WAIT_FOR_PUBREL, 0, MessageDirection.IN, null);
    w.advance(n);
  }

  /** PUBREL received for an incoming QoS 2 message. */
  incomingReleased(session: Session, mid: number): void {
    this.short(JournalOpCode.RELEASED, session, mid);
  }

  subscribe(session: Session, sub: Subscription): void {
    const r = subRecord(this.idOf(session), sub);
    if (r) this.writer.append({ op: 'subscribe', record: r });
  }

  unsubscribe(session: Session, filter: string): void {
    this.writer.append({ op: 'unsubscribe', clientId: this.idOf(session), topic: Buffer.from(filter, 'utf8') });
  }

  /** A retained message set or cleared (not for $SYS topics, which are never persisted). */
  retain(m: StoredMessage): void {
    this.message(m);
    const w = this.writer;
    w.append({ op: 'retain', storeId: BigInt(m.storeId) });
  }

  /**
   * A client attached to its session (new, resumed or taken over). Returns true when the
   * session has just become journaled: its CONNACK must then wait for the commit.
   */
  sessionAttached(session: Session): boolean {
    if (session.persistent) {
      if (!session.journaled) {
        this.fullSession(session);
        return true;
      }
      this.writer.append({ op: 'session', record: clientRecord(session, this.idOf(session)) });
      return false;
    }
    if (session.journaled) this.sessionEnded(session);
    return false;
  }

  /** The client went away and the session stays: its expiry time is now set. */
  sessionDetached(session: Session): void {
    this.writer.append({ op: 'session', record: clientRecord(session, this.idOf(session)) });
  }

  sessionEnded(session: Session): void {
    session.journaled = false;
    this.writer.append({ op: 'session_end', clientId: this.idOf(session) });
    this.ids.delete(session.clientId);
  }

  /** Everything a session holds, for a session the journal did not hold yet. */
  private fullSession(session: Session): void {
    session.journaled = true;
    const id = this.idOf(session);
    this.writer.append({ op: 'session', record: clientRecord(session, id) });
    for (const sub of session.subscriptions.values()) this.subscribe(session, sub);
    for (const [mid, m] of session.incomingQos2) if (m) this.incoming(session, mid, m);
    for (const out of session.inflight.values()) this.outgoing(session, out);
    for (const out of session.queue) this.outgoing(session, out);
  }

  /**
   * Called in the same tick as a snapshot is collected: a new generation starts, and what the
   * snapshot holds counts as written (persistent sessions, their messages, retained messages).
   */
  snapshotTaken(broker: Broker): void {
    const gen = ++this.gen;
    for (const s of broker.sessions.values()) {
      s.journaled = s.persistent;
      if (!s.persistent) continue;
      for (const m of s.incomingQos2.values()) if (m) m.journalGen = gen;
      for (const out of s.inflight.values()) out.message.journalGen = gen;
      for (const out of s.queue) out.message.journalGen = gen;
    }
    for (const m of broker.retained.all()) m.journalGen = gen;
  }
}
