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
  if (out === undefined) return unknownId(conn, 'PUBACK', packet.packetId);
  // An ack of the wrong flow (PUBACK for a QoS 2 message) is a protocol error (spec 4.3).
  if (out.qos !== 1) return wrongFlow(conn);
  conn.broker.completeDelivery(session, packet.packetId);
}

function wrongFlow(conn: Connection): void {
  conn.close({ kind: 'protocol', reasonCode: ReasonCode.ProtocolError });
}

/** Mosquitto ignores an ack for an id it has no message for, with a warning. */
function unknownId(conn: Connection, what: string, packetId: number): void {
  conn.broker.log.warning(`Warning: Received ${what} from ${conn.clientId} for an unknown packet identifier ${packetId}.`);
}

export function handlePubrec(conn: Connection, packet: PubrecPacket): void {
  conn.debug(`Received PUBREC from ${conn.clientId} (Mid: ${packet.packetId})`);
  const session = conn.session!;
  const out = session.inflight.get(packet.packetId);
  // PUBREC belongs to a QoS 2 flow only (spec 4.3.3).
  if (out !== undefined && out.qos !== 2) return wrongFlow(conn);
  if (packet.reasonCode >= 0x80) {
    // A failed PUBREC ends the flow without PUBREL (spec 4.3.3); after our PUBREL it is too late.
    if (out) {
      if (out.state === 'pubrel') return wrongFlow(conn);
      conn.broker.completeDelivery(session, packet.packetId);
    }
    return;
  }
  const journal = conn.broker.journal;
  if (out) {
    out.state = 'pubrel';
    if (journal !== undefined && session.journaled) journal.pubrecReceived(session, packet.packetId);
  } else {
    conn.broker.log.warning(`Warning: Received PUBREC from ${conn.clientId} for an unknown packet identifier ${packet.packetId}.`);
  }
  // Mosquitto answers an unknown id with a plain PUBREL (reason 0), which ends the peer's flow.
  // With the journal, PUBREL waits until the new state is on disk: after a crash the message
  // is never sent again as a PUBLISH the client already completed.
  if (journal === undefined) sendPubrel(conn, packet.packetId);
  else journal.afterDurableCall(sendPubrel, conn, packet.packetId, 0);
}

function sendPubrel(conn: Connection, packetId: number): void {
  conn.debug(`Sending PUBREL to ${conn.clientId} (m${packetId})`);
  conn.sendPacket({ type: PacketType.Pubrel, packetId, reasonCode: 0, properties: {} });
}

function sendPubcomp(conn: Connection, packetId: number): void {
  conn.debug(`Sending PUBCOMP to ${conn.clientId} (m${packetId})`);
  conn.sendPacket({ type: PacketType.Pubcomp, packetId, reasonCode: 0, properties: {} });
}

export function handlePubrel(conn: Connection, packet: PubrelPacket): void {
  conn.debug(`Received PUBREL from ${conn.clientId} (Mid: ${packet.packetId})`);
  const session = conn.session!;
  const message = session.incomingQos2.get(packet.packetId);
  const journal = conn.broker.journal;
  if (message !== undefined) {
    session.incomingQos2.delete(packet.packetId);
    session.incomingResends?.delete(packet.packetId);
    // The release and the deliveries it makes land in the same journal frame: all or nothing.
    if (message && journal !== undefined && session.journaled) journal.incomingReleased(session, packet.packetId);
    if (message) conn.broker.publish(message);
  }
  // An unknown id still gets PUBCOMP with reason 0, as Mosquitto 2.0 sends it.
  // With the journal, PUBCOMP waits until the deliveries are on disk.
  if (journal === undefined) sendPubcomp(conn, packet.packetId);
  else journal.afterDurableCall(sendPubcomp, conn, packet.packetId, 0);
}

export function handlePubcomp(conn: Connection, packet: PubcompPacket): void {
  conn.debug(`Received PUBCOMP from ${conn.clientId} (Mid: ${packet.packetId}, RC:${packet.reasonCode})`);
  const session = conn.session!;
  const out = session.inflight.get(packet.packetId);
  if (out === undefined) return unknownId(conn, 'PUBCOMP', packet.packetId);
  // PUBCOMP ends a QoS 2 flow, and only once PUBREC and PUBREL have passed (spec 4.3.3).
  if (out.qos !== 2 || out.state !== 'pubrel') return wrongFlow(conn);
  conn.broker.completeDelivery(session, packet.packetId);
}
