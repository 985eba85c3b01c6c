/**
 * A client's PUBLISH to a `$CONTROL/...` topic (reference 7.2, event 6; Mosquitto's
 * control__process): such messages are requests to the broker and its plugins, never delivered
 * to subscribers, whether or not a plugin handles the topic. QoS 1 and 2 are acknowledged with
 * reason 0 (not 0x10 "no matching subscribers"), with the handler's reason string on MQTT 5.
 * A PUBREL for the QoS 2 flow finds nothing held and is answered PUBCOMP 0, as for any unknown id.
 */
import { PacketType, type Properties, type PublishPacket } from '@skeeter/codec';
import type { Connection } from './connection.js';

export function handleControlPublish(conn: Connection, packet: PublishPacket, topic: string, properties: Properties | undefined): void {
  const ack = (reasonString: string | undefined): void => {
    const ackProps: Properties = conn.protocolVersion === 5 && reasonString !== undefined ? { reasonString } : {};
    if (packet.qos === 1) {
      conn.debug(`Sending PUBACK to ${conn.clientId} (m${packet.packetId}, rc0)`);
      conn.sendPacket({ type: PacketType.Puback, packetId: packet.packetId, reasonCode: 0, properties: ackProps });
    } else if (packet.qos === 2) {
      conn.debug(`Sending PUBREC to ${conn.clientId} (m${packet.packetId}, rc0)`);
      conn.sendPacket({ type: PacketType.Pubrec, packetId: packet.packetId, reasonCode: 0, properties: ackProps });
    }
  };
  const control = conn.broker.security.control;
  if (control === undefined) ack(undefined);
  else control(conn, { topic, payload: packet.payload, qos: packet.qos, retain: packet.retain, properties }, ack);
}
