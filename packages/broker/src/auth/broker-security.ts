/**
 * The broker's built-in security from the config: `password_file` and `acl_file`, global or per
 * listener (`per_listener_settings true`), turned into the broker's SecurityHooks. Loading
 * follows mosquitto_security_init_default: every password file first, then every ACL file; the
 * first file that cannot be read or parsed stops the loading (the files after it stay empty,
 * which is what a failed reload leaves in force) and, at startup, the broker.
 *
 * Files are read synchronously so a SIGHUP swaps the rules in one step, as Mosquitto's main
 * loop does; only password hashing runs off the event loop.
 */
import { readFileSync } from 'node:fs';
import { isValidTopicName } from '@skeeter/codec';
import { PasswordFile } from '@skeeter/password-file';
import type { BrokerConfig, SecurityOptions } from '../config/types.js';
import type { LogType, ListenerSettings } from '../settings.js';
import type { AclAccess, ClientInfo, ExtendedAuthResult, ExtendedAuthStep, MessageEvent, SecurityHooks } from '../security.js';
import { AclFile, type AclMessage } from './acl-file.js';
import { clientView, pluginAclCheck, pluginBasicAuth, pluginExtendedAuth, pluginMessage, pluginNotify, type LoadedPlugin } from './plugins.js';

/** How often the tick event fires (Mosquitto calls it once per main-loop pass). */
const TICK_MS = 100;

export interface SecurityMessage {
  level: LogType;
  text: string;
}

/** What one scope (the whole broker, or one listener) checks against. */
interface SecurityScope {
  passwordFile: PasswordFile | undefined;
  aclFile: AclFile | undefined;
  /** Plugins of this scope in declaration order; they run after the built-in checks. */
  plugins: LoadedPlugin[];
}

export interface LoadedSecurity {
  /** false: a file could not be read or parsed; the broker refuses to start. */
  ok: boolean;
  /** Mosquitto's exit status for the failure: 3 for a bad ACL line, 13 for an unreadable file. */
  exitCode: number;
  messages: SecurityMessage[];
  security: BrokerSecurity;
}

export class BrokerSecurity {
  readonly #global: SecurityScope;
  readonly #perListener: Map<ListenerSettings, SecurityScope> | undefined;
  /** The configured listeners; others (a bridge's local side) are the broker's own and pass. */
  readonly #listeners: ReadonlySet<ListenerSettings>;
  /** Passwords of connected clients, for the re-check on reload (Mosquitto keeps them too). */
  readonly #passwords: WeakMap<ClientInfo, Uint8Array | undefined>;
  /** Where ACL notices go (dangerous user names); set by the broker's owner. */
  log: ((m: AclMessage) => void) | undefined;

  constructor(
    global: SecurityScope,
    perListener: Map<ListenerSettings, SecurityScope> | undefined,
    listeners: Iterable<ListenerSettings>,
    passwords = new WeakMap<ClientInfo, Uint8Array | undefined>(),
  ) {
    this.#global = global;
    this.#perListener = perListener;
    this.#listeners = new Set(listeners);
    this.#passwords = passwords;
  }

  /** The same remembered passwords, for the security built at the next reload. */
  get passwords(): WeakMap<ClientInfo, Uint8Array | undefined> {
    return this.#passwords;
  }

