/**
 * Where authentication and authorisation plug in (password_file, acl_file and plugins arrive
 * with the auth issue). ACL checks are synchronous, as Mosquitto's plugin callbacks are;
 * authentication may be asynchronous, and the client's later packets wait for its answer.
 */
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

export interface SecurityHooks {
  /**
   * Basic authentication at CONNECT of a client that gave a user name. false refuses (CONNACK 5 /
   * 0x87). May answer later (password hashing off the event loop): the client's further packets
   * wait until it does.
   */
  authenticate?(client: ClientInfo, username: string, password: Uint8Array | undefined): boolean | Promise<boolean>;
  /** false denies: a PUBLISH is acknowledged and dropped, a delivery skipped, a SUBSCRIBE granted 0x87/0x80. */
  authorize?(client: ClientInfo, access: AclAccess, topic: string, qos: number, retain: boolean): boolean;
}
