// The mosquitto.conf reader: Mosquitto 2.0's config__read_file_core rules, one handler per
// option, exact error texts. Pure apart from reading the config files themselves (sync fs,
// replaceable through ConfigFileSystem); no sockets, no DNS.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { newBridge, newBrokerConfig, newListener, newSecurityOptions } from './defaults.js';
import type { Feature } from './features.js';
import { optionInfo } from './options.js';
import {
  atoi,
  atol,
  decodeBytes,
  isValidMqttUtf8,
  isValidPublishTopic,
  isValidSubscribeTopic,
  LineCursor,
  trimBlanks,
} from './text.js';
import type {
  BridgeConfig,
  BridgeDirection,
  BrokerConfig,
  ConfigFailure,
  ConfigLogLevel,
  ConfigMessage,
  ListenerConfig,
  LogTypeName,
  PluginConfig,
  SecurityOptions,
} from './types.js';
import { ALL_LOG_TYPES } from './types.js';

/** File access used by the loader; the default uses node:fs synchronously. */
export interface ConfigFileSystem {
  /** The file's bytes, or why it cannot be read. */
  readConfigFile(path: string): Buffer | 'directory' | 'unreadable';
  /** Entry names of a directory, or undefined when it cannot be opened. */
  listDirectory(path: string): string[] | undefined;
}

export const nodeConfigFileSystem: ConfigFileSystem = {
  readConfigFile(path) {
    try {
      if (statSync(path).isDirectory()) return 'directory';
      return readFileSync(path);
    } catch {
      return 'unreadable';
    }
  },
  listDirectory(path) {
    try {
      return readdirSync(path);
    } catch {
      return undefined;
    }
  },
};

export interface LoadOptions {
  fs?: ConfigFileSystem;
  /** For the default bridge client id `<hostname>.<name>`; os.hostname() by default. */
  hostname?: string;
}

/** Thrown by a handler: the error lines to log before `Error found at`. */
class LineError extends Error {
  readonly texts: readonly string[];
  constructor(texts: readonly string[]) {
    super(texts.join('\n'));
    this.texts = texts;
  }
}

function fail(...texts: string[]): never {
  throw new LineError(texts);
}

/** Per-file state: Mosquitto keeps these as locals of the per-file reader. */
interface FileContext {
  readonly file: string;
  readonly level: number;
  listener: ListenerConfig;
  plugin: PluginConfig | undefined;
  bridge: BridgeConfig | undefined;
}

interface HandlerContext {
  readonly name: string;
  readonly cur: LineCursor;
  readonly file: FileContext;
  readonly line: number;
  /** Overrides the table's feature for value-dependent options (e.g. `protocol websockets`). */
  feature: Feature | undefined;
  /** Set by handlers that must not be recorded as a use (skipped on reload). */
  skip: boolean;
}

type Handler = (loader: ConfigLoader, h: HandlerContext) => void;

export interface ReloadContext {
  /** Copies of the running broker's listeners, matched by (port, host) or unix path. */
  readonly listeners: ListenerConfig[];
  /** The running broker's mode: a reload never switches local-only mode on or off. */
  readonly localOnly: boolean;
}

/**
 * Options Mosquitto ignores while reloading (`if(reload) continue;` in conf.c): they only
 * take effect at startup. `port` and `bind_address` still print their notice first.
 */
const SKIPPED_ON_RELOAD = new Set([
  'address', 'addresses', 'auth_plugin', 'plugin', 'auth_plugin_deny_special_chars', 'bind_interface',
  'bridge_attempt_unsubscribe', 'bridge_cafile', 'bridge_alpn', 'bridge_bind_address', 'bridge_capath',
  'bridge_certfile', 'bridge_identity', 'bridge_insecure', 'bridge_require_ocsp', 'bridge_max_packet_size',
  'bridge_outgoing_retain', 'bridge_keyfile', 'bridge_protocol_version', 'bridge_psk', 'bridge_tls_version',
  'bridge_receive_maximum', 'bridge_session_expiry_interval',
  'cafile', 'capath', 'certfile', 'ciphers', 'ciphers_tls1.3', 'clientid', 'remote_clientid', 'cleansession',
  'local_cleansession', 'connection', 'crlfile', 'dhparamfile', 'http_dir', 'idle_timeout', 'keepalive_interval',
  'keyfile', 'local_clientid', 'local_password', 'local_username', 'max_connections', 'maximum_qos', 'max_qos',
  'mount_point', 'notifications', 'notifications_local_only', 'notification_topic', 'password', 'remote_password',
  'pid_file', 'psk_hint', 'require_certificate', 'restart_timeout', 'round_robin', 'start_type', 'socket_domain',
  'threshold', 'tls_engine', 'tls_engine_kpass_sha1', 'tls_keyform', 'tls_version', 'topic', 'max_topic_alias',
  'try_private', 'use_identity_as_username', 'use_subject_as_username', 'user', 'use_username_as_clientid',
  'username', 'remote_username', 'accept_protocol_versions', 'enable_proxy_protocol',
  'proxy_protocol_v2_require_tls', 'websockets_origin',
]);

const LOG_TYPE_NAMES: Readonly<Record<string, LogTypeName>> = {
  information: 'information',
  notice: 'notice',
  warning: 'warning',
  error: 'error',
  debug: 'debug',
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  internal: 'internal',
  websockets: 'websockets',
};

const MQTT_MAX_PAYLOAD = 268435455;
const EXPIRATION_UNITS: Readonly<Record<string, number>> = {
  h: 3600,
  d: 86400,
  w: 86400 * 7,
  m: 86400 * 30,
  y: 86400 * 365,
};

/** Reads one or more config files into a BrokerConfig the way Mosquitto's -c does. */
export class ConfigLoader {
  readonly config: BrokerConfig = newBrokerConfig();
  readonly fs: ConfigFileSystem;
  readonly hostname: string;
  /** Mosquitto's static cur_security_options: set once any security option was seen. */
  securitySeen = false;
  /** Per config__read: log_dest / log_type lines accumulate, then replace the defaults. */
  private logDestSet = false;
  private logDestAcc = { stdout: false, stderr: false, syslog: false, topic: false, dlt: false, file: false };
  private logTypeSet = false;
  private logTypeAcc = new Set<LogTypeName>();
  readonly reload: ReloadContext | undefined;

  constructor(options: LoadOptions = {}, reload?: ReloadContext) {
    this.fs = options.fs ?? nodeConfigFileSystem;
    this.hostname = options.hostname ?? osHostname();
    this.reload = reload;
    if (reload) {
      // The per-listener security options are read again from scratch. (Mosquitto keeps the
      // old ones, so e.g. a per-listener auto_id_prefix makes its reload fail as a duplicate.)
      for (const l of reload.listeners) {
        if (l.origin === 'local-only') continue;
        const plugins = l.security.plugins;
        l.security = newSecurityOptions();
        l.security.plugins = plugins;
      }
    }
  }

