/**
 * The broker: listeners, sessions, the subscription tree and the retained store, and the
 * routing of every message from publisher to subscribers. Connections (protocol/) call in here;
 * everything that outlives one connection lives here.
 *
 * Life of a PUBLISH: Connection decodes it (payload is a view, no copy) -> handlePublish builds
 * one StoredMessage -> Broker.publish stores it if retained and matches the tree (cached per
 * topic) -> Broker.deliver per receiver: QoS 0 goes straight out (one shared Buffer per protocol
 * version), QoS 1/2 take a packet id and an in-flight slot or wait in the session's queue.
 */
import { EventEmitter } from 'node:events';
import type { Server } from 'node:net';
import { PacketType, type QoS } from '@skeeter/codec';
import { Logger } from './log.js';
import { StoredMessage } from './message.js';
import { Connection } from './protocol/connection.js';
import type { CloseReason } from './protocol/close-reason.js';
import { RetainedStore } from './router/retained-store.js';
import { SubscriptionTree, type Subscription } from './router/subscription-tree.js';
import { NEVER_EXPIRES, Session, type OutgoingMessage } from './session/session.js';
import type { SecurityHooks } from './security.js';
import type { BrokerJournal } from './persist/journal.js';
import { checkListenerFiles, openListener, type BoundListener, type OpenedListeners, type Peer } from './transport/listeners.js';
import { dropRefusedClients } from './transport/tls-alert.js';
import type { BrokerSettings, ListenerSettings } from './settings.js';
import { SysTree } from './sys/sys-tree.js';
import { VERSION_STRING } from './version.js';

export interface BrokerStats {
  bytesReceived: number;
  bytesSent: number;
  messagesReceived: number;
  messagesSent: number;
  publishReceived: number;
  publishSent: number;
  publishDropped: number;
  publishBytesReceived: number;
  publishBytesSent: number;
  /** Accepted sockets and CONNECT packets since the last $SYS update (load averages). */
  sockets: number;
  connections: number;
  expiredClients: number;
}

/** Events a Node program can listen to; emitted only when someone listens. */
export interface BrokerEvents {
  connect: [clientId: string];
  disconnect: [clientId: string];
  publish: [message: StoredMessage];
}

export type { BoundListener };

/** How long a connection over max_connections waits for closes already on their way. */
const MAX_CONNECTIONS_RECHECK_MS = 20;

export class Broker extends EventEmitter<BrokerEvents> {
  settings: BrokerSettings;
  readonly log: Logger;
  readonly tree = new SubscriptionTree();
  readonly retained = new RetainedStore();
  readonly sessions = new Map<string, Session>();
  readonly connections = new Set<Connection>();
  readonly stats: BrokerStats = {
    bytesReceived: 0,
    bytesSent: 0,
    messagesReceived: 0,
    messagesSent: 0,
    publishReceived: 0,
    publishSent: 0,
    publishDropped: 0,
    publishBytesReceived: 0,
    publishBytesSent: 0,
    sockets: 0,
    connections: 0,
    expiredClients: 0,
  };
  readonly bound: BoundListener[] = [];
  /** Authentication and ACL hooks; empty = every client that passes the anonymous rules may do anything. */
  security: SecurityHooks = {};
  private readonly servers: Server[] = [];
  private readonly listenerConnections = new Map<ListenerSettings, number>();
  private sys: SysTree | undefined;
  /** Connections with output this tick, flushed together on the next tick. */
  private pendingFlush: Connection[] = [];
  private flushScheduled = false;
  private readonly flushAll = (): void => {
    const list = this.pendingFlush;
    this.pendingFlush = [];
    this.flushScheduled = false;
    for (const c of list) c.flush();
  };
  private idleSweep: NodeJS.Timeout | undefined;
  /** Counts state changes (messages, subscriptions) for autosave_on_changes. */
  changes = 0;
  /**
   * The journal (persistence_journal true): every change a snapshot would record is appended
   * where it happens, guarded by this one check so the broker without it pays nothing more.
   */
  journal: BrokerJournal | undefined = undefined;
  /** Increments per publish; sessions remember it to deliver one copy to 3.x clients. */
  private publishSeq = 0;
  readonly startedAt = Date.now();

