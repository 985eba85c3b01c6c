/**
 * A bridge (`connection` block, reference 2.7 and 8): an MQTT client connection from this broker
 * to a remote one, forwarding topics out, in or both ways with Mosquitto's prefix rules.
 *
 * The local side is an ordinary MQTT session on this broker, reached through an in-memory pipe,
 * so the broker's own queues and QoS flows hold messages for the remote: a message from the local
 * side is acknowledged only after the remote acknowledged it, and while the remote is away the
 * local link is closed so the (persistent) local session queues QoS 1/2 messages. Nothing that
 * was acknowledged to a publisher is lost across a remote outage.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { PacketType, topicMatches, type ProtocolVersion, type PublishPacket, type QoS } from '@skeeter/codec';
import type { Broker } from '../broker.js';
import type { BridgeConfig, BridgeTopic } from '../config/types.js';
import { StoredMessage } from '../message.js';
import { defaultListener, type ListenerSettings } from '../settings.js';
import { memoryPipe } from './memory-pipe.js';
import { MqttLink, type LinkEnd } from './mqtt-link.js';
import { bridgeTlsConnect, usesTls } from './bridge-tls.js';

/** How often a bridge on a secondary address checks whether the first one is back (Mosquitto: 5 s). */
const PRIMARY_RETRY_MS = 5000;

/** Mosquitto's "Connection Refused" texts for the 3.x CONNACK return codes. */
const REFUSALS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'broker unavailable',
  4: 'bad user name or password',
  5: 'not authorised',
};

/** The local side of every bridge comes in through this listener: no limits, no mount point. */
const BRIDGE_LISTENER: ListenerSettings = { ...defaultListener(0, 'bridge'), allowAnonymous: true, maxTopicAlias: 0 };

const VERSIONS: Record<BridgeConfig['protocolVersion'], ProtocolVersion> = { mqttv31: 3, mqttv311: 4, mqttv50: 5 };

/** Mosquitto's bridge Receive Maximum without bridge_receive_maximum: max_inflight_messages (20). */
const DEFAULT_RECEIVE_MAXIMUM = 20;

/** start_type lazy: how often the backlog is counted while disconnected (messages may wait in the local session's queue). */
const LAZY_POLL_MS = 500;

/** A message for the remote, as the local session delivered it (its packet id is the session's). */
interface OutMessage {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  packetId: number;
  dup: boolean;
  done: () => void;
}

