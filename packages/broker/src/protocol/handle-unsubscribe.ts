/** UNSUBSCRIBE (spec 3.10): v5 reports per filter whether a subscription existed. */
import { PacketType, parseSharedSubscription, ReasonCode, type UnsubscribePacket } from '@skeeter/codec';
import type { Connection } from './connection.js';

export function handleUnsubscribe(conn: Connection, packet: UnsubscribePacket): void {
  const broker = conn.broker;
  const session = conn.session!;
  const mount = conn.listener.mountPoint ?? '';
  conn.debug(`Received UNSUBSCRIBE from ${conn.clientId}`);
  const reasonCodes: number[] = [];
  for (const topic of packet.topics) {
    conn.debug(`\t${topic}`);
    const shared = parseSharedSubscription(topic);
    const filter = shared ? `$share/${shared.group}/${mount}${shared.filter}` : mount + topic;
    // MOSQ_ACL_UNSUBSCRIBE: a plugin may refuse it (0x87 on v5); the subscription then stays.
    const authorize = broker.security.authorize;
    if (authorize !== undefined && !authorize(conn, 'unsubscribe', filter, 0, false)) {
      reasonCodes.push(ReasonCode.NotAuthorized);
      continue;
    }
    const existed = broker.unsubscribe(session, filter);
    if (broker.log.enabled('unsubscribe')) broker.log.write('unsubscribe', `${conn.clientId} ${topic}`);
    reasonCodes.push(existed ? 0 : ReasonCode.NoSubscriptionExisted);
  }
  const unsuback = (): void => {
    conn.debug(`Sending UNSUBACK to ${conn.clientId}`);
    conn.sendPacket(
      conn.protocolVersion === 5
        ? { type: PacketType.Unsuback, packetId: packet.packetId, reasonCodes, properties: {} }
        : { type: PacketType.Unsuback, packetId: packet.packetId, reasonCodes: [] },
    );
  };
  // With the journal, UNSUBACK waits for the fsync that covers the removal.
  if (broker.journal === undefined) unsuback();
  else broker.journal.afterDurable(unsuback);
}
