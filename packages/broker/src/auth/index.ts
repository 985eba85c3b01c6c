/**
 * Built-in authentication and authorisation for the `mosquitto` process: load at start, reload
 * on SIGHUP and re-check connected clients (reference 5.3, 7.3).
 */
import { isValidTopicName, type QoS } from '@skeeter/codec';
import type { Broker } from '../broker.js';
import { StoredMessage } from '../message.js';
import type { BrokerConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Connection } from '../protocol/connection.js';
import type { ListenerSettings } from '../settings.js';
import type { SecurityOptions } from '../config/types.js';
import { BrokerSecurity, loadBrokerSecurity, type LoadedSecurity } from './broker-security.js';
import { loadPlugins, pluginNotify, type LoadedPlugin, type PluginPublishOptions } from './plugins.js';

export { AclFile, type AclClient, type AclEntry, type AclMessage } from './acl-file.js';
export { BrokerSecurity, loadBrokerSecurity, type LoadedSecurity, type SecurityMessage } from './broker-security.js';
export {
  LoadedPlugin,
  loadPlugins,
  type AclCheckCallback,
  type BasicAuthCallback,
  type ConnectCallback,
  type ControlCallback,
  type DisconnectCallback,
  type ExtAuthAnswer,
  type ExtAuthCallback,
  type ExtAuthVerdict,
  type MessageCallback,
  type PluginPublishOptions,
  type TickCallback,
  type PluginBroker,
  type PluginEvent,
  type PluginHost,
  type PluginVerdict,
  type ReloadCallback,
} from './plugins.js';

/**
 * Start-up (mosquitto_security_module_init + mosquitto_security_init): loads the plugins, then
 * the files of `config`, logs Mosquitto's lines and installs the hooks on the broker. The
 * caller refuses to start when `ok` is false.
 */
export async function installBrokerSecurity(broker: Broker, config: BrokerConfig, log: Logger): Promise<LoadedSecurity> {
  const configs = config.perListenerSettings ? config.listeners.flatMap((l) => l.security.plugins) : config.security.plugins;
  const loaded = await loadPlugins(configs, {
    log: (level, text) => log.write(level, text),
    kickClient: (id, withWill) => {
      const conn = broker.sessions.get(id)?.connection;
      if (conn === undefined || conn.state !== 'connected') return false;
      kick(broker, conn, withWill);
      return true;
    },
    kickClientsByUsername: (username, withWill) => {
      const conns = [...broker.connections].filter((c) => c.state === 'connected' && c.username === username);
      for (const c of conns) kick(broker, c, withWill);
      return conns.length;
    },
    clients: () => [...broker.connections].filter((c) => c.state === 'connected'),
    publish: (topic, payload, options) => brokerPublish(broker, topic, payload, options),
  });
  // The plugins' connect event follows the broker's own (emitted after CONNACK), so
  // handle-connect needs no call of its own; one listener, whatever the reloads install.
  if ([...loaded.plugins.values()].some((p) => p.connect.length > 0)) {
    broker.on('connect', (clientId) => {
      const conn = broker.sessions.get(clientId)?.connection;
      if (conn !== undefined) broker.security.connected?.(conn);
    });
  }
  if (!loaded.ok) {
    const security = loadBrokerSecurity({ ...config, perListenerSettings: false, security: { ...config.security, passwordFile: undefined, aclFile: undefined } }, []);
    return { ...security, ok: false, exitCode: loaded.exitCode, messages: [] };
  }
  return install(broker, config, log, undefined, (_l, options) => options.plugins.flatMap((p) => loaded.plugins.get(p) ?? []));
}

/**
 * mosquitto_broker_publish: a message from the broker itself (no origin client), to every
 * matching subscriber or to one client's session.
 */