export class Bridge {
  private readonly broker: Broker;
  readonly config: BridgeConfig;
  private readonly remoteId: string;
  private readonly localId: string;
  private readonly stateTopic: string;
  private remote: MqttLink | undefined;
  private local: MqttLink | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private addressIndex = 0;
  private backoff = 0;
  private connectedOnce = false;
  /** Lowered to 3.1.1 when a v5 remote refuses 5.0; the bridge bit dropped when refused. */
  private version: ProtocolVersion;
  private bridgeBit: boolean;
  /** Set when the first address answered again while on a secondary one (round_robin false). */
  private backToPrimary = false;
  private primaryTimer: NodeJS.Timeout | undefined;
  /** The remote accepted the CONNECT: out messages may go. */
  private remoteReady = false;
  /** start_type lazy: messages for the remote held (unacknowledged) until `threshold` of them. */
  private pending: OutMessage[] = [];
  /** start_type lazy: messages sent to the remote and not yet acknowledged, oldest first. */
  private unacked: OutMessage[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private lazyPoll: NodeJS.Timeout | undefined;
  private lastActivity = 0;
  private outstanding = 0;
  private idleDisconnect = false;
  /** The remote's Maximum QoS (v5 CONNACK); messages for it are lowered to this, as Mosquitto does. */
  private remoteMaxQos: QoS = 2;
  /** The remote's Receive Maximum (v5 CONNACK), passed on to the local session's flow control. */
  private remoteReceiveMaximum: number | undefined;
  /**
   * QoS 2 flows relayed step by step between the sides (local PUBREC when the remote's comes,
   * remote PUBREL when the local one comes, local PUBCOMP at the remote's), as Mosquitto's one
   * bridge session does, so after a restart the remote gets the same PUBREL Debian sends.
   * `releases`: local PUBRELs waiting for the remote's PUBCOMP, by packet id.
   */
  private releases = new Map<number, () => void>();
  /** Local QoS 2 messages the remote took at a lower QoS: their local PUBREL completes at once. */
  private readonly lowered = new Set<number>();
  /**
   * The next packet id when no local session holds the counter (a clean local session is gone
   * while the link is down). The local session hands out every id the remote sees: its messages'
   * ids, and through `allocateRemoteId` our SUBSCRIBE, UNSUBSCRIBE and notification ids, so they
   * continue across reconnections (and restarts, with the session) as Mosquitto's do.
   */
  private nextRemoteId = 1;
  /** QoS 2 messages from the remote awaiting its PUBREL; kept across links (see MqttLink). */
  private readonly incomingQos2 = new Set<number>();
  /**
   * Flows open on the remote (QoS 1/2 PUBLISH or PUBREL not yet completed), by packet id: no
   * more than its Receive Maximum at once [MQTT-3.3.4-9]; the rest wait in `pending`.
   */
  private readonly remoteFlows = new Set<number>();

  constructor(broker: Broker, config: BridgeConfig) {
    this.broker = broker;
    this.config = config;
    this.remoteId = config.remoteClientId ?? `bridge.${config.name}`;
    this.localId = config.localClientId ?? `local.${this.remoteId}`;
    this.stateTopic = config.notificationTopic ?? `$SYS/broker/connection/${this.remoteId}/state`;
    this.version = VERSIONS[config.protocolVersion];
    this.bridgeBit = config.tryPrivate;
  }

  private get outTopics(): BridgeTopic[] {
    return this.config.topics.filter((t) => t.direction !== 'in');
  }

  async start(): Promise<void> {
    const log = this.broker.log;
    for (const t of this.outTopics) log.debug(`Bridge ${this.localId} doing local SUBSCRIBE on topic ${t.localTopic}`);
    // Create the local session and its subscriptions now, so messages queue before the remote
    // is first reached; then the local link waits for the remote.
    // Retained messages are not wanted yet: each connection to the remote sends them (below).
    await this.openLocal(true, 2);
    // Until the first connection the local state topic says "0" (published once at start).
    if (this.config.notifications) this.publishLocalState('0');
    // A lazy bridge keeps its local link open and connects once `threshold` messages wait.
    if (this.lazy) {
      this.watchBacklog();
      return;
    }
    this.closeLocal();
    this.connectRemote();
  }

  private get lazy(): boolean {
    return this.config.startType === 'lazy';
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.primaryTimer) clearInterval(this.primaryTimer);
    if (this.idleTimer) clearInterval(this.idleTimer);
    if (this.lazyPoll) clearInterval(this.lazyPoll);
    // Like Mosquitto's bridge at shutdown: the socket is closed without DISCONNECT, so the
    // remote publishes the bridge's will (the "0" state) [MQTT-3.1.2-8].
    this.remote?.close();
    this.local?.disconnect();
  }

  private localClean(): boolean {
    return this.config.localCleanSession ?? this.config.cleanSession;
  }

