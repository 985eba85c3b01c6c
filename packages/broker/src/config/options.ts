// Every mosquitto.conf option of Mosquitto 2.0 with its scope, SIGHUP behaviour and feature.
// Scope (reference §2): G global, PL follows per_listener_settings, L per listener,
// B per bridge (`connection` block), P per plugin, F file-level (include_dir).
// Reload: R = reloaded on SIGHUP, NR = kept from startup. These follow what Mosquitto does,
// which differs from the reference's tags for the G limits: max_inflight_*, max_queued_*,
// max_keepalive, max_packet_size, retain_available and set_tcp_nodelay are parsed on reload
// but never copied into the running config (conf.c config__copy; checked on Debian's 2.0.11
// by reading CONNACK receive-maximum / server-keepalive / maximum-packet-size after SIGHUP).

import type { Feature } from './features.js';

export type OptionScope = 'G' | 'PL' | 'L' | 'B' | 'P' | 'F';
export type ReloadTag = 'R' | 'NR';

export interface OptionInfo {
  readonly scope: OptionScope;
  readonly reload: ReloadTag;
  readonly feature: Feature;
  /** The option this one is an alias of. */
  readonly aliasOf?: string;
  /** Prints a deprecation notice when used. */
  readonly deprecated?: boolean;
}

const o = (scope: OptionScope, reload: ReloadTag, feature: Feature, extra: Partial<OptionInfo> = {}): OptionInfo => ({
  scope,
  reload,
  feature,
  ...extra,
});

const bridge = (feature: Feature = 'bridges', extra: Partial<OptionInfo> = {}): OptionInfo => o('B', 'NR', feature, extra);
const tls = (): OptionInfo => o('L', 'NR', 'tls');

