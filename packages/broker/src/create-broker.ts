/**
 * The library entry point: a broker from mosquitto.conf text and/or settings, for Node programs
 * that embed one (tests, tools, applications).
 *
 *   const broker = createBroker({ conf: 'listener 1883\nallow_anonymous true\n' });
 *   broker.on('publish', (m) => console.log(m.topic));
 *   await broker.start();
 */
import { Broker } from './broker.js';
import { parseConfig, toBrokerSettings } from './config/index.js';
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
  constructor(lines: readonly string[]) {
    super(lines.join('\n'));
    this.lines = lines;
  }
}

export function createBroker(options: CreateBrokerOptions = {}): Broker {
  let settings: BrokerSettings;
  if (options.conf !== undefined) {
    const r = parseConfig(options.conf);
    if (!r.ok) throw new ConfigError(r.messages.map((m) => m.text));
    settings = toBrokerSettings(r.config);
  } else {
    settings = defaultSettings();
  }
  settings = { ...settings, ...options.settings };
  return new Broker(settings, new Logger(settings.log));
}