  #scope(listener: ListenerSettings): SecurityScope | undefined {
    return this.#perListener === undefined ? this.#global : this.#perListener.get(listener);
  }

  /**
   * The plugins that hear of `client`'s messages and disconnection: its scope's, and for the
   * broker's own connections (a bridge's local side) the global ones, as Mosquitto's bridge
   * contexts go through the same handlers.
   */
  #pluginsFor(client: ClientInfo): LoadedPlugin[] {
    if (this.#listeners.has(client.listener)) return this.#scope(client.listener)?.plugins ?? [];
    return this.#perListener === undefined ? this.#global.plugins : [];
  }

  #tickTimer: NodeJS.Timeout | undefined;

  /**
   * Starts the tick event for the global plugins (2.0 ticks only them, so nothing ticks with
   * per_listener_settings). The timer does not keep the process alive; `close` stops it.
   */
  startTicks(): void {
    if (this.#tickTimer !== undefined || this.#perListener !== undefined) return;
    const plugins = this.#global.plugins.filter((p) => p.tick.length > 0);
    if (plugins.length === 0) return;
    this.#tickTimer = setInterval(() => pluginNotify(plugins, 'tick', { now: Date.now() }), TICK_MS);
    this.#tickTimer.unref();
  }

  /** Stops the tick timer (broker stopped, or this security replaced by a reload). */
  close(): void {
    if (this.#tickTimer !== undefined) clearInterval(this.#tickTimer);
    this.#tickTimer = undefined;
  }

  #scopes(): SecurityScope[] {
    return this.#perListener === undefined ? [this.#global] : [...this.#perListener.values()];
  }

  /** The plugins of the scope of `listener` (undefined = the global scope), for the next reload. */
  pluginsOf(listener: ListenerSettings | undefined): LoadedPlugin[] {
    return (listener === undefined ? this.#global : this.#perListener?.get(listener))?.plugins ?? [];
  }

  /** Every plugin once, in declaration order. */
  allPlugins(): LoadedPlugin[] {
    return [...new Set(this.#scopes().flatMap((s) => s.plugins))];
  }

  /**
   * Hooks for the broker. `authenticate` only when some scope has a password file, `authorize`
   * only when some scope has an ACL file: without either, the broker's defaults are Mosquitto's
   * (a user name alone is allowed exactly when anonymous clients are; everything is allowed).
   */
  hooks(): SecurityHooks {
    const hooks: SecurityHooks = {};
    const scopes = this.#scopes();
    const plugins = this.allPlugins();
    if (scopes.some((s) => s.passwordFile !== undefined || s.plugins.some((p) => p.basicAuth.length > 0))) {
      hooks.authenticate = (client, username, password) => {
        this.#passwords.set(client, password);
        return this.authenticate(client, username, password);
      };
    }
    if (scopes.some((s) => s.aclFile !== undefined || s.plugins.some((p) => p.aclCheck.length > 0))) {
      hooks.authorize = (client, access, topic, qos, retain) => this.authorize(client, access, topic, qos, retain);
    }
    if (plugins.some((p) => p.extAuthStart.length > 0 || p.extAuthContinue.length > 0)) {
      hooks.extendedAuth = (client, kind, step) => this.extendedAuth(client, kind, step);
    }
    if (plugins.some((p) => p.message.length > 0)) {
      hooks.message = (client, message) => this.message(client, message);
    }
    if (plugins.some((p) => p.control.size > 0)) {
      hooks.control = (client, message, ack) => this.control(client, message, ack);
    }
    if (plugins.some((p) => p.connect.length > 0)) {
      hooks.connected = (client) => pluginNotify(this.#pluginsFor(client), 'connect', clientView(client));
    }
    if (plugins.some((p) => p.disconnect.length > 0)) {
      hooks.disconnected = (client, reason) => pluginNotify(this.#pluginsFor(client), 'disconnect', clientView(client), reason);
    }
    return hooks;
  }

  /**
   * Basic authentication (mosquitto_unpwd_check), for every client that does not use extended
   * authentication, with or without a user name. The plugins run first, in order, then the
   * built-in password file (which defers for clients without a user name): Mosquitto 2.0
   * registers the file's check after the plugins' callbacks, so a plugin's answer is final
   * (checked with the Dynamic Security plugin on 2.0.20 and Debian's 2.0.11). The first answer
   * that is not "defer" wins. Nothing registered in the scope: allowed exactly when anonymous
   * clients are (whatever the user name). Everyone deferred: allowed only for a client without
   * a user name on a listener that allows anonymous clients.
   */
  authenticate(client: ClientInfo, username: string | undefined, password: Uint8Array | undefined): boolean | Promise<boolean> {
    if (!this.#listeners.has(client.listener)) return true;
    // Mosquitto reads a zero-length string from CONNECT as no string at all: an empty user name
    // is an anonymous client (checked on Debian's 2.0.11), and so is an empty password.
    const user = username === undefined || username.length === 0 ? undefined : username;
    const scope = this.#scope(client.listener);
    const file = scope?.passwordFile;
    const plugins = scope?.plugins.filter((p) => p.basicAuth.length > 0) ?? [];
    const anonymous = client.listener.allowAnonymous;
    if (file === undefined && plugins.length === 0) return anonymous;
    if (plugins.length === 0) {
      if (user === undefined) return anonymous;
      return file!.check(user, password).then((r) => r === 'allow');
    }
    return (async () => {
      let verdict = await pluginBasicAuth(plugins, client, user, password);
      if (verdict === 'defer' && file !== undefined && user !== undefined) verdict = await file.check(user, password);
      return verdict === 'defer' ? user === undefined && anonymous : verdict === 'allow';
    })();
  }

  /**
   * Extended authentication (mosquitto_security_auth_start / _continue): the plugins of the
   * client's scope in order; the broker's own connections never use it.
   */
  extendedAuth(client: ClientInfo, kind: 'start' | 'continue', step: ExtendedAuthStep): Promise<ExtendedAuthResult> {
    const plugins = this.#listeners.has(client.listener) ? (this.#scope(client.listener)?.plugins ?? []) : [];
    return pluginExtendedAuth(plugins, kind, client, step).then((r) => {
      if (r.outcome === 'success') extendedClients.add(client);
      return r;
    });
  }

  /**
   * The control event (control__process): the one callback registered for exactly this topic,
   * whatever the client's listener (control callbacks are the broker's, as in 2.0). `ack` gets
   * its reason string, if any; what it published is sent after that. A throw is logged.
   */
  control(client: ClientInfo, message: Readonly<MessageEvent>, ack: (reasonString: string | undefined) => void): void {
    for (const p of this.allPlugins()) {
      const cb = p.control.get(message.topic);
      if (cb === undefined) continue;
      const held: Array<() => void> = [];
      let reason: string | undefined;
      p.held = held;
      try {
        const r = cb(clientView(client), message);
        if (typeof r === 'object' && r !== null && typeof r.reasonString === 'string') reason = r.reasonString;
      } catch (e) {
        p.failed('control', e);
      } finally {
        p.held = undefined;
      }
      ack(reason);
      for (const send of held) send();
      return;
    }
    ack(undefined);
  }

  /** The message event for one PUBLISH; false rejects it. */
  message(client: ClientInfo, message: MessageEvent): boolean {
    if (!pluginMessage(this.#pluginsFor(client), client, message)) return false;
    // What the plugins leave must still be a message the broker can route.
    const m = message as { payload: unknown; topic: unknown; qos: unknown; retain: unknown };
    if (typeof m.payload === 'string') message.payload = Buffer.from(m.payload, 'utf8');
    if (typeof m.topic !== 'string' || !isValidTopicName(m.topic) || !(message.payload instanceof Uint8Array) || (m.qos !== 0 && m.qos !== 1 && m.qos !== 2)) {
      this.log?.({ level: 'error', text: `Error: A plugin's message callback left an invalid message (topic, payload or QoS); it is dropped.` });
      return false;
    }
    message.retain = m.retain === true;
    return true;
  }

  authorize(client: ClientInfo, access: AclAccess, topic: string, qos = 0, retain = false): boolean {
    // The broker's own bridge connections bypass ACLs, as in Mosquitto.
    if (!this.#listeners.has(client.listener)) return true;
    const scope = this.#scope(client.listener);
    if (scope === undefined) return true;
    // The plugins first, then the built-in ACL file, which never defers (Mosquitto 2.0 registers
    // its check after the plugins' callbacks). Nothing registered: everything allowed; consulted
    // and all deferred: denied. (No filtered copy of the list: this runs for every delivery.)
    if (scope.plugins.length > 0 && scope.plugins.some(hasAclCheck)) {
      const verdict = pluginAclCheck(scope.plugins, client, access, topic, qos, retain);
      if (verdict !== 'defer') return verdict === 'allow';
      return scope.aclFile !== undefined && scope.aclFile.check(client, access, topic, this.log);
    }
    if (scope.aclFile !== undefined) return scope.aclFile.check(client, access, topic, this.log);
    return true;
  }

  /**
   * mosquitto_security_apply_default after a reload: for each connected client, an anonymous
   * client is refused when anonymous access is now off, and a client with a user name must
   * pass the (new) password check. Resolves with the clients that fail. ACLs need no step
   * here: they are looked up by user name on every check.
   */
  async failingClients(clients: Iterable<ClientInfo>): Promise<ClientInfo[]> {
    const checks: Array<Promise<ClientInfo | undefined>> = [];
    for (const client of clients) {
      // Clients of extended authentication are not checked again: the files say nothing of them.
      if (!this.#listeners.has(client.listener) || extendedClients.has(client)) continue;
      if (client.username === undefined || client.username.length === 0) {
        if (!client.listener.allowAnonymous) checks.push(Promise.resolve(client));
        continue;
      }
      const password = this.#passwords.get(client);
      checks.push(
        Promise.resolve(this.authenticate(client, client.username, password)).then(
          (ok) => (ok ? undefined : client),
          () => client,
        ),
      );
    }
    return (await Promise.all(checks)).filter((c): c is ClientInfo => c !== undefined);
  }
}

const hasAclCheck = (p: LoadedPlugin): boolean => p.aclCheck.length > 0;

/** Clients that passed extended authentication (kept across reloads). */
const extendedClients = new WeakSet<ClientInfo>();

function readFile(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Reads the password and ACL files a config names, with Mosquitto's log lines, for the
 * listeners the broker runs (`listeners[i]` is the running form of `config.listeners[i]`).
 */
export function loadBrokerSecurity(
  config: BrokerConfig,
  listeners: readonly ListenerSettings[],
  passwords?: WeakMap<ClientInfo, Uint8Array | undefined>,
  /** The loaded plugins of a scope (undefined = global), given its options. */
  pluginsFor: (listener: ListenerSettings | undefined, options: SecurityOptions) => LoadedPlugin[] = () => [],
): LoadedSecurity {
  const messages: SecurityMessage[] = [];
  const emptyScope = (): SecurityScope => ({ passwordFile: undefined, aclFile: undefined, plugins: [] });
  const scopes: Array<{ options: SecurityOptions; scope: SecurityScope }> = [];
  let perListener: Map<ListenerSettings, SecurityScope> | undefined;
  const global = emptyScope();
  if (config.perListenerSettings) {
    perListener = new Map();
    for (let i = 0; i < listeners.length; i++) {
      const l = config.listeners[i];
      if (l === undefined) continue;
      const scope = emptyScope();
      scope.plugins = pluginsFor(listeners[i]!, l.security);
      perListener.set(listeners[i]!, scope);
      scopes.push({ options: l.security, scope });
    }
  } else {
    global.plugins = pluginsFor(undefined, config.security);
    scopes.push({ options: config.security, scope: global });
  }
  const done = (ok: boolean, exitCode: number): LoadedSecurity => ({
    ok,
    exitCode,
    messages,
    security: new BrokerSecurity(global, perListener, listeners, passwords),
  });

  // Password files first (unpwd__file_parse), then ACL files, as Mosquitto loads them.
  for (const { options, scope } of scopes) {
    const path = options.passwordFile;
    if (path === undefined) continue;
    const content = readFile(path);
    // A password check stays registered even when its file is gone: every user is refused.
    scope.passwordFile = PasswordFile.parse(content ?? '', { fileName: path });
    if (content === undefined) {
      messages.push({ level: 'error', text: `Error: Unable to open pwfile "${path}".` });
      messages.push({ level: 'error', text: `Error opening password file "${path}".` });
      // Mosquitto stops here: ACL files are not read, so configured ones deny everything.
      markAclFiles(scopes);
      return done(false, 13);
    }
    for (const m of scope.passwordFile.messages) messages.push({ level: m.level, text: m.text });
  }
  for (const { options, scope } of scopes) {
    const path = options.aclFile;
    if (path === undefined) continue;
    const content = readFile(path);
    if (content === undefined) {
      scope.aclFile = AclFile.parse('', path).acl;
      messages.push({ level: 'error', text: `Error: Unable to open acl_file "${path}".` });
      messages.push({ level: 'error', text: `Error opening acl file "${path}".` });
      markAclFiles(scopes);
      return done(false, 13);
    }
    const parsed = AclFile.parse(content, path);
    scope.aclFile = parsed.acl;
    for (const m of parsed.messages) messages.push(m);
    if (!parsed.ok) {
      messages.push({ level: 'error', text: `Error opening acl file "${path}".` });
      markAclFiles(scopes);
      return done(false, 3);
    }
  }
  return done(true, 0);
}

/** Scopes whose ACL file was not reached get an empty one: configured, so everything is denied. */
function markAclFiles(scopes: Array<{ options: SecurityOptions; scope: SecurityScope }>): void {
  for (const { options, scope } of scopes) {
    if (options.aclFile !== undefined && scope.aclFile === undefined) scope.aclFile = AclFile.parse('', options.aclFile).acl;
  }
}