  log(level: ConfigLogLevel, text: string): void {
    this.config.messages.push({ level, text });
  }

  private failure(file?: string, line?: number): ConfigFailure {
    return { ok: false, exitCode: 3, messages: this.config.messages, file, line };
  }

  /**
   * config__read: one `-c` file, then the checks Mosquitto makes once a file is read.
   * Returns a failure or undefined.
   */
  readMainFile(path: string): ConfigFailure | undefined {
    this.logDestSet = false;
    this.logDestAcc = { stdout: false, stderr: false, syslog: false, topic: false, dlt: false, file: false };
    this.logTypeSet = false;
    this.logTypeAcc = new Set();
    this.config.configFiles.push(path);
    const r = this.readFile(path, 0);
    if (r !== undefined) {
      if (r.line > 0) this.log('error', `Error found at ${path}:${r.line}.`);
      return this.failure(r.errorFile, r.errorLine);
    }
    const c = this.config;
    // The 2.0 anonymous rules (reference §2.3).
    if (this.reload?.localOnly ?? c.localOnly) {
      c.security.allowAnonymous = true;
    } else if (c.perListenerSettings) {
      for (const l of this.reload?.listeners ?? c.listeners) l.security.allowAnonymous ??= false;
    } else {
      c.security.allowAnonymous ??= false;
    }
    if (c.persistence) {
      c.persistenceFile ??= 'mosquitto.db';
      c.persistenceFilePath =
        c.persistenceLocation !== undefined && c.persistenceLocation.length > 0
          ? `${c.persistenceLocation}/${c.persistenceFile}`
          : c.persistenceFile;
    }
    c.user ??= 'mosquitto';
    for (const b of c.bridges) {
      if (b.addresses.length === 0) {
        this.log('error', 'Error: Invalid bridge configuration: no remote addresses defined.');
        return this.failure();
      }
      if (b.topics.length === 0) {
        this.log('error', 'Error: Invalid bridge configuration: no topics defined.');
        return this.failure();
      }
      if (b.tls.psk !== undefined && b.tls.pskIdentity === undefined) {
        this.log('error', 'Error: Invalid bridge configuration: missing bridge_identity.');
        return this.failure();
      }
      if (b.tls.pskIdentity !== undefined && b.tls.psk === undefined) {
        this.log('error', 'Error: Invalid bridge configuration: missing bridge_psk.');
        return this.failure();
      }
    }
    if (this.logDestSet) c.logDest = { ...this.logDestAcc };
    if (this.logTypeSet) c.logTypes = ALL_LOG_TYPES.filter((t) => this.logTypeAcc.has(t));
    return undefined;
  }

  /**
   * config__read_file: returns undefined on success, else the failing line number within
   * this file (0 when the file itself could not be read) and where the first error was.
   */
  private readFile(
    path: string,
    level: number,
  ): { line: number; errorFile: string | undefined; errorLine: number | undefined } | undefined {
    const data = this.fs.readConfigFile(path);
    if (data === 'directory') {
      this.log('error', `Error: Config file ${path} is a directory.`);
      return { line: 0, errorFile: undefined, errorLine: undefined };
    }
    if (data === 'unreadable') {
      this.log('error', `Error: Unable to open config file ${path}.`);
      return { line: 0, errorFile: undefined, errorLine: undefined };
    }
    const ctx: FileContext = {
      file: path,
      level,
      listener: this.config.defaultListener,
      plugin: undefined,
      bridge: undefined,
    };
    // On reload, options before any `listener` line go to the running default listener (the
    // one `port` made), so per_listener_settings keeps its allow_anonymous, acl_file...
    // (Mosquitto keeps that listener's startup options; re-reading them gives the same result.)
    if (this.reload) ctx.listener = this.reload.listeners.find((l) => l.origin === 'default') ?? newListener('default');
    // latin1 keeps one char per byte so lengths, UTF-8 checks and tokens work on bytes.
    const text = data.toString('latin1');
    let lineno = 0;
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      const next = end < 0 ? text.length : end + 1;
      if (end < 0) end = text.length;
      lineno++;
      let raw = text.slice(start, end);
      start = next;
      // Mosquitto's line reader looks for the newline with strlen(): after a NUL byte it never
      // finds one, keeps reading to the end of the file and drops it all (Debian's 2.0.11:
      // "bogus\0" and every line after it are ignored).
      if (raw.includes('\0')) break;
      const first = raw.charCodeAt(0);
      // A line is a comment only when '#' is its very first byte; "\n" and "\r" lines are blank.
      if (raw.length === 0 || first === 0x23 || first === 0x0d) continue;
      let cut = raw.length;
      while (cut > 0 && (raw.charCodeAt(cut - 1) === 0x0d || raw.charCodeAt(cut - 1) === 0x0a)) cut--;
      raw = raw.slice(0, cut);
      const cur = new LineCursor(raw);
      const name = cur.next();
      if (name === undefined) continue;
      try {
        const sub = this.handleLine(name, cur, ctx, lineno);
        if (sub !== undefined) {
          return { line: lineno, errorFile: sub.errorFile ?? path, errorLine: sub.errorLine ?? lineno };
        }
      } catch (e) {
        if (!(e instanceof LineError)) throw e;
        for (const t of e.texts) this.log('error', t);
        return { line: lineno, errorFile: path, errorLine: lineno };
      }
    }
    return undefined;
  }

  /** Returns a failure of an included file (already logged), else undefined. */
  private handleLine(
    name: string,
    cur: LineCursor,
    ctx: FileContext,
    line: number,
  ): { errorFile: string | undefined; errorLine: number | undefined } | undefined {
    if (name === 'include_dir') return this.includeDir(cur, ctx);
    // hasOwn: names such as "constructor" or "__proto__" are unknown options, not prototype keys.
    let handler = Object.hasOwn(HANDLERS, name) ? HANDLERS[name] : undefined;
    if (handler === undefined && (name.startsWith('auth_opt_') || name.startsWith('plugin_opt_'))) handler = pluginOption;
    if (handler === undefined) fail(`Error: Unknown configuration variable "${decodeBytes(name)}".`);
    if (this.reload && (SKIPPED_ON_RELOAD.has(name) || handler === pluginOption)) return undefined;
    const h: HandlerContext = { name, cur, file: ctx, line, feature: undefined, skip: false };
    handler(this, h);
    if (!h.skip) {
      const info = optionInfo(name);
      this.config.optionUses.push({ option: name, feature: h.feature ?? info?.feature ?? 'core', file: ctx.file, line });
    }
    return undefined;
  }

  private includeDir(
    cur: LineCursor,
    ctx: FileContext,
  ): { errorFile: string | undefined; errorLine: number | undefined } | undefined {
    // Only the main file's include_dir is honoured; nested ones are ignored silently.
    if (ctx.level !== 0) return undefined;
    const dirBytes = cur.rest();
    if (dirBytes === undefined) fail('Error: Empty include_dir value in configuration.');
    const dir = decodeBytes(dirBytes);
    const names = this.fs.listDirectory(dir);
    if (names === undefined) fail(`Error: Unable to open include_dir '${dir}'.`);
    const files = names
      .filter((n) => Buffer.byteLength(n) > 5 && n.endsWith('.conf'))
      .map((n) => `${dir}/${n}`)
      .sort(compareIncludePaths);
    for (const f of files) {
      this.log('information', `Loading config file ${f}`);
      const r = this.readFile(f, ctx.level + 1);
      if (r !== undefined) {
        if (r.line > 0) this.log('error', `Error found at ${f}:${r.line}.`);
        return { errorFile: r.errorFile, errorLine: r.errorLine };
      }
    }
    return undefined;
  }

  // ---- helpers used by handlers -------------------------------------------------------------

  /** conf__set_cur_security_options: where PL options go, and remember one was seen. */
  security(h: HandlerContext): SecurityOptions {
    this.securitySeen = true;
    return this.config.perListenerSettings ? h.file.listener.security : this.config.security;
  }

  addLogDest(kind: keyof typeof this.logDestAcc): void {
    this.logDestSet = true;
    this.logDestAcc[kind] = true;
  }

  clearLogDest(): void {
    this.logDestSet = true;
    this.logDestAcc = { stdout: false, stderr: false, syslog: false, topic: false, dlt: false, file: false };
  }

  addLogType(t: LogTypeName | 'all' | 'none'): void {
    this.logTypeSet = true;
    if (t === 'none') this.logTypeAcc.clear();
    else if (t === 'all') this.logTypeAcc = new Set(ALL_LOG_TYPES);
    else this.logTypeAcc.add(t);
  }
}