export const OPTIONS: Readonly<Record<string, OptionInfo>> = {
  // General / security (reference §2.4)
  acl_file: o('PL', 'R', 'aclFile'),
  allow_anonymous: o('PL', 'R', 'core'),
  allow_duplicate_messages: o('G', 'R', 'core', { deprecated: true }),
  allow_zero_length_clientid: o('PL', 'R', 'core'),
  auth_plugin_deny_special_chars: o('P', 'NR', 'plugins'),
  auto_id_prefix: o('PL', 'R', 'core'),
  autosave_interval: o('G', 'R', 'persistence'),
  autosave_on_changes: o('G', 'R', 'persistence'),
  check_retain_source: o('G', 'NR', 'core'),
  clientid_prefixes: o('G', 'R', 'core', { deprecated: true }),
  connection_messages: o('G', 'R', 'core'),
  include_dir: o('F', 'R', 'core'),
  log_dest: o('G', 'R', 'core'),
  log_facility: o('G', 'R', 'core'),
  log_timestamp: o('G', 'R', 'core'),
  log_timestamp_format: o('G', 'R', 'core'),
  log_type: o('G', 'R', 'core'),
  max_inflight_bytes: o('G', 'NR', 'core'),
  max_inflight_messages: o('G', 'NR', 'core'),
  max_keepalive: o('G', 'NR', 'core'),
  max_packet_size: o('G', 'NR', 'core'),
  max_queued_bytes: o('G', 'NR', 'core'),
  max_queued_messages: o('G', 'NR', 'core'),
  memory_limit: o('G', 'R', 'core'),
  message_size_limit: o('G', 'R', 'core'),
  password_file: o('PL', 'R', 'passwordFile'),
  per_listener_settings: o('G', 'NR', 'core'),
  persistence: o('G', 'R', 'persistence'),
  retained_persistence: o('G', 'R', 'persistence', { aliasOf: 'persistence' }),
  persistence_file: o('G', 'R', 'persistence'),
  persistence_location: o('G', 'R', 'persistence'),
  persistent_client_expiration: o('G', 'R', 'core'),
  // skeeter extensions (docs/durable-journal.md); Mosquitto has no such options.
  persistence_journal: o('G', 'NR', 'persistence'),
  persistence_journal_sync_ms: o('G', 'NR', 'persistence'),
  persistence_on_corruption: o('G', 'NR', 'persistence'),
  pid_file: o('G', 'NR', 'core'),
  plugin: o('PL', 'NR', 'plugins'),
  auth_plugin: o('PL', 'NR', 'plugins', { aliasOf: 'plugin' }),
  psk_file: o('PL', 'R', 'psk'),
  queue_qos0_messages: o('G', 'R', 'core'),
  retain_available: o('G', 'NR', 'core'),
  retry_interval: o('G', 'R', 'core', { deprecated: true }),
  set_tcp_nodelay: o('G', 'NR', 'core'),
  sys_interval: o('G', 'R', 'core'),
  upgrade_outgoing_qos: o('G', 'R', 'core'),
  user: o('G', 'NR', 'core'),
  // Listeners (§2.5)
  listener: o('L', 'NR', 'core'),
  port: o('L', 'NR', 'core', { deprecated: true }),
  bind_address: o('L', 'NR', 'core', { deprecated: true }),
  bind_interface: o('L', 'NR', 'bindInterface'),
  http_dir: o('L', 'NR', 'websockets'),
  max_connections: o('L', 'NR', 'core'),
  max_qos: o('L', 'NR', 'core'),
  maximum_qos: o('L', 'NR', 'core', { aliasOf: 'max_qos' }),
  max_topic_alias: o('L', 'NR', 'core'),
  mount_point: o('L', 'NR', 'core'),
  protocol: o('L', 'NR', 'core'),
  socket_domain: o('L', 'NR', 'core'),
  use_username_as_clientid: o('L', 'NR', 'core'),
  websockets_log_level: o('G', 'R', 'websockets'),
  websockets_headers_size: o('G', 'NR', 'websockets'),
  // Mosquitto 2.1 listener options (reference §2.8), accepted because skeeter implements them.
  accept_protocol_versions: o('L', 'NR', 'core'),
  enable_proxy_protocol: o('L', 'NR', 'core'),
  proxy_protocol_v2_require_tls: o('L', 'NR', 'core'),
  websockets_origin: o('L', 'NR', 'websockets'),
  // TLS (§2.6)
  cafile: tls(),
  capath: tls(),
  certfile: tls(),
  keyfile: tls(),
  ciphers: tls(),
  'ciphers_tls1.3': tls(),
  crlfile: tls(),
  dhparamfile: tls(),
  require_certificate: tls(),
  tls_engine: o('L', 'NR', 'tlsEngine'),
  tls_engine_kpass_sha1: o('L', 'NR', 'tlsEngine'),
  tls_keyform: tls(),
  tls_version: tls(),
  use_identity_as_username: tls(),
  use_subject_as_username: tls(),
  psk_hint: o('L', 'NR', 'psk'),
  // Bridges (§2.7)
  connection: bridge(),
  address: bridge(),
  addresses: bridge('bridges', { aliasOf: 'address' }),
  bridge_attempt_unsubscribe: bridge(),
  bridge_bind_address: bridge(),
  bridge_max_packet_size: bridge('bridgeExtras'),
  // Mosquitto 2.1 (develop) additions, accepted because they help a v5 bridge keep its session.
  bridge_receive_maximum: bridge(),
  bridge_session_expiry_interval: bridge(),
  bridge_outgoing_retain: bridge(),
  bridge_protocol_version: bridge(),
  cleansession: bridge(),
  local_cleansession: bridge(),
  keepalive_interval: bridge(),
  idle_timeout: bridge(),
  local_clientid: bridge(),
  local_username: bridge(),
  local_password: bridge(),
  notifications: bridge(),
  notifications_local_only: bridge(),
  notification_topic: bridge(),
  remote_clientid: bridge(),
  clientid: bridge('bridges', { aliasOf: 'remote_clientid' }),
  remote_username: bridge(),
  username: bridge('bridges', { aliasOf: 'remote_username' }),
  remote_password: bridge(),
  password: bridge('bridges', { aliasOf: 'remote_password' }),
  restart_timeout: bridge(),
  round_robin: bridge('bridgeExtras'),
  start_type: bridge(),
  threshold: bridge(),
  topic: bridge(),
  try_private: bridge(),
  bridge_alpn: bridge('bridgeTls'),
  bridge_cafile: bridge('bridgeTls'),
  bridge_capath: bridge('bridgeTls'),
  bridge_certfile: bridge('bridgeTls'),
  bridge_keyfile: bridge('bridgeTls'),
  bridge_insecure: bridge('bridgeTls'),
  bridge_require_ocsp: bridge('bridgeOcsp'),
  bridge_tls_version: bridge('bridgeTls'),
  bridge_identity: bridge('bridgeTls'),
  bridge_psk: bridge('bridgeTls'),
};

const PLUGIN_OPTION: OptionInfo = o('P', 'NR', 'plugins');

/** Table entry for an option name as written (plugin_opt_* / auth_opt_* included). */
export function optionInfo(name: string): OptionInfo | undefined {
  if (name.startsWith('plugin_opt_') || name.startsWith('auth_opt_')) return PLUGIN_OPTION;
  return Object.hasOwn(OPTIONS, name) ? OPTIONS[name] : undefined;
}
