/**
 * DISCONNECT from the client (spec 3.14). Reason 0x04 asks for the will to be published; any
 * other normal disconnect discards it [MQTT-3.14.4-3]. A v5 client may change its session
 * expiry, but not from 0 to non-zero [MQTT-3.14.2-2].
 */
import { ReasonCode, type DisconnectPacket } from '@skeeter/codec';
import type { Connection } from './connection.js';

export function handleDisconnect(conn: Connection, packet: DisconnectPacket): void {
  conn.debug(`Received DISCONNECT from ${conn.clientId}`);
  const session = conn.session!;
  const expiry = packet.properties?.sessionExpiryInterval;
  if (expiry !== undefined) {
    if (session.expiryInterval === 0 && expiry !== 0) {
      conn.close({ kind: 'protocol', reasonCode: ReasonCode.ProtocolError });
      return;
    }
    session.expiryInterval = expiry;
  }
  conn.willSuppressed = packet.reasonCode !== ReasonCode.DisconnectWithWillMessage;
  conn.close({ kind: 'disconnect' });
}
