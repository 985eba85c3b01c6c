/**
 * Where authentication and authorisation plug in (password_file, acl_file and plugins arrive
 * with the auth issue). The hooks are synchronous, as Mosquitto's plugin callbacks are: a
 * decision is made before the next packet of the same client is handled.
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
  /** Basic authentication at CONNECT, after the anonymous rules. false refuses (CONNACK 5 / 0x87). */
  authenticate?(client: ClientInfo, username: string | undefined, password: Uint8Array | undefined): boolean;
  /** false denies: a PUBLISH is acknowledged and dropped, a delivery skipped, a SUBSCRIBE granted 0x87/0x80. */
  authorize?(client: ClientInfo, access: AclAccess, topic: string, qos: number, retain: boolean): boolean;
}
