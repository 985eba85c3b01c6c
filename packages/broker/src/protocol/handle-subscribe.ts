/**
 * SUBSCRIBE (spec 3.8, reference 9.3): each filter is granted at most the listener's max_qos,
 * SUBACK goes first, then the retained messages the subscription asks for (never for shared
 * subscriptions, per retain handling on v5, always on 3.x).
 */
import { PacketType, parseSharedSubscription, type QoS, type SubscribePacket } from '@skeeter/codec';
import type { Subscription } from '../router/subscription-tree.js';
import type { StoredMessage } from '../message.js';
import type { Connection } from './connection.js';

export function handleSubscribe(conn: Connection, packet: SubscribePacket): void {
  const broker = conn.broker;
  const session = conn.session!;
  const log = broker.log;
  const mount = conn.listener.mountPoint ?? '';
  const identifier = packet.properties?.subscriptionIdentifiers?.[0] ?? 0;
  conn.debug(`Received SUBSCRIBE from ${conn.clientId}`);
  const reasonCodes: number[] = [];
  const retained: Array<{ sub: Subscription; messages: StoredMessage[] }> = [];
  for (const req of packet.subscriptions) {
    conn.debug(`\t${req.topic} (QoS ${req.qos})`);
    const shared = parseSharedSubscription(req.topic);
    const inner = shared ? shared.filter : req.topic;
    const filter = shared ? `$share/${shared.group}/${mount}${inner}` : mount + inner;
    const qos = Math.min(req.qos, conn.listener.maxQos) as QoS;
    const authorize = broker.security.authorize;
    if (authorize !== undefined && !authorize(conn, 'subscribe', filter, qos, false)) {
      // Denied: 0x87 on v5, 0x80 on 3.1.1, the requested QoS on 3.1 (reference 9.3).
      reasonCodes.push(conn.protocolVersion === 5 ? 0x87 : conn.protocolVersion === 4 ? 0x80 : req.qos);
      continue;
    }
    const sub: Subscription = {
      session,
      filter,
      qos,
      // A client with the bridge bit (try_private) gets No Local and Retain As Published, as
      // Mosquitto gives bridges: no loops, and retained messages stay retained on the far side.
      noLocal: req.noLocal || conn.isBridge,
      retainAsPublished: req.retainAsPublished || conn.isBridge,
      retainHandling: req.retainHandling,
      identifiers: identifier ? [identifier] : undefined,
      group: shared?.group,
    };
    const isNew = broker.subscribe(session, sub, mount + inner);
    if (log.enabled('subscribe')) log.write('subscribe', `${conn.clientId} ${qos} ${req.topic}`);
    reasonCodes.push(qos);
    if (!shared && (req.retainHandling === 0 || (req.retainHandling === 1 && isNew))) {
      retained.push({ sub, messages: broker.retained.match(mount + inner) });
    }
  }
  const suback = (): void => {
    conn.debug(`Sending SUBACK to ${conn.clientId}`);
    conn.sendPacket(
      conn.protocolVersion === 5
        ? { type: PacketType.Suback, packetId: packet.packetId, reasonCodes, properties: {} }
        : { type: PacketType.Suback, packetId: packet.packetId, reasonCodes },
    );
    const now = Date.now();
    for (const { sub, messages } of retained) {
      for (const m of messages) {
        if (m.isExpired(now) || !broker.retainSourceAllows(m)) continue;
        const qos = broker.settings.upgradeOutgoingQos ? sub.qos : (Math.min(m.qos, sub.qos) as QoS);
        // Retained messages sent on subscribe keep retain=1 [MQTT-3.3.1-8].
        broker.deliver(session, m, qos, true, sub.identifiers);
      }
    }
  };
  // With the journal, SUBACK (and the retained messages after it) waits for the subscriptions' fsync.
  if (broker.journal === undefined) suback();
  else broker.journal.afterDurable(() => {
    if (broker.sessions.get(session.clientId) === session) suback();
  });
}
