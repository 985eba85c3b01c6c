/**
 * JavaScript plugins (`plugin <path>` / `auth_plugin`, with `plugin_opt_*` / `auth_opt_*`),
 * shaped after Mosquitto's plugin API v5 (reference 7.1, 7.2): a module exports
 * `pluginInit(host, options)`, and inside it registers callbacks for events with
 * `host.register(event, callback)`. Callbacks answer 'allow', 'deny' or 'defer' (Mosquitto's
 * SUCCESS, ACL_DENIED/AUTH, PLUGIN_DEFER).
 *
 * Events (Mosquitto's ids in brackets): 'reload' [1], 'acl-check' [2, synchronous],
 * 'basic-auth' [3, may answer with a Promise; called for every client, also those without a
 * user name], 'ext-auth-start' / 'ext-auth-continue' [4/5, MQTT 5 AUTH, may answer with a
 * Promise], 'message' [7, synchronous, may change the message], 'tick' [9], 'disconnect' [10],
 * 'connect' [11, from Mosquitto 2.1], 'control' [6, registered for one `$CONTROL/...` topic:
 * `host.register('control', callback, topic)`]. Registering 'psk-key' throws "not supported",
 * as mosquitto_callback_register returns MOSQ_ERR_NOT_SUPPORTED for events it does not offer.
 *
 * A path that is not a JavaScript module (a C `.so`) is refused with Mosquitto's load-error
 * lines and exit status 13, except `mosquitto_dynamic_security.so` (in any directory), which
 * loads skeeter's own Dynamic Security plugin (dynsec/). A callback that throws is logged and
 * counts as 'deny'.
 */
import { basename, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isValidTopicName, type Properties, type QoS } from '@skeeter/codec';
import type { PluginConfig } from '../config/types.js';
import type { LogType } from '../settings.js';
import type { AclAccess, ClientInfo, ExtendedAuthResult, ExtendedAuthStep, MessageEvent } from '../security.js';
import { DYNSEC_LIBRARY, dynsecPluginInit } from './dynsec/index.js';
import { PluginInitError } from './plugin-init-error.js';

export type PluginVerdict = 'allow' | 'deny' | 'defer';

export type BasicAuthCallback = (
  client: ClientInfo,
  username: string | undefined,
  password: Uint8Array | undefined,
) => PluginVerdict | Promise<PluginVerdict>;
export type AclCheckCallback = (client: ClientInfo, access: AclAccess, topic: string, qos: number, retain: boolean) => PluginVerdict;
export type ReloadCallback = (options: Readonly<Record<string, string>>) => void;
/**
 * MOSQ_EVT_MESSAGE: every incoming PUBLISH after its ACL check. The callback may change the
 * fields of `message` (topic, payload, qos, retain, properties); later plugins see the changes.
 * 'deny' rejects the message (dropped; MQTT 5 publishers get PUBACK/PUBREC 0x87) and stops the
 * chain; anything else (or nothing) lets it through. Must answer synchronously.
 */
export type MessageCallback = (client: ClientInfo, message: MessageEvent) => 'allow' | 'deny' | undefined | void;
/** MOSQ_EVT_TICK: about every 100 ms; `now` in ms since the epoch. Global plugins only, as in 2.0. */
export type TickCallback = (tick: { now: number }) => void;
/** MOSQ_EVT_DISCONNECT: an accepted client has gone; `reason` says how (e.g. 'disconnect', 'socket', 'keepalive', 'takeover'). */
export type DisconnectCallback = (client: ClientInfo, reason: string) => void;
/**
 * MOSQ_EVT_CONTROL: a client's PUBLISH to the `$CONTROL/...` topic this callback was registered
 * for (such messages are never delivered to subscribers). Answer `{ reasonString }` to put a
 * reason string in the MQTT 5 PUBACK/PUBREC (whose reason code stays 0, as Mosquitto's).
 */
