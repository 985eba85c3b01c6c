/**
 * Resolved runtime settings: what the broker runs with after the config file (or the embedding
 * program) has been applied over Mosquitto's defaults. The config parser produces a
 * `BrokerConfig`; `config/to-settings.ts` turns it into these.
 */

export interface ListenerSettings {
  port: number;
  /** undefined = all addresses (IPv4 and IPv6). */
  host?: string | undefined;
  /** ipv4 / ipv6 only, or both when undefined. */
  socketDomain?: 'ipv4' | 'ipv6' | undefined;
  maxConnections: number;
  maxQos: 0 | 1 | 2;
  maxTopicAlias: number;
  mountPoint?: string | undefined;
  useUsernameAsClientId: boolean;
  /** Security options: per listener when per_listener_settings is true, else copies of the global ones. */
  allowAnonymous: boolean;
  allowZeroLengthClientId: boolean;
  autoIdPrefix: string;
  /** A unix socket listener (`listener 0 <path>`): the socket path; port and host are unused. */
  unixSocketPath?: string | undefined;
  /** `protocol websockets`: MQTT inside WebSocket frames; undefined = plain MQTT. */
  protocol?: 'mqtt' | 'websockets' | undefined;
  /** Set when the listener speaks TLS (certfile and keyfile, or psk_hint). */
  tls?: ListenerTlsSettings | undefined;
  /** websockets: directory of static files served to plain HTTP requests. */
  httpDir?: string | undefined;
  /** websockets: the largest HTTP request header block accepted (websockets_headers_size). */
  websocketsHeadersSize?: number | undefined;
  /** websockets (Mosquitto 2.1 websockets_origin): the Origin values a handshake may carry; empty or undefined = any. */
  websocketsOrigins?: readonly string[] | undefined;
  /** Mosquitto 2.1 accept_protocol_versions: the CONNECT protocol levels (3, 4, 5) allowed; undefined = all. */
  acceptProtocolVersions?: readonly number[] | undefined;
  /** Mosquitto 2.1 enable_proxy_protocol: every connection starts with a PROXY header. */
  proxyProtocol?: ProxyProtocolSettings | undefined;
  /** bind_interface: the network interface whose address the listener binds to. */
  bindInterface?: string | undefined;
}

/**
 * PROXY protocol on a listener. TLS is terminated by the proxy, so the certificate options
 * apply to what its v2 SSL TLVs report instead of to a handshake of our own.
 */
export interface ProxyProtocolSettings {
  version: 1 | 2;
  /** proxy_protocol_v2_require_tls: refuse clients the proxy reports as not using TLS. */
  requireTls: boolean;
  /** require_certificate: refuse clients the proxy reports without a verified certificate. */
  requireCertificate: boolean;
  /** use_identity_as_username: the certificate CN the proxy reports becomes the username. */
  useIdentityAsUsername: boolean;
  /** Set only so that the listener refuses to open with Mosquitto's error. */
  useSubjectAsUsername?: boolean | undefined;
  /** certfile/keyfile or psk_hint were given: also refused at open. */
  ownTls?: boolean | undefined;
}

/** A TLS listener's options, as in mosquitto.conf (reference 2.6); files are read when the listener opens and on SIGHUP. */
export interface ListenerTlsSettings {
  cafile?: string | undefined;
  capath?: string | undefined;
  certfile?: string | undefined;
  keyfile?: string | undefined;
  ciphers?: string | undefined;
  ciphersTls13?: string | undefined;
  crlfile?: string | undefined;
  dhparamfile?: string | undefined;
  requireCertificate: boolean;
  /** Minimum version: tlsv1.3, tlsv1.2 or tlsv1.1; undefined = TLS 1.2. */
  tlsVersion?: string | undefined;
  useIdentityAsUsername: boolean;
  useSubjectAsUsername: boolean;
  /** TLS-PSK: the hint sent to clients, and the identity:hexkey file the keys come from. */
  pskHint?: string | undefined;
  pskFile?: string | undefined;
  /** Engines are not supported by Node's TLS: set only to refuse them with a clear error. */
  tlsEngine?: string | undefined;
  tlsKeyformEngine?: boolean | undefined;
}

