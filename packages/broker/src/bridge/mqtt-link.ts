/**
 * A small MQTT client over any byte stream, on the codec, for the broker's own outgoing
 * connections (bridges). Incoming QoS 1/2 messages are acknowledged only when the handler calls
 * `done`, so a bridge can wait for the other side before acknowledging (no loss in between).
 */
import type { Duplex } from 'node:stream';
import {
  Decoder,
  encodePacket,
  ErrorCode,
  MqttProtocolError,
  PacketType,
  ReasonCode,
  type ConnackPacket,
  type ConnectPacket,
  type Packet,
  type ProtocolVersion,
  type Properties,
  type PublishPacket,
  type QoS,
  type SubackPacket,
  type Subscription,
} from '@skeeter/codec';

export interface LinkHandlers {
  /** An application message; call `done` once it is safely handed on (sends PUBACK/PUBREC). */
  onPublish(packet: PublishPacket, done: () => void): void;
  /**
   * A PUBREL for a QoS 2 message this side received; call `complete` to send PUBCOMP. Without
   * this handler PUBCOMP goes at once.
   */
  onPubrel?(packetId: number, complete: () => void): void;
  /**
   * A bad packet from the other side: true to tell it why with a DISCONNECT (5.0) before
   * closing, false to reset the connection. Default: DISCONNECT on 5.0, as Mosquitto does.
   */
  sendsDisconnect?(end: LinkEnd): boolean;
  /** A PUBACK, PUBREC or PUBCOMP for a packet id this side has no flow for. */
  onUnknownAck?(type: 'PUBACK' | 'PUBREC' | 'PUBCOMP', packetId: number): void;
  onClose(): void;
}

/**
 * Why a link ended: the peer went away (or we closed it), or it sent a bad packet (a PUBLISH
 * topic with wildcards [MQTT-3.3.2-2] apart, as Mosquitto words that one differently).
 */
export type LinkEnd = 'closed' | 'malformed' | 'protocol' | 'wildcard-topic';

export interface LinkOptions {
  /**
   * Hands out this side's packet ids. A bridge takes them from its local session, so that one
   * counter numbers everything it sends the remote (messages, SUBSCRIBE, UNSUBSCRIBE), across
   * reconnections, as Mosquitto's bridge does with its one client context.
   */
  allocateId?: () => number;
  /**
   * QoS 2 packet ids received and acknowledged with PUBREC, awaiting PUBREL. Shared between
   * successive links of one bridge so a PUBLISH the remote sends again after a reconnection is
   * not delivered twice [MQTT-4.3.3-9].
   */
  incomingQos2?: Set<number>;
}

export class MqttLink {
  readonly stream: Duplex;
  readonly version: ProtocolVersion;
  private readonly decoder: Decoder;
  private readonly handlers: LinkHandlers;
  private nextId = 1;
  private readonly allocator: (() => number) | undefined;
  /**
   * Waiters by packet id, one map per namespace we keep: our PUBLISH flows, and our SUBSCRIBE /
   * UNSUBSCRIBE. A bridge forwards messages under the packet ids its local session gave them, so
   * the ids survive a restart with the session; its own SUBSCRIBEs count separately.
   */
  private readonly publishWaiting = new Map<number, (p: Packet) => void>();
  private readonly ackWaiting = new Map<number, (p: Packet) => void>();
  private connackWaiter: ((p: ConnackPacket) => void) | undefined;
  private readonly incomingQos2: Set<number>;
  /** How the link ended (set before `onClose`). */
  end: LinkEnd = 'closed';
  private pingTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private markClosed!: () => void;
  /** Settles when the link closes (for waits that must not outlive it). */
  readonly whenClosed = new Promise<void>((resolve) => (this.markClosed = resolve));

