/**
 * Built-in authentication and authorisation for the `mosquitto` process: load at start, reload
 * on SIGHUP and re-check connected clients (reference 5.3, 7.3).
 */
import type { Broker } from '../broker.js';
import type { BrokerConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Connection } from '../protocol/connection.js';
import { BrokerSecurity, loadBrokerSecurity, type LoadedSecurity } from './broker-security.js';

export { AclFile, type AclClient, type AclEntry, type AclMessage } from './acl-file.js';
export { BrokerSecurity, loadBrokerSecurity, type LoadedSecurity, type SecurityMessage } from './broker-security.js';

/**
 * Loads the files of `config`, logs Mosquitto's lines and installs the hooks on the broker.
 * Returns the result so the caller can refuse to start when `ok` is false.
 */
export function installBrokerSecurity(broker: Broker, config: BrokerConfig, log: Logger, previous?: BrokerSecurity): LoadedSecurity {
  const loaded = loadBrokerSecurity(config, broker.settings.listeners, previous?.passwords);
  for (const m of loaded.messages) log.write(m.level, m.text);
  loaded.security.log = (m) => log.write(m.level, m.text);
  broker.security = loaded.security.hooks();
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
  const loaded = installBrokerSecurity(broker, config, log, previous);
  let security = loaded.security;
  if (!loaded.ok) {
    broker.security = hooks;
    security = previous;
  }
  const connected = [...broker.connections].filter((c) => c.state === 'connected');
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