export type LogType =
  | 'debug'
  | 'error'
  | 'warning'
  | 'notice'
  | 'information'
  | 'subscribe'
  | 'unsubscribe'
  | 'websockets'
  | 'internal';

export type LogDest =
  | { kind: 'stderr' }
  | { kind: 'stdout' }
  | { kind: 'file'; path: string }
  | { kind: 'syslog' }
  | { kind: 'topic' }
  | { kind: 'none' };

export interface LogSettings {
  types: ReadonlySet<LogType>;
  dests: LogDest[];
  timestamp: boolean;
  /** strftime format; undefined = unix seconds. */
  timestampFormat?: string | undefined;
  /** Syslog facility for log_dest syslog: undefined = daemon, N = localN (log_facility). */
  facility?: number | undefined;
  connectionMessages: boolean;
}

export interface BrokerSettings {
  listeners: ListenerSettings[];
  /** Local-only mode: no listener/port/bind_address configured (Mosquitto 2.0 rules). */
  localOnly: boolean;
  log: LogSettings;
  maxInflightMessages: number;
  maxInflightBytes: number;
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  queueQos0Messages: boolean;
  /** 0 = no limit. */
  maxKeepalive: number;
  /** 0 = no limit. */
  maxPacketSize: number;
  /** 0 = no limit. */
  messageSizeLimit: number;
  retainAvailable: boolean;
  upgradeOutgoingQos: boolean;
  allowDuplicateMessages: boolean;
  setTcpNodelay: boolean;
  sysInterval: number;
  clientIdPrefixes?: string | undefined;
  /** Seconds; undefined = never. */
  persistentClientExpiration?: number | undefined;
  checkRetainSource: boolean;
  /** per_listener_settings: each listener has its own security scope (undefined = false). */
  perListenerSettings?: boolean | undefined;
  pidFile?: string | undefined;
}

export const DEFAULT_LOG_TYPES: ReadonlySet<LogType> = new Set(['error', 'warning', 'notice', 'information']);
export const ALL_LOG_TYPES: ReadonlySet<LogType> = new Set([
  'debug', 'error', 'warning', 'notice', 'information', 'subscribe', 'unsubscribe', 'websockets', 'internal',
]);

export function defaultListener(port: number, host?: string): ListenerSettings {
  return {
    port,
    host,
    maxConnections: -1,
    maxQos: 2,
    maxTopicAlias: 10,
    useUsernameAsClientId: false,
    allowAnonymous: false,
    allowZeroLengthClientId: true,
    autoIdPrefix: 'auto-',
  };
}

/** Mosquitto's defaults (2.0.20), in local-only mode on the given ports. */
export function defaultSettings(ports: number[] = [1883]): BrokerSettings {
  const listeners: ListenerSettings[] = [];
  for (const port of ports) {
    listeners.push({ ...defaultListener(port, '127.0.0.1'), allowAnonymous: true });
    listeners.push({ ...defaultListener(port, '::1'), allowAnonymous: true });
  }
  return {
    listeners,
    localOnly: true,
    log: { types: DEFAULT_LOG_TYPES, dests: [{ kind: 'stderr' }], timestamp: true, connectionMessages: true },
    maxInflightMessages: 20,
    maxInflightBytes: 0,
    maxQueuedMessages: 1000,
    maxQueuedBytes: 0,
    queueQos0Messages: false,
    maxKeepalive: 0,
    maxPacketSize: 0,
    messageSizeLimit: 0,
    retainAvailable: true,
    upgradeOutgoingQos: false,
    allowDuplicateMessages: false,
    setTcpNodelay: false,
    sysInterval: 10,
    checkRetainSource: false,
  };
}