  constructor(settings: BrokerSettings, log?: Logger) {
    super();
    this.settings = settings;
    this.log = log ?? new Logger(settings.log);
    // log_dest topic: log lines as QoS 2, non-retained messages that expire after 20 s (reference 3.1).
    this.log.publisher = (topic, line) =>
      void this.publish(new StoredMessage(topic, Buffer.from(line), 2, false, undefined, Date.now() + 20_000, ''));
  }

  /** Opens every listener; rejects with the listen error of the first that fails. */
  async start(): Promise<void> {
    const opened: OpenedListeners = { servers: this.servers, bound: this.bound };
    // psk_file is read before any listener opens, as Mosquitto's security init does.
    checkListenerFiles(this.settings.listeners, this.log);
    for (const listener of this.settings.listeners) {
      try {
        // The kind (TCP, TLS, websockets, unix socket) is chosen from the listener's settings.
        await openListener(listener, this.log, (peer, l) => this.accept(peer, l), opened, () => this.settings.log.connectionMessages);
      } catch (e) {
        await this.stop(false);
        throw e;
      }
    }
    // One sweep for every connection's CONNECT timeout and keepalive, instead of a timer each.
    this.idleSweep = setInterval(() => {
      const now = Date.now();
      for (const c of this.connections) c.checkIdle(now);
    }, 500);
    this.idleSweep.unref();
    if (this.settings.sysInterval > 0) {
      this.sys = new SysTree(this);
      this.sys.start();
    }
  }

  /** Closes listeners and connections; publishes the wills of connected clients when `wills`. */
  async stop(wills = true): Promise<void> {
    this.sys?.stop();
    if (this.idleSweep) clearInterval(this.idleSweep);
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    // Clients refused with a TLS alert and given a moment to hang up would hold the close back.
    for (const s of this.servers) dropRefusedClients(s);
    this.servers.length = 0;
    for (const conn of [...this.connections]) {
      if (!wills) conn.willSuppressed = true;
      conn.close({ kind: 'shutdown' });
    }
    for (const s of this.sessions.values()) s.clearTimers();
    await Promise.all(closing);
  }

