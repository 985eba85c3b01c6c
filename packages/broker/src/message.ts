import {
  encodePreparedPublish,
  preparePublish,
  type PreparedPublish,
  type Properties,
  type ProtocolVersion,
  type QoS,
} from '@skeeter/codec';
import type { ListenerSettings } from './settings.js';

/**
 * One application message as the broker stores it: received once, routed to many. The wire
 * encoding is prepared lazily once per protocol family (3.x or 5) and shared by every delivery;
 * QoS 0 deliveries without per-receiver properties reuse one finished Buffer per version.
 */
/** Store ids, as Mosquitto's db ids: one per stored message, increasing, written to mosquitto.db. */
let lastStoreId = 0;

/** The highest store id handed out so far (mosquitto.db's "last db id"). */
export function lastMessageStoreId(): number {
  return lastStoreId;
}

/**
 * Continues counting from `id` (when it is higher): a restarted broker in journal mode picks up
 * after the ids its database and journal used, and each snapshot reserves a fresh one, so a
 * snapshot's "last db id" names it (docs/durable-journal.md).
 */
export function advanceStoreIds(id: number): void {
  if (id > lastStoreId) lastStoreId = id;
}

export class StoredMessage {
  /** This message's store id (mosquitto.db MSG_STORE). */
  readonly storeId = ++lastStoreId;
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: QoS;
  readonly retain: boolean;
  /** MQTT 5 properties to forward, without topic alias, subscription ids or message expiry. */
  readonly properties: Properties | undefined;
  /** Absolute expiry time in ms since the epoch, or 0 for none. */
  readonly expiresAt: number;
  /** Client id of the publisher, for no-local. Empty for broker-made messages. */
  readonly origin: string;
  readonly originUsername: string | undefined;
  /** The listener the publisher used (check_retain_source checks its ACL scope); undefined for
   * broker-made messages and ones restored without a matching listener port. */
  readonly originListener: ListenerSettings | undefined;
  /** The journal generation this message was last written in (persist/journal.ts); 0 = never. */
  journalGen = 0;

  private prepared3: PreparedPublish | undefined;
  private prepared5: PreparedPublish | undefined;
  private qos0v3: Buffer | undefined;
  private qos0v4: Buffer | undefined;
  private qos0v5: Buffer | undefined;

  constructor(
    topic: string,
    payload: Uint8Array,
    qos: QoS,
    retain: boolean,
    properties: Properties | undefined,
    expiresAt: number,
    origin: string,
    originUsername?: string,
    originListener?: ListenerSettings,
  ) {
    this.topic = topic;
    this.payload = payload;
    this.qos = qos;
    this.retain = retain;
    this.properties = properties;
    this.expiresAt = expiresAt;
    this.origin = origin;
    this.originUsername = originUsername;
    this.originListener = originListener;
  }

  isExpired(now: number): boolean {
    return this.expiresAt !== 0 && now >= this.expiresAt;
  }

  /** Seconds left, rounded up, for the Message Expiry Interval sent on delivery [MQTT-3.3.2-6]. */
  remainingExpiry(now: number): number | undefined {
    if (this.expiresAt === 0) return undefined;
    return Math.max(0, Math.ceil((this.expiresAt - now) / 1000));
  }

  prepared(version: ProtocolVersion): PreparedPublish {
    if (version === 5) return (this.prepared5 ??= preparePublish(this, 5));
    // 3.1 and 3.1.1 PUBLISH packets are identical on the wire.
    return (this.prepared3 ??= preparePublish(this, 4));
  }

  /**
   * The packet for one delivery. A plain QoS 0 delivery (no subscription id, no expiry) is
   * encoded once per version and the same Buffer goes to every receiver.
   */
  encode(
    version: ProtocolVersion,
    qos: QoS,
    retain: boolean,
    dup: boolean,
    packetId: number,
    subscriptionIdentifiers: number[] | undefined,
    now: number,
    mountPoint: string | undefined,
    topicAlias?: number,
    omitTopic?: boolean,
  ): Buffer {
    const expiry = version === 5 ? this.remainingExpiry(now) : undefined;
    if (mountPoint !== undefined) {
      // Rare: the listener strips a prefix from outgoing topics, so this delivery gets its own encoding.
      const topic = this.topic.startsWith(mountPoint) ? this.topic.slice(mountPoint.length) : this.topic;
      const p = preparePublish({ topic, payload: this.payload, properties: this.properties }, version);
      return encodePreparedPublish(p, { qos, retain, dup, packetId, subscriptionIdentifiers, messageExpiryInterval: expiry, topicAlias, omitTopic });
    }
    if (topicAlias !== undefined) {
      return encodePreparedPublish(this.prepared(version), {
        qos, retain, dup, packetId, subscriptionIdentifiers, messageExpiryInterval: expiry, topicAlias, omitTopic,
      });
    }
    if (qos === 0 && !dup && subscriptionIdentifiers === undefined && expiry === undefined) {
      if (version === 5) {
        if (!retain) return (this.qos0v5 ??= encodePreparedPublish(this.prepared(5), PLAIN_QOS0));
      } else if (!retain) {
        if (version === 4) return (this.qos0v4 ??= encodePreparedPublish(this.prepared(4), PLAIN_QOS0));
        return (this.qos0v3 ??= encodePreparedPublish(this.prepared(3), PLAIN_QOS0));
      }
    }
    return encodePreparedPublish(this.prepared(version), {
      qos,
      retain,
      dup,
      packetId,
      subscriptionIdentifiers,
      messageExpiryInterval: expiry,
    });
  }
}

const PLAIN_QOS0 = { qos: 0 as QoS, retain: false, dup: false, packetId: 0 };
