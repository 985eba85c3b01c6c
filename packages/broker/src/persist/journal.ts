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
  messageOpLength,
  OP_HEADER_LENGTH,
  QUEUE_MANY_FIXED,
  shortOpLength,
  writeClientMsgOp,
  writeMessageOp,
  writeShortOp,
  type JournalWriter,
} from '@skeeter/persistence';
import type { Broker } from '../broker.js';
import type { StoredMessage } from '../message.js';
import type { Subscription } from '../router/subscription-tree.js';
import type { OutgoingMessage, Session } from '../session/session.js';
import { clientRecord, messageRecord, outgoing, subRecord } from './snapshot.js';

/** UTF-8 length of `s`; short ASCII strings (topics, client ids) counted by hand, for less than Buffer.byteLength costs. */
function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

/** A deferred call `fn(a, b, c)` (the writer's DurableCall): no closure per acknowledgement. */
export type DurableCall<A> = (a: A, b: number, c: number) => void;

export class BrokerJournal {
  readonly writer: JournalWriter;
  /** Current generation: bumped by every snapshot. */
  private gen = 1;
  /**
   * The QUEUE_MANY operation last written, while it is still the last thing in the open frame:
   * a publish queueing one message for many sessions grows it instead of writing one
   * operation per session.
   */
  private fanMessage: StoredMessage | undefined;
  private fanQos = 0;
  private fanRetain = false;
  private fanToken = 0;
  /** Start of the open QUEUE_MANY operation in the writer's buffer. */
  private fanStart = 0;
  /**
   * Sessions of the open QUEUE_MANY, in order, and of the last one finished in this journal
   * file (`lastFan`). While the open one follows `lastFan` session for session (`fanSame`), no
   * client ids are written; if it ends equal to it, it becomes a 10-byte QUEUE_SAME, else the
   * ids skipped so far are written when it departs from it. Publishes fanning out to the same
   * offline sessions (the rule under load) then cost a pointer comparison per session instead
   * of copying and checksumming every client id.
   */
  private fan: Session[] = [];
  private lastFan: Session[] = [];
  private fanSame = false;

  constructor(writer: JournalWriter) {
    this.writer = writer;
    writer.onGrowableEnd = this.fanEnded;
  }

  /** Runs `cb` once every change appended so far is on disk (in registration order). */
  afterDurable(cb: () => void): void {
    this.writer.afterDurable(cb);
  }

  /**
   * Runs `fn(a, b, c)` once every change appended so far is on disk (in registration order),
   * without a closure per call: acknowledgements pass a module-level function and their fields.
   */
  afterDurableCall<A>(fn: DurableCall<A>, a: A, b: number, c: number): void {
    this.writer.afterDurableCall(fn, a, b, c);
  }

  private idOf(session: Session): Buffer {
    return (session.journalClientId ??= Buffer.from(session.clientId, 'utf8'));
  }

  private message(m: StoredMessage): void {
    if (m.journalGen === this.gen) return;
    m.journalGen = this.gen;
    if (m.properties !== undefined) {
      this.writer.append({ op: 'message', record: messageRecord(m) });
      return;
    }
    // The common case, written straight from the message: no record, no copies.
    const topicBytes = utf8Length(m.topic);
    const originBytes = utf8Length(m.origin);
    const username = m.originUsername;
    const usernameBytes = username === undefined ? 0 : utf8Length(username);
    const w = this.writer;
    const n = messageOpLength(topicBytes, m.payload.length, originBytes, usernameBytes);
    const buf = w.reserve(n);
    const expiry = m.expiresAt === 0 ? 0 : Math.floor(m.expiresAt / 1000);
    writeMessageOp(buf, w.position, m.storeId, expiry, m.topic, topicBytes, m.payload, m.origin, originBytes, username, usernameBytes, m.qos, m.retain ? 1 : 0, m.originListener?.port ?? 0);
    w.advance(n);
  }

