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
import { PasswordFile } from '@skeeter/password-file';
import type { BrokerConfig, SecurityOptions } from '../config/types.js';
import type { LogType, ListenerSettings } from '../settings.js';
import type { AclAccess, ClientInfo, SecurityHooks } from '../security.js';
import { AclFile, type AclMessage } from './acl-file.js';
import { pluginAclCheck, pluginBasicAuth, type LoadedPlugin } from './plugins.js';

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
    if (scopes.some((s) => s.passwordFile !== undefined || s.plugins.some((p) => p.basicAuth.length > 0))) {
      hooks.authenticate = (client, username, password) => {
        this.#passwords.set(client, password);
        return this.authenticate(client, username, password);
      };
    }
    if (scopes.some((s) => s.aclFile !== undefined || s.plugins.some((p) => p.aclCheck.length > 0))) {
      hooks.authorize = (client, access, topic, qos, retain) => this.authorize(client, access, topic, qos, retain);
    }
    return hooks;
  }

  /**
   * Basic authentication of a client that gave a user name. Without a password file in its
   * scope no check is registered, and Mosquitto then allows it exactly when it allows
   * anonymous clients.
   */
  authenticate(client: ClientInfo, username: string, password: Uint8Array | undefined): boolean | Promise<boolean> {
    if (!this.#listeners.has(client.listener)) return true;
    // Mosquitto reads a zero-length string from CONNECT as no string at all: an empty user name
    // is an anonymous client (checked on Debian's 2.0.11), and so is an empty password.
    const user = username.length === 0 ? undefined : username;
    const scope = this.#scope(client.listener);
    const file = scope?.passwordFile;
    const plugins = scope?.plugins.filter((p) => p.basicAuth.length > 0) ?? [];
    const anonymous = client.listener.allowAnonymous;
    // Nothing registered: allowed exactly when anonymous clients are.
    if (file === undefined && plugins.length === 0) return anonymous;
    if (plugins.length === 0) {
      if (user === undefined) return anonymous;
      return file!.check(user, password).then((r) => r === 'allow');
    }
    return (async () => {
      // The built-in check runs first; the first answer that is not "defer" wins. When all
      // defer, only an anonymous client may pass, and only if anonymous clients are allowed.
      let verdict = file === undefined ? 'defer' : await file.check(user, password);
      if (verdict === 'defer') verdict = await pluginBasicAuth(plugins, client, user, password);
      return verdict === 'defer' ? user === undefined && anonymous : verdict === 'allow';
    })();
  }

  authorize(client: ClientInfo, access: AclAccess, topic: string, qos = 0, retain = false): boolean {
    // The broker's own bridge connections bypass ACLs, as in Mosquitto.
    if (!this.#listeners.has(client.listener)) return true;
    const scope = this.#scope(client.listener);
    if (scope === undefined) return true;
    // The built-in ACL file runs first and never defers when configured.
    if (scope.aclFile !== undefined) return scope.aclFile.check(client, access, topic, this.log);
    const plugins = scope.plugins.filter((p) => p.aclCheck.length > 0);
    // Nothing registered: everything allowed. Consulted and all deferred: denied.
    if (plugins.length === 0) return true;
    return pluginAclCheck(plugins, client, access, topic, qos, retain) === 'allow';
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
      if (!this.#listeners.has(client.listener)) continue;
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
