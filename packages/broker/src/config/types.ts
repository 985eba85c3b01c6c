// The typed result of reading mosquitto.conf (plus the command line): what the broker runs with.
// Field names follow the option names; defaults are Mosquitto 2.0.20's (see defaults.ts).

/** Log levels of the messages the config loader emits; the bin prints them like any log line. */
export type ConfigLogLevel = 'error' | 'warning' | 'notice' | 'information';

export interface ConfigMessage {
  readonly level: ConfigLogLevel;
  readonly text: string;
}

export type LogTypeName =
  | 'debug' | 'error' | 'warning' | 'notice' | 'information'
  | 'subscribe' | 'unsubscribe' | 'websockets' | 'internal';

export const ALL_LOG_TYPES: readonly LogTypeName[] = [
  'debug', 'error', 'warning', 'notice', 'information', 'subscribe', 'unsubscribe', 'websockets', 'internal',
];

export interface LogDestinations {
  stdout: boolean;
  stderr: boolean;
  syslog: boolean;
  topic: boolean;
  dlt: boolean;
  file: boolean;
}

export interface PluginOption {
  readonly key: string;
  readonly value: string;
}

export interface PluginConfig {
  path: string;
  options: PluginOption[];
  /** `auth_plugin_deny_special_chars` (old plugin API only). */
  denySpecialChars: boolean;
}

/** The options that follow `per_listener_settings`: global when false, per listener when true. */
export interface SecurityOptions {
  aclFile: string | undefined;
  passwordFile: string | undefined;
  pskFile: string | undefined;
  /** undefined while unset; resolved by the 2.0 rules once the whole config is read. */
  allowAnonymous: boolean | undefined;
  allowZeroLengthClientId: boolean;
  /** undefined while unset; `auto-` once the config is complete. */
  autoIdPrefix: string | undefined;
  plugins: PluginConfig[];
}

export interface ListenerTlsConfig {
  cafile: string | undefined;
  capath: string | undefined;
  certfile: string | undefined;
  keyfile: string | undefined;
  ciphers: string | undefined;
  ciphersTls13: string | undefined;
  crlfile: string | undefined;
  dhparamfile: string | undefined;
  requireCertificate: boolean;
  tlsEngine: string | undefined;
  tlsEngineKpassSha1: string | undefined;
  tlsKeyform: 'pem' | 'engine';
  tlsVersion: string | undefined;
  useIdentityAsUsername: boolean;
  useSubjectAsUsername: boolean;
  pskHint: string | undefined;
}

/**
 * Where a listener came from: a `listener` line, the implicit default listener (`port`,
 * `bind_address` and listener options used before any `listener`), or local-only mode.
 */
export type ListenerOrigin = 'listener' | 'default' | 'local-only';

export interface ListenerConfig {
  origin: ListenerOrigin;
  /** 0 for a unix socket listener. */
  port: number;
  /** Bind address; undefined = all interfaces. */
  host: string | undefined;
  unixSocketPath: string | undefined;
  bindInterface: string | undefined;
  /** -1 = unlimited. */
  maxConnections: number;
  maxQos: 0 | 1 | 2;
  maxTopicAlias: number;
  mountPoint: string | undefined;
  protocol: 'mqtt' | 'websockets';
  socketDomain: 'ipv4' | 'ipv6' | undefined;
  useUsernameAsClientId: boolean;
  httpDir: string | undefined;
  /** Mosquitto 2.1: websockets_origin values (repeatable); empty = any Origin. */
  websocketsOrigins: string[];
  /** Mosquitto 2.1: enable_proxy_protocol 1|2; undefined = no PROXY header expected. */
  enableProxyProtocol: 1 | 2 | undefined;
  /** Mosquitto 2.1: proxy_protocol_v2_require_tls. */
  proxyProtocolV2RequireTls: boolean;
  /** Mosquitto 2.1: accept_protocol_versions (3, 4, 5); undefined = all. */
  acceptProtocolVersions: number[] | undefined;
  tls: ListenerTlsConfig;
  /** Used only when `per_listener_settings true` (otherwise BrokerConfig.security applies). */
  security: SecurityOptions;
  /** Where the `listener` line is (undefined for implicit listeners). */
  file: string | undefined;
  line: number | undefined;
}

export type BridgeDirection = 'out' | 'in' | 'both';

export interface BridgeTopic {
  /** undefined when the config gave `""` (one topic mapped to another by the prefixes). */
  pattern: string | undefined;
  direction: BridgeDirection;
  qos: 0 | 1 | 2;
  localPrefix: string | undefined;
  remotePrefix: string | undefined;
  /** localPrefix + pattern: the filter used on this broker. */
  localTopic: string;
  /** remotePrefix + pattern: the filter used on the remote broker. */
  remoteTopic: string;
}

export interface BridgeAddress {
  host: string;
  port: number;
}

export interface BridgeTlsConfig {
  cafile: string | undefined;
  capath: string | undefined;
  certfile: string | undefined;
  keyfile: string | undefined;
  insecure: boolean;
  requireOcsp: boolean;
  version: string | undefined;
  alpn: string | undefined;
  pskIdentity: string | undefined;
  psk: string | undefined;
}

