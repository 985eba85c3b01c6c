/**
 * Incoming PUBLISH (spec 3.3, reference 9.3): topic aliases, limits, $SYS protection, retained
 * messages, then routing. QoS 2 messages are held until PUBREL, as Mosquitto does, so a
 * retransmitted PUBLISH is never delivered twice [MQTT-4.3.3-9].
 */
import { isValidTopicName, keepPropertyOrder, PacketType, ReasonCode, type Properties, type PublishPacket } from '@skeeter/codec';
import { StoredMessage } from '../message.js';
import type { Connection } from './connection.js';
import { handleControlPublish } from './handle-control.js';

export function handlePublish(conn: Connection, packet: PublishPacket): void {
  const broker = conn.broker;
  const settings = broker.settings;
  const session = conn.session!;
  const v = conn.protocolVersion;
  let topic = packet.topic;
  let properties: Properties | undefined;
  let expiresAt = 0;

  if (v === 5 && hasAny(packet.properties!)) {
    const { topicAlias, messageExpiryInterval, subscriptionIdentifiers: _ignored, ...rest } = packet.properties!;
    if (topicAlias !== undefined) {
      // Alias 0 is rejected by the decoder; above the maximum we announced is 0x94 [MQTT-3.3.2-9].
      if (topicAlias > conn.listener.maxTopicAlias) {
        conn.close({ kind: 'not-allowed', reasonCode: ReasonCode.TopicAliasInvalid });
        return;
      }
      conn.topicAliases ??= new Map();
      if (topic.length > 0) conn.topicAliases.set(topicAlias, topic);
      else {
        const known = conn.topicAliases.get(topicAlias);
        if (known === undefined) {
          conn.close({ kind: 'protocol', reasonCode: ReasonCode.ProtocolError });
          return;
        }
        topic = known;
      }
    }
    // A Response Topic is a topic name: no wildcards [MQTT-3.3.2-14]; Mosquitto 2.0.20 rejects it.
    if (rest.responseTopic !== undefined && !isValidTopicName(rest.responseTopic)) {
      conn.close({ kind: 'protocol', reasonCode: ReasonCode.ProtocolError });
      return;
    }
    if (messageExpiryInterval !== undefined) expiresAt = Date.now() + messageExpiryInterval * 1000;
    // Forwarded in the order they came (user properties between others), as Mosquitto does.
    keepPropertyOrder(packet.properties!, rest);
    properties = Object.keys(rest).length > 0 ? rest : undefined;
  }

  if (conn.broker.log.debugEnabled) {
    conn.debug(
      `Received PUBLISH from ${conn.clientId} (d${packet.dup ? 1 : 0}, q${packet.qos}, r${packet.retain ? 1 : 0}, m${packet.packetId}, '${topic}', ... (${packet.payload.length} bytes))`,
    );
  }
  broker.stats.publishReceived++;
  broker.stats.publishBytesReceived += packet.payload.length;

  if (packet.qos > conn.listener.maxQos) {
    broker.log.info(`Too high QoS in PUBLISH from ${conn.clientId}, disconnecting.`);
    conn.close({ kind: 'not-allowed', reasonCode: ReasonCode.QoSNotSupported });
    return;
  }
  if (packet.retain && !settings.retainAvailable) {
    conn.close({ kind: 'not-allowed', reasonCode: ReasonCode.RetainNotSupported });
    return;
  }
  if (conn.listener.mountPoint) topic = conn.listener.mountPoint + topic;

  // Acknowledge-only outcomes: the message is dropped but QoS 1/2 flows still complete.
  let dropReason = 0;
  if (settings.messageSizeLimit > 0 && packet.payload.length > settings.messageSizeLimit) {
    conn.debug(`Dropped too large PUBLISH from ${conn.clientId} (d${packet.dup ? 1 : 0}, q${packet.qos}, r${packet.retain ? 1 : 0}, m${packet.packetId}, '${topic}', ... (${packet.payload.length} bytes))`);
    dropReason = ReasonCode.PacketTooLarge;
  } else if (topic.charCodeAt(0) === 0x24 /* $ */ && isDeniedDollarTopic(topic)) {
    // Clients may not write to $SYS, except bridges' state topics (reference 3.2), nor to
    // $share topics: those name shared subscriptions, never messages (as Mosquitto's ACL check).
    conn.debug(`Denied PUBLISH from ${conn.clientId} (d${packet.dup ? 1 : 0}, q${packet.qos}, r${packet.retain ? 1 : 0}, m${packet.packetId}, '${topic}', ... (${packet.payload.length} bytes))`);
    dropReason = ReasonCode.NotAuthorized;
  } else if (broker.security.authorize && !broker.security.authorize(conn, 'write', topic, packet.qos, packet.retain)) {
    conn.debug(`Denied PUBLISH from ${conn.clientId} (d${packet.dup ? 1 : 0}, q${packet.qos}, r${packet.retain ? 1 : 0}, m${packet.packetId}, '${topic}', ... (${packet.payload.length} bytes))`);
    dropReason = ReasonCode.NotAuthorized;
  }

  let message: StoredMessage | null = null;
  if (dropReason === 0) {
    // Client messages to $CONTROL/ go to the plugins, never to subscribers (reference 7.2).
    if (topic.startsWith('$CONTROL/')) return handleControlPublish(conn, packet, topic, properties);
    // Plugins' message event (MOSQ_EVT_MESSAGE) after the ACL check: it may change the message
    // or reject it as not authorised. The acknowledgement below follows the received QoS.
    const hook = broker.security.message;
    const event = { topic, payload: packet.payload, qos: packet.qos, retain: packet.retain, properties };
    if (hook !== undefined && !hook(conn, event)) {
      conn.debug(`Denied PUBLISH from ${conn.clientId} (d${packet.dup ? 1 : 0}, q${packet.qos}, r${packet.retain ? 1 : 0}, m${packet.packetId}, '${topic}', ... (${packet.payload.length} bytes))`);
      dropReason = ReasonCode.NotAuthorized;
    } else {
      message = new StoredMessage(event.topic, event.payload, event.qos, event.retain, event.properties, expiresAt, conn.clientId, conn.username, conn.listener);
    }
  }

  switch (packet.qos) {
    case 0:
      if (message) broker.publish(message);
      return;
    case 1: {
      const matched = message ? broker.publish(message) : 0;
      // v5 tells the publisher when nobody was subscribed (0x10), as Mosquitto 2.0.20 does.
      const rc = v === 5 ? (dropReason || (matched === 0 ? ReasonCode.NoMatchingSubscribers : 0)) : 0;
      // With the journal, PUBACK waits for the fsync that covers the message (durable mode).
      if (broker.journal === undefined) sendPuback(conn, packet.packetId, rc);
      else {
        broker.journal.afterDurableCall(sendPuback, conn, packet.packetId, rc);
      }
      return;
    }
    case 2: {
      let rc = dropReason;
      const held = session.incomingQos2.get(packet.packetId);
      if (held) {
        // The same message again before PUBREL: answered with PUBREC once more, but a client
        // that keeps resending it is broken (Mosquitto 2.0.20 allows one retransmission).
        const resends = (session.incomingResends ??= new Map()).get(packet.packetId) ?? 0;
        if (resends >= 1) {
          conn.close({ kind: 'protocol', reasonCode: ReasonCode.ProtocolError });
          return;
        }
        session.incomingResends.set(packet.packetId, resends + 1);
      } else if (held === undefined) {
        if (settings.maxInflightMessages > 0 && session.incomingQos2.size >= settings.maxInflightMessages && v === 5) {
          rc = ReasonCode.QuotaExceeded;
        } else {
          session.incomingQos2.set(packet.packetId, message);
          if (message && broker.journal !== undefined && session.journaled) broker.journal.incoming(session, packet.packetId, message);
        }
      }
      const code = v === 5 ? rc : 0;
      // With the journal, PUBREC waits for the fsync that covers the held message.
      if (broker.journal === undefined) sendPubrec(conn, packet.packetId, code);
      else {
        broker.journal.afterDurableCall(sendPubrec, conn, packet.packetId, code);
      }
      return;
    }
  }
}

