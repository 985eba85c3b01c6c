/**
 * Typed records, one per chunk of a `mosquitto.db` file. They mirror Mosquitto's P_* structs
 * field by field, so the broker can save and restore live state through them and db_dump can
 * print them. Byte strings (client ids, usernames, topics, payloads) are raw `Buffer`s: the
 * file stores bytes, and a 2.0.11 file can carry non-UTF-8 garbage in a username (see the
 * `c2-stale-username-v311` fixture), which must survive a round trip unchanged.
 *
 * 64-bit ids and times are `bigint`: store ids in develop are clock-derived and exceed 2^53.
 */
import type { Property } from './properties.js';

/** CFG (type 1): the database configuration. */
export interface CfgRecord {
  readonly kind: 'cfg';
  /** Highest store id handed out; a restarted 2.0 broker continues counting from here. */
  readonly lastDbId: bigint;
  /** 1 when written at a clean shutdown, 0 for an autosave / SIGUSR1 save. */
  readonly shutdown: number;
  /** Size of a db id in bytes; loaders insist on 8. */
  readonly dbidSize: number;
}

/** MSG_STORE (type 2): one stored message, referenced by retain and client-message records. */
export interface MsgStoreRecord {
  readonly kind: 'msg_store';
  readonly storeId: bigint;
  /** Absolute Unix time in seconds when the message expires; 0n = never. */
  readonly expiryTime: bigint;
  /** Packet id the publisher used. */
  readonly sourceMid: number;
  /** Listener port the publisher came in on; 0 for broker-internal messages. */
  readonly sourcePort: number;
  /** Publisher's client id / username, or null when absent (length 0). */
  readonly sourceId: Buffer | null;
  readonly sourceUsername: Buffer | null;
  /** Null only for a (corrupt-ish) record with a zero-length topic; db_dump prints `(null)`. */
  readonly topic: Buffer | null;
  readonly qos: number;
  readonly retain: number;
  readonly payload: Buffer;
  /** Message-level v5 properties kept from the PUBLISH, or null. */
  readonly properties: readonly Property[] | null;
}

/** CLIENT (type 6): a persistent session. */
export interface ClientRecord {
  readonly kind: 'client';
  readonly clientId: Buffer | null;
  /** Null when no username is stored (length 0). */
  readonly username: Buffer | null;
  /** Absolute Unix time in seconds when the session expires; 0n = none. */
  readonly sessionExpiryTime: bigint;
  /** Seconds; 0xFFFFFFFF = never (MQTT 3.1.1 clean-session=false). */
  readonly sessionExpiryInterval: number;
  readonly lastMid: number;
  /** Port of the listener the client last connected to; 0 = unknown (v2..v5 files). */
  readonly listenerPort: number;
}

/** CLIENT_MSG (type 3): one message queued for or in flight with a client. */
export interface ClientMsgRecord {
  readonly kind: 'client_msg';
  readonly clientId: Buffer | null;
  readonly storeId: bigint;
  readonly mid: number;
  readonly qos: number;
  /** ClientMessageState value. */
  readonly state: number;
  /** Stored as a nibble each: retain in the high nibble, dup in the low nibble of one byte. */
  readonly retain: number;
  readonly dup: number;
  /** MessageDirection: 0 = in (from the client), 1 = out (to the client). */
  readonly direction: number;
  /** Per-delivery properties, in practice the Subscription Identifier; or null. */
  readonly properties: readonly Property[] | null;
}

/** RETAIN (type 4): a retained message, by store id. */
export interface RetainRecord {
  readonly kind: 'retain';
  readonly storeId: bigint;
}

/** SUB (type 5): one subscription of a persistent session. */
export interface SubRecord {
  readonly kind: 'sub';
  readonly clientId: Buffer | null;
  readonly topic: Buffer | null;
  readonly qos: number;
  /** SubscriptionOption bits (no-local 0x04, retain-as-published 0x08). */
  readonly options: number;
  /** Subscription identifier; 0 = none. */
  readonly identifier: number;
}

export type DbRecord = CfgRecord | MsgStoreRecord | ClientRecord | ClientMsgRecord | RetainRecord | SubRecord;

/** The file header as read. */
export interface DbHeader {
  /** The "CRC" field as stored (host order in Mosquitto's writer; always 0 in practice). */
  readonly crc: number;
  readonly version: number;
}

/** A record as found in a file: with the chunk's type, stored body length and byte offset. */
export interface DbChunk {
  readonly type: number;
  /** Body length from the chunk header (unreliable in v2..v4 files, kept as stored). */
  readonly length: number;
  /** Offset of the chunk header in the file. */
  readonly offset: number;
  readonly record: DbRecord;
}
