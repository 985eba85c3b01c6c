// SIGHUP: which options a reload changes, and the merge of a re-read config into the running
// one. Reload rules: reference §2 R/NR tags; listeners can be re-configured but not added or
// removed; plugins, bridges and listener settings stay as they were at startup.

import { optionInfo } from './options.js';
import { ConfigLoader, type LoadOptions } from './parser.js';
import { ALL_LOG_TYPES, type BrokerConfig, type ConfigResult, type ListenerConfig } from './types.js';

/**
 * The global fields a reload replaces: Mosquitto 2.0's config__copy list (plus memory_limit,
 * which it applies while parsing). The reference tags the max_* limits, retain_available and
 * set_tcp_nodelay R too, but Mosquitto drops their new values: on Debian's 2.0.11 a SIGHUP
 * after changing max_inflight_messages, max_keepalive and max_packet_size leaves CONNACK's
 * receive-maximum, server-keepalive and maximum-packet-size as they were. Add a field here
 * to make it reloadable.
 */
export const RELOADED_FIELDS = [
  'allowDuplicateMessages',
  'autosaveInterval',
  'autosaveOnChanges',
  'clientidPrefixes',
  'connectionMessages',
  'logDest',
  'logFile',
  'logFacility',
  'logTimestamp',
  'logTimestampFormat',
  'logTypes',
  'memoryLimit',
  'messageSizeLimit',
  'persistence',
  'persistenceFile',
  'persistenceLocation',
  'persistenceFilePath',
  'persistentClientExpiration',
  'queueQos0Messages',
  'sysInterval',
  'upgradeOutgoingQos',
  'websocketsLogLevel',
] as const satisfies readonly (keyof BrokerConfig)[];

export interface ReloadableSplit {
  /** Options set in the config that a SIGHUP re-reads. */
  reloadable: string[];
  /** Options set in the config that keep their startup value until restart. */
  notReloadable: string[];
}

/** Splits the options used in a parsed config into reloadable and not (names as written, unique). */
export function reloadableOptions(config: BrokerConfig): ReloadableSplit {
  const reloadable = new Set<string>();
  const notReloadable = new Set<string>();
  for (const use of config.optionUses) {
    const info = optionInfo(use.option);
    (info?.reload === 'R' ? reloadable : notReloadable).add(use.option);
  }
  return { reloadable: [...reloadable], notReloadable: [...notReloadable] };
}

function cloneListener(l: ListenerConfig): ListenerConfig {
  return structuredClone(l);
}

/**
 * Merges a reload result into the running config: R fields from `reloaded`, the rest
 * (listeners' network settings, plugins, bridges, pid_file, user...) from `current`.
 * `reloaded.listeners` must be the re-configured copies of current's listeners, in order.
 */
export function mergeReloadedConfig(current: BrokerConfig, reloaded: BrokerConfig): BrokerConfig {
  const next = structuredClone(current);
  const target = next as unknown as Record<string, unknown>;
  const source = reloaded as unknown as Record<string, unknown>;
  for (const key of RELOADED_FIELDS) target[key] = structuredClone(source[key]);
  next.security = { ...structuredClone(reloaded.security), plugins: structuredClone(current.security.plugins) };
  if (current.localOnly) next.security.allowAnonymous = true;
  // Listeners keep their startup settings; only their security block is re-read.
  next.listeners = current.listeners.map((l, i) => {
    const r = reloaded.listeners[i];
    const copy = cloneListener(l);
    if (r !== undefined && l.origin !== 'local-only') {
      copy.security = { ...structuredClone(r.security), plugins: structuredClone(l.security.plugins) };
    }
    return copy;
  });
  next.messages = [...reloaded.messages];
  next.optionUses = [...reloaded.optionUses];
  if (current.verbose) next.logTypes = [...ALL_LOG_TYPES];
  return next;
}

/**
 * Re-reads the running config's files (SIGHUP) and returns the merged config, or the
 * failure to log (the running config then stays as it is).
 */
export function reloadConfig(current: BrokerConfig, options: LoadOptions = {}): ConfigResult {
  const listeners = current.listeners.map(cloneListener);
  const loader = new ConfigLoader(options, { listeners, localOnly: current.localOnly });
  loader.config.perListenerSettings = false;
  // Mosquitto re-reads only the last -c file (db.config_file is overwritten by each -c).
  for (const file of current.configFiles.slice(-1)) {
    const f = loader.readMainFile(file);
    if (f) return f;
  }
  const c = loader.config;
  c.listeners = listeners;
  for (const l of listeners) l.security.autoIdPrefix ??= 'auto-';
  c.security.autoIdPrefix ??= 'auto-';
  if (current.perListenerSettings && !current.localOnly) {
    for (const l of listeners) l.security.allowAnonymous ??= false;
  }
  return { ok: true, config: mergeReloadedConfig(current, c) };
}
