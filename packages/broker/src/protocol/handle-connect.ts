/**
 * CONNECT, in Mosquitto's order (reference 9.1): protocol checks (done by the decoder), will
 * checks, client id, credentials, session take-over, keepalive, then CONNACK and the session's
 * pending messages.
 */
import { randomBytes } from 'node:crypto';
import {
  encodePacket,
  isValidTopicName,
  keepPropertyOrder,
  PacketType,
  ReasonCode,
  type ConnackPacket,
  type ConnectPacket,
  type Properties,
} from '@skeeter/codec';
import { StoredMessage } from '../message.js';
import { NEVER_EXPIRES } from '../session/session.js';
import type { CloseKind } from './close-reason.js';
import type { Connection } from './connection.js';
import { isAuthenticating, startExtendedAuth } from './handle-auth.js';

/** Mosquitto 2.1's default for max_topic_alias_broker. */
const MAX_TOPIC_ALIAS_BROKER = 10;

/** 3.x CONNACK return codes. */
const RC_UNACCEPTABLE_PROTOCOL_VERSION = 1;
const RC_IDENTIFIER_REJECTED = 2;
const RC_BAD_USERNAME_PASSWORD = 4;
const RC_NOT_AUTHORIZED = 5;

export function handleConnect(conn: Connection, packet: ConnectPacket): void {
  const broker = conn.broker;
  const settings = broker.settings;
  const listener = conn.listener;
  // A second CONNECT while the first is still authenticating is a protocol error [MQTT-3.1.0-2].
  if (isAuthenticating(conn)) return conn.close({ kind: 'protocol' });
  const v = packet.protocolVersion;
  conn.protocolVersion = v;
  conn.decoder.protocolVersion = v;
  conn.clean = packet.clean;
  conn.isBridge = packet.bridge;
  broker.stats.connections++;

  const refuse = (v3Code: number, v5Code: number): void => refuseConnect(conn, v, v3Code, v5Code);

  // accept_protocol_versions (Mosquitto 2.1): checked before anything else in the CONNECT;
  // 3.1 and 3.1.1 get "unacceptable protocol version" (1), 5.0 gets 0x84, and the connection
  // ends as for any MOSQ_ERR_NOT_SUPPORTED.
  const accepted = listener.acceptProtocolVersions;
  if (accepted !== undefined && !accepted.includes(v)) {
    const connack: ConnackPacket =
      v === 5
        ? { type: PacketType.Connack, sessionPresent: false, reasonCode: ReasonCode.UnsupportedProtocolVersion, properties: {} }
        : { type: PacketType.Connack, sessionPresent: false, reasonCode: RC_UNACCEPTABLE_PROTOCOL_VERSION };
    conn.debug(`Sending CONNACK to ${conn.clientId} (0, ${connack.reasonCode})`);
    conn.sendAndClose(encodePacket(connack, v), { kind: 'not-allowed' });
    return;
  }

  // Will checks (reference 9.1 steps 3 and 7).
  const will = packet.will;
  if (will) {
    if (will.retain && !settings.retainAvailable && v === 5) return refuse(0, ReasonCode.RetainNotSupported);
    if (will.qos > listener.maxQos && v === 5) return refuse(0, ReasonCode.QoSNotSupported);
    const responseTopic = will.properties?.responseTopic;
    if (responseTopic !== undefined && !isValidTopicName(responseTopic)) return refuse(0, ReasonCode.ProtocolError);
    if (settings.messageSizeLimit > 0 && will.payload.length > settings.messageSizeLimit) {
      return refuse(RC_NOT_AUTHORIZED, ReasonCode.PacketTooLarge);
    }
  }

  // Client identifier (step 5).
  let clientId = packet.clientId;
  let assigned = false;
  if (clientId.length === 0) {
    if (v === 3) return refuse(RC_IDENTIFIER_REJECTED, ReasonCode.ClientIdentifierNotValid);
    if ((v === 4 && !packet.clean) || !listener.allowZeroLengthClientId) {
      return refuse(RC_IDENTIFIER_REJECTED, ReasonCode.UnspecifiedError);
    }
    clientId = listener.autoIdPrefix + generateId();
    assigned = true;
  }
  if (settings.clientIdPrefixes !== undefined && !clientId.startsWith(settings.clientIdPrefixes)) {
    return refuse(RC_NOT_AUTHORIZED, ReasonCode.NotAuthorized);
  }
  // A will may not go to $CONTROL/ (the plugins' request topics), checked with the listener's
  // mount point in front as Mosquitto 2.0.20 reads the will: the connection ends without CONNACK.
  if (will && ((listener.mountPoint ?? '') + will.topic).startsWith('$CONTROL/')) return conn.close({ kind: 'acl-denied' });

  // Credentials (step 8): password files and plugins plug in here with the auth issue.
  // use_identity_as_username / use_subject_as_username: the TLS layer already derived the user
  // name from the certificate (or PSK identity); it replaces the CONNECT's and no password is
  // checked, as in Mosquitto. Without a certificate: CONNACK 4 / 0x86; without a CN: 5 / 0x87.
  // Mosquitto reads a zero-length user name as none: the client is anonymous.
  let username = packet.username === '' ? undefined : packet.username;
  const cert = conn.certificateUsername;
  if (cert !== undefined) {
    if ('refused' in cert) {
      return cert.refused === 'no-certificate'
        ? refuse(RC_BAD_USERNAME_PASSWORD, ReasonCode.BadUserNameOrPassword)
        : refuse(RC_NOT_AUTHORIZED, ReasonCode.NotAuthorized);
    }
    username = cert.username;
  }
  conn.username = username;
  if (listener.useUsernameAsClientId) {
    if (username === undefined) return refuse(RC_NOT_AUTHORIZED, ReasonCode.NotAuthorized);
    clientId = username;
  }
  conn.clientId = clientId;
  // Extended authentication (MQTT 5 Authentication Method) replaces basic authentication and
  // the anonymous rules, as in Mosquitto 2.0 (handle-auth.ts).
  const authMethod = v === 5 ? packet.properties?.authenticationMethod : undefined;
  if (authMethod !== undefined) return startExtendedAuth(conn, packet, clientId, assigned, authMethod);
  // Basic authentication runs for every client, with or without a user name, as Mosquitto 2.0's
  // mosquitto_unpwd_check (the security hook applies allow_anonymous). Without any source
  // (password file, plugin) a user name proves nothing: the client is allowed exactly when
  // anonymous clients are. A certificate-derived user name needs no check.
  // Mosquitto frees the client id of a client that fails basic authentication before it sends
  // the CONNACK: that line names the address, the close line `<unknown>` (Debian's 2.0.11).
  const unauthorised = (): void => refuseConnect(conn, v, RC_NOT_AUTHORIZED, ReasonCode.NotAuthorized, 'not-authorised', 'before');
  const authenticate = broker.security.authenticate;
  if (cert !== undefined || authenticate === undefined) {
    if (cert === undefined && !listener.allowAnonymous) return unauthorised();
    return acceptConnect(conn, packet, clientId, assigned);
  }
  const verdict = authenticate(conn, username, packet.password);
  if (verdict === false) return unauthorised();
  if (verdict === true) return acceptConnect(conn, packet, clientId, assigned);
  // Hashing runs off the event loop: hold this client's later packets until it is decided.
  conn.holdPackets();
  verdict.then(
    (ok) => {
      if (conn.isClosed()) return;
      if (!ok) unauthorised();
      else acceptConnect(conn, packet, clientId, assigned);
      conn.releasePackets();
    },
    () => {
      if (!conn.isClosed()) unauthorised();
    },
  );
}