export type ControlCallback = (client: ClientInfo, message: Readonly<MessageEvent>) => { reasonString?: string } | undefined | void;
/** MOSQ_EVT_CONNECT (Mosquitto 2.1): a client was accepted; called after its CONNACK. */
export type ConnectCallback = (client: ClientInfo) => void;
/**
 * What an extended-auth callback answers: a verdict, or an object with the verdict and the
 * Authentication Data to send back ('continue' sends AUTH 0x18; on 'allow' the data goes into
 * the CONNACK or, on re-authentication, the AUTH 0x00). `username` on 'allow' sets the client's
 * user name (mosquitto_set_username).
 */
export type ExtAuthVerdict = 'allow' | 'continue' | 'deny' | 'defer';
export type ExtAuthAnswer = ExtAuthVerdict | { verdict: ExtAuthVerdict; data?: Uint8Array | string; username?: string };
/** MOSQ_EVT_EXT_AUTH_START (CONNECT with an Authentication Method, or AUTH 0x19) and _CONTINUE (AUTH 0x18). */
export type ExtAuthCallback = (client: ClientInfo, step: ExtendedAuthStep) => ExtAuthAnswer | Promise<ExtAuthAnswer>;

interface PluginCallbacks {
  'basic-auth': BasicAuthCallback;
  'acl-check': AclCheckCallback;
  reload: ReloadCallback;
  message: MessageCallback;
  tick: TickCallback;
  disconnect: DisconnectCallback;
  connect: ConnectCallback;
  control: ControlCallback;
  'ext-auth-start': ExtAuthCallback;
  'ext-auth-continue': ExtAuthCallback;
}
export type PluginEvent = keyof PluginCallbacks;

/** The v5 events skeeter does not offer: registering them throws. */
const NOT_OFFERED = new Set(['psk-key']);

/** Options of `host.publish` (mosquitto_broker_publish). */
export interface PluginPublishOptions {
  qos?: QoS;
  retain?: boolean;
  properties?: Properties;
  /** Deliver only to this client (mosquitto_broker_publish's clientid); all subscribers when absent. */
  clientId?: string;
}

/** What a plugin's `pluginInit` receives. */
export interface PluginHost {
  readonly path: string;
  /** `topic`: for 'control' only, the `$CONTROL/...` topic the callback handles. */
  register<E extends PluginEvent>(event: E, callback: PluginCallbacks[E], topic?: string): void;
  unregister<E extends PluginEvent>(event: E, callback: PluginCallbacks[E]): void;
  log(level: 'debug' | 'info' | 'notice' | 'warning' | 'error', text: string): void;
  /**
   * Disconnects the connected client with this id (mosquitto_kick_client_by_clientid): MQTT 5
   * clients get DISCONNECT 0x98 administrative action, the log says `Client <id> been
   * disconnected by administrative action.` (as Debian's 2.0.11 does when dynsec kicks). The
   * will is published only with `withWill`. false when there is no such client.
   */
  kickClient(clientId: string, withWill?: boolean): boolean;
  /**
   * The same for every client with this user name (undefined: every client without one, as
   * mosquitto_kick_client_by_username(NULL) does); returns how many were kicked.
   */
  kickClientsByUsername(username: string | undefined, withWill?: boolean): number;
  /** The clients connected now. */
  clients(): ClientInfo[];
  /** The connected client with this id (mosquitto_client_* getters), or undefined. */
  client(clientId: string): ClientInfo | undefined;
  /**
   * Publishes a message from the broker itself (mosquitto_broker_publish): routed to every
   * matching subscriber, or given to one client's session with `clientId`. Returns how many
   * subscriptions matched (1 for `clientId` when that session exists). Inside a control callback
   * the message waits until the request has been acknowledged (Mosquitto queues plugin messages
   * for its next loop pass, after the PUBACK), and 0 is returned.
   */
  publish(topic: string, payload: Uint8Array | string, options?: PluginPublishOptions): number;
}