function sendPuback(conn: Connection, packetId: number, rc: number): void {
  conn.debug(`Sending PUBACK to ${conn.clientId} (m${packetId}, rc${rc})`);
  conn.sendPacket({ type: PacketType.Puback, packetId, reasonCode: rc, properties: {} });
}

function sendPubrec(conn: Connection, packetId: number, rc: number): void {
  conn.debug(`Sending PUBREC to ${conn.clientId} (m${packetId}, rc${rc})`);
  conn.sendPacket({ type: PacketType.Pubrec, packetId, reasonCode: rc, properties: {} });
}

/** Most PUBLISH packets carry no properties: skip the copy for them. */
function hasAny(props: Properties): boolean {
  for (const _ in props) return true;
  return false;
}

/** Whether a `$` topic is closed to client writes. */
function isDeniedDollarTopic(topic: string): boolean {
  if (topic.startsWith('$SYS') && (topic.length === 4 || topic.charCodeAt(4) === 0x2f)) return !isBridgeStateTopic(topic);
  return topic.startsWith('$share');
}

/** `$SYS/broker/connection/<id>/state`, where a remote bridge reports itself. */
function isBridgeStateTopic(topic: string): boolean {
  return topic.startsWith('$SYS/broker/connection/') && topic.endsWith('/state') && topic.indexOf('/', 23) === topic.length - 6;
}
