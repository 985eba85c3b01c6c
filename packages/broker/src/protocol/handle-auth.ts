/**
 * MQTT 5 extended authentication (spec 4.12; Mosquitto's handle__auth and the plugin events
 * EXT_AUTH_START / EXT_AUTH_CONTINUE). A CONNECT with an Authentication Method starts it instead
 * of basic authentication; the broker answers AUTH 0x18 (continue) until the plugins succeed
 * (CONNACK 0 with the method and data) or refuse (CONNACK 0x87; 0x8C when no plugin knows the
 * method). A connected client re-authenticates with AUTH 0x19 [MQTT-4.12.1-1]; it stays
 * connected meanwhile, and a failure ends it with DISCONNECT 0x87/0x8C [MQTT-4.12.1-2]
 * (deliberate difference: Mosquitto 2.0 sends a CONNACK there, which a connected client must
 * treat as a protocol error).
 */
import { encodePacket, PacketType, ReasonCode, type AuthPacket, type ConnectPacket, type Properties } from '@skeeter/codec';
import type { ExtendedAuthResult } from '../security.js';
import type { Connection } from './connection.js';
import { acceptConnect, refuseConnect } from './handle-connect.js';

interface AuthState {
  /** The CONNECT's Authentication Method; every AUTH must carry the same [MQTT-4.12.0-5]. */
  readonly method: string;
  phase: 'authenticating' | 'reauthenticating' | 'active';
  /** The CONNECT waiting for the first authentication to end. */
  connect: { packet: ConnectPacket; clientId: string; assigned: boolean } | undefined;
}

/** Per connection, only for clients that use extended authentication. */
const states = new WeakMap<Connection, AuthState>();

/** true while a CONNECT waits for its extended authentication (a second CONNECT is a protocol error). */
export function isAuthenticating(conn: Connection): boolean {
  return states.get(conn)?.phase === 'authenticating';
}

/** true when the CONNECT carried an Authentication Method: only then may AUTH packets follow. */
export function usesExtendedAuth(conn: Connection): boolean {
  return states.has(conn);
}

/** Called by handleConnect for a CONNECT that carries an Authentication Method. */
export function startExtendedAuth(conn: Connection, packet: ConnectPacket, clientId: string, assigned: boolean, method: string): void {
  const state: AuthState = { method, phase: 'authenticating', connect: { packet, clientId, assigned } };
  states.set(conn, state);
  step(conn, state, 'start', packet.properties?.authenticationData);
}

/** An AUTH packet from the client (only MQTT 5 clients can send one: the decoder refuses it before). */
export function handleAuth(conn: Connection, packet: AuthPacket): void {
  const state = states.get(conn);
  const rc = packet.reasonCode;
  if (state === undefined) {
    // No extended authentication on this connection: a protocol error (0x82 from 2.0.20 on;
    // 2.0.11 closed without a DISCONNECT).
    conn.debug(`Received AUTH from ${conn.clientId} (rc${rc}, ${packet.properties?.authenticationMethod ?? ''})`);
    conn.close({ kind: 'protocol', reasonCode: ReasonCode.ProtocolError });
    return;
  }
  // Only "continue" during an exchange and "re-authenticate" once connected [MQTT-4.12.0-2].
  if (
    (rc !== ReasonCode.ContinueAuthentication && rc !== ReasonCode.ReAuthenticate) ||
    (rc === ReasonCode.ReAuthenticate && state.phase !== 'active') ||
    (rc === ReasonCode.ContinueAuthentication && state.phase === 'active')
  ) {
    return disconnect(conn, ReasonCode.ProtocolError);
  }
  const method = packet.properties?.authenticationMethod;
  if (method === undefined) return disconnect(conn, ReasonCode.UnspecifiedError);
  if (method !== state.method) return disconnect(conn, ReasonCode.ProtocolError);
  conn.debug(`Received AUTH from ${conn.clientId} (rc${rc}, ${state.method})`);
  const data = packet.properties?.authenticationData;
  if (rc === ReasonCode.ReAuthenticate) {
    state.phase = 'reauthenticating';
    step(conn, state, 'start', data);
  } else {
    step(conn, state, 'continue', data);
  }
}

function step(conn: Connection, state: AuthState, kind: 'start' | 'continue', data: Uint8Array | undefined): void {
  const hook = conn.broker.security.extendedAuth;
  if (hook === undefined) return settle(conn, state, { outcome: 'unsupported' });
  let answer: ExtendedAuthResult | Promise<ExtendedAuthResult>;
  try {
    answer = hook(conn, kind, { method: state.method, data, reauth: state.phase !== 'authenticating' });
  } catch {
    answer = { outcome: 'deny' };
  }
  if (!(answer instanceof Promise)) return settle(conn, state, answer);
  // The first exchange holds the client's later packets, as basic authentication does; a
  // re-authenticating client keeps working meanwhile [MQTT-4.12.1-1].
  const hold = state.phase === 'authenticating';
  if (hold) conn.holdPackets();
  answer
    .then(
      (r) => settle(conn, state, r),
      () => settle(conn, state, { outcome: 'deny' }),
    )
    .finally(() => {
      if (hold && !conn.isClosed()) conn.releasePackets();
    });
}

function settle(conn: Connection, state: AuthState, result: ExtendedAuthResult): void {
  if (conn.isClosed()) return;
  switch (result.outcome) {
    case 'continue':
      sendAuth(conn, ReasonCode.ContinueAuthentication, state.method, result.data);
      return;
    case 'success': {
      if (result.username !== undefined) {
        conn.username = result.username;
        if (conn.session) conn.session.username = result.username;
      }
      const connect = state.connect;
      state.connect = undefined;
      const initial = state.phase === 'authenticating';
      state.phase = 'active';
      if (initial && connect) {
        const props: Properties = { authenticationMethod: state.method };
        if (result.data !== undefined) props.authenticationData = result.data;
        acceptConnect(conn, connect.packet, connect.clientId, connect.assigned, props);
      } else {
        sendAuth(conn, ReasonCode.Success, state.method, result.data);
      }
      return;
    }
    case 'deny':
    case 'unsupported': {
      const code = result.outcome === 'deny' ? ReasonCode.NotAuthorized : ReasonCode.BadAuthenticationMethod;
      const kind = result.outcome === 'deny' ? 'not-authorised' : 'not-allowed';
      if (state.phase === 'authenticating') refuseConnect(conn, 5, 0, code, kind, 'after');
      else conn.close({ kind, reasonCode: code });
    }
  }
}

function sendAuth(conn: Connection, reasonCode: number, method: string, data: Uint8Array | undefined): void {
  conn.debug(`Sending AUTH to ${conn.clientId} (rc${reasonCode}, ${method})`);
  const properties: Properties = { authenticationMethod: method };
  if (data !== undefined) properties.authenticationData = data;
  conn.sendPacket({ type: PacketType.Auth, reasonCode, properties });
}

/** A bad AUTH: DISCONNECT with `code` and close, also before CONNACK (Mosquitto's send__disconnect). */
function disconnect(conn: Connection, code: number): void {
  if (conn.state === 'connected') {
    conn.close({ kind: 'protocol', reasonCode: code });
    return;
  }
  conn.debug(`Sending DISCONNECT to ${conn.clientId} (rc${code})`);
  conn.sendAndClose(encodePacket({ type: PacketType.Disconnect, reasonCode: code, properties: {} }, 5), { kind: 'protocol' });
}
