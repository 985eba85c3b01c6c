/**
 * JavaScript plugins (`plugin <path>` / `auth_plugin`, with `plugin_opt_*` / `auth_opt_*`),
 * shaped after Mosquitto's plugin API v5 (reference 7.1, 7.2): a module exports
 * `pluginInit(host, options)`, and inside it registers callbacks for events with
 * `host.register(event, callback)`. Callbacks answer 'allow', 'deny' or 'defer' (Mosquitto's
 * SUCCESS, ACL_DENIED/AUTH, PLUGIN_DEFER).
 *
 * Events available so far: 'basic-auth' (may answer with a Promise), 'acl-check' (synchronous,
 * as Mosquitto's), 'reload'. Registering any other event of the v5 API throws "not supported",
 * as mosquitto_callback_register returns MOSQ_ERR_NOT_SUPPORTED for events it does not know.
 *
 * A path that is not a JavaScript module (a C `.so`) is refused with Mosquitto's load-error
 * lines and exit status 13. A callback that throws is logged and counts as 'deny'.
 */
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginConfig } from '../config/types.js';
import type { LogType } from '../settings.js';
import type { AclAccess, ClientInfo } from '../security.js';

export type PluginVerdict = 'allow' | 'deny' | 'defer';

export type BasicAuthCallback = (
  client: ClientInfo,
  username: string | undefined,
  password: Uint8Array | undefined,
) => PluginVerdict | Promise<PluginVerdict>;
export type AclCheckCallback = (client: ClientInfo, access: AclAccess, topic: string, qos: number, retain: boolean) => PluginVerdict;
export type ReloadCallback = (options: Readonly<Record<string, string>>) => void;

interface PluginCallbacks {
  'basic-auth': BasicAuthCallback;
  'acl-check': AclCheckCallback;
  reload: ReloadCallback;
}
export type PluginEvent = keyof PluginCallbacks;

/** The v5 events skeeter does not offer yet: registering them throws. */
const NOT_YET = new Set(['ext-auth-start', 'ext-auth-continue', 'control', 'message', 'psk-key', 'tick', 'disconnect']);

/** What a plugin's `pluginInit` receives. */
export interface PluginHost {
  readonly path: string;
  register<E extends PluginEvent>(event: E, callback: PluginCallbacks[E]): void;
  unregister<E extends PluginEvent>(event: E, callback: PluginCallbacks[E]): void;
  log(level: 'debug' | 'info' | 'notice' | 'warning' | 'error', text: string): void;
  /**
   * Disconnects the connected client with this id (mosquitto_kick_client_by_clientid): MQTT 5
   * clients get DISCONNECT 0x98 administrative action, the log says `Client <id> been
   * disconnected by administrative action.` (as Debian's 2.0.11 does when dynsec kicks). The
   * will is published only with `withWill`. false when there is no such client.
   */
  kickClient(clientId: string, withWill?: boolean): boolean;
  /** The same for every client with this user name; returns how many were kicked. */
  kickClientsByUsername(username: string, withWill?: boolean): number;
  /** The clients connected now. */
  clients(): ClientInfo[];
}

/** What the broker offers plugins (kept small so the plugin code needs no Broker). */
export interface PluginBroker {
  log(level: LogType, text: string): void;
  kickClient(clientId: string, withWill: boolean): boolean;
  kickClientsByUsername(username: string, withWill: boolean): number;
  clients(): ClientInfo[];
}

export class LoadedPlugin {
  readonly path: string;
  readonly options: Readonly<Record<string, string>>;
  readonly basicAuth: BasicAuthCallback[] = [];
  readonly aclCheck: AclCheckCallback[] = [];
  readonly reload: ReloadCallback[] = [];
  readonly #log: (level: LogType, text: string) => void;

  constructor(path: string, options: Record<string, string>, log: (level: LogType, text: string) => void) {
    this.path = path;
    this.options = options;
    this.#log = log;
  }

  /** Logs a callback failure; the caller treats it as 'deny'. */
  failed(event: PluginEvent, e: unknown): 'deny' {
    this.#log('error', `Error: Plugin "${this.path}" failed in its ${event} callback: ${e instanceof Error ? e.message : String(e)}`);
    return 'deny';
  }

  list<E extends PluginEvent>(event: E): PluginCallbacks[E][] {
    const lists = { 'basic-auth': this.basicAuth, 'acl-check': this.aclCheck, reload: this.reload };
    return lists[event] as PluginCallbacks[E][];
  }
}