/**
 * include_dir order (conf_includedir.c scmp_p): compare case-insensitively first, and only
 * where the letters match ignoring case, uppercase sorts before lowercase; byte-wise.
 */
export function compareIncludePaths(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const c1 = x[i] as number;
    const c2 = y[i] as number;
    const d = upper(c1) - upper(c2);
    if (d !== 0) return d;
    if (c1 !== c2) return c1 - c2;
  }
  return x.length - y.length;
}

function upper(c: number): number {
  return c >= 0x61 && c <= 0x7a ? c - 0x20 : c;
}

// ---- value parsers (conf__parse_*) -----------------------------------------------------------

function parseString(h: HandlerContext, name: string, current: string | undefined): string {
  const tok = h.cur.rest();
  if (tok === undefined) fail(`Error: Empty ${name} value in configuration.`);
  if (current !== undefined) fail(`Error: Duplicate ${name} value in configuration.`);
  const t = trimBlanks(tok);
  if (t.length === 0) fail(`Error: Empty ${name} value in configuration.`);
  // Over-long strings fail without a message in Mosquitto.
  if (t.length > 65535) fail();
  if (!isValidMqttUtf8(t)) fail('Error: Malformed UTF-8 in configuration.');
  return decodeBytes(t);
}

function parseBool(h: HandlerContext, name: string = h.name): boolean {
  const tok = h.cur.next();
  if (tok === undefined) fail(`Error: Empty ${name} value in configuration.`);
  if (tok === 'false' || tok === '0') return false;
  if (tok === 'true' || tok === '1') return true;
  fail(`Error: Invalid ${name} value (${decodeBytes(tok)}).`);
}

function parseInt(h: HandlerContext, name: string = h.name): number {
  const tok = h.cur.next();
  if (tok === undefined) fail(`Error: Empty ${name} value in configuration.`);
  return atoi(tok);
}

function requireBridge(h: HandlerContext, text = 'Error: Invalid bridge configuration.'): BridgeConfig {
  if (h.file.bridge === undefined) fail(text);
  return h.file.bridge;
}

function bridgeHasCertificate(b: BridgeConfig): boolean {
  return b.tls.cafile !== undefined || b.tls.capath !== undefined || b.tls.certfile !== undefined || b.tls.keyfile !== undefined;
}

function bridgeCertificateFile(key: 'cafile' | 'capath' | 'certfile' | 'keyfile', name: string): Handler {
  return (_l, h) => {
    const b = requireBridge(h);
    if (b.tls.pskIdentity !== undefined || b.tls.psk !== undefined) {
      fail('Error: Cannot use both certificate and psk encryption in a single bridge.');
    }
    b.tls[key] = parseString(h, name, b.tls[key]);
  };
}

function bridgeBool(set: (b: BridgeConfig, v: boolean) => void, text?: string): Handler {
  return (_l, h) => {
    const b = requireBridge(h, text);
    set(b, parseBool(h));
  };
}

function bridgeString(get: (b: BridgeConfig) => string | undefined, set: (b: BridgeConfig, v: string) => void, name: string): Handler {
  return (_l, h) => {
    const b = requireBridge(h);
    set(b, parseString(h, name, get(b)));
  };
}

/** 2.1's REQUIRE_LISTENER: the option belongs to a `listener` block. */
function requireListener(h: HandlerContext): ListenerConfig {
  const ls = h.file.listener;
  if (ls.origin !== 'listener') fail(`Error: The '${h.name}' option requires a listener to be defined first.`);
  return ls;
}

type ListenerStringKey = 'bindInterface' | 'httpDir';
function listenerString(key: ListenerStringKey): Handler {
  return (_l, h) => {
    h.file.listener[key] = parseString(h, h.name, h.file.listener[key]);
  };
}

type TlsStringKey = 'capath' | 'keyfile' | 'ciphers' | 'ciphersTls13' | 'crlfile' | 'dhparamfile' | 'tlsEngine' | 'tlsVersion' | 'pskHint';
function tlsString(key: TlsStringKey): Handler {
  return (_l, h) => {
    const t = h.file.listener.tls;
    t[key] = parseString(h, h.name, t[key]);
  };
}

type TlsBoolKey = 'requireCertificate' | 'useIdentityAsUsername' | 'useSubjectAsUsername';
function tlsBool(key: TlsBoolKey): Handler {
  return (_l, h) => {
    h.file.listener.tls[key] = parseBool(h);
  };
}