/**
 * The rest of CONNECT once the client is authenticated: keepalive, session, will, CONNACK.
 * `authProps`: the Authentication Method and Data of a finished extended authentication.
 */
export function acceptConnect(conn: Connection, packet: ConnectPacket, clientId: string, assigned: boolean, authProps?: Properties): void {
  const broker = conn.broker;
  const settings = broker.settings;
  const listener = conn.listener;
  const v = packet.protocolVersion;
  const refuse = (v3Code: number, v5Code: number): void => refuseConnect(conn, v, v3Code, v5Code);
  const will = packet.will;

  // Keepalive against max_keepalive (9.4): v5 gets the limit imposed, 3.x is refused.
  let keepalive = packet.keepalive;
  let serverKeepAlive: number | undefined;
  if (settings.maxKeepalive > 0 && (keepalive === 0 || keepalive > settings.maxKeepalive)) {
    if (v !== 5) return refuse(RC_IDENTIFIER_REJECTED, 0);
    keepalive = settings.maxKeepalive;
    serverKeepAlive = keepalive;
  }

  const props = packet.properties ?? {};
  const expiry = v === 5 ? (props.sessionExpiryInterval ?? 0) : packet.clean ? 0 : NEVER_EXPIRES;
  const session = broker.attachSession(conn, clientId, packet.clean, expiry);
  const sessionPresent = session.present;
  const s = session.session;
  s.protocolVersion = v;
  s.username = conn.username;
  // A new connection may resend each held QoS 2 message once more (as Mosquitto resets it).
  s.incomingResends = undefined;
  // Outgoing QoS 1/2 in flight: max_inflight_messages, further limited on v5 by the client's
  // Receive Maximum [MQTT-3.3.4-9] (Mosquitto applies both; checked against 2.0.11).
  const inflightLimit = settings.maxInflightMessages > 0 ? settings.maxInflightMessages : 65_535;
  s.sendQuota = v === 5 ? Math.min(props.receiveMaximum ?? 65_535, inflightLimit) : settings.maxInflightMessages;
  s.maxPacketSize = v === 5 ? (props.maximumPacketSize ?? 0) : 0;
  // Outgoing topic aliases, as Mosquitto 2.1 (max_topic_alias_broker, default 10): only for
  // clients that announce a Topic Alias Maximum [MQTT-3.3.2-10].
  conn.outgoingAliasMax = v === 5 ? Math.min(props.topicAliasMaximum ?? 0, MAX_TOPIC_ALIAS_BROKER) : 0;

  if (will) {
    const wp = will.properties;
    let willProps: Properties | undefined;
    let expiresAt = 0;
    let delay = 0;
    if (wp) {
      const { willDelayInterval, messageExpiryInterval, ...rest } = wp;
      delay = willDelayInterval ?? 0;
      if (messageExpiryInterval !== undefined) expiresAt = Date.now() + messageExpiryInterval * 1000;
      // Forwarded in the order they came, as Mosquitto keeps its property list.
      keepPropertyOrder(wp, rest);
      willProps = Object.keys(rest).length > 0 ? rest : undefined;
    }
    const topic = listener.mountPoint ? listener.mountPoint + will.topic : will.topic;
    s.will = {
      message: new StoredMessage(topic, will.payload, will.qos, will.retain, willProps, expiresAt, clientId, conn.username, listener),
      delay,
    };
  } else {
    s.will = undefined;
  }

  conn.state = 'connected';
  conn.startKeepalive(keepalive);
  const log = broker.log;
  if (settings.log.connectionMessages && !conn.internal) {
    const user = conn.username !== undefined ? `, u'${conn.username}'` : '';
    const p = v === 3 ? 1 : v === 4 ? 2 : 5; // Mosquitto's internal protocol ids (reference 9.2)
    log.notice(
      // A client with the bridge bit (try_private) is logged as a bridge, as Mosquitto does.
      `New ${packet.bridge ? 'bridge' : 'client'} connected from ${conn.address}:${conn.remotePort} as ${clientId} (p${p}, c${packet.clean ? 1 : 0}, k${packet.keepalive}${user}).`,
    );
  }
  if (log.enabled('debug')) {
    if (will) {
      log.debug(`Will message specified (${will.payload.length} bytes) (r${will.retain ? 1 : 0}, q${will.qos}).`);
      log.debug(`\t${will.topic}`);
    } else {
      log.debug('No will message specified.');
    }
  }

  let connack: ConnackPacket;
  if (v === 5) {
    // Property order follows Mosquitto 2.0.20's CONNACK: Server Keep Alive first, then what
    // the connection decided, then the broker-wide limits (reference 9.1 step 12).
    const cp: Properties = {};
    if (serverKeepAlive !== undefined) cp.serverKeepAlive = serverKeepAlive;
    if (listener.maxTopicAlias > 0) cp.topicAliasMaximum = listener.maxTopicAlias;
    if (assigned) cp.assignedClientIdentifier = clientId;
    if (authProps !== undefined) Object.assign(cp, authProps);
    if (!settings.retainAvailable) cp.retainAvailable = 0;
    if (settings.maxPacketSize > 0) cp.maximumPacketSize = settings.maxPacketSize;
    if (settings.maxInflightMessages > 0) cp.receiveMaximum = settings.maxInflightMessages;
    if (listener.maxQos < 2) cp.maximumQoS = listener.maxQos;
    connack = { type: PacketType.Connack, sessionPresent, reasonCode: 0, properties: cp };
  } else {
    connack = { type: PacketType.Connack, sessionPresent, reasonCode: 0 };
  }
  conn.debug(`Sending CONNACK to ${clientId} (${sessionPresent ? 1 : 0}, 0)`);
  const connackBytes = encodePacket(connack, v);
  // A CONNACK larger than the client's Maximum Packet Size cannot be sent [MQTT-3.1.2-24]:
  // Mosquitto then drops the connection without one.
  if (s.maxPacketSize > 0 && connackBytes.length > s.maxPacketSize) {
    conn.close({ kind: 'oversize-packet' });
    return;
  }
  conn.send(connackBytes);
  if (broker.listenerCount('connect') > 0) broker.emit('connect', clientId);
  broker.resumeSession(s);
}