export interface BridgeConfig {
  name: string;
  addresses: BridgeAddress[];
  topics: BridgeTopic[];
  /** Defaults to `<hostname>.<name>` once the config is complete. */
  remoteClientId: string | undefined;
  /** Defaults to `local.<remoteClientId>` once the config is complete. */
  localClientId: string | undefined;
  remoteUsername: string | undefined;
  remotePassword: string | undefined;
  localUsername: string | undefined;
  localPassword: string | undefined;
  cleanSession: boolean;
  /** undefined = same as cleanSession. */
  localCleanSession: boolean | undefined;
  keepaliveInterval: number;
  idleTimeout: number;
  /** 0 = not configured: use the backoff (base/cap). One value given: constant delay. */
  restartTimeout: number;
  backoffBase: number;
  backoffCap: number;
  threshold: number;
  startType: 'automatic' | 'lazy' | 'once';
  notifications: boolean;
  notificationsLocalOnly: boolean;
  notificationTopic: string | undefined;
  tryPrivate: boolean;
  attemptUnsubscribe: boolean;
  protocolVersion: 'mqttv31' | 'mqttv311' | 'mqttv50';
  outgoingRetain: boolean;
  maxPacketSize: number;
  /** Mosquitto 2.1's bridge_receive_maximum for a v5 CONNECT; 0 = not set (max_inflight_messages, 20). */
  receiveMaximum: number;
  /** Mosquitto 2.1's bridge_session_expiry_interval for a v5 CONNECT; 0 = not sent. */
  sessionExpiryInterval: number;
  roundRobin: boolean;
  bindAddress: string | undefined;
  tls: BridgeTlsConfig;
  file: string;
  line: number;
}

/** One option line that was accepted, kept for `unsupportedOptions` and the reload helpers. */
export interface OptionUse {
  /** The option name as written (aliases kept, e.g. `auth_plugin`, `plugin_opt_x`). */
  readonly option: string;
  /** The feature this line needs (see features.ts). */
  readonly feature: string;
  readonly file: string;
  readonly line: number;
}

export interface BrokerConfig {
  /** Config files given with -c, in order (empty = default config). */
  configFiles: string[];
  daemon: boolean;
  verbose: boolean;
  /** Ports given with -p; used only in local-only mode. */
  commandLinePorts: number[];
  /** No `listener`, `port` or `bind_address` anywhere: listen on loopback only, anonymous allowed. */
  localOnly: boolean;
  perListenerSettings: boolean;
  /** Global security options (used when perListenerSettings is false). */
  security: SecurityOptions;
  /** The listeners to open, in Mosquitto's order (explicit ones, then the implicit default one). */
  listeners: ListenerConfig[];
  /** The implicit default listener as parsed (before it was promoted or dropped). */
  defaultListener: ListenerConfig;
  bridges: BridgeConfig[];

  allowDuplicateMessages: boolean;
  autosaveInterval: number;
  autosaveOnChanges: boolean;
  checkRetainSource: boolean;
  clientidPrefixes: string | undefined;
  connectionMessages: boolean;
  logDest: LogDestinations;
  logFile: string | undefined;
  /** Syslog facility: undefined = daemon, else localN. */
  logFacility: number | undefined;
  logTimestamp: boolean;
  logTimestampFormat: string | undefined;
  logTypes: LogTypeName[];
  maxInflightBytes: number;
  maxInflightMessages: number;
  maxKeepalive: number;
  maxPacketSize: number;
  maxQueuedBytes: number;
  maxQueuedMessages: number;
  memoryLimit: number | undefined;
  messageSizeLimit: number;
  persistence: boolean;
  persistenceFile: string | undefined;
  persistenceLocation: string | undefined;
  /** location + '/' + file (or file alone), as Mosquitto builds it; set when persistence is on. */
  persistenceFilePath: string | undefined;
  /** skeeter extension: append every change to a journal and acknowledge only what is on disk. */
  persistenceJournal: boolean;
  /** skeeter extension: group-commit window of the journal, ms. */
  persistenceJournalSyncMs: number;
  /** skeeter extension: what a corrupt database or journal does at start-up. */
  persistenceOnCorruption: 'error' | 'quarantine';
  /** Seconds; 0 = never expire. */
  persistentClientExpiration: number;
  pidFile: string | undefined;
  queueQos0Messages: boolean;
  retainAvailable: boolean;
  setTcpNodelay: boolean;
  sysInterval: number;
  upgradeOutgoingQos: boolean;
  user: string | undefined;
  websocketsLogLevel: number;
  websocketsHeadersSize: number;

  /** Notices/warnings (and non-fatal errors) printed while loading, in order. */
  messages: ConfigMessage[];
  optionUses: OptionUse[];
}

/** A failed load: the log lines to print (the last ones are the errors) and the exit status. */
export interface ConfigFailure {
  readonly ok: false;
  readonly exitCode: 3;
  readonly messages: readonly ConfigMessage[];
  /** File and line of the error when it is tied to one (the first `Error found at`). */
  readonly file: string | undefined;
  readonly line: number | undefined;
}

export interface ConfigSuccess {
  readonly ok: true;
  readonly config: BrokerConfig;
}

export type ConfigResult = ConfigSuccess | ConfigFailure;
