// BrokerConfig (everything mosquitto.conf can say) -> BrokerSettings (what the running broker
// reads). Security options are resolved per listener here: per_listener_settings picks the
// listener's own block, otherwise the global one.

import type { BrokerSettings, ListenerSettings, ListenerTlsSettings, LogDest } from '../settings.js';
import type { BrokerConfig, ListenerConfig, SecurityOptions } from './types.js';

function listenerSettings(config: BrokerConfig, l: ListenerConfig): ListenerSettings {
  const s: SecurityOptions = config.perListenerSettings ? l.security : config.security;
  return {
    port: l.port,
    host: l.host,
    socketDomain: l.socketDomain,
    maxConnections: l.maxConnections,
    maxQos: l.maxQos,
    maxTopicAlias: l.maxTopicAlias,
    mountPoint: l.mountPoint,
    useUsernameAsClientId: l.useUsernameAsClientId,
    // Local-only listeners always allow anonymous clients (reference §2.3).
    allowAnonymous: l.origin === 'local-only' ? true : (s.allowAnonymous ?? false),
    allowZeroLengthClientId: s.allowZeroLengthClientId,
    autoIdPrefix: s.autoIdPrefix ?? 'auto-',
    unixSocketPath: l.unixSocketPath,
    protocol: l.protocol,
    tls: listenerTls(l, s),
    httpDir: l.httpDir,
    websocketsHeadersSize: config.websocketsHeadersSize,
    websocketsOrigins: l.websocketsOrigins.length > 0 ? [...l.websocketsOrigins] : undefined,
    acceptProtocolVersions: l.acceptProtocolVersions,
    proxyProtocol:
      l.enableProxyProtocol === undefined
        ? undefined
        : {
            version: l.enableProxyProtocol,
            requireTls: l.proxyProtocolV2RequireTls,
            requireCertificate: l.tls.requireCertificate,
            useIdentityAsUsername: l.tls.useIdentityAsUsername,
            useSubjectAsUsername: l.tls.useSubjectAsUsername,
            ownTls: (l.tls.certfile !== undefined && l.tls.keyfile !== undefined) || l.tls.pskHint !== undefined,
          },
    bindInterface: l.bindInterface,
  };
}

/** TLS is on when a listener has both certfile and keyfile, or a psk_hint (Mosquitto 2.0's rule). */
function listenerTls(l: ListenerConfig, s: SecurityOptions): ListenerTlsSettings | undefined {
  const t = l.tls;
  const certificates = t.certfile !== undefined && t.keyfile !== undefined;
  if (!certificates && t.pskHint === undefined) return undefined;
  return {
    cafile: t.cafile,
    capath: t.capath,
    certfile: t.certfile,
    keyfile: t.keyfile,
    ciphers: t.ciphers,
    ciphersTls13: t.ciphersTls13,
    crlfile: t.crlfile,
    dhparamfile: t.dhparamfile,
    requireCertificate: t.requireCertificate,
    tlsVersion: t.tlsVersion,
    useIdentityAsUsername: t.useIdentityAsUsername,
    useSubjectAsUsername: t.useSubjectAsUsername,
    pskHint: t.pskHint,
    pskFile: s.pskFile,
    tlsEngine: t.tlsEngine,
    tlsKeyformEngine: t.tlsKeyform === 'engine',
  };
}

function logDests(config: BrokerConfig): LogDest[] {
  const d = config.logDest;
  const out: LogDest[] = [];
  if (d.stdout) out.push({ kind: 'stdout' });
  if (d.stderr) out.push({ kind: 'stderr' });
  if (d.file && config.logFile !== undefined) out.push({ kind: 'file', path: config.logFile });
  if (d.syslog) out.push({ kind: 'syslog' });
  if (d.topic) out.push({ kind: 'topic' });
  if (out.length === 0) out.push({ kind: 'none' });
  return out;
}

/** The settings the broker runs with for a loaded config. */
export function toBrokerSettings(config: BrokerConfig): BrokerSettings {
  return {
    listeners: config.listeners.map((l) => listenerSettings(config, l)),
    localOnly: config.localOnly,
    log: {
      types: new Set(config.logTypes),
      dests: logDests(config),
      timestamp: config.logTimestamp,
      timestampFormat: config.logTimestampFormat,
      connectionMessages: config.connectionMessages,
      facility: config.logFacility,
    },
    maxInflightMessages: config.maxInflightMessages,
    maxInflightBytes: config.maxInflightBytes,
    maxQueuedMessages: config.maxQueuedMessages,
    maxQueuedBytes: config.maxQueuedBytes,
    queueQos0Messages: config.queueQos0Messages,
    maxKeepalive: config.maxKeepalive,
    maxPacketSize: config.maxPacketSize,
    messageSizeLimit: config.messageSizeLimit,
    retainAvailable: config.retainAvailable,
    upgradeOutgoingQos: config.upgradeOutgoingQos,
    allowDuplicateMessages: config.allowDuplicateMessages,
    setTcpNodelay: config.setTcpNodelay,
    sysInterval: config.sysInterval,
    clientIdPrefixes: config.clientidPrefixes,
    persistentClientExpiration: config.persistentClientExpiration > 0 ? config.persistentClientExpiration : undefined,
    checkRetainSource: config.checkRetainSource,
    perListenerSettings: config.perListenerSettings,
    pidFile: config.pidFile,
  };
}