  /**
   * Connects the local link (v5 over a pipe) and subscribes the out/both topics. Retain Handling
   * 0 sends the local retained messages of those topics, which Mosquitto's bridge queues for the
   * remote on every connection; 2 leaves them.
   */
  private async openLocal(subscribe: boolean, retainHandling: 0 | 2 = 0): Promise<void> {
    const [ours, theirs] = memoryPipe();
    this.broker.accept({ stream: theirs, address: 'bridge', port: 0, localPort: 0, internal: true }, BRIDGE_LISTENER);
    const link = new MqttLink(ours, 5, {
      onPublish: (p, done) => this.forwardOut(outMessage(p, done)),
      onPubrel: (id, complete) => this.releaseOut(id, complete),
      onClose: () => {
        if (this.local === link) this.local = undefined;
      },
    });
    this.local = link;
    const clean = this.localClean();
    const c = this.config;
    const ack = await link.connect(
      {
        type: PacketType.Connect,
        protocolName: 'MQTT',
        protocolVersion: 5,
        bridge: false,
        clean,
        keepalive: 0,
        clientId: this.localId,
        // local_username / local_password: the identity the local side has on this broker (as
        // mosquitto_client_username() answers for a bridge). Like Mosquitto's own bridge
        // connections it bypasses password and ACL checks (reference 7.2; checked on Debian).
        ...(c.localUsername !== undefined ? { username: c.localUsername } : {}),
        ...(c.localPassword !== undefined ? { password: Buffer.from(c.localPassword) } : {}),
        properties: {
          ...(clean ? {} : { sessionExpiryInterval: 0xffffffff }),
          // No more messages in flight towards the remote than it accepts [MQTT-3.3.4-9].
          ...(this.remoteReceiveMaximum !== undefined && !this.lazy ? { receiveMaximum: this.remoteReceiveMaximum } : {}),
        },
      },
      0,
    );
    if (link.isClosed) return;
    const session = this.broker.sessions.get(this.localId);
    // A new local session continues the ids of the last one (a clean one ended with its link).
    if (session && !ack.sessionPresent) session.nextPacketId = this.nextRemoteId;
    if (subscribe) await Promise.race([this.subscribeLocal(link, retainHandling), link.whenClosed]);
  }

  /** A packet id for something the bridge itself sends the remote (see `nextRemoteId`). */
  private allocateRemoteId(): number {
    const session = this.broker.sessions.get(this.localId);
    let id = session?.allocatePacketId() ?? 0;
    if (id === 0) {
      id = this.nextRemoteId;
      this.nextRemoteId = id === 65_535 ? 1 : id + 1;
    } else {
      this.nextRemoteId = session!.nextPacketId;
    }
    return id;
  }

  private async subscribeLocal(link: MqttLink, retainHandling: 0 | 2): Promise<void> {
    if (this.outTopics.length === 0) return;
    // No Local keeps what the bridge brings in from going straight back out; Retain As
    // Published keeps the retained flag of live messages, as Mosquitto's bridge subscription.
    await link.subscribe(
      1,
      this.outTopics.map((t) => ({ topic: t.localTopic, qos: t.qos, noLocal: true, retainAsPublished: true, retainHandling })),
    );
  }

  private closeLocal(): void {
    // The broker sends its PUBRELs again to the next local link, and the messages held for the
    // remote (QoS 0 ones are lost, as for any client that goes away).
    this.releases = new Map();
    this.pending = [];
    const session = this.broker.sessions.get(this.localId);
    if (session) this.nextRemoteId = session.nextPacketId;
    const l = this.local;
    this.local = undefined;
    l?.close();
  }

