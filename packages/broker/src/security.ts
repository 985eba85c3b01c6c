/**
 * Where authentication and authorisation plug in: password_file, acl_file and plugins
 * (src/auth/) install these hooks; the protocol handlers call them. ACL checks and the message
 * hook are synchronous, as Mosquitto's plugin callbacks are (a PUBLISH is decided in the tick it
 * arrives); authentication may be asynchronous, and the client's later packets wait for it.
 */
import type { Properties, QoS } from '@skeeter/codec';
import type { ListenerSettings } from './settings.js';

export interface ClientInfo {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly address: string;
  readonly protocolVersion: 3 | 4 | 5;
  readonly listener: ListenerSettings;
}

/** Mosquitto's ACL access kinds (MOSQ_ACL_READ / WRITE / SUBSCRIBE / UNSUBSCRIBE). */
export type AclAccess = 'read' | 'write' | 'subscribe' | 'unsubscribe';

/**
 * An incoming PUBLISH as the message hook sees it (MOSQ_EVT_MESSAGE): the hook may replace any
 * field; the broker stores and routes what it holds afterwards.
 */
export interface MessageEvent {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  properties: Properties | undefined;
}

/** One step of MQTT 5 extended authentication (spec 4.12). */
export interface ExtendedAuthStep {
  /** The Authentication Method of the CONNECT; every AUTH must repeat it [MQTT-4.12.0-5]. */
  readonly method: string;
  /** The Authentication Data of this CONNECT or AUTH, if any. */
  readonly data: Uint8Array | undefined;
  /** true on re-authentication (AUTH 0x19 from a connected client) [MQTT-4.12.1-1]. */
  readonly reauth: boolean;
}

/**
 * The answer to an extended-auth step: `success` ends it (CONNACK 0, or AUTH 0 on
 * re-authentication), `continue` sends AUTH 0x18 with `data`, `deny` refuses (0x87),
 * `unsupported` means nobody knows the method (0x8C, Mosquitto's MOSQ_ERR_NOT_SUPPORTED).
 */
export interface ExtendedAuthResult {
  outcome: 'success' | 'continue' | 'deny' | 'unsupported';
  data?: Uint8Array | undefined;
  /** On success: the user name the client gets (mosquitto_set_username). */
  username?: string | undefined;
}

export interface SecurityHooks {
  /**
   * Basic authentication at CONNECT of every client that does not use extended authentication,
   * with or without a user name (Mosquitto 2.0 calls its basic-auth chain for all of them).
   * false refuses (CONNACK 5 / 0x87). May answer later (password hashing off the event loop):
   * the client's further packets wait until it does. Without this hook a client is allowed
   * exactly when its listener allows anonymous clients.
   */
  authenticate?(client: ClientInfo, username: string | undefined, password: Uint8Array | undefined): boolean | Promise<boolean>;
  /** false denies: a PUBLISH is acknowledged and dropped, a delivery skipped, a SUBSCRIBE granted 0x87/0x80. */
  authorize?(client: ClientInfo, access: AclAccess, topic: string, qos: number, retain: boolean): boolean;
  /**
   * An extended-authentication step: the CONNECT's (`start`), or an AUTH from the client
   * (`continue`; `start` with `reauth` for AUTH 0x19). Without this hook every method is
   * unsupported (CONNACK 0x8C, as Mosquitto without such plugins answers).
   */
  extendedAuth?(client: ClientInfo, kind: 'start' | 'continue', step: ExtendedAuthStep): ExtendedAuthResult | Promise<ExtendedAuthResult>;
  /**
   * Each incoming PUBLISH after its ACL check (MOSQ_EVT_MESSAGE): may change `message`; false
   * rejects it as not authorised (dropped, PUBACK/PUBREC 0x87 on MQTT 5).
   */
  message?(client: ClientInfo, message: MessageEvent): boolean;
  /**
   * A client's PUBLISH to a `$CONTROL/` topic (MOSQ_EVT_CONTROL): never delivered, handed to the
   * plugin registered for exactly that topic. Calls `ack` once, with the reason string for the
   * MQTT 5 ack if any, before sending what the plugin published meanwhile (as Mosquitto sends
   * plugin messages on its next loop pass, after the PUBACK).
   */
  control?(client: ClientInfo, message: Readonly<MessageEvent>, ack: (reasonString: string | undefined) => void): void;
  /** A client was accepted and sent its CONNACK (2.1's MOSQ_EVT_CONNECT). */
  connected?(client: ClientInfo): void;
  /** An accepted client has gone (MOSQ_EVT_DISCONNECT); `reason` is the close kind. */
  disconnected?(client: ClientInfo, reason: string): void;
}