  /** Called by a Connection on its first write of a tick. */
  scheduleFlush(conn: Connection): void {
    this.pendingFlush.push(conn);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flushAll);
    }
  }

  /** A new client connection from any listener kind. */
  accept(peer: Peer, listener: ListenerSettings, recheck = true): void {
    if (recheck) this.stats.sockets++;
    const count = this.listenerConnections.get(listener) ?? 0;
    if (listener.maxConnections >= 0 && count >= listener.maxConnections) {
      // A client that closes and reconnects at once: Node may hand us the new socket before
      // the old one's close, which the kernel saw first. Look again once those are through.
      if (recheck) {
        setTimeout(() => {
          if (!peer.stream.destroyed) this.accept(peer, listener, false);
        }, MAX_CONNECTIONS_RECHECK_MS);
        return;
      }
      this.log.notice(`Client connection from ${peer.address} denied: max_connections exceeded.`);
      peer.stream.destroy();
      return;
    }
    this.listenerConnections.set(listener, count + 1);
    if (this.settings.log.connectionMessages && !peer.internal) {
      this.log.notice(`New connection from ${peer.address}:${peer.port} on port ${peer.localPort}.`);
    }
    this.connections.add(new Connection(this, peer, listener));
  }

  /**
   * Binds a connection to its session (reference 9.1 step 10): takes over a live session,
   * discards it for clean session/clean start, or resumes it. `present` is CONNACK's flag.
   */
  attachSession(conn: Connection, clientId: string, clean: boolean, expiry: number): { session: Session; present: boolean } {
    let session = this.sessions.get(clientId);
    if (session !== undefined) {
      // As Mosquitto: a session resumes only when it outlives its connections and the client
      // asks for it; else it ends here. An offline session without expiry still exists while
      // its delayed will waits (connectionClosed).
      const resume = !clean && session.persistent;
      if (session.connection) {
        const old = session.connection;
        this.log.error(`Client ${clientId} already connected, closing old connection.`);
        old.session = undefined;
        session.connection = undefined;
        old.close({ kind: 'takeover', reasonCode: 0x8e });
        // The old connection's will goes out when its session ends here; a delayed will and the
        // will of a resumed session are dropped, as Mosquitto drops them.
        if (!resume && session.will?.delay === 0) this.publishWill(session);
      }
      // Reconnecting cancels a delayed will [MQTT-3.1.3-9].
      session.will = undefined;
      if (!resume) {
        this.removeSession(session);
        session = undefined;
      }
    }
    const present = session !== undefined;
    if (!session) {
      session = new Session(clientId);
      this.sessions.set(clientId, session);
    } else {
      // Reconnecting cancels a delayed will and the expiry countdown [MQTT-3.1.3-9].
      session.clearTimers();
      if (this.security.authorize !== undefined) this.dropDeniedMessages(session, conn);
    }
    session.connection = conn;
    session.lastClient = conn;
    session.disconnectedAt = 0;
    session.listenerPort = conn.listener.port;
    conn.session = session;
    session.expiryInterval = expiry;
    if (expiry === NEVER_EXPIRES && this.settings.persistentClientExpiration !== undefined) {
      session.expiryInterval = this.settings.persistentClientExpiration;
    }
    const journal = this.journal;
    if (journal !== undefined) {
      session.username = conn.username;
      if (journal.sessionAttached(session)) {
        // A new persistent session: CONNACK (and all after it) waits until the journal has it.
        conn.holdOutput();
        journal.afterDurable(() => conn.releaseOutput());
      }
    }
    return { session, present };
  }

  /**
   * A resumed session keeps only the messages the client may still have, checked as Mosquitto
   * does at every CONNECT (the ACLs may have been reloaded, the user name may differ): outgoing
   * ones against read access, held incoming QoS 2 ones against write access, each with the
   * message's own QoS and retain flag. Off the hot path: runs once per resumed session.
   * Denied queued messages stay in the queue, marked, until flushQueue reaches them: Mosquitto
   * numbered them when they were queued, so each leaves a gap in the packet ids in its place.
   */
  private dropDeniedMessages(session: Session, client: Connection): void {
    const authorize = this.security.authorize!;
    const journal = session.journaled ? this.journal : undefined;
    const readable = (out: OutgoingMessage): boolean => authorize(client, 'read', out.message.topic, out.message.qos, out.message.retain);
    for (const [packetId, out] of session.inflight) {
      if (readable(out)) continue;
      session.inflight.delete(packetId);
      session.inflightBytes -= out.message.payload.length;
      journal?.complete(session, packetId);
    }
    session.denied = undefined;
    for (const out of session.queue) {
      if (!readable(out)) (session.denied ??= new Set()).add(out);
    }
    for (const [packetId, m] of session.incomingQos2) {
      if (m === null || authorize(client, 'write', m.topic, m.qos, m.retain)) continue;
      session.incomingQos2.delete(packetId);
      journal?.incomingReleased(session, packetId);
    }
  }

  /** Sends what a resumed session owes its client: in-flight messages again, then the queue. */
  resumeSession(session: Session): void {
    const conn = session.connection;
    if (!conn) return;
    const now = Date.now();
    for (const out of session.inflight.values()) {
      if (out.state === 'pubrel') {
        conn.debug(`Sending PUBREL to ${session.clientId} (m${out.packetId})`);
        conn.sendPacket({ type: PacketType.Pubrel, packetId: out.packetId, reasonCode: 0, properties: {} });
      } else {
        // Re-sent unacknowledged PUBLISH packets carry DUP [MQTT-4.4.0-1].
        this.writePublish(conn, session, out.message, out.qos, out.retain, true, out.packetId, out.subscriptionIdentifiers, now);
      }
    }
    this.flushQueue(session);
  }

  subscribe(session: Session, sub: Subscription, treeFilter: string): boolean {
    this.changes++;
    const previous = session.subscriptions.get(sub.filter);
    session.subscriptions.set(sub.filter, sub);
    if (this.journal !== undefined && session.journaled) this.journal.subscribe(session, sub);
    const isNew = this.tree.add(sub, treeFilter);
    return previous === undefined && isNew;
  }

  unsubscribe(session: Session, filter: string): boolean {
    const sub = session.subscriptions.get(filter);
    if (!sub) return false;
    session.subscriptions.delete(filter);
    if (this.journal !== undefined && session.journaled && sub.group === undefined) this.journal.unsubscribe(session, filter);
    const treeFilter = sub.group !== undefined ? filter.slice(8 + sub.group.length) : filter;
    return this.tree.remove(session, treeFilter, sub.group);
  }

  /**
   * Stores (if retained) and routes one message; returns how many subscriptions matched its
   * topic, counted as Mosquitto counts "matching subscribers" for PUBACK/PUBREC 0x10: a
   * subscription skipped for no-local, or denied later by the ACL, still matched.
   * 3.x clients get one copy however many of their subscriptions match (at the highest granted
   * QoS); v5 clients one per matching subscription, each with its identifier (reference 9.3).
   */
  publish(message: StoredMessage): number {
    if (this.listenerCount('publish') > 0) this.emit('publish', message);
    this.changes++;
    if (message.retain) {
      this.retained.set(message.topic, message);
      // $SYS values are never persisted (reference 6 / 11.15).
      if (this.journal !== undefined && !message.topic.startsWith('$SYS')) this.journal.retain(message);
    }
    const { subs, groups } = this.tree.match(message.topic);
    if (subs.length === 0 && groups.length === 0) return 0;
    const seq = ++this.publishSeq;
    const upgrade = this.settings.upgradeOutgoingQos;
    const dedupe = !this.settings.allowDuplicateMessages;
    // First pass: the highest QoS per deduplicated (3.x) session.
    if (dedupe) {
      for (const sub of subs) {
        const s = sub.session;
        if (s.protocolVersion === 5 || (sub.noLocal && message.origin === s.clientId)) continue;
        const qos = upgrade ? sub.qos : Math.min(message.qos, sub.qos);
        if (s.publishSeq !== seq) {
          s.publishSeq = seq;
          s.publishQos = qos as QoS;
          s.publishDone = false;
        } else if (qos > s.publishQos) {
          s.publishQos = qos as QoS;
        }
      }
    }
    for (const sub of subs) {
      const s = sub.session;
      if (sub.noLocal && message.origin === s.clientId) continue;
      if (dedupe && s.protocolVersion !== 5) {
        if (s.publishDone) continue;
        s.publishDone = true;
        // Retain As Published holds for 3.x only where the broker set it: bridges (try_private).
        this.deliver(s, message, s.publishQos, sub.retainAsPublished && message.retain, undefined);
      } else {
        const qos = (upgrade ? sub.qos : Math.min(message.qos, sub.qos)) as QoS;
        this.deliver(s, message, qos, sub.retainAsPublished && message.retain, sub.identifiers);
      }
    }
    for (const group of groups) {
      const sub = group.next((m) => !(m.noLocal && message.origin === m.session.clientId));
      if (!sub) continue;
      const qos = (upgrade ? sub.qos : Math.min(message.qos, sub.qos)) as QoS;
      this.deliver(sub.session, message, qos, sub.retainAsPublished && message.retain, sub.identifiers);
    }
    return subs.length + groups.length;
  }

  /**
   * check_retain_source: a retained message goes to a new subscriber only while its publisher
   * may still write it (CVE-2018-12546), checked as Mosquitto does with the publisher's client
   * id, user name and listener. Broker-made messages pass. With per_listener_settings a
   * message whose listener is unknown (restored from a file with no such port) is refused.
   */
  retainSourceAllows(m: StoredMessage): boolean {
    const authorize = this.security.authorize;
    if (!this.settings.checkRetainSource || authorize === undefined || m.origin === '') return true;
    const listener = m.originListener ?? (this.settings.perListenerSettings ? undefined : this.settings.listeners[0]);
    if (listener === undefined) return false;
    const source = { clientId: m.origin, username: m.originUsername, address: '', protocolVersion: 4 as const, listener };
    return authorize(source, 'write', m.topic, m.qos, m.retain);
  }

  /** Hands one message to one session: out now if it can, else into the queue. */
  deliver(session: Session, message: StoredMessage, qos: QoS, retain: boolean, subIds: number[] | undefined): void {
    const authorize = this.security.authorize;
    if (authorize !== undefined && session.connection && !authorize(session.connection, 'read', message.topic, qos, retain)) return;
    const conn = session.connection;
    const online = conn !== undefined && conn.state === 'connected';
    if (qos === 0) {
      if (online) this.writePublish(conn, session, message, 0, retain, false, 0, subIds, Date.now());
      else if (this.settings.queueQos0Messages && session.persistent) this.enqueue(session, message, 0, retain, subIds);
      return;
    }
    if (online && session.queue.length === 0 && this.hasRoom(session)) {
      const packetId = session.allocatePacketId();
      if (packetId !== 0) {
        const out: OutgoingMessage = { message, qos, retain, subscriptionIdentifiers: subIds, packetId, state: 'publish' };
        session.inflight.set(packetId, out);
        session.inflightBytes += message.payload.length;
        if (this.journal !== undefined && session.journaled) this.journal.outgoing(session, out);
        this.writePublish(conn, session, message, qos, retain, false, packetId, subIds, Date.now());
        return;
      }
    }
    this.enqueue(session, message, qos, retain, subIds);
  }

  private hasRoom(session: Session): boolean {
    if (session.sendQuota > 0 && session.inflight.size >= session.sendQuota) return false;
    // As Mosquitto: a message may go out while the bytes already in flight are below the limit.
    const maxBytes = this.settings.maxInflightBytes;
    return maxBytes === 0 || session.inflightBytes < maxBytes;
  }

  private enqueue(session: Session, message: StoredMessage, qos: QoS, retain: boolean, subIds: number[] | undefined): void {
    const { maxQueuedMessages, maxQueuedBytes } = this.settings;
    if (
      (maxQueuedMessages > 0 && session.queue.length >= maxQueuedMessages) ||
      (maxQueuedBytes > 0 && session.queuedBytes + message.payload.length > maxQueuedBytes)
    ) {
      this.stats.publishDropped++;
      if (!session.dropNoticeLogged) {
        session.dropNoticeLogged = true;
        this.log.notice(`Outgoing messages are being dropped for client ${session.clientId}.`);
      }
      return;
    }
    const out: OutgoingMessage = { message, qos, retain, subscriptionIdentifiers: subIds, packetId: 0, state: 'queued' };
    session.queue.push(out);
    session.queuedBytes += message.payload.length;
    if (this.journal !== undefined && session.journaled) this.journal.outgoing(session, out);
  }

  /** Moves queued messages into flight while the client's quota allows. */
  flushQueue(session: Session): void {
    const conn = session.connection;
    if (!conn || conn.state !== 'connected') return;
    const now = Date.now();
    const journal = session.journaled ? this.journal : undefined;
    let sent = false;
    for (let out = session.queue.peek(); out !== undefined; out = session.queue.peek()) {
      const denied = session.denied !== undefined && session.denied.delete(out);
      if (!denied && out.qos > 0 && !this.hasRoom(session)) break;
      session.queue.shift();
      sent = true;
      session.queuedBytes -= out.message.payload.length;
      if (denied || out.message.isExpired(now) || out.qos === 0) {
        journal?.dequeue(session, 0);
        if (out.qos === 0) {
          if (!denied && !out.message.isExpired(now)) this.writePublish(conn, session, out.message, 0, out.retain, false, 0, out.subscriptionIdentifiers, now);
        } else {
          // Mosquitto numbers a QoS 1/2 delivery when it is queued, so one that expires in the
          // queue (or is no longer allowed) leaves a gap in the packet ids: skip its id too.
          session.allocatePacketId();
        }
        continue;
      }
      out.packetId = session.allocatePacketId();
      out.state = 'publish';
      session.inflight.set(out.packetId, out);
      session.inflightBytes += out.message.payload.length;
      journal?.dequeue(session, out.packetId);
      this.writePublish(conn, session, out.message, out.qos, out.retain, false, out.packetId, out.subscriptionIdentifiers, now);
    }
    if (sent) session.dropNoticeLogged = false;
  }

  /** Ends a QoS 1/2 delivery (PUBACK or PUBCOMP) and lets the queue move. */
  completeDelivery(session: Session, packetId: number): void {
    const out = session.inflight.get(packetId);
    if (!out) return;
    session.inflight.delete(packetId);
    session.inflightBytes -= out.message.payload.length;
    if (this.journal !== undefined && session.journaled) this.journal.complete(session, packetId);
    if (session.queue.length > 0) this.flushQueue(session);
  }

  private writePublish(
    conn: Connection,
    session: Session,
    message: StoredMessage,
    qos: QoS,
    retain: boolean,
    dup: boolean,
    packetId: number,
    subIds: number[] | undefined,
    now: number,
  ): void {
    if (message.isExpired(now)) {
      // An expired message is not delivered [MQTT-3.3.2-5]; free its slot.
      if (packetId !== 0) this.completeDelivery(session, packetId);
      return;
    }
    let alias: number | undefined;
    let omitTopic = false;
    if (conn.outgoingAliasMax > 0) {
      // First use of a topic sends it with a new alias; later uses send the alias alone.
      const aliases = (conn.outgoingAliases ??= new Map());
      alias = aliases.get(message.topic);
      if (alias !== undefined) omitTopic = true;
      else if (aliases.size < conn.outgoingAliasMax) aliases.set(message.topic, (alias = aliases.size + 1));
    }
    const buf = message.encode(conn.protocolVersion, qos, retain, dup, packetId, subIds, now, conn.listener.mountPoint, alias, omitTopic);
    // Never send more than the client's Maximum Packet Size [MQTT-3.1.2-24]; the message is
    // dropped and its QoS 1/2 flow ends here. Mosquitto 2.0.20 leaves the fixed header's first
    // byte out of the size it compares (and logs the remaining length): so do we, or a packet
    // one byte over would be dropped where Mosquitto sends it.
    if (session.maxPacketSize > 0 && buf.length - 1 > session.maxPacketSize) {
      const remaining = buf.length - 1 - (buf[1]! < 0x80 ? 1 : buf[2]! < 0x80 ? 2 : buf[3]! < 0x80 ? 3 : 4);
      this.log.notice(`Dropping too large outgoing PUBLISH for ${session.clientId} (${remaining} bytes)`);
      // The client never saw this alias: take it back.
      if (alias !== undefined && !omitTopic) conn.outgoingAliases!.delete(message.topic);
      if (packetId !== 0) this.completeDelivery(session, packetId);
      return;
    }
    if (this.log.debugEnabled) {
      const topic = conn.listener.mountPoint && message.topic.startsWith(conn.listener.mountPoint)
        ? message.topic.slice(conn.listener.mountPoint.length)
        : message.topic;
      this.log.debug(
        `Sending PUBLISH to ${session.clientId} (d${dup ? 1 : 0}, q${qos}, r${retain ? 1 : 0}, m${packetId}, '${topic}', ... (${message.payload.length} bytes))`,
      );
    }
    this.stats.publishSent++;
    this.stats.publishBytesSent += message.payload.length;
    conn.send(buf);
  }

  /** Called by a Connection once it has closed. */
  connectionClosed(conn: Connection, reason: CloseReason, wasConnected: boolean): void {
    this.connections.delete(conn);
    this.listenerConnections.set(conn.listener, (this.listenerConnections.get(conn.listener) ?? 1) - 1);
    const session = conn.session;
    if (!wasConnected || !session || session.connection !== conn) return;
    session.connection = undefined;
    if (this.listenerCount('disconnect') > 0) this.emit('disconnect', session.clientId);
    let willWaits = false;
    if (session.will && !conn.willSuppressed) {
      const delay = session.will.delay;
      if (delay > 0 && reason.kind !== 'shutdown') {
        // Will Delay Interval: wait, unless the session ends first [MQTT-3.1.3-9]. As in
        // Mosquitto, a session without expiry waits too: it ends when the will goes out, and a
        // reconnect before that cancels the will (attachSession).
        willWaits = true;
        const wait = (session.persistent ? Math.min(delay, session.expiryInterval) : delay) * 1000;
        session.willTimer = setTimeout(() => {
          this.publishWill(session);
          if (!session.persistent && session.connection === undefined) this.removeSession(session);
        }, wait);
        session.willTimer.unref?.();
      } else {
        this.publishWill(session);
      }
    } else {
      session.will = undefined;
    }
    if (!session.persistent) {
      if (willWaits) this.clearSessionState(session);
      else this.removeSession(session);
    } else {
      session.disconnectedAt = Date.now();
      if (this.journal !== undefined && session.journaled) this.journal.sessionDetached(session);
      if (session.expiryInterval !== NEVER_EXPIRES && reason.kind !== 'shutdown') this.scheduleExpiry(session, session.expiryInterval * 1000);
    }
  }

  /** Ends an offline session after `ms` unless its client comes back. */
  scheduleExpiry(session: Session, ms: number): void {
    if (session.expiryTimer) clearTimeout(session.expiryTimer);
    // setTimeout's limit is 2^31-1 ms (24.8 days); longer expiries re-arm when it fires.
    const wait = Math.min(ms, 2_147_483_647);
    session.expiryTimer = setTimeout(() => {
      if (wait < ms) this.scheduleExpiry(session, ms - wait);
      else this.expireSession(session);
    }, wait);
    session.expiryTimer.unref?.();
  }

  private publishWill(session: Session): void {
    const will = session.will;
    session.will = undefined;
    if (session.willTimer) clearTimeout(session.willTimer);
    session.willTimer = undefined;
    if (!will) return;
    // The will is checked against the client's write access when it fires, as Mosquitto does.
    const authorize = this.security.authorize;
    const m = will.message;
    if (authorize !== undefined && session.lastClient && !authorize(session.lastClient, 'write', m.topic, m.qos, m.retain)) return;
    this.publish(m);
  }

  private expireSession(session: Session): void {
    if (session.connection || this.sessions.get(session.clientId) !== session) return;
    this.log.notice(`Expiring client ${session.clientId} due to timeout.`);
    this.stats.expiredClients++;
    if (session.will) this.publishWill(session);
    this.removeSession(session);
  }

  private removeSession(session: Session): void {
    session.clearTimers();
    if (this.journal !== undefined && session.journaled) this.journal.sessionEnded(session);
    this.clearSessionState(session);
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
  }

  /** Drops a session's subscriptions and messages (it has ended, or ends once its will is out). */
  private clearSessionState(session: Session): void {
    for (const [filter, sub] of session.subscriptions) {
      const treeFilter = sub.group !== undefined ? filter.slice(8 + sub.group.length) : filter;
      this.tree.remove(session, treeFilter, sub.group);
    }
    session.subscriptions.clear();
    session.inflight.clear();
    session.queue.clear();
    session.denied = undefined;
    session.incomingQos2.clear();
    session.incomingResends = undefined;
    session.inflightBytes = 0;
    session.queuedBytes = 0;
  }

  get versionString(): string {
    return VERSION_STRING;
  }
}