function tlsCertificateFile(key: 'cafile' | 'certfile'): Handler {
  return (_l, h) => {
    const t = h.file.listener.tls;
    if (t.pskHint !== undefined) fail('Error: Cannot use both certificate and psk encryption in a single listener.');
    t[key] = parseString(h, h.name, t[key]);
  };
}

type GlobalBoolKey =
  | 'autosaveOnChanges' | 'connectionMessages' | 'logTimestamp' | 'queueQos0Messages' | 'retainAvailable'
  | 'setTcpNodelay' | 'upgradeOutgoingQos';
function globalBool(key: GlobalBoolKey): Handler {
  return (l, h) => {
    l.config[key] = parseBool(h);
  };
}

type GlobalStringKey = 'persistenceFile' | 'persistenceLocation' | 'logTimestampFormat' | 'pidFile' | 'user';
function globalString(key: GlobalStringKey): Handler {
  return (l, h) => {
    l.config[key] = parseString(h, h.name, l.config[key]);
  };
}

/** acl_file / password_file / psk_file: PL string options. */
function securityFile(key: 'aclFile' | 'passwordFile' | 'pskFile'): Handler {
  return (l, h) => {
    const s = l.security(h);
    // On reload the old value is dropped first, so a reload never reports a duplicate.
    if (l.reload) s[key] = undefined;
    s[key] = parseString(h, h.name, s[key]);
  };
}

function reloadMatch(l: ConfigLoader, port: number, host: string | undefined): ListenerConfig | undefined {
  const list = l.reload?.listeners ?? [];
  if (port === 0) return list.find((x) => x.unixSocketPath !== undefined && x.unixSocketPath === host);
  return list.find((x) => x.port === port && (x.host !== undefined ? host === x.host : host === undefined));
}

function parseBridgeAddress(token: string): { host: string; port: number } {
  // "host[:port]": the port follows the last ':' (so IPv6 addresses need a port).
  const colon = token.lastIndexOf(':');
  if (colon < 0) return { host: decodeBytes(token), port: 1883 };
  const port = atoi(token.slice(colon + 1));
  if (port < 1 || port > 65535) fail(`Error: Invalid port value (${port}).`);
  return { host: decodeBytes(token.slice(0, colon)), port };
}

function addBridgeTopic(
  l: ConfigLoader,
  b: BridgeConfig,
  pattern: string,
  direction: BridgeDirection,
  qos: 0 | 1 | 2,
  localPrefix: string | undefined,
  remotePrefix: string | undefined,
): void {
  if (localPrefix !== undefined && !isValidPublishTopic(localPrefix)) fail(`Error: Invalid bridge topic local prefix '${localPrefix}'.`);
  if (remotePrefix !== undefined && !isValidPublishTopic(remotePrefix)) fail(`Error: Invalid bridge topic remote prefix '${remotePrefix}'.`);
  const topic = pattern === '""' ? undefined : pattern;
  if (topic === undefined && (localPrefix === undefined || remotePrefix === undefined)) fail('Error: Invalid bridge remapping.');
  const same = b.topics.find(
    (t) =>
      t.direction === direction &&
      t.qos === qos &&
      (t.pattern === undefined || topic === undefined || t.pattern === topic) &&
      (t.localPrefix === undefined || localPrefix === undefined || t.localPrefix === localPrefix) &&
      (t.remotePrefix === undefined || remotePrefix === undefined || t.remotePrefix === remotePrefix),
  );
  if (same !== undefined) {
    // 2.0.x after 2.0.11 (Deb keeps both copies).
    l.log('information', `Duplicate bridge topic '${topic ?? '(null)'}', skipping`);
    return;
  }
  for (const prefix of [localPrefix, remotePrefix]) {
    if (prefix === undefined) continue;
    const full = prefix + (topic ?? '');
    // Mosquitto names the direction "local" for both prefixes and then also reports
    // out-of-memory from its shared error path; checked against Debian's 2.0.11.
    if (!isValidSubscribeTopic(full)) fail(`Error: Invalid bridge topic local prefix and pattern combination '${full}'.`, 'Error: Out of memory.');
  }
  b.topics.push({
    pattern: topic,
    direction,
    qos,
    localPrefix,
    remotePrefix,
    localTopic: (localPrefix ?? '') + (topic ?? ''),
    remoteTopic: (remotePrefix ?? '') + (topic ?? ''),
  });
}

// ---- handlers --------------------------------------------------------------------------------

const pluginOption: Handler = (_l, h) => {
  const plugin = h.file.plugin;
  if (plugin === undefined) fail('Error: An auth_opt_ option exists in the config file without an auth_plugin.');
  const prefixLength = h.name.startsWith('auth_opt_') ? 'auth_opt_'.length : 'plugin_opt_'.length;
  // Mosquitto insists on at least three characters after the prefix.
  if (h.name.length < prefixLength + 3) fail('Error: Invalid auth_opt_ config option.');
  const key = h.name.slice(prefixLength);
  // The value is the rest of the line after spaces/tabs; trailing blanks are kept.
  const value = h.cur.restSkippingBlanks();
  if (value.length === 0) fail(`Error: Empty ${decodeBytes(key)} value in configuration.`);
  plugin.options.push({ key: decodeBytes(key), value: decodeBytes(value) });
};

