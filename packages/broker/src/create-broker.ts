/**
 * The library entry point: a broker from mosquitto.conf text and/or settings, for Node programs
 * that embed one (tests, tools, applications).
 *
 *   const broker = createBroker({ conf: 'listener 1883\nallow_anonymous true\n' });
 *   broker.on('publish', (m) => console.log(m.topic));
 *   await broker.start();
 *
 * Security options in `conf` (password_file, acl_file, plugin) are loaded by `start()` as the
 * `mosquitto` process loads them, before any listener opens; a file or plugin that fails makes
 * `start()` reject with a ConfigError carrying Mosquitto's lines.
 */
import { installBrokerSecurity, reloadBrokerSecurity } from './auth/index.js';
import type { BrokerSecurity } from './auth/broker-security.js';
import { Broker } from './broker.js';
import { parseConfig, toBrokerSettings } from './config/index.js';
import type { BrokerConfig, SecurityOptions } from './config/types.js';
import { Logger } from './log.js';
import { defaultSettings, type BrokerSettings } from './settings.js';

export interface CreateBrokerOptions {
  /** mosquitto.conf text; Mosquitto's defaults when absent (local only, port 1883). */
  conf?: string;
  /** Overrides applied after the config (e.g. `{ log: { ... } }` to silence logging). */
  settings?: Partial<BrokerSettings>;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly lines: readonly string[];
  /** The exit status the `mosquitto` process would have (3 bad config, 13 unreadable file or plugin). */
  readonly exitCode: number;
  constructor(lines: readonly string[], exitCode = 3) {
    super(lines.join('\n'));
    this.lines = lines;
    this.exitCode = exitCode;
  }
}

const hasSecurity = (s: SecurityOptions): boolean => s.passwordFile !== undefined || s.aclFile !== undefined || s.plugins.length > 0;

/** A Broker whose start() first installs the config's password file, ACL file and plugins. */
class ConfiguredBroker extends Broker {
  readonly #config: BrokerConfig;
  #security: BrokerSecurity | undefined;

  constructor(settings: BrokerSettings, log: Logger, config: BrokerConfig) {
    super(settings, log);
    this.#config = config;
  }

  override async start(): Promise<void> {
    const config = this.#config;
    if (hasSecurity(config.security) || config.listeners.some((l) => hasSecurity(l.security))) {
      // Capture the lines the loading logs, for the error.
      const lines: string[] = [];
      const capture = Object.create(this.log) as Logger;
      capture.write = (type, text) => {
        lines.push(text);
        this.log.write(type, text);
      };
      const loaded = await installBrokerSecurity(this, config, capture);
      capture.write = (type, text) => this.log.write(type, text);
      if (!loaded.ok) throw new ConfigError(lines.filter((l) => !l.startsWith('Loading plugin: ')), loaded.exitCode);
      this.#security = loaded.security;
    }
    await super.start();
  }

  override async stop(wills = true): Promise<void> {
    this.#security?.close();
    await super.stop(wills);
  }

  /**
   * The security part of a SIGHUP: re-reads the password and ACL files of the config (the same
   * paths) and disconnects the connected clients that no longer pass.
   */
  reloadSecurity(): void {
    if (this.#security !== undefined) this.#security = reloadBrokerSecurity(this, this.#config, this.log, this.#security);
  }
}

/** The broker `createBroker` returns: a Broker that can also re-read its security files. */
export type ConfiguredBrokerType = Broker & { reloadSecurity(): void };

export function createBroker(options: CreateBrokerOptions = {}): ConfiguredBrokerType {
  let settings: BrokerSettings;
  let config: BrokerConfig | undefined;
  if (options.conf !== undefined) {
    const r = parseConfig(options.conf);
    if (!r.ok) throw new ConfigError(r.messages.map((m) => m.text));
    config = r.config;
    settings = toBrokerSettings(r.config);
  } else {
    settings = defaultSettings();
  }
  settings = { ...settings, ...options.settings };
  const log = new Logger(settings.log);
  if (config === undefined) return Object.assign(new Broker(settings, log), { reloadSecurity: () => undefined });
  return new ConfiguredBroker(settings, log, config);
}