  private connectRemote(): void {
    if (this.stopped) return;
    const log = this.broker.log;
    const addresses = this.config.addresses;
    const address = addresses[this.addressIndex % addresses.length]!;
    log.notice(`Connecting bridge (step 1) ${this.config.name} (${address.host}:${address.port})`);
    const tls = usesTls(this.config.tls);
    const bind = this.config.bindAddress !== undefined ? { localAddress: this.config.bindAddress } : {};
    let socket: Socket | TLSSocket;
    try {
      socket = tls
        ? bridgeTlsConnect(
            this.config.tls,
            address.host,
            address.port,
            bind,
            (text) => log.error(text),
            () => log.notice(`Client ${this.localId} disconnected: Protocol error.`),
            (text) => log.debug(text),
          )
        : netConnect({ host: address.host, port: address.port, noDelay: true, ...bind });
    } catch (e) {
      log.error(`Error: Unable to load bridge TLS files for ${this.config.name}: ${(e as Error).message}`);
      this.onRemoteLost(false);
      return;
    }
    const version = this.version;
    let connected = false;
    const link = new MqttLink(socket, version, {
      onPublish: (p, done) => this.forwardIn(p.topic, p.payload, p.qos, p.retain, done),
      // Mosquitto remaps an incoming topic before checking it: with an in/both topic that has a
      // prefix, a wildcard topic fails in the matching, as an invalid argument (no DISCONNECT).
      sendsDisconnect: (end) => version === 5 && !(end === 'wildcard-topic' && this.remapsIn()),
      onUnknownAck: (type, id) => log.warning(`Warning: Received ${type} from ${this.localId} for an unknown packet identifier ${id}.`),
      onClose: () => {
        if (this.remote === link) this.remote = undefined;
        if (link.end !== 'closed') {
          if (version === 5 && !(link.end === 'wildcard-topic' && this.remapsIn())) log.debug(`Bridge ${this.localId} sending DISCONNECT`);
          log.notice(this.badPacketText(link.end));
        }
        this.onRemoteLost(connected, link.end === 'closed');
      },
    }, { allocateId: () => this.allocateRemoteId(), incomingQos2: this.incomingQos2 });
    this.remote = link;
    // Step 2 is the TCP connection; a TLS bridge sends its CONNECT once the handshake is done.
    socket.once('connect', () => log.notice(`Connecting bridge (step 2) ${this.config.name} (${address.host}:${address.port})`));
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      // A TLS check after the handshake (bridge_require_ocsp) may have closed it already.
      if (socket.destroyed) return;
      // The local side opens now, as Mosquitto's bridge session takes messages (QoS 0 too) from
      // the moment its socket exists: what arrives before the CONNACK waits in `pending`.
      const localOpen = this.lazy || this.outTopics.length === 0 ? Promise.resolve() : this.openLocal(true);
      void this.handshake(link, version).then(async (ok) => {
        connected = ok;
        if (!ok) {
          link.close();
          return;
        }
        await localOpen;
        if (link.isClosed || this.remote !== link) return;
        if (this.addressIndex % addresses.length !== 0 && !this.config.roundRobin) this.watchPrimary(link);
        this.onConnected(link, version);
      });
    });
  }

  /** Whether incoming topics are remapped (an in/both topic with a prefix). */
  private remapsIn(): boolean {
    return this.config.topics.some((t) => t.direction !== 'out' && (t.localPrefix !== undefined || t.remotePrefix !== undefined));
  }

  /** Mosquitto 2.0.20's line when the remote sent a bad packet. */
  private badPacketText(end: LinkEnd): string {
    if (end === 'wildcard-topic' && this.remapsIn()) return `Bad socket read/write on client ${this.localId}: Invalid arguments provided.`;
    return `Client ${this.localId} disconnected due to ${end === 'protocol' ? 'protocol error' : 'malformed packet'}.`;
  }

  private async handshake(link: MqttLink, version: ProtocolVersion): Promise<boolean> {
    const c = this.config;
    const log = this.broker.log;
    const remoteNotifications = c.notifications && !c.notificationsLocalOnly;
    log.debug(`Bridge ${this.remoteId} sending CONNECT`);
    const ack = await link.connect(
      {
        type: PacketType.Connect,
        protocolName: version === 3 ? 'MQIsdp' : 'MQTT',
        protocolVersion: version,
        // try_private marks the connection as a bridge so the remote avoids loops (3.x only).
        bridge: this.bridgeBit && version !== 5,
        clean: c.cleanSession,
        keepalive: c.keepaliveInterval,
        clientId: this.remoteId,
        ...(remoteNotifications
          ? { will: { topic: this.stateTopic, payload: Buffer.from('0'), qos: 1 as QoS, retain: true, ...(version === 5 ? { properties: {} } : {}) } }
          : {}),
        ...(c.remoteUsername !== undefined ? { username: c.remoteUsername } : {}),
        ...(c.remotePassword !== undefined ? { password: Buffer.from(c.remotePassword) } : {}),
        // Mosquitto's bridge announces its receive maximum (max_inflight_messages, 20, or 2.1's
        // bridge_receive_maximum); 2.1's bridge_session_expiry_interval comes first when set.
        ...(version === 5
          ? {
              properties: {
                ...(c.sessionExpiryInterval > 0 ? { sessionExpiryInterval: c.sessionExpiryInterval } : {}),
                receiveMaximum: c.receiveMaximum > 0 ? c.receiveMaximum : DEFAULT_RECEIVE_MAXIMUM,
              },
            }
          : {}),
      },
      c.keepaliveInterval,
    );
    if (ack.reasonCode === -1) return false;
    log.debug(`Received CONNACK on connection ${this.localId}.`);
    if (ack.reasonCode !== 0) {
      this.onRefused(ack.reasonCode, version);
      return false;
    }
    if (link.isClosed) return false;
    this.connectedOnce = true;
    this.backoff = 0;
    const props = version === 5 ? ack.properties : undefined;
    this.remoteMaxQos = (props?.maximumQoS ?? 2) as QoS;
    this.remoteReceiveMaximum = props?.receiveMaximum;
    // A clean remote session holds none of the QoS 2 messages it sent before.
    if (c.cleanSession) this.incomingQos2.clear();
    return true;
  }

  /** After the CONNACK: notification, remote (un)subscriptions, then the local side's messages. */
  private onConnected(link: MqttLink, version: ProtocolVersion): void {
    const c = this.config;
    const log = this.broker.log;
    const remoteNotifications = c.notifications && !c.notificationsLocalOnly;
    // The "1" is QoS 1 even towards a remote with a lower Maximum QoS, as Debian's 2.0.11 sends it.
    if (c.notifications) {
      if (remoteNotifications) {
        const id = this.allocateRemoteId();
        this.remoteFlows.add(id);
        void link.publish(this.stateTopic, Buffer.from('1'), 1, true, undefined, id).then(() => this.endFlow(id));
      }
      this.publishLocalState('1');
    }
    for (const t of c.topics) {
      if (t.direction === 'out') {
        if (!c.attemptUnsubscribe) continue;
        const id = link.allocateId();
        log.debug(`Bridge ${this.localId} sending UNSUBSCRIBE (Mid: ${id}, Topic: ${t.remoteTopic})`);
        link.unsubscribe(id, [t.remoteTopic]);
      } else {
        const id = link.allocateId();
        const options = version === 5 ? 0x0c : 0;
        log.debug(`Bridge ${this.localId} sending SUBSCRIBE (Mid: ${id}, Topic: ${t.remoteTopic}, QoS: ${t.qos}, Options: 0x${options.toString(16).padStart(2, '0')})`);
        void link.subscribe(id, [{ topic: t.remoteTopic, qos: t.qos, noLocal: version === 5, retainAsPublished: version === 5, retainHandling: 0 }]);
      }
    }
    this.remoteReady = true;
    this.lastActivity = Date.now();
    // What waited for the CONNACK goes now, in order: the local session's PUBRELs and messages
    // (sent again with their ids and DUP after a reconnection), then, for a lazy bridge, the
    // retained messages.
    for (const id of this.releases.keys()) this.sendRelease(id);
    this.sendPending();
    if (this.lazy) {
      const local = this.local;
      if (local) void this.subscribeLocal(local, 0);
      this.watchIdle(link);
    }
  }

  /** start_type lazy: disconnect after idle_timeout seconds without a message either way. */
  private watchIdle(link: MqttLink): void {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = setInterval(() => {
      if (link.isClosed) {
        clearInterval(this.idleTimer);
        return;
      }
      if (this.outstanding === 0 && Date.now() - this.lastActivity >= this.config.idleTimeout * 1000) {
        clearInterval(this.idleTimer);
        this.broker.log.notice(`Bridge connection ${this.localId} has exceeded idle timeout, disconnecting.`);
        this.idleDisconnect = true;
        // Mosquitto closes the socket here (no DISCONNECT): the remote publishes the "0" will.
        link.close();
      }
    }, 250);
    this.idleTimer.unref();
  }

  private publishLocalState(state: '0' | '1'): void {
    this.broker.publish(new StoredMessage(this.stateTopic, Buffer.from(state), 1, true, undefined, 0, this.localId));
  }

  /**
   * A refused CONNECT. A v5 bridge refused for its protocol version retries with 3.1.1; a 3.x
   * bridge refused for its version retries without the bridge bit (try_private).
   */
  private onRefused(code: number, version: ProtocolVersion): void {
    const log = this.broker.log;
    if (code === 0x84 || (code === 1 && version === 5)) {
      log.warning(`Warning: Remote bridge ${this.config.name} does not support MQTT v5.0, reconnecting using MQTT v3.1.1.`);
      this.version = 4;
      this.retrySameAddress = true;
      log.notice(`Client ${this.localId} disconnected due to protocol error.`);
      return;
    }
    if (code === 1 && this.bridgeBit) {
      this.bridgeBit = false;
      this.retrySameAddress = true;
    }
    const text = version === 5 ? reasonText(code) : (REFUSALS[code] ?? 'unknown reason');
    log.error(`Connection Refused: ${text}`);
    log.notice(`Client ${this.localId} closed its connection.`);
  }

  /** round_robin false: while on a secondary address, go back to the first as soon as it answers. */
  private watchPrimary(link: MqttLink): void {
    const first = this.config.addresses[0]!;
    if (this.primaryTimer) clearInterval(this.primaryTimer);
    this.primaryTimer = setInterval(() => {
      if (link.isClosed || this.stopped) {
        clearInterval(this.primaryTimer);
        return;
      }
      const probe = netConnect({ host: first.host, port: first.port });
      probe.once('error', () => probe.destroy());
      probe.once('connect', () => {
        probe.destroy();
        clearInterval(this.primaryTimer);
        this.backToPrimary = true;
        link.disconnect();
      });
    }, PRIMARY_RETRY_MS);
    this.primaryTimer.unref();
  }

  private retrySameAddress = false;

  private onRemoteLost(wasConnected: boolean, orderly = true): void {
    this.remoteReady = false;
    this.remoteFlows.clear();
    // Mosquitto's line when the remote ends a working link (our own stop and idle disconnects aside).
    if (wasConnected && orderly && !this.stopped && !this.idleDisconnect) this.broker.log.notice(`Client ${this.localId} closed its connection.`);
    if (wasConnected && this.config.notifications) this.publishLocalState('0');
    if (this.lazy) {
      if (this.idleTimer) clearInterval(this.idleTimer);
      if (this.stopped) return;
      // Messages the remote had not acknowledged wait again, first and in order, sent again
      // with their packet ids and DUP (QoS 0 ones were done when sent).
      for (const m of this.unacked) m.dup = true;
      this.pending = [...this.unacked, ...this.pending];
      this.unacked = [];
      this.outstanding = 0;
      this.watchBacklog();
      // After an idle disconnect wait for the threshold again.
      if (this.idleDisconnect) {
        this.idleDisconnect = false;
        return;
      }
    } else {
      this.closeLocal();
    }
    if (this.stopped || this.config.startType === 'once') return;
    if (this.backToPrimary) {
      this.backToPrimary = false;
      this.addressIndex = 0;
      this.retryTimer = setTimeout(() => this.connectRemote(), 0);
      this.retryTimer.unref();
      return;
    }
    // The next address of the list (failover); a protocol fallback retries the same one.
    if (this.retrySameAddress) this.retrySameAddress = false;
    else this.addressIndex++;
    // restart_timeout: a constant delay, or Mosquitto's decorrelated-jitter backoff between base and cap.
    const c = this.config;
    let delay: number;
    if (c.restartTimeout > 0) {
      delay = c.restartTimeout;
    } else {
      const base = c.backoffBase;
      const prev = this.backoff || base;
      delay = Math.min(c.backoffCap, base + Math.random() * (prev * 3 - base));
      this.backoff = delay;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      // A lazy bridge retries only while enough messages wait.
      if (this.lazy && this.backlog() < this.config.threshold) return;
      this.connectRemote();
    }, delay * 1000);
    this.retryTimer.unref();
  }

  /**
   * start_type lazy: the messages waiting for the remote, as Mosquitto counts its bridge's
   * messages against `threshold`: those handed to the bridge (QoS 0 included) and those still in
   * the local session's queue behind the in-flight window.
   */
  private backlog(): number {
    return this.pending.length + (this.broker.sessions.get(this.localId)?.queue.length ?? 0);
  }

  /** start_type lazy: connects once the backlog reaches `threshold`. */
  private checkBacklog(): void {
    if (this.stopped || this.remote || this.retryTimer) return;
    if (this.backlog() >= this.config.threshold) this.connectRemote();
  }

  /** start_type lazy: counts the backlog while disconnected (the session queue grows unseen). */
  private watchBacklog(): void {
    if (this.lazyPoll) return;
    this.lazyPoll = setInterval(() => {
      if (this.stopped || this.remoteReady) return;
      this.checkBacklog();
    }, LAZY_POLL_MS);
    this.lazyPoll.unref();
  }

  /** Local -> remote: acknowledged locally only once the remote has it. */
  private forwardOut(m: OutMessage): void {
    if (!this.remoteReady || this.pending.length > 0) {
      // Before the CONNACK (or, lazy, while disconnected), or behind messages waiting for room
      // on the remote: it waits, in order.
      this.pending.push(m);
      if (this.lazy && !this.remoteReady) this.checkBacklog();
      else if (this.remoteReady) this.sendPending();
      return;
    }
    if (!this.send(m)) this.pending.push(m);
  }

  /** Sends what waits in `pending` while the remote has room. */
  private sendPending(): void {
    while (this.remoteReady && this.pending.length > 0) {
      if (!this.send(this.pending[0]!)) return;
      this.pending.shift();
    }
  }

  /** A remote flow ended: room for what waits. */
  private endFlow(id: number): void {
    if (this.remoteFlows.delete(id) && this.pending.length > 0) this.sendPending();
  }

  /** Sends one message to the remote; false (nothing done) when its Receive Maximum is reached. */
  private send(m: OutMessage): boolean {
    const { topic, payload, retain, done } = m;
    const remote = this.remote;
    const mapped = mapTopic(topic, this.outTopics, 'out');
    if (mapped === undefined) {
      done();
      return true;
    }
    // bridge_max_packet_size: a PUBLISH the remote could not take is dropped, as Mosquitto's
    // bridge drops oversize packets (it never sends them).
    // The remote's Maximum QoS lowers the message, as Mosquitto's bridge does (checked on Debian).
    const qos = Math.min(m.qos, this.remoteMaxQos) as QoS;
    const max = this.config.maxPacketSize;
    const size = remote ? publishRemainingLength(mapped, payload.length, qos, remote.version) : 0;
    if (max > 0 && size + varintBytes(size) > max) {
      this.broker.log.notice(`Dropping too large outgoing PUBLISH for ${this.localId} (${size} bytes)`);
      done();
      return true;
    }
    // Without a remote the message stays unacknowledged: the local session resends it later.
    if (!remote || remote.isClosed) return true;
    const quota = this.remoteReceiveMaximum;
    if (qos > 0 && quota !== undefined && this.remoteFlows.size >= quota && !this.remoteFlows.has(m.packetId)) return false;
    this.lastActivity = Date.now();
    this.outstanding++;
    if (qos > 0) this.remoteFlows.add(m.packetId);
    if (this.lazy && qos > 0) this.unacked.push(m);
    // The local session's packet id goes to the remote too: after a restart (or a new link) the
    // session sends the message again under the same id, so a remote holding the session knows it.
    void remote.publish(mapped, payload, qos, retain && this.config.outgoingRetain, undefined, m.packetId, m.dup).then(() => {
      this.outstanding--;
      this.lastActivity = Date.now();
      if (this.lazy && qos > 0) this.unacked = this.unacked.filter((u) => u !== m);
      if (m.qos === 2 && qos < 2) this.lowered.add(m.packetId);
      // PUBACK, or PUBREC once the remote's PUBREC came (the remote now owns the message).
      done();
      // A QoS 2 flow stays open on the remote until its PUBCOMP.
      if (qos === 1) this.endFlow(m.packetId);
    });
    return true;
  }

  /** A local PUBREL: relayed to the remote, PUBCOMP locally once the remote's PUBCOMP comes. */
  private releaseOut(id: number, complete: () => void): void {
    if (this.lowered.delete(id)) {
      complete();
      return;
    }
    this.releases.set(id, complete);
    if (this.remoteReady) this.sendRelease(id);
  }

  private sendRelease(id: number): void {
    const remote = this.remote;
    if (!remote || remote.isClosed) return;
    this.outstanding++;
    this.remoteFlows.add(id);
    const releases = this.releases;
    void remote.release(id).then(() => {
      this.outstanding--;
      this.lastActivity = Date.now();
      const complete = releases.get(id);
      releases.delete(id);
      complete?.();
      this.endFlow(id);
    });
  }

  /** Remote -> local. */
  private forwardIn(topic: string, payload: Uint8Array, qos: QoS, retain: boolean, done: () => void): void {
    const mapped = mapTopic(topic, this.config.topics.filter((t) => t.direction !== 'out'), 'in');
    if (mapped === undefined) {
      done();
      return;
    }
    this.lastActivity = Date.now();
    this.broker.publish(new StoredMessage(mapped, payload, qos, retain, undefined, 0, this.localId));
    done();
  }
}