const HANDLERS: Readonly<Record<string, Handler>> = {
  acl_file: securityFile('aclFile'),
  password_file: securityFile('passwordFile'),
  psk_file: securityFile('pskFile'),
  allow_anonymous: (l, h) => {
    l.security(h).allowAnonymous = parseBool(h);
  },
  allow_duplicate_messages: (l, h) => {
    l.log('notice', "The 'allow_duplicate_messages' option is now deprecated and will be removed in a future version. The behaviour will default to true.");
    l.config.allowDuplicateMessages = parseBool(h);
  },
  allow_zero_length_clientid: (l, h) => {
    l.security(h).allowZeroLengthClientId = parseBool(h);
  },
  auth_plugin: (l, h) => plugin(l, h),
  plugin: (l, h) => plugin(l, h),
  auth_plugin_deny_special_chars: (_l, h) => {
    const p = h.file.plugin;
    if (p === undefined) fail('Error: An auth_plugin_deny_special_chars option exists in the config file without an auth_plugin.');
    p.denySpecialChars = parseBool(h);
  },
  auto_id_prefix: (l, h) => {
    const s = l.security(h);
    s.autoIdPrefix = parseString(h, 'auto_id_prefix', s.autoIdPrefix);
  },
  autosave_interval: (l, h) => {
    const v = parseInt(h);
    l.config.autosaveInterval = v < 0 ? 0 : v;
  },
  autosave_on_changes: globalBool('autosaveOnChanges'),
  bind_address: (l, h) => {
    l.log('notice', "The 'bind_address' option is now deprecated and will be removed in a future version. The behaviour will default to true.");
    l.config.localOnly = false;
    if (l.reload) {
      h.skip = true;
      return;
    }
    const d = l.config.defaultListener;
    // Mosquitto also resolves the name here ("Error: Error resolving bind_address: ...");
    // this pure parser leaves that to the listener when it binds.
    d.host = parseString(h, 'default listener bind_address', d.host);
  },
  bind_interface: listenerString('bindInterface'),
  http_dir: listenerString('httpDir'),
  check_retain_source: (l, h) => {
    l.security(h);
    l.config.checkRetainSource = parseBool(h);
  },
  cafile: tlsCertificateFile('cafile'),
  certfile: tlsCertificateFile('certfile'),
  capath: tlsString('capath'),
  keyfile: tlsString('keyfile'),
  ciphers: tlsString('ciphers'),
  'ciphers_tls1.3': tlsString('ciphersTls13'),
  crlfile: tlsString('crlfile'),
  dhparamfile: tlsString('dhparamfile'),
  tls_engine: tlsString('tlsEngine'),
  tls_version: tlsString('tlsVersion'),
  psk_hint: tlsString('pskHint'),
  require_certificate: tlsBool('requireCertificate'),
  use_identity_as_username: tlsBool('useIdentityAsUsername'),
  use_subject_as_username: tlsBool('useSubjectAsUsername'),
  tls_engine_kpass_sha1: (_l, h) => {
    const v = parseString(h, 'tls_engine_kpass_sha1', undefined);
    // A bad SHA1 hex string fails without a message of its own (checked with Debian's 2.0.11).
    if (!/^[0-9a-fA-F]{40}$/.test(v)) fail();
    h.file.listener.tls.tlsEngineKpassSha1 = v.toLowerCase();
  },
  tls_keyform: (_l, h) => {
    const v = parseString(h, 'tls_keyform', undefined);
    h.file.listener.tls.tlsKeyform = v === 'engine' ? 'engine' : 'pem';
  },
  clientid_prefixes: (l, h) => {
    l.log('notice', "The 'clientid_prefixes' option is now deprecated and will be removed in a future version.");
    if (l.reload) l.config.clientidPrefixes = undefined;
    l.config.clientidPrefixes = parseString(h, 'clientid_prefixes', l.config.clientidPrefixes);
  },
  connection_messages: globalBool('connectionMessages'),
  log_timestamp: globalBool('logTimestamp'),
  queue_qos0_messages: globalBool('queueQos0Messages'),
  retain_available: globalBool('retainAvailable'),
  set_tcp_nodelay: globalBool('setTcpNodelay'),
  upgrade_outgoing_qos: globalBool('upgradeOutgoingQos'),
  log_timestamp_format: globalString('logTimestampFormat'),
  persistence_file: globalString('persistenceFile'),
  persistence_location: globalString('persistenceLocation'),
  // skeeter extensions (docs/durable-journal.md).
  persistence_journal: (l, h) => {
    l.config.persistenceJournal = parseBool(h);
  },
  persistence_journal_sync_ms: (l, h) => {
    const v = parseInt(h);
    if (v < 0 || v > 1000) fail(`Error: Invalid persistence_journal_sync_ms value (${v}), must be 0 to 1000.`);
    l.config.persistenceJournalSyncMs = v;
  },
  persistence_on_corruption: (l, h) => {
    const v = parseString(h, h.name, undefined);
    if (v !== 'error' && v !== 'quarantine') fail(`Error: Invalid persistence_on_corruption value (${v}), must be error or quarantine.`);
    l.config.persistenceOnCorruption = v;
  },
  pid_file: globalString('pidFile'),
  user: globalString('user'),
  persistence: (l, h) => {
    l.config.persistence = parseBool(h);
    if (!l.config.persistence) h.feature = 'core';
  },
  retained_persistence: (l, h) => {
    l.config.persistence = parseBool(h);
    if (!l.config.persistence) h.feature = 'core';
  },
  listener: (l, h) => listener(l, h),
  log_dest: (l, h) => {
    const tok = h.cur.next();
    if (tok === undefined) fail('Error: Empty log_dest value in configuration.');
    switch (tok) {
      case 'none':
        l.clearLogDest();
        break;
      case 'syslog':
      case 'stdout':
      case 'stderr':
      case 'topic':
      case 'dlt':
        l.addLogDest(tok);
        break;
      case 'file': {
        l.addLogDest('file');
        if (l.config.logFile !== undefined) fail('Error: Duplicate "log_dest file" value.');
        const path = h.cur.restSkippingBlanks();
        if (path.length === 0) fail('Error: Empty "log_dest file" value in configuration.');
        l.config.logFile = decodeBytes(path);
        break;
      }
      default:
        fail(`Error: Invalid log_dest value (${decodeBytes(tok)}).`);
    }
  },
  log_facility: (l, h) => {
    const v = parseInt(h);
    if (v < 0 || v > 7) fail(`Error: Invalid log_facility value (${v}).`);
    l.config.logFacility = v;
  },
  log_type: (l, h) => {
    const tok = h.cur.next();
    if (tok === undefined) {
      // Logged as an error, yet Mosquitto carries on with the next line.
      l.log('error', 'Error: Empty log_type value in configuration.');
      return;
    }
    if (tok === 'none' || tok === 'all') l.addLogType(tok);
    else {
      const t = Object.hasOwn(LOG_TYPE_NAMES, tok) ? LOG_TYPE_NAMES[tok] : undefined;
      if (t === undefined) fail(`Error: Invalid log_type value (${decodeBytes(tok)}).`);
      l.addLogType(t);
    }
  },
  max_connections: (l, h) => {
    const tok = h.cur.next();
    if (tok === undefined) {
      // Logged as an error, yet Mosquitto carries on.
      l.log('error', 'Error: Empty max_connections value in configuration.');
      return;
    }
    const v = atoi(tok);
    h.file.listener.maxConnections = v < 0 ? -1 : v;
  },
  max_qos: (_l, h) => maxQos(h),
  maximum_qos: (_l, h) => maxQos(h),
  max_inflight_bytes: (l, h) => {
    const v = parseInt(h);
    l.config.maxInflightBytes = v < 0 ? 0 : v;
  },
  max_inflight_messages: (l, h) => {
    const v = parseInt(h);
    if (v < 0 || v === 65535) l.config.maxInflightMessages = 0;
    else if (v > 65535) fail('Error: max_inflight_messages must be <= 65535.');
    else l.config.maxInflightMessages = v;
  },
  max_keepalive: (l, h) => {
    const v = parseInt(h);
    // 2.0.13+ accepts 0 (= no limit); Deb 2.0.11 rejects values below 10 with the same text.
    if (v < 0 || v > 65535) fail(`Error: Invalid max_keepalive value (${v}).`);
    l.config.maxKeepalive = v;
  },
  max_packet_size: (l, h) => {
    const v = parseInt(h);
    if (v < 20) fail(`Error: Invalid max_packet_size value (${v}).`);
    l.config.maxPacketSize = v;
  },
  max_queued_bytes: (l, h) => {
    const v = parseInt(h);
    l.config.maxQueuedBytes = v < 0 ? 0 : v;
  },
  max_queued_messages: (l, h) => {
    const v = parseInt(h);
    l.config.maxQueuedMessages = v < 0 ? 0 : v;
  },
  memory_limit: (l, h) => {
    const tok = h.cur.next();
    if (tok === undefined) fail('Error: Empty memory_limit value in configuration.');
    const v = atol(tok);
    if (v < 0) fail(`Error: Invalid memory_limit value (${v}).`);
    l.config.memoryLimit = v;
  },
  message_size_limit: (l, h) => {
    l.log('notice', 'Note: It is recommended to replace `message_size_limit` with `max_packet_size`.');
    // Read as int into an unsigned field: -1 shows as 4294967295.
    const v = parseInt(h) >>> 0;
    if (v > MQTT_MAX_PAYLOAD) fail(`Error: Invalid message_size_limit value (${v}).`);
    l.config.messageSizeLimit = v;
  },
  mount_point: (l, h) => {
    if (l.config.listeners.length === 0) {
      fail('Error: You must use create a listener before using the mount_point option in the configuration file.');
    }
    const ls = h.file.listener;
    ls.mountPoint = parseString(h, 'mount_point', ls.mountPoint);
    if (!isValidPublishTopic(ls.mountPoint)) fail(`Error: Invalid mount_point '${ls.mountPoint}'. Does it contain a wildcard character?`);
  },
  per_listener_settings: (l, h) => {
    l.config.perListenerSettings = parseBool(h);
    if (l.securitySeen && l.config.perListenerSettings) {
      fail('Error: per_listener_settings must be set before any other security settings.');
    }
  },
  persistent_client_expiration: (l, h) => {
    const tok = h.cur.next();
    if (tok === undefined) {
      l.log('error', 'Error: Empty persistent_client_expiration value in configuration.');
      return;
    }
    const unit = tok[tok.length - 1] as string;
    const mult = Object.hasOwn(EXPIRATION_UNITS, unit) ? EXPIRATION_UNITS[unit] : undefined;
    if (mult === undefined) fail('Error: Invalid persistent_client_expiration duration in configuration.');
    const v = atoi(tok.slice(0, -1)) * mult;
    if (v <= 0) fail('Error: Invalid persistent_client_expiration duration in configuration.');
    l.config.persistentClientExpiration = v;
  },
  port: (l, h) => {
    l.log('notice', "The 'port' option is now deprecated and will be removed in a future version. Please use 'listener' instead.");
    l.config.localOnly = false;
    if (l.reload) {
      h.skip = true;
      return;
    }
    const d = l.config.defaultListener;
    if (d.port !== 0) l.log('warning', 'Warning: Default listener port specified multiple times. Only the latest will be used.');
    const v = parseInt(h, 'port');
    if (v < 1 || v > 65535) fail(`Error: Invalid port value (${v}).`);
    d.port = v;
  },
  protocol: (l, h) => {
    const tok = h.cur.next();
    if (tok === undefined) {
      l.log('error', 'Error: Empty protocol value in configuration.');
      return;
    }
    if (tok === 'mqtt') h.file.listener.protocol = 'mqtt';
    else if (tok === 'websockets') {
      h.file.listener.protocol = 'websockets';
      h.feature = 'websockets';
    } else fail(`Error: Invalid protocol value (${decodeBytes(tok)}).`);
  },
  retry_interval: (l) => {
    l.log('warning', 'Warning: The retry_interval option is no longer available.');
  },
  socket_domain: (_l, h) => {
    const tok = h.cur.next();
    if (tok === undefined) fail('Error: Empty socket_domain value in configuration.');
    if (tok === 'ipv4' || tok === 'ipv6') h.file.listener.socketDomain = tok;
    else fail(`Error: Invalid socket_domain value "${decodeBytes(tok)}" in configuration.`);
  },
  sys_interval: (l, h) => {
    const v = parseInt(h);
    if (v < 0 || v > 65535) fail(`Error: Invalid sys_interval value (${v}).`);
    l.config.sysInterval = v;
  },
  max_topic_alias: (_l, h) => {
    const tok = h.cur.next();
    if (tok === undefined) fail('Error: Empty max_topic_alias value in configuration.');
    const v = atoi(tok);
    if (v < 0 || v > 65535) fail('Error: Invalid max_topic_alias value in configuration.');
    h.file.listener.maxTopicAlias = v;
  },
  use_username_as_clientid: (_l, h) => {
    h.file.listener.useUsernameAsClientId = parseBool(h);
  },
  websockets_log_level: (l, h) => {
    l.config.websocketsLogLevel = parseInt(h);
  },
  websockets_headers_size: (l, h) => {
    const v = parseInt(h);
    if (v < 0 || v > 65535) fail('Error: Websockets headers size must be between 0 and 65535 inclusive.');
    l.config.websocketsHeadersSize = v === 0 ? 1024 : v;
  },

  // ---- Mosquitto 2.1 listener options (reference §2.8) ----
  accept_protocol_versions: (_l, h) => {
    const ls = requireListener(h);
    // Any of 3, 4, 5 separated by commas, spaces or tabs; other tokens are ignored, as in 2.1.
    const rest = h.cur.rest();
    if (rest === undefined) fail("Error: Empty 'accept_protocol_versions' value in configuration.");
    const versions = decodeBytes(rest).split(/[, \t]+/).filter((t) => t === '3' || t === '4' || t === '5').map(Number);
    ls.acceptProtocolVersions = [...new Set(versions)];
  },
  enable_proxy_protocol: (_l, h) => {
    const ls = requireListener(h);
    const v = parseInt(h);
    if (v !== 1 && v !== 2) fail('Error: enable_proxy_protocol must be 1 or 2.');
    ls.enableProxyProtocol = v;
  },
  proxy_protocol_v2_require_tls: (_l, h) => {
    requireListener(h).proxyProtocolV2RequireTls = parseBool(h);
  },
  websockets_origin: (_l, h) => {
    const ls = requireListener(h);
    ls.websocketsOrigins.push(parseString(h, 'websockets_origin', undefined));
  },

  // ---- bridges ----
  connection: (l, h) => {
    const tok = h.cur.next();
    if (tok === undefined) fail('Error: Empty connection value in configuration.');
    const name = decodeBytes(tok);
    if (l.config.bridges.some((b) => b.name === name)) fail(`Error: Duplicate bridge name "${name}".`);
    const b = newBridge(name, h.file.file, h.line);
    l.config.bridges.push(b);
    h.file.bridge = b;
  },
  address: (l, h) => bridgeAddresses(l, h),
  addresses: (l, h) => bridgeAddresses(l, h),
  bridge_attempt_unsubscribe: bridgeBool((b, v) => (b.attemptUnsubscribe = v)),
  bridge_outgoing_retain: bridgeBool((b, v) => (b.outgoingRetain = v)),
  bridge_require_ocsp: bridgeBool((b, v) => (b.tls.requireOcsp = v)),
  cleansession: bridgeBool((b, v) => (b.cleanSession = v)),
  local_cleansession: bridgeBool((b, v) => (b.localCleanSession = v)),
  notifications: bridgeBool((b, v) => (b.notifications = v)),
  notifications_local_only: bridgeBool((b, v) => (b.notificationsLocalOnly = v), 'Error: Invalid bridge configuration'),
  round_robin: bridgeBool((b, v) => (b.roundRobin = v)),
  try_private: bridgeBool((b, v) => (b.tryPrivate = v)),
  bridge_insecure: (l, h) => {
    const b = requireBridge(h);
    b.tls.insecure = parseBool(h);
    if (b.tls.insecure) l.log('warning', `Warning: Bridge ${b.name} using insecure mode.`);
  },
  bridge_cafile: bridgeCertificateFile('cafile', 'bridge_cafile'),
  bridge_capath: bridgeCertificateFile('capath', 'bridge_capath'),
  bridge_certfile: bridgeCertificateFile('certfile', 'bridge_certfile'),
  bridge_keyfile: bridgeCertificateFile('keyfile', 'bridge_keyfile'),
  bridge_identity: (_l, h) => {
    const b = requireBridge(h);
    if (bridgeHasCertificate(b)) fail('Error: Cannot use both certificate and identity encryption in a single bridge.');
    b.tls.pskIdentity = parseString(h, 'bridge_identity', b.tls.pskIdentity);
  },
  bridge_psk: (_l, h) => {
    const b = requireBridge(h);
    if (bridgeHasCertificate(b)) fail('Error: Cannot use both certificate and psk encryption in a single bridge.');
    b.tls.psk = parseString(h, 'bridge_psk', b.tls.psk);
  },
  bridge_alpn: bridgeString((b) => b.tls.alpn, (b, v) => (b.tls.alpn = v), 'bridge_alpn'),
  bridge_tls_version: bridgeString((b) => b.tls.version, (b, v) => (b.tls.version = v), 'bridge_tls_version'),
  bridge_bind_address: bridgeString((b) => b.bindAddress, (b, v) => (b.bindAddress = v), 'bridge_bind_address'),
  clientid: bridgeString((b) => b.remoteClientId, (b, v) => (b.remoteClientId = v), 'bridge remote clientid'),
  remote_clientid: bridgeString((b) => b.remoteClientId, (b, v) => (b.remoteClientId = v), 'bridge remote clientid'),
  // "clientd" is Mosquitto's spelling in this message.
  local_clientid: bridgeString((b) => b.localClientId, (b, v) => (b.localClientId = v), 'bridge local clientd'),
  local_password: bridgeString((b) => b.localPassword, (b, v) => (b.localPassword = v), 'bridge local_password'),
  local_username: bridgeString((b) => b.localUsername, (b, v) => (b.localUsername = v), 'bridge local_username'),
  password: bridgeString((b) => b.remotePassword, (b, v) => (b.remotePassword = v), 'bridge remote_password'),
  remote_password: bridgeString((b) => b.remotePassword, (b, v) => (b.remotePassword = v), 'bridge remote_password'),
  username: bridgeString((b) => b.remoteUsername, (b, v) => (b.remoteUsername = v), 'bridge remote_username'),
  remote_username: bridgeString((b) => b.remoteUsername, (b, v) => (b.remoteUsername = v), 'bridge remote_username'),
  notification_topic: bridgeString((b) => b.notificationTopic, (b, v) => (b.notificationTopic = v), 'notification_topic'),
  bridge_max_packet_size: (_l, h) => {
    const b = requireBridge(h);
    const v = parseInt(h);
    b.maxPacketSize = v < 0 ? 0 : v;
  },
  // Mosquitto 2.1 (develop): the v5 CONNECT's Receive Maximum and Session Expiry Interval.
  bridge_receive_maximum: (_l, h) => {
    const b = requireBridge(h);
    const v = parseInt(h);
    if (v <= 0) fail('Error: bridge_receive_maximum must be greater than 0.');
    if (v > 65535) fail('Error: bridge_receive_maximum must be lower than 65535.');
    b.receiveMaximum = v;
  },
  bridge_session_expiry_interval: (_l, h) => {
    const b = requireBridge(h);
    // atoi: values past 2^31 wrap negative, as in Mosquitto's int parsing.
    const v = parseInt(h);
    if (v < 0) fail('Error: bridge_session_expiry_interval must not be negative.');
    b.sessionExpiryInterval = v;
  },
  bridge_protocol_version: (_l, h) => {
    const b = requireBridge(h);
    // Mosquitto takes the untrimmed rest of the line here.
    const tok = h.cur.rest();
    if (tok === undefined) fail('Error: Empty bridge_protocol_version value in configuration.');
    if (tok === 'mqttv31' || tok === 'mqttv311' || tok === 'mqttv50') b.protocolVersion = tok;
    else fail(`Error: Invalid bridge_protocol_version value (${decodeBytes(tok)}).`);
  },
  idle_timeout: (l, h) => {
    const b = requireBridge(h);
    b.idleTimeout = parseInt(h);
    if (b.idleTimeout < 1) {
      l.log('notice', 'idle_timeout interval too low, using 1 second.');
      b.idleTimeout = 1;
    }
  },
  keepalive_interval: (l, h) => {
    const b = requireBridge(h);
    let v = parseInt(h);
    if (v > 65535) fail('Error: Bridge keepalive value too high.');
    if (v < 5) {
      l.log('notice', 'keepalive interval too low, using 5 seconds.');
      v = 5;
    }
    b.keepaliveInterval = v;
  },
  restart_timeout: (l, h) => {
    const b = requireBridge(h);
    const tok = h.cur.next();
    if (tok === undefined) fail('Error: Empty restart_timeout value in configuration.');
    b.restartTimeout = atoi(tok);
    if (b.restartTimeout < 1) {
      l.log('notice', 'restart_timeout interval too low, using 1 second.');
      b.restartTimeout = 1;
    }
    const cap = h.cur.next();
    if (cap !== undefined) {
      b.backoffBase = b.restartTimeout;
      b.backoffCap = atoi(cap);
      if (b.backoffCap < b.backoffBase) fail('Error: backoff cap is lower than the base in restart_timeout.');
    }
  },
  start_type: (_l, h) => {
    const b = requireBridge(h);
    const tok = h.cur.next();
    if (tok === undefined) fail('Error: Empty start_type value in configuration.');
    if (tok === 'automatic' || tok === 'lazy' || tok === 'once') b.startType = tok;
    else if (tok === 'manual') fail('Error: Manual start_type not supported.');
    else fail(`Error: Invalid start_type value in configuration (${decodeBytes(tok)}).`);
  },
  threshold: (l, h) => {
    const b = requireBridge(h);
    b.threshold = parseInt(h);
    if (b.threshold < 1) {
      l.log('notice', 'threshold too low, using 1 message.');
      b.threshold = 1;
    }
  },
  topic: (l, h) => {
    const b = requireBridge(h);
    const topicTok = h.cur.next();
    if (topicTok === undefined) fail('Error: Empty topic value in configuration.');
    let direction: BridgeDirection = 'out';
    let qos = 0;
    let localPrefix: string | undefined;
    let remotePrefix: string | undefined;
    const dirTok = h.cur.next();
    if (dirTok !== undefined) {
      const d = dirTok.toLowerCase();
      if (d === 'out' || d === 'in' || d === 'both') direction = d;
      else fail(`Error: Invalid bridge topic direction '${decodeBytes(dirTok)}'.`);
      const qosTok = h.cur.next();
      if (qosTok !== undefined) {
        // A '#' here starts a trailing comment: the rest of the line is dropped.
        if (qosTok.startsWith('#')) h.cur.rest();
        // Stored in a uint8_t before the range check: 256 reads as 0, -1 as 255.
        qos = atoi(qosTok) & 0xff;
        if (qos > 2) fail(`Error: Invalid bridge QoS level '${decodeBytes(qosTok)}'.`);
        const lp = h.cur.next();
        if (lp !== undefined) {
          if (lp === '""' || lp.startsWith('#')) {
            if (lp.startsWith('#')) h.cur.rest();
          } else localPrefix = decodeBytes(lp);
          const rp = h.cur.next();
          if (rp !== undefined && rp !== '""' && !rp.startsWith('#')) remotePrefix = decodeBytes(rp);
        }
      }
    }
    addBridgeTopic(l, b, decodeBytes(topicTok), direction, qos as 0 | 1 | 2, localPrefix, remotePrefix);
  },
};