function brokerPublish(broker: Broker, topic: string, payload: Uint8Array, options: PluginPublishOptions): number {
  if (!isValidTopicName(topic)) throw new Error(`invalid topic "${topic}"`);
  const qos = (options.qos ?? 0) as QoS;
  const retain = options.retain ?? false;
  let properties = options.properties;
  let expiresAt = 0;
  if (properties?.messageExpiryInterval !== undefined) {
    const { messageExpiryInterval, ...rest } = properties;
    expiresAt = Date.now() + messageExpiryInterval * 1000;
    properties = rest;
  }
  const message = new StoredMessage(topic, payload, qos, retain, properties, expiresAt, '');
  if (options.clientId === undefined) return broker.publish(message);
  const session = broker.sessions.get(options.clientId);
  if (session === undefined) return 0;
  broker.deliver(session, message, qos, false, undefined);
  return 1;
}

/**
 * An administrative disconnect (Mosquitto's disconnect_client): DISCONNECT 0x98 on MQTT 5, as
 * Debian's 2.0.11 sends it. A session that outlives the connection first loses the
 * subscriptions the ACLs no longer allow (check_subscription_acls, 2.0.20), so a client kicked
 * because its roles changed does not keep receiving through old subscriptions.
 */
function kick(broker: Broker, conn: Connection, withWill: boolean): void {
  if (!withWill) conn.willSuppressed = true;
  const session = conn.session;
  const authorize = broker.security.authorize;
  if (session !== undefined && session.persistent && authorize !== undefined) {
    for (const filter of [...session.subscriptions.keys()]) {
      if (!authorize(conn, 'subscribe', filter, 0, false)) broker.unsubscribe(session, filter);
    }
  }
  conn.close({ kind: 'admin', reasonCode: 0x98 });
}

function install(
  broker: Broker,
  config: BrokerConfig,
  log: Logger,
  previous: BrokerSecurity | undefined,
  pluginsFor: (listener: ListenerSettings | undefined, options: SecurityOptions) => LoadedPlugin[],
): LoadedSecurity {
  const loaded = loadBrokerSecurity(config, broker.settings.listeners, previous?.passwords, pluginsFor);
  for (const m of loaded.messages) log.write(m.level, m.text);
  loaded.security.log = (m) => log.write(m.level, m.text);
  broker.security = loaded.security.hooks();
  previous?.close();
  loaded.security.startTicks();
  return loaded;
}

/**
 * SIGHUP: re-read the files, then disconnect the connected clients that no longer pass. When a
 * file cannot be read or parsed, its errors are logged and the previous files stay in force
 * (deliberate difference: Debian's 2.0.11 then registers no check for that file nor the files
 * after it, so everything is allowed). Clients are re-checked either way, since
 * `allow_anonymous` may have changed. Debian's 2.0.11 closes a failing client without a
 * DISCONNECT packet (also on MQTT 5), logs `Client <id> disconnected.` and does not publish its
 * will; so do we.
 */
export function reloadBrokerSecurity(broker: Broker, config: BrokerConfig, log: Logger, previous: BrokerSecurity): BrokerSecurity {
  const hooks = broker.security;
  // Plugins are loaded once (not reloadable in 2.0); they keep their scopes and hear of the reload.
  const loaded = install(broker, config, log, previous, (listener) => previous.pluginsOf(listener));
  let security = loaded.security;
  if (!loaded.ok) {
    broker.security = hooks;
    loaded.security.close();
    security = previous;
    security.startTicks();
  }
  for (const plugin of security.allPlugins()) pluginNotify([plugin], 'reload', plugin.options);
  // A client whose user name came from its certificate (or PSK identity) under
  // use_identity_as_username / use_subject_as_username is not put through the password check:
  // Mosquitto re-reads the name from the same certificate and checks no password, as at CONNECT.
  const connected = [...broker.connections].filter((c) => c.state === 'connected' && c.certificateUsername === undefined);
  void security.failingClients(connected).then((failing) => {
    for (const client of failing) {
      const conn = client as Connection;
      if (conn.state !== 'connected') continue;
      conn.willSuppressed = true;
      conn.close({ kind: 'disconnect' });
    }
  });
  return security;
}