/**
 * A refusing CONNACK, then close; `kind` chooses the log line (0x8C: Mosquitto's not-supported
 * line). `forgetId`: where Mosquitto frees the client id of a client that failed authentication,
 * before the CONNACK (basic auth: the CONNACK line shows the address) or after it (extended
 * auth); either way the close line says `<unknown>`.
 */
export function refuseConnect(
  conn: Connection,
  v: number,
  v3Code: number,
  v5Code: number,
  kind: CloseKind = 'not-authorised',
  forgetId?: 'before' | 'after',
): void {
  const connack: ConnackPacket =
    v === 5
      ? { type: PacketType.Connack, sessionPresent: false, reasonCode: v5Code, properties: {} }
      : { type: PacketType.Connack, sessionPresent: false, reasonCode: v3Code };
  conn.debug(`Sending CONNACK to ${forgetId === 'before' ? conn.address : conn.clientId} (0, ${connack.reasonCode})`);
  if (forgetId !== undefined) conn.clientId = '<unknown>';
  conn.sendAndClose(encodePacket(connack, conn.protocolVersion), { kind });
}

/** 36 upper-case hex characters in Mosquitto's 8-4-4-4-12 layout, from 16 random bytes. */
function generateId(): string {
  const b = randomBytes(16);
  const hex = (i: number): string => {
    const x = b[i]!;
    // Mosquitto prints the low nibble before the high one (reference 9.1 step 5).
    return HEX[x & 0x0f]! + HEX[x >> 4]!;
  };
  let out = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += '-';
    out += hex(i);
  }
  return out;
}

const HEX = '0123456789ABCDEF';