export interface LoadedPlugins {
  ok: boolean;
  exitCode: number;
  /** Plugins of each config entry, in declaration order. */
  plugins: Map<PluginConfig, LoadedPlugin>;
}

const LEVELS: Record<string, LogType> = { debug: 'debug', info: 'information', notice: 'notice', warning: 'warning', error: 'error' };
const JS_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

/** Loads every plugin in declaration order, logging as Mosquitto does; stops at the first failure. */
export async function loadPlugins(configs: readonly PluginConfig[], broker: PluginBroker): Promise<LoadedPlugins> {
  const plugins = new Map<PluginConfig, LoadedPlugin>();
  const fail = (path: string, why: string): LoadedPlugins => {
    broker.log('error', `Error: Unable to load auth plugin "${path}".`);
    broker.log('error', `Load error: ${path}: ${why}`);
    return { ok: false, exitCode: 13, plugins };
  };
  for (const config of configs) {
    const path = config.path;
    broker.log('information', `Loading plugin: ${path}`);
    if (!JS_EXTENSIONS.has(extname(path))) {
      return fail(path, 'skeeter loads JavaScript plugins only (.js, .mjs, .cjs); a C plugin (.so) cannot be loaded.');
    }
    let module: { pluginInit?: unknown };
    try {
      module = (await import(pathToFileURL(resolve(path)).href)) as { pluginInit?: unknown };
    } catch (e) {
      return fail(path, e instanceof Error ? e.message : String(e));
    }
    if (typeof module.pluginInit !== 'function') return fail(path, 'the module does not export a pluginInit(host, options) function.');
    const options: Record<string, string> = {};
    for (const o of config.options) options[o.key] = o.value;
    const plugin = new LoadedPlugin(path, options, broker.log);
    const host: PluginHost = {
      path,
      register(event, callback) {
        if (NOT_YET.has(event)) throw new Error(`event "${event}" is not supported by skeeter yet`);
        const list = plugin.list(event);
        if (list === undefined) throw new Error(`unknown event "${String(event)}"`);
        // MOSQ_ERR_ALREADY_EXISTS: the same callback twice for one event.
        if (list.includes(callback)) throw new Error(`callback already registered for "${event}"`);
        list.push(callback);
      },
      unregister(event, callback) {
        const list = plugin.list(event) ?? [];
        const i = list.indexOf(callback);
        if (i === -1) throw new Error(`callback not registered for "${event}"`);
        list.splice(i, 1);
      },
      log: (level, text) => broker.log(LEVELS[level] ?? 'notice', text),
      kickClient: (id, withWill = false) => broker.kickClient(id, withWill),
      kickClientsByUsername: (username, withWill = false) => broker.kickClientsByUsername(username, withWill),
      clients: () => broker.clients(),
    };
    try {
      await (module.pluginInit as (h: PluginHost, o: Readonly<Record<string, string>>) => unknown)(host, options);
    } catch (e) {
      broker.log('error', `Error: Plugin "${path}" returned an error when initialising: ${e instanceof Error ? e.message : String(e)}`);
      return { ok: false, exitCode: 13, plugins };
    }
    plugins.set(config, plugin);
  }
  return { ok: true, exitCode: 0, plugins };
}

/** Basic auth through the plugins in order: the first answer that is not 'defer' wins. */
export async function pluginBasicAuth(
  plugins: readonly LoadedPlugin[],
  client: ClientInfo,
  username: string | undefined,
  password: Uint8Array | undefined,
): Promise<PluginVerdict> {
  for (const p of plugins) {
    for (const cb of p.basicAuth) {
      let v: PluginVerdict;
      try {
        v = await cb(client, username, password);
      } catch (e) {
        v = p.failed('basic-auth', e);
      }
      if (v !== 'defer') return v === 'allow' ? 'allow' : 'deny';
    }
  }
  return 'defer';
}

/** ACL check through the plugins in order, synchronously: the first answer that is not 'defer' wins. */
export function pluginAclCheck(
  plugins: readonly LoadedPlugin[],
  client: ClientInfo,
  access: AclAccess,
  topic: string,
  qos: number,
  retain: boolean,
): PluginVerdict {
  for (const p of plugins) {
    for (const cb of p.aclCheck) {
      let v: PluginVerdict;
      try {
        v = cb(client, access, topic, qos, retain);
        if (typeof v !== 'string') throw new Error('acl-check callbacks must answer synchronously');
      } catch (e) {
        v = p.failed('acl-check', e);
      }
      if (v !== 'defer') return v === 'allow' ? 'allow' : 'deny';
    }
  }
  return 'defer';
}
