// Entry points: read a config (file, text or full command line) into a finished BrokerConfig,
// the way Mosquitto's main() gets there: -c files in order, then the implicit default listener,
// local-only listeners, bridge client ids and auto_id_prefix (conf.c config__parse_args/check).

import { walkCommandLine, type CommandLineExit } from './command-line.js';
import { newListener } from './defaults.js';
import { ConfigLoader, defaultListenerUsed, nodeConfigFileSystem, type ConfigFileSystem, type LoadOptions } from './parser.js';
import { ALL_LOG_TYPES, type BrokerConfig, type ConfigFailure, type ConfigResult } from './types.js';

export interface CommandLineSettings {
  daemon?: boolean;
  verbose?: boolean;
  ports?: number[];
}

/** Steps after all -c files were read. Returns a failure or undefined. */
function finish(loader: ConfigLoader, cli: CommandLineSettings): ConfigFailure | undefined {
  const c = loader.config;
  c.daemon = cli.daemon ?? false;
  c.verbose = cli.verbose ?? false;
  c.commandLinePorts = [...(cli.ports ?? [])];
  const d = c.defaultListener;
  if (c.localOnly) {
    // Also without any -c file (Mosquitto then never runs its anonymous defaulting).
    c.security.allowAnonymous = true;
    // Reference §2.3: loopback listeners (IPv4 then IPv6) on each -p port, or 1883;
    // whatever the file said about the default listener is dropped.
    const ports = c.commandLinePorts.length > 0 ? c.commandLinePorts : [1883];
    c.listeners = [];
    for (const port of ports) {
      for (const host of ['127.0.0.1', '::1']) {
        const l = newListener('local-only', port, host);
        l.security.allowAnonymous = true;
        l.security.autoIdPrefix = 'auto-';
        c.listeners.push(l);
      }
    }
  } else if (defaultListenerUsed(d)) {
    // The implicit default listener is appended after the explicit ones.
    if (d.port === 0) d.port = 1883;
    // Mosquitto 2.0 turns an unset per-listener allow_anonymous into false only for the
    // listeners that exist while it reads the file; this one is made afterwards and keeps -1,
    // which its auth check reads as "not false": anonymous clients are allowed (upstream's
    // 06-bridge-per-listener-settings relies on it). A reload then makes it false
    // (reloadConfig), as Mosquitto's does.
    if (c.perListenerSettings) d.security.allowAnonymous ??= true;
    c.listeners.push(d);
  }
  c.user ??= 'mosquitto';
  if (c.verbose) c.logTypes = [...ALL_LOG_TYPES];

  for (const b of c.bridges) {
    b.remoteClientId ??= `${loader.hostname}.${b.name}`;
    b.localClientId ??= `local.${b.remoteClientId}`;
  }
  for (let i = 0; i < c.bridges.length; i++) {
    for (let j = i + 1; j < c.bridges.length; j++) {
      const a = c.bridges[i];
      const b = c.bridges[j];
      if (a && b && a.localClientId === b.localClientId) {
        loader.log(
          'error',
          `Error: Bridge local_clientid '${a.localClientId}' is not unique. Try changing or setting the local_clientid value for one of the bridges.`,
        );
        return { ok: false, exitCode: 3, messages: c.messages, file: undefined, line: undefined };
      }
    }
  }
  if (c.perListenerSettings) {
    for (const l of c.listeners) l.security.autoIdPrefix ??= 'auto-';
  } else {
    c.security.autoIdPrefix ??= 'auto-';
  }
  return undefined;
}

/** Reads one config file as `mosquitto -c path` would (no other arguments). */
export function loadConfigFile(path: string, options: LoadOptions & CommandLineSettings = {}): ConfigResult {
  return loadConfigFiles([path], options);
}

/** Reads several -c files into one config, in order. */
export function loadConfigFiles(paths: readonly string[], options: LoadOptions & CommandLineSettings = {}): ConfigResult {
  const loader = new ConfigLoader(options);
  for (const p of paths) {
    const f = loader.readMainFile(p);
    if (f) return f;
  }
  const f = finish(loader, options);
  return f ?? { ok: true, config: loader.config };
}

/**
 * Parses config text held in memory. `fileName` names it in messages; include_dir still
 * reads the real file system (or options.fs).
 */
export function parseConfig(
  text: string | Buffer,
  options: LoadOptions & CommandLineSettings & { fileName?: string } = {},
): ConfigResult {
  const fileName = options.fileName ?? 'mosquitto.conf';
  const inner = options.fs ?? nodeConfigFileSystem;
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const fs: ConfigFileSystem = {
    readConfigFile: (p) => (p === fileName ? bytes : inner.readConfigFile(p)),
    listDirectory: (p) => inner.listDirectory(p),
  };
  return loadConfigFiles([fileName], { ...options, fs });
}

/** The default config (no -c): what `mosquitto` alone runs with. */
export function defaultConfig(options: LoadOptions & CommandLineSettings = {}): BrokerConfig {
  const r = loadConfigFiles([], options);
  if (!r.ok) throw new Error('the default config cannot fail');
  return r.config;
}

export type BrokerStartup =
  | { readonly ok: true; readonly config: BrokerConfig }
  | CommandLineExit
  | ConfigFailure;

/**
 * The whole startup path of `mosquitto <argv>`: arguments, -c files read where they appear,
 * then the finishing steps. The bin prints `stdout`/`stderr`/`messages` and exits with
 * exitCode on failure.
 */
export function loadBrokerConfig(argv: readonly string[], options: LoadOptions = {}): BrokerStartup {
  const loader = new ConfigLoader(options);
  const r = walkCommandLine(argv, (path) => loader.readMainFile(path));
  if (r.ok === 'config') return r.failure;
  if (!r.ok) {
    // Messages logged while reading earlier -c files come first.
    return { ...r, messages: [...loader.config.messages, ...r.messages] };
  }
  const f = finish(loader, { daemon: r.options.daemon, verbose: r.options.verbose, ports: r.options.ports });
  return f ?? { ok: true, config: loader.config };
}
