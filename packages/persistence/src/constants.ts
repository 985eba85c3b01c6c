/**
 * Constants of Mosquitto's `mosquitto.db` format (persist.h in Mosquitto 2.0): the file
 * magic, the format versions, chunk types and the client-message states.
 */

/** The 15 magic bytes every persistence file starts with: `\0\xB5\0mosquitto db`. */
export const DB_MAGIC: Buffer = Buffer.from([
  0x00, 0xb5, 0x00, 0x6d, 0x6f, 0x73, 0x71, 0x75, 0x69, 0x74, 0x74, 0x6f, 0x20, 0x64, 0x62,
]);

/** Header: magic (15) + "CRC" (4, always 0, never checked) + version (4, big-endian). */
export const DB_HEADER_LENGTH = 23;

/** The version Mosquitto 2.0 writes; its loader accepts 2..6. */
export const DB_VERSION = 6;
export const DB_OLDEST_READABLE_VERSION = 2;

/** Size of a database id (store id) in bytes; the CFG chunk records it and loaders insist on 8. */
export const DBID_SIZE = 8;

/** Chunk types. Develop calls type 2 BASE_MSG; 2.0 calls it MSG_STORE. */
export const ChunkType = {
  CFG: 1,
  MSG_STORE: 2,
  CLIENT_MSG: 3,
  RETAIN: 4,
  SUB: 5,
  CLIENT: 6,
} as const;
export type ChunkType = (typeof ChunkType)[keyof typeof ChunkType];

/** Fixed (struct) sizes of the version 5/6 chunk bodies, padding included. */
export const FixedSize = {
  HEADER_V56: 8,
  HEADER_V234: 6,
  CFG: 16,
  MSG_STORE: 32,
  CLIENT_MSG: 16,
  RETAIN: 8,
  SUB: 12,
  CLIENT_V6: 24,
  CLIENT_V5: 16,
} as const;

/**
 * State of a client message (enum mosquitto_msg_state). On load, QUEUED goes to the queue and
 * everything else to the in-flight list.
 */
export const ClientMessageState = {
  INVALID: 0,
  PUBLISH_QOS0: 1,
  PUBLISH_QOS1: 2,
  WAIT_FOR_PUBACK: 3,
  PUBLISH_QOS2: 4,
  WAIT_FOR_PUBREC: 5,
  RESEND_PUBREL: 6,
  WAIT_FOR_PUBREL: 7,
  RESEND_PUBCOMP: 8,
  WAIT_FOR_PUBCOMP: 9,
  SEND_PUBREC: 10,
  QUEUED: 11,
} as const;
export type ClientMessageState = (typeof ClientMessageState)[keyof typeof ClientMessageState];

/** Direction of a client message: IN = received from that client, OUT = to be sent to it. */
export const MessageDirection = { IN: 0, OUT: 1 } as const;
export type MessageDirection = (typeof MessageDirection)[keyof typeof MessageDirection];

/** Subscription option bits as stored in a SUB chunk (same positions as in SUBSCRIBE). */
export const SubscriptionOption = {
  NO_LOCAL: 0x04,
  RETAIN_AS_PUBLISHED: 0x08,
} as const;

/** Session expiry interval meaning "never expires" (MQTT 3.1.1 persistent sessions). */
export const SESSION_EXPIRY_NEVER = 0xffffffff;

/** Largest payload the loader accepts (MQTT_MAX_PAYLOAD). */
export const MAX_PAYLOAD = 268435455;
