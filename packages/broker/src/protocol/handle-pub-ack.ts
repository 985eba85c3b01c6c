/**
 * The acknowledgements of the QoS 1 and QoS 2 flows (spec 4.3): PUBACK ends a QoS 1 delivery,
 * PUBREC/PUBREL/PUBCOMP step a QoS 2 one; each freed slot lets a queued message go out.
 */
import { PacketType, ReasonCode, type PubackPacket, type PubcompPacket, type PubrecPacket, type PubrelPacket } from '@skeeter/codec';
import type { Connection } from './connection.js';

export function handlePuback(conn: Connection, packet: PubackPacket): void {
  conn.debug(`Received PUBACK from ${conn.clientId} (Mid: ${packet.packetId}, RC:${packet.reasonCode})`);
  const session = conn.session!;
  const out = session.inflight.get(packet.packetId);
  if (out && out.qos === 1) conn.broker.completeDelivery(session, packet.packetId);
}

export function handlePubrec(conn: Connection, packet: PubrecPacket): void {
  conn.debug(`Received PUBREC from ${conn.clientId} (Mid: ${packet.packetId})`);
  const session = conn.session!;
  const out = session.inflight.get(packet.packetId);
  if (packet.reasonCode >= 0x80) {
    // A failed PUBREC ends the flow without PUBREL (spec 4.3.3).
    if (out) conn.broker.completeDelivery(session, packet.packetId);
    return;
  }
  if (out) out.state = 'pubrel';
  const rc = out || conn.protocolVersion !== 5 ? 0 : ReasonCode.PacketIdentifierNotFound;
  conn.debug(`Sending PUBREL to ${conn.clientId} (m${packet.packetId})`);
  conn.sendPacket({ type: PacketType.Pubrel, packetId: packet.packetId, reasonCode: rc, properties: {} });
}

export function handlePubrel(conn: Connection, packet: PubrelPacket): void {
  conn.debug(`Received PUBREL from ${conn.clientId} (Mid: ${packet.packetId})`);
  const session = conn.session!;
  let rc = 0;
  if (session.incomingQos2.has(packet.packetId)) {
    const message = session.incomingQos2.get(packet.packetId);
    session.incomingQos2.delete(packet.packetId);
    if (message) conn.broker.publish(message);
  } else if (conn.protocolVersion === 5) {
    rc = ReasonCode.PacketIdentifierNotFound;
  }
  conn.debug(`Sending PUBCOMP to ${conn.clientId} (m${packet.packetId})`);
  conn.sendPacket({ type: PacketType.Pubcomp, packetId: packet.packetId, reasonCode: rc, properties: {} });
}

export function handlePubcomp(conn: Connection, packet: PubcompPacket): void {
  conn.debug(`Received PUBCOMP from ${conn.clientId} (Mid: ${packet.packetId}, RC:${packet.reasonCode})`);
  const session = conn.session!;
  const out = session.inflight.get(packet.packetId);
  if (out && out.qos === 2) conn.broker.completeDelivery(session, packet.packetId);
}