function plugin(l: ConfigLoader, h: HandlerContext): void {
  const s = l.security(h);
  const p: PluginConfig = { path: '', options: [], denySpecialChars: true };
  s.plugins.push(p);
  h.file.plugin = p;
  p.path = parseString(h, 'auth_plugin', undefined);
}

function maxQos(h: HandlerContext): void {
  const v = parseInt(h);
  if (v < 0 || v > 2) fail('Error: max_qos must be between 0 and 2 inclusive.');
  h.file.listener.maxQos = v as 0 | 1 | 2;
}

function bridgeAddresses(_l: ConfigLoader, h: HandlerContext): void {
  const b = h.file.bridge;
  if (b === undefined || b.addresses.length > 0) fail('Error: Invalid bridge configuration.');
  const tokens: string[] = [];
  for (let t = h.cur.next(); t !== undefined; t = h.cur.next()) {
    if (t.startsWith('#')) break;
    tokens.push(t);
  }
  // Mosquitto also resolves each address and only warns when that fails; left to the bridge.
  for (const t of tokens) b.addresses.push(parseBridgeAddress(t));
  if (b.addresses.length === 0) fail('Error: Empty address value in configuration.');
}

function listener(l: ConfigLoader, h: HandlerContext): void {
  l.config.localOnly = false;
  const portTok = h.cur.next();
  if (portTok === undefined) fail('Error: Empty listener value in configuration.');
  const port = atoi(portTok);
  if (port < 0 || port > 65535) fail(`Error: Invalid port value (${port}).`);
  let hostTok = h.cur.next();
  if (hostTok !== undefined && hostTok.startsWith('#')) hostTok = undefined;
  if (port === 0 && hostTok === undefined) fail('Error: A listener with port 0 must provide a Unix socket path.');
  const host = hostTok === undefined ? undefined : decodeBytes(hostTok);
  if (port === 0) h.feature = 'unixSockets';
  if (l.reload) {
    const existing = reloadMatch(l, port, host);
    if (existing === undefined) fail('Error: It is not currently possible to add/remove listeners when reloading the config file.');
    h.file.listener = existing;
    return;
  }
  const ls = newListener('listener', port);
  if (port === 0) ls.unixSocketPath = host;
  else ls.host = host;
  ls.file = h.file.file;
  ls.line = h.line;
  l.config.listeners.push(ls);
  h.file.listener = ls;
}

/** True when the implicit default listener was configured (conf.c config__parse_args). */
export function defaultListenerUsed(d: ListenerConfig): boolean {
  const t = d.tls;
  return (
    d.bindInterface !== undefined ||
    t.cafile !== undefined || t.capath !== undefined || t.certfile !== undefined || t.keyfile !== undefined ||
    t.tlsEngine !== undefined || t.tlsKeyform !== 'pem' || t.tlsEngineKpassSha1 !== undefined ||
    t.ciphers !== undefined || t.ciphersTls13 !== undefined || t.dhparamfile !== undefined ||
    t.pskHint !== undefined || t.requireCertificate || t.crlfile !== undefined ||
    t.useIdentityAsUsername || t.useSubjectAsUsername ||
    d.useUsernameAsClientId || d.host !== undefined || d.port !== 0 || d.maxConnections !== -1 ||
    d.maxQos !== 2 || d.mountPoint !== undefined || d.protocol !== 'mqtt' || d.socketDomain !== undefined ||
    d.security.passwordFile !== undefined || d.security.pskFile !== undefined || d.security.plugins.length > 0 ||
    d.security.allowZeroLengthClientId !== true
  );
}

export type { ConfigMessage };
