/**
 * A client session: what survives a disconnect when the session has an expiry (MQTT 5) or
 * clean session is off (3.x): subscriptions, outgoing messages in flight and queued, and the
 * QoS 2 messages received but not yet released. The live socket is `connection`, absent while
 * the client is offline.
 */
import type { ProtocolVersion, QoS } from '@skeeter/codec';
import type { StoredMessage } from '../message.js';
import type { Subscription } from '../router/subscription-tree.js';
import type { Connection } from '../protocol/connection.js';
import type { ClientInfo } from '../security.js';
import { MessageQueue } from './message-queue.js';

/** Session expiry of 0xFFFFFFFF means the session never expires (spec 3.1.2.11.2). */
export const NEVER_EXPIRES = 0xffffffff;

export interface OutgoingMessage {
  readonly message: StoredMessage;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly subscriptionIdentifiers: number[] | undefined;
  packetId: number;
  /** queued: waiting for room in flight; publish: PUBLISH sent; pubrel: PUBREC received, PUBREL sent. */
  state: 'queued' | 'publish' | 'pubrel';
}

export interface WillMessage {
  readonly message: StoredMessage;
  /** Seconds (MQTT 5 will delay interval), 0 = publish at once. */
  readonly delay: number;
}

export class Session {
  readonly clientId: string;
  connection: Connection | undefined;
  /** The last connection's identity, for checks made after it is gone (the will's ACL check). */
  lastClient: ClientInfo | undefined;
  protocolVersion: ProtocolVersion = 4;
  username: string | undefined;
  /** Seconds the session outlives its connection; NEVER_EXPIRES for 3.x persistent sessions. */
  expiryInterval = 0;
  readonly subscriptions = new Map<string, Subscription>();
  /** QoS 1/2 deliveries in flight, in send order (Map keeps insertion order), by packet id. */
  readonly inflight = new Map<number, OutgoingMessage>();
  inflightBytes = 0;
  readonly queue = new MessageQueue();
  queuedBytes = 0;
  /** QoS 2 messages received from the client, kept until its PUBREL [MQTT-4.3.3-8..9]. */
  readonly incomingQos2 = new Map<number, StoredMessage | null>();
  /** How often each held QoS 2 message was sent again before its PUBREL (created on the first
   * retransmission only): a second retransmission is a protocol error, as in Mosquitto. */
  incomingResends: Map<number, number> | undefined;
  /** The client's Receive Maximum (MQTT 5), or the broker's max_inflight_messages (3.x). 0 = no limit. */
  sendQuota = 0;
  /** The client's Maximum Packet Size (MQTT 5), 0 = none. */
  maxPacketSize = 0;
  will: WillMessage | undefined;
  willTimer: NodeJS.Timeout | undefined;
  expiryTimer: NodeJS.Timeout | undefined;
  /** When the connection ended (ms), for the expiry time stored by persistence; 0 while connected. */
  disconnectedAt = 0;
  /** Port of the listener the client last used (stored in mosquitto.db). */
  listenerPort = 0;
  /** Per-publish scratch for delivering one copy to 3.x clients (see Broker.publish). */
  publishSeq = 0;
  publishQos: QoS = 0;
  publishDone = false;
  /** Queued messages the ACLs denied at the last CONNECT, dropped when flushQueue reaches them. */
  denied: Set<OutgoingMessage> | undefined = undefined;
  /** Whether the "messages are being dropped" notice was logged since the queue last had room. */
  dropNoticeLogged = false;
  nextPacketId = 1;
  /** Whether the journal holds this session (persist/journal.ts): its changes are then appended. */
  journaled = false;
  /** The client id as bytes, made once for the journal's operations. */
  journalClientId: Buffer | undefined = undefined;

  constructor(clientId: string) {
    this.clientId = clientId;
  }

  /** Whether the session outlives its connection. */
  get persistent(): boolean {
    return this.expiryInterval > 0;
  }

  /** The last packet identifier handed out (stored in mosquitto.db as last_mid). */
  lastPacketId = 0;

  /** A free packet identifier, or 0 when all 65535 are in flight. */
  allocatePacketId(): number {
    for (let tries = 0; tries < 65_535; tries++) {
      const id = this.nextPacketId;
      this.nextPacketId = id === 65_535 ? 1 : id + 1;
      if (!this.inflight.has(id)) return (this.lastPacketId = id);
    }
    return 0;
  }

  clearTimers(): void {
    if (this.willTimer) clearTimeout(this.willTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.willTimer = undefined;
    this.expiryTimer = undefined;
  }
}