  /**
   * A message put in the queue (state 'queued') or straight in flight for a journaled session.
   */
  outgoing(session: Session, out: OutgoingMessage): void {
    // The hot case first, before any call: one more session following the last fan-out for
    // the message of the open QUEUE_MANY (written in this generation, so no MESSAGE check).
    if (
      out.message === this.fanMessage && this.fanSame && out.state === 'queued' && out.subscriptionIdentifiers === undefined &&
      out.qos === this.fanQos && out.retain === this.fanRetain && this.writer.growToken === this.fanToken &&
      this.lastFan[this.fan.length] === session
    ) {
      this.fan.push(session);
      return;
    }
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
    if (this.fanToken === 0 || w.growToken !== this.fanToken || this.fanMessage !== out.message || this.fanQos !== out.qos || this.fanRetain !== out.retain) {
      // A new QUEUE_MANY: the fixed part now, the sessions as they come.
      const buf = w.reserve(OP_HEADER_LENGTH + QUEUE_MANY_FIXED);
      const start = w.position;
      buf[start] = JournalOpCode.QUEUE_MANY;
      let p = start + OP_HEADER_LENGTH;
      const storeId = out.message.storeId;
      buf.writeUInt32BE(Math.floor(storeId / 0x1_0000_0000), p);
      buf.writeUInt32BE(storeId >>> 0, p + 4);
      buf[p + 8] = out.qos;
      buf[p + 9] = out.retain ? 1 : 0;
      this.fanStart = start;
      this.fanToken = w.beginGrowable(start);
      this.fanMessage = out.message;
      this.fanQos = out.qos;
      this.fanRetain = out.retain;
      this.fan.length = 0;
      this.fanSame = this.lastFan.length > 0;
      w.advance(OP_HEADER_LENGTH + QUEUE_MANY_FIXED);
      // advance may have closed the frame (it ends the operation): then start again.
      if (w.growToken !== this.fanToken) {
        this.queued(session, out);
        return;
      }
    }
    const fan = this.fan;
    if (this.fanSame) {
      if (this.lastFan[fan.length] === session) {
        fan.push(session);
        return;
      }
      // It departs from the last fan-out: the sessions skipped so far are written now.
      this.fanSame = false;
      this.writeFanIds(fan.length);
    }
    fan.push(session);
    const id = this.idOf(session);
    const len = id.length;
    const buf = w.extend(2 + len);
    this.copyId(buf, w.position, id);
    w.advance(2 + len);
  }

  /** 2-byte length and id, copied by hand (short ids are the rule; TypedArray#set costs more for them). */
  private copyId(buf: Buffer, at: number, id: Buffer): void {
    const len = id.length;
    let p = at;
    buf[p++] = len >> 8;
    buf[p++] = len & 0xff;
    if (len <= 32) for (let i = 0; i < len; i++) buf[p + i] = id[i]!;
    else buf.set(id, p);
  }

  /** Writes the ids of the first `count` sessions of the open fan-out (skipped while it followed the last one). */
  private writeFanIds(count: number): void {
    const w = this.writer;
    const fan = this.fan;
    let n = 0;
    for (let i = 0; i < count; i++) n += 2 + this.idOf(fan[i]!).length;
    const buf = w.extend(n);
    let p = w.position;
    for (let i = 0; i < count; i++) {
      const id = this.idOf(fan[i]!);
      this.copyId(buf, p, id);
      p += 2 + id.length;
    }
    // Not advance: that could close the frame, and with it this operation, half written.
    w.skip(n);
  }

  /** The writer fixes the open QUEUE_MANY: a QUEUE_SAME if it repeated the last fan-out exactly. */
  private readonly fanEnded = (start: number): void => {
    if (start !== this.fanStart || this.fanToken === 0) return;
    this.fanToken = 0;
    this.fanMessage = undefined;
    const fan = this.fan;
    if (this.fanSame && fan.length === this.lastFan.length) {
      // Nothing but the fixed part was written: the same sessions as the last QUEUE_MANY.
      this.writer.extend(0)[start] = JournalOpCode.QUEUE_SAME;
      fan.length = 0;
      return;
    }
    // A prefix of the last fan-out (fewer sessions): its ids were skipped, write them now.
    if (this.fanSame) this.writeFanIds(fan.length);
    this.fanSame = false;
    this.fan = this.lastFan;
    this.lastFan = fan;
    this.fan.length = 0;
  };

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
    // The next journal file starts afresh: QUEUE_SAME never refers to an earlier file.
    this.writer.endOp();
    this.lastFan.length = 0;
    this.fan.length = 0;
    const gen = ++this.gen;
    for (const s of broker.sessions.values()) {
      s.journaled = s.persistent;
      if (!s.persistent) continue;
      for (const m of s.incomingQos2.values()) if (m) m.journalGen = gen;
      for (const out of s.inflight.values()) out.message.journalGen = gen;
      const queue = s.queue.toArray();
      for (let i = 0; i < queue.length; i++) queue[i]!.message.journalGen = gen;
    }
    for (const m of broker.retained.all()) m.journalGen = gen;
  }
}