/** What the broker offers plugins (kept small so the plugin code needs no Broker). */
export interface PluginBroker {
  log(level: LogType, text: string): void;
  kickClient(clientId: string, withWill: boolean): boolean;
  kickClientsByUsername(username: string | undefined, withWill: boolean): number;
  clients(): ClientInfo[];
  publish?(topic: string, payload: Uint8Array, options: PluginPublishOptions): number;
}

export class LoadedPlugin {
  readonly path: string;
  readonly options: Readonly<Record<string, string>>;
  readonly basicAuth: BasicAuthCallback[] = [];
  readonly aclCheck: AclCheckCallback[] = [];
  readonly reload: ReloadCallback[] = [];
  readonly message: MessageCallback[] = [];
  readonly tick: TickCallback[] = [];
  readonly disconnect: DisconnectCallback[] = [];
  readonly connect: ConnectCallback[] = [];
  /** Control callbacks by their exact `$CONTROL/...` topic. */
  readonly control = new Map<string, ControlCallback>();
  readonly extAuthStart: ExtAuthCallback[] = [];
  readonly extAuthContinue: ExtAuthCallback[] = [];
  /** While a control callback runs: its publishes, sent after the request's acknowledgement. */
  held: Array<() => void> | undefined;
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

  list<E extends Exclude<PluginEvent, 'control'>>(event: E): PluginCallbacks[E][] | undefined {
    const lists: { [K in Exclude<PluginEvent, 'control'>]: PluginCallbacks[K][] } = {
      'basic-auth': this.basicAuth,
      'acl-check': this.aclCheck,
      reload: this.reload,
      message: this.message,
      tick: this.tick,
      disconnect: this.disconnect,
      connect: this.connect,
      'ext-auth-start': this.extAuthStart,
      'ext-auth-continue': this.extAuthContinue,
    };
    return Object.hasOwn(lists, event) ? lists[event] : undefined;
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
const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

/** Node 22.6+ run with type stripping (on by default from 23.6) imports .ts files itself. */
function canStripTypes(): boolean {
  return Boolean((process.features as { typescript?: unknown }).typescript);
}

/** Loads every plugin in declaration order, logging as Mosquitto does; stops at the first failure. */
export async function loadPlugins(configs: readonly PluginConfig[], broker: PluginBroker): Promise<LoadedPlugins> {
  const plugins = new Map<PluginConfig, LoadedPlugin>();
  /** One handler per control topic across all plugins (MOSQ_ERR_ALREADY_EXISTS). */
  const controlTopics = new Set<string>();
  const fail = (path: string, why: string): LoadedPlugins => {
    broker.log('error', `Error: Unable to load auth plugin "${path}".`);
    broker.log('error', `Load error: ${path}: ${why}`);
    return { ok: false, exitCode: 13, plugins };
  };
  for (const config of configs) {
    const path = config.path;
    broker.log('information', `Loading plugin: ${path}`);
    let module: { pluginInit?: unknown };
    if (basename(path) === DYNSEC_LIBRARY) {
      // Not a file to open: skeeter's own implementation of that plugin.
      module = { pluginInit: (h: PluginHost) => dynsecPluginInit(h, config.options) };
    } else {
      const ext = extname(path);
      if (TS_EXTENSIONS.has(ext) && !canStripTypes()) {
        return fail(
          path,
          `this Node.js (${process.version}) cannot load TypeScript: compile the plugin to JavaScript first ` +
            '(e.g. `npx tsc` or `npx esbuild plugin.ts --format=esm --platform=node --outfile=plugin.mjs`) and name the .mjs/.js file.',
        );
      }
      if (!JS_EXTENSIONS.has(ext) && !TS_EXTENSIONS.has(ext)) {
        return fail(path, 'skeeter loads JavaScript plugins only (.js, .mjs, .cjs); a C plugin (.so) cannot be loaded.');
      }
      try {
        module = (await import(pathToFileURL(resolve(path)).href)) as { pluginInit?: unknown };
      } catch (e) {
        return fail(path, e instanceof Error ? e.message : String(e));
      }
    }
    if (typeof module.pluginInit !== 'function') return fail(path, 'the module does not export a pluginInit(host, options) function.');
    const options: Record<string, string> = {};
    for (const o of config.options) options[o.key] = o.value;
    const plugin = new LoadedPlugin(path, options, broker.log);
    const host: PluginHost = {
      path,
      register(event, callback, topic) {
        if (NOT_OFFERED.has(event)) throw new Error(`event "${event}" is not supported by skeeter`);
        if (event === 'control') {
          if (typeof topic !== 'string' || !topic.startsWith('$CONTROL/')) throw new Error('a control callback needs a topic starting with $CONTROL/');
          if (controlTopics.has(topic)) throw new Error(`a control callback is already registered for "${topic}"`);
          controlTopics.add(topic);
          plugin.control.set(topic, callback as ControlCallback);
          return;
        }
        const list = plugin.list(event as Exclude<PluginEvent, 'control'>) as PluginCallbacks[typeof event][] | undefined;
        if (list === undefined) throw new Error(`unknown event "${String(event)}"`);
        // MOSQ_ERR_ALREADY_EXISTS: the same callback twice for one event.
        if (list.includes(callback)) throw new Error(`callback already registered for "${event}"`);
        list.push(callback);
      },
      unregister(event, callback) {
        if (event === 'control') {
          for (const [t, cb] of plugin.control) {
            if (cb !== callback) continue;
            plugin.control.delete(t);
            controlTopics.delete(t);
            return;
          }
          throw new Error('callback not registered for "control"');
        }
        const list = (plugin.list(event as Exclude<PluginEvent, 'control'>) ?? []) as PluginCallbacks[typeof event][];
        const i = list.indexOf(callback);
        if (i === -1) throw new Error(`callback not registered for "${event}"`);
        list.splice(i, 1);
      },
      log: (level, text) => broker.log(LEVELS[level] ?? 'notice', text),
      kickClient: (id, withWill = false) => broker.kickClient(id, withWill),
      kickClientsByUsername: (username, withWill = false) => broker.kickClientsByUsername(username, withWill),
      clients: () => broker.clients().map(clientView),
      client: (id) => {
        const c = broker.clients().find((x) => x.clientId === id);
        return c === undefined ? undefined : clientView(c);
      },
      publish(topic, payload, publishOptions = {}) {
        const publish = broker.publish;
        if (publish === undefined) throw new Error('publishing is not available here');
        const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
        if (plugin.held !== undefined) {
          if (!isValidTopicName(topic)) throw new Error(`invalid topic "${topic}"`);
          plugin.held.push(() => void publish(topic, bytes, publishOptions));
          return 0;
        }
        return publish(topic, bytes, publishOptions);
      },
    };
    try {
      await (module.pluginInit as (h: PluginHost, o: Readonly<Record<string, string>>) => unknown)(host, options);
    } catch (e) {
      if (e instanceof PluginInitError) {
        broker.log('error', `Error: ${e.message}`);
        return { ok: false, exitCode: e.rc, plugins };
      }
      broker.log('error', `Error: Plugin "${path}" returned an error when initialising: ${e instanceof Error ? e.message : String(e)}`);
      return { ok: false, exitCode: 13, plugins };
    }
    plugins.set(config, plugin);
  }
  return { ok: true, exitCode: 0, plugins };
}

/** Basic auth through the plugins in order: the first answer that is not 'defer' wins. */
/**
 * What plugins see of a client: a read-only view of the broker's connection (its id and user
 * name as they are now), so a plugin cannot reach the connection's internals. One per client.
 */
const views = new WeakMap<ClientInfo, ClientInfo>();
export function clientView(client: ClientInfo): ClientInfo {
  let view = views.get(client);
  if (view === undefined) {
    view = Object.freeze({
      get clientId() {
        return client.clientId;
      },
      get username() {
        return client.username;
      },
      get address() {
        return client.address;
      },
      get protocolVersion() {
        return client.protocolVersion;
      },
      get listener() {
        return client.listener;
      },
    });
    views.set(client, view);
  }
  return view;
}

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
        v = await cb(clientView(client), username, password);
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
        v = cb(clientView(client), access, topic, qos, retain);
        if (typeof v !== 'string') throw new Error('acl-check callbacks must answer synchronously');
      } catch (e) {
        v = p.failed('acl-check', e);
      }
      if (v !== 'defer') return v === 'allow' ? 'allow' : 'deny';
    }
  }
  return 'defer';
}

