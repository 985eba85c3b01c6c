/**
 * skeeter's own Dynamic Security plugin: what a config line `plugin .../mosquitto_dynamic_security.so`
 * (or `auth_plugin`) loads, with `plugin_opt_config_file <path>`. It behaves as Mosquitto
 * 2.0.20's plugin of that name: the same JSON file, the same `$CONTROL/dynamic-security/v1`
 * commands and answers on `$CONTROL/dynamic-security/v1/response`, basic authentication against
 * its clients (salted PBKDF2-SHA512) and ACL checks through their roles and groups.
 *
 * It is a plugin like any other (plugins.ts): basic-auth, acl-check and control callbacks.
 */
import { pbkdf2, timingSafeEqual } from 'node:crypto';
import type { ClientInfo } from '../../security.js';
import type { PluginHost, PluginVerdict } from '../plugins.js';
import { PluginInitError } from '../plugin-init-error.js';
import { aclCheck } from './acl.js';
import { getItem, parseJson, printCompact, toBytes, fromBytes } from './cjson.js';
import { CommandRunner, type Effects } from './commands.js';
import { loadConfigFile, saveConfigFile } from './config-file.js';
import type { DynsecData } from './model.js';

/** The file name that selects this plugin, wherever the path says it is. */
export const DYNSEC_LIBRARY = 'mosquitto_dynamic_security.so';
export const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
export const RESPONSE_TOPIC = '$CONTROL/dynamic-security/v1/response';
/** MQTT_MAX_PAYLOAD: a longer answer is not sent. */
const MAX_PAYLOAD = 268_435_455;
const MOSQ_ERR_ALREADY_EXISTS = 31;

const strict = new TextDecoder('utf-8', { fatal: true });

/** A byte string as the broker's string, or undefined when it is not UTF-8 (no connected client has such a name). */
function asText(bytes: string): string | undefined {
  try {
    return strict.decode(Buffer.from(bytes, 'latin1'));
  } catch {
    return undefined;
  }
}

/**
 * mosquitto_plugin_init of the dynamic-security plugin. `options` are the plugin's
 * `plugin_opt_*` lines in order (the first `config_file`, any case, is used).
 */
export function dynsecPluginInit(host: PluginHost, options: ReadonlyArray<{ key: string; value: string }>): void {
  const configFile = options.find((o) => o.key.toLowerCase() === 'config_file')?.value;
  if (configFile === undefined) {
    host.log('warning', 'Warning: Dynamic security plugin has no plugin_opt_config_file defined. The plugin will not be activated.');
    return;
  }
  const loaded = loadConfigFile(configFile);
  for (const m of loaded.messages) host.log(m.level, m.text);
  if (!loaded.ok) throw new PluginInitError(loaded.rc);
  const data = loaded.data;

  try {
    host.register('control', (client, message) => control(host, data, configFile, client, message.payload), CONTROL_TOPIC);
  } catch {
    host.log('error', 'Error: Dynamic security plugin can currently only be loaded once.');
    host.log('error', 'Note that this was previously incorrectly allowed but could cause problems with duplicate entries in the config.');
    throw new PluginInitError(MOSQ_ERR_ALREADY_EXISTS);
  }
  host.register('basic-auth', (client, username, password) => basicAuth(data, client, username, password));
  host.register('acl-check', (client, access, topic) =>
    aclCheck(data, client.username === undefined ? undefined : toBytes(client.username), access, toBytes(topic)),
  );
}

/** dynsec_control_callback: one payload of commands in, one response out. */
function control(host: PluginHost, data: DynsecData, configFile: string, client: ClientInfo, payload: Uint8Array): void {
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('latin1');
  // One save for the whole payload, before the answer goes out: 2.0.20 rewrites the file after
  // every command of the batch, which ends in the same file, but a batch of a thousand
  // commands would then hold the broker for a thousand synced writes.
  let dirty = false;
  const effects: Effects = {
    save: () => {
      dirty = true;
    },
    kick: (username) => {
      if (username === undefined) {
        host.kickClientsByUsername(undefined);
        return;
      }
      const name = asText(username);
      if (name !== undefined) host.kickClientsByUsername(name);
    },
    log: (line) => host.log('info', fromBytes(line)),
  };
  const runner = new CommandRunner(data, effects, { clientId: client.clientId, username: client.username });
  const tree = parseJson(text);
  if (tree === undefined) {
    runner.reply('Unknown command', 'Payload not valid JSON', undefined);
  } else {
    const commands = getItem(tree, 'commands');
    if (Array.isArray(commands)) runner.run(commands);
    else runner.reply('Unknown command', 'Invalid/missing commands', undefined);
  }
  if (dirty) {
    const error = saveConfigFile(configFile, data);
    if (error !== undefined) host.log('error', error);
  }
  const response = Buffer.from(printCompact({ responses: runner.responses }), 'latin1');
  if (response.length > MAX_PAYLOAD) return;
  host.publish(RESPONSE_TOPIC, response, { qos: 0, retain: false });
}

/**
 * dynsec_auth__basic_auth_callback. Without a user name or password, or for a user dynsec does
 * not know or that has no password, it defers; a disabled client, another client id than the
 * one set, or a wrong password is refused.
 */
function basicAuth(data: DynsecData, client: ClientInfo, username: string | undefined, password: Uint8Array | undefined): PluginVerdict | Promise<PluginVerdict> {
  // Mosquitto reads an empty password as none; C string functions stop at a NUL byte.
  if (username === undefined || password === undefined || password.length === 0) return 'defer';
  const entry = data.clients.get(toBytes(username));
  if (entry === undefined) return 'defer';
  if (entry.disabled) return 'deny';
  if (entry.clientId !== undefined && entry.clientId !== toBytes(client.clientId)) return 'deny';
  const pw = entry.password;
  if (pw === undefined) return 'defer';
  const nul = password.indexOf(0);
  const secret = nul === -1 ? password : password.subarray(0, nul);
  // Hashing runs on the thread pool: a file may ask for many iterations.
  return new Promise((resolve) => {
    pbkdf2(secret, pw.salt, pw.iterations, 64, 'sha512', (err, hash) => {
      // A hashing failure defers, as dynsec_auth__pw_hash failing does.
      resolve(err !== null ? 'defer' : timingSafeEqual(hash, pw.hash) ? 'allow' : 'deny');
    });
  });
}
