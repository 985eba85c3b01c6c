/**
 * From the parsed mosquitto.conf (config/) to the runtime settings the broker runs with. The
 * parser keeps Mosquitto's structure (global vs per-listener security, log_dest flags); this
 * resolves it: per_listener_settings, the 2.0 allow_anonymous default, -v.
 */
import type { BrokerConfig, ListenerConfig, SecurityOptions } from './config/types.js';
import type { BrokerSettings, ListenerSettings, LogDest, LogType } from './settings.js';

export function settingsFromConfig(config: BrokerConfig): BrokerSettings {
  const listeners = config.listeners.map((l) => listenerSettings(config, l));
  const dests: LogDest[] = [];
  const d = config.logDest;
  if (d.stderr) dests.push({ kind: 'stderr' });
  if (d.stdout) dests.push({ kind: 'stdout' });
  if (d.file && config.logFile !== undefined) dests.push({ kind: 'file', path: config.logFile });
  if (d.syslog) dests.push({ kind: 'syslog' });
  if (d.topic) dests.push({ kind: 'topic' });
  return {
    listeners,
    localOnly: config.localOnly,
    log: {
      types: new Set(config.logTypes as LogType[]),
      dests,
      timestamp: config.logTimestamp,
      timestampFormat: config.logTimestampFormat,
      connectionMessages: config.connectionMessages,
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
    pidFile: config.pidFile,
  };
}

function listenerSettings(config: BrokerConfig, l: ListenerConfig): ListenerSettings {
  const sec: SecurityOptions = config.perListenerSettings ? l.security : config.security;
  return {
    port: l.port,
    host: l.host,
    socketDomain: l.socketDomain,
    maxConnections: l.maxConnections,
    maxQos: l.maxQos,
    maxTopicAlias: l.maxTopicAlias,
    mountPoint: l.mountPoint,
    useUsernameAsClientId: l.useUsernameAsClientId,
    // 2.0: anonymous is allowed only in local-only mode unless the config says so (reference 2.3).
    allowAnonymous: l.origin === 'local-only' ? true : (sec.allowAnonymous ?? false),
    allowZeroLengthClientId: sec.allowZeroLengthClientId,
    autoIdPrefix: sec.autoIdPrefix ?? 'auto-',
  };
}