/**
 * The message chain (plugin__handle_message): every callback in order sees the message as the
 * ones before left it; the first 'deny' (or throw, or a Promise: the chain is synchronous)
 * rejects it. Returns false when rejected.
 */
export function pluginMessage(plugins: readonly LoadedPlugin[], client: ClientInfo, message: MessageEvent): boolean {
  for (const p of plugins) {
    for (const cb of p.message) {
      let v: unknown;
      try {
        v = cb(clientView(client), message);
        if (v !== undefined && v !== 'allow' && v !== 'deny') throw new Error(`message callbacks answer 'allow' or 'deny' synchronously, not ${describe(v)}`);
      } catch (e) {
        v = p.failed('message', e);
      }
      if (v === 'deny') return false;
    }
  }
  return true;
}

function describe(v: unknown): string {
  if (v instanceof Promise) return 'a Promise';
  return typeof v === 'string' ? `'${v}'` : typeof v;
}

/** Notification events: every callback is called; a throw is logged and the others still run. */
export function pluginNotify<E extends 'tick' | 'disconnect' | 'connect' | 'reload'>(
  plugins: readonly LoadedPlugin[],
  event: E,
  ...args: Parameters<PluginCallbacks[E]>
): void {
  for (const p of plugins) {
    for (const cb of p.list(event) ?? []) {
      try {
        (cb as (...a: Parameters<PluginCallbacks[E]>) => void)(...args);
      } catch (e) {
        p.failed(event, e);
      }
    }
  }
}