  constructor(stream: Duplex, version: ProtocolVersion, handlers: LinkHandlers, options: LinkOptions = {}) {
    this.stream = stream;
    this.version = version;
    this.handlers = handlers;
    this.allocator = options.allocateId;
    this.incomingQos2 = options.incomingQos2 ?? new Set();
    // Not role 'client': Mosquitto's bridge also takes (and answers) a PINGREQ from the remote,
    // which a client-role decoder refuses. What a server never sends is refused in onPacket.
    this.decoder = new Decoder({ role: 'any', protocolVersion: version });
    stream.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk, (p) => this.onPacket(p));
      } catch (e) {
        // A 3.x-only remote answers a 5.0 CONNECT with a 3.x CONNACK (return code 1), which is
        // not a valid 5.0 packet: report it as "unsupported protocol version" so a v5 bridge
        // can fall back to 3.1.1 as Mosquitto's does.
        const waiter = this.connackWaiter;
        if (waiter && this.version === 5 && chunk[0] === 0x20 && chunk[1] === 2) {
          this.connackWaiter = undefined;
          waiter({ type: PacketType.Connack, sessionPresent: false, reasonCode: chunk[3] === 1 ? 0x84 : 0x80 });
          this.close();
          return;
        }
        const error = e instanceof MqttProtocolError ? e : undefined;
        this.abort(error?.code === ErrorCode.InvalidTopicName ? 'wildcard-topic' : error?.reasonCode === ReasonCode.ProtocolError ? 'protocol' : 'malformed');
      }
    });
    stream.on('error', () => undefined);
    stream.on('close', () => this.close());
    stream.on('end', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(packet: Packet): void {
    if (!this.closed) this.stream.write(encodePacket(packet, this.version));
  }

  allocateId(): number {
    if (this.allocator) return this.allocator();
    const id = this.nextId;
    this.nextId = id === 65_535 ? 1 : id + 1;
    return id;
  }

  connect(packet: ConnectPacket, keepalive: number): Promise<ConnackPacket> {
    return new Promise((resolve) => {
      this.connackWaiter = (ack) => {
        if (ack.reasonCode === 0 && keepalive > 0) {
          this.pingTimer = setInterval(() => this.send({ type: PacketType.Pingreq }), keepalive * 1000);
          this.pingTimer.unref();
        }
        resolve(ack);
      };
      this.send(packet);
    });
  }

  /**
   * Resolves when the other side has the message: at once for QoS 0, at PUBACK for QoS 1, at
   * PUBREC for QoS 2 (the caller then sends `release`, so a bridge can relay each step of the
   * flow between its two sides). `packetId` reuses an id the caller owns: a message sent again
   * keeps its id and carries DUP [MQTT-3.3.1-1], so a remote that kept the session recognises a
   * QoS 2 message it already has (spec 4.3.3: no duplicate onward).
   */
  publish(topic: string, payload: Uint8Array, qos: QoS, retain: boolean, properties?: Properties, packetId?: number, dup = false): Promise<void> {
    if (qos === 0) packetId = 0;
    else if (packetId === undefined || packetId === 0) packetId = this.allocateId();
    const packet: PublishPacket = { type: PacketType.Publish, topic, payload, qos, retain, dup: qos > 0 && dup, packetId };
    if (this.version === 5) packet.properties = properties ?? {};
    if (qos === 0) {
      this.send(packet);
      return Promise.resolve();
    }
    const id = packetId;
    return new Promise((resolve) => {
      this.publishWaiting.set(id, () => resolve());
      this.send(packet);
    });
  }

  /** The second half of an outgoing QoS 2 flow: PUBREL, resolved at PUBCOMP. */
  release(packetId: number): Promise<void> {
    return new Promise((resolve) => {
      this.publishWaiting.set(packetId, () => resolve());
      this.send({ type: PacketType.Pubrel, packetId, reasonCode: 0, properties: {} });
    });
  }

  subscribe(packetId: number, subscriptions: Subscription[]): Promise<SubackPacket> {
    return new Promise((resolve) => {
      this.ackWaiting.set(packetId, (p) => resolve(p as SubackPacket));
      this.send(this.version === 5
        ? { type: PacketType.Subscribe, packetId, subscriptions, properties: {} }
        : { type: PacketType.Subscribe, packetId, subscriptions });
    });
  }

  unsubscribe(packetId: number, topics: string[]): void {
    this.send(this.version === 5
      ? { type: PacketType.Unsubscribe, packetId, topics, properties: {} }
      : { type: PacketType.Unsubscribe, packetId, topics });
  }

  private onPacket(p: Packet): void {
    switch (p.type) {
      case PacketType.Connack:
        this.connackWaiter?.(p);
        this.connackWaiter = undefined;
        if (p.reasonCode !== 0) this.close();
        break;
      case PacketType.Publish:
        this.onPublish(p);
        break;
      case PacketType.Puback:
      case PacketType.Pubcomp: {
        const w = this.publishWaiting.get(p.packetId);
        if (w === undefined) {
          this.handlers.onUnknownAck?.(p.type === PacketType.Puback ? 'PUBACK' : 'PUBCOMP', p.packetId);
          break;
        }
        this.publishWaiting.delete(p.packetId);
        w(p);
        break;
      }
      case PacketType.Suback:
      case PacketType.Unsuback: {
        const w = this.ackWaiting.get(p.packetId);
        this.ackWaiting.delete(p.packetId);
        w?.(p);
        break;
      }
      case PacketType.Pubrec: {
        // The remote has the message (or refused it, reason >= 0x80): the publisher decides
        // when to release it.
        const w = this.publishWaiting.get(p.packetId);
        if (w === undefined) {
          // Not ours (a flow from before a restart, or a confused remote): release it anyway so
          // the remote can finish its side, as Mosquitto answers an unknown PUBREC.
          this.handlers.onUnknownAck?.('PUBREC', p.packetId);
          this.send({ type: PacketType.Pubrel, packetId: p.packetId, reasonCode: 0, properties: {} });
          break;
        }
        this.publishWaiting.delete(p.packetId);
        w(p);
        break;
      }
      case PacketType.Pingreq:
        // Either side may ping; Mosquitto's bridge answers a remote's PINGREQ too.
        this.send({ type: PacketType.Pingresp });
        break;
      case PacketType.Pubrel: {
        this.incomingQos2.delete(p.packetId);
        const id = p.packetId;
        const complete = (): void => this.send({ type: PacketType.Pubcomp, packetId: id, reasonCode: 0, properties: {} });
        if (this.handlers.onPubrel) this.handlers.onPubrel(id, complete);
        else complete();
        break;
      }
      case PacketType.Disconnect:
        this.close();
        break;
      case PacketType.Connect:
      case PacketType.Subscribe:
      case PacketType.Unsubscribe:
        // Only a client sends these: a protocol error from a server.
        this.abort('protocol');
        break;
      default:
        break;
    }
  }

  private onPublish(p: PublishPacket): void {
    if (p.qos === 2 && this.incomingQos2.has(p.packetId)) {
      // A retransmission of a message already taken: acknowledge again, deliver once.
      this.send({ type: PacketType.Pubrec, packetId: p.packetId, reasonCode: 0, properties: {} });
      return;
    }
    this.handlers.onPublish(p, () => {
      if (p.qos === 1) this.send({ type: PacketType.Puback, packetId: p.packetId, reasonCode: 0, properties: {} });
      else if (p.qos === 2) {
        this.incomingQos2.add(p.packetId);
        this.send({ type: PacketType.Pubrec, packetId: p.packetId, reasonCode: 0, properties: {} });
      }
    });
  }

  /**
   * Ends the link after a bad packet from the other side: on 5.0 a DISCONNECT with the reason
   * (malformed packet or protocol error) and an orderly close, as Mosquitto 2.0.20 does;
   * otherwise the TCP connection is reset, not shut down: Mosquitto stops reading at the bad
   * packet and closes with the rest unread, which the peer sees as a reset. We have read
   * ahead, so we reset it ourselves.
   */
  abort(end: Exclude<LinkEnd, 'closed'>): void {
    if (this.closed) return;
    this.end = end;
    if (this.handlers.sendsDisconnect?.(end) ?? this.version === 5) {
      const reasonCode = end === 'protocol' ? ReasonCode.ProtocolError : ReasonCode.MalformedPacket;
      this.send({ type: PacketType.Disconnect, reasonCode, properties: {} });
      this.stream.end();
    } else {
      const s = this.stream as Duplex & { resetAndDestroy?: () => void };
      if (typeof s.resetAndDestroy === 'function' && !s.destroyed) s.resetAndDestroy();
    }
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    // A CONNECT still waiting learns that no CONNACK will come (reason -1).
    const waiter = this.connackWaiter;
    this.connackWaiter = undefined;
    waiter?.({ type: PacketType.Connack, sessionPresent: false, reasonCode: -1 });
    this.publishWaiting.clear();
    this.ackWaiting.clear();
    if (!this.stream.destroyed) this.stream.destroy();
    this.markClosed();
    this.handlers.onClose();
  }

  /** Sends DISCONNECT and closes. */
  disconnect(): void {
    if (this.closed) return;
    this.send({ type: PacketType.Disconnect, reasonCode: 0, properties: {} });
    this.stream.end();
    this.close();
  }
}