function outMessage(p: PublishPacket, done: () => void): OutMessage {
  return { topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain, packetId: p.packetId, dup: p.dup, done };
}

/**
 * Mosquitto's prefix rule: a topic matching a bridge topic's filter on one side has that side's
 * prefix replaced by the other side's. Returns undefined when no bridge topic matches.
 */
export function mapTopic(topic: string, topics: readonly BridgeTopic[], way: 'in' | 'out'): string | undefined {
  for (const t of topics) {
    const from = way === 'out' ? t.localTopic : t.remoteTopic;
    const fromPrefix = (way === 'out' ? t.localPrefix : t.remotePrefix) ?? '';
    const toPrefix = (way === 'out' ? t.remotePrefix : t.localPrefix) ?? '';
    if (t.pattern === undefined ? topic === from : topicMatches(from, topic)) {
      return toPrefix + topic.slice(fromPrefix.length);
    }
  }
  return undefined;
}

/**
 * The remaining length of a PUBLISH without properties. Mosquitto compares remaining length plus
 * its length bytes (not the fixed header's first byte) with bridge_max_packet_size.
 */
export function publishRemainingLength(topic: string, payloadLength: number, qos: QoS, version: ProtocolVersion): number {
  return 2 + Buffer.byteLength(topic) + (qos > 0 ? 2 : 0) + (version === 5 ? 1 : 0) + payloadLength;
}

function varintBytes(n: number): number {
  let bytes = 1;
  for (let v = n; v > 127; v = Math.floor(v / 128)) bytes++;
  return bytes;
}

/** Mosquitto's texts for the 5.0 CONNACK reason codes a bridge may meet. */
function reasonText(code: number): string {
  const texts: Record<number, string> = {
    0x80: 'unspecified error',
    0x81: 'malformed packet',
    0x82: 'protocol error',
    0x83: 'implementation specific error',
    0x84: 'unsupported protocol version',
    0x85: 'client identifier not valid',
    0x86: 'bad user name or password',
    0x87: 'not authorised',
    0x88: 'server unavailable',
    0x89: 'server busy',
    0x8a: 'banned',
    0x8c: 'bad authentication method',
    0x95: 'packet too large',
    0x97: 'quota exceeded',
    0x99: 'payload format invalid',
    0x9a: 'retain not supported',
    0x9b: 'QoS not supported',
    0x9c: 'use another server',
    0x9d: 'server moved',
    0x9f: 'connection rate exceeded',
  };
  return texts[code] ?? 'unknown reason';
}