/**
 * Extended authentication through the plugins in order (plugin__ext_auth_start / _continue):
 * the first answer that is not 'defer' wins; when every plugin defers (or none listens) the
 * method is unsupported (MOSQ_ERR_NOT_SUPPORTED, 0x8C). A throw or a malformed answer is logged
 * and refuses.
 */
export async function pluginExtendedAuth(
  plugins: readonly LoadedPlugin[],
  kind: 'start' | 'continue',
  client: ClientInfo,
  step: ExtendedAuthStep,
): Promise<ExtendedAuthResult> {
  const event = kind === 'start' ? 'ext-auth-start' : 'ext-auth-continue';
  for (const p of plugins) {
    for (const cb of kind === 'start' ? p.extAuthStart : p.extAuthContinue) {
      let answer: ExtAuthAnswer;
      try {
        answer = await cb(clientView(client), step);
      } catch (e) {
        p.failed(event, e);
        return { outcome: 'deny' };
      }
      const verdict = typeof answer === 'string' ? answer : answer?.verdict;
      if (verdict === 'defer') continue;
      const outcome = verdict === 'allow' ? 'success' : verdict === 'continue' ? 'continue' : verdict === 'deny' ? 'deny' : undefined;
      if (outcome === undefined) {
        p.failed(event, new Error(`unknown answer ${describe(verdict)}`));
        return { outcome: 'deny' };
      }
      if (typeof answer === 'string') return { outcome };
      const data = typeof answer.data === 'string' ? Buffer.from(answer.data, 'utf8') : answer.data;
      return { outcome, data, username: outcome === 'success' ? answer.username : undefined };
    }
  }
  return { outcome: 'unsupported' };
}
