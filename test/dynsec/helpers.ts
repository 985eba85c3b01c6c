/**
 * Shared bits of the dynamic-security tests: a broker process with the built-in plugin and its
 * config file in a temp dir, and an admin client that sends `$CONTROL/dynamic-security/v1`
 * commands and reads the answers.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';

/** test/dynsec/fixtures (this file compiles to test/dist/dynsec/). */
export const FIXTURES = fileURLToPath(new URL('../../dynsec/fixtures/', import.meta.url));
/** The administrator in fixtures/admin-only.json. */
export const ADMIN = { username: 'boss', password: 'admin-secret' };
export const CONTROL = '$CONTROL/dynamic-security/v1';
export const RESPONSE = '$CONTROL/dynamic-security/v1/response';

export interface DynsecBroker extends RunningBroker {
  /** The plugin's config file. */
  file: string;
  /** The temp dir holding it. */
  work: string;
}

export interface DynsecOptions {
  /** A fixture to start from (copied); none: the file does not exist. */
  fixture?: string;
  /** Config lines after the plugin's. */
  extra?: string[];
  /** `auth_plugin` / `auth_opt_config_file` instead of `plugin` / `plugin_opt_config_file`. */
  oldSpelling?: boolean;
  /** Reuse this work dir (and its file) instead of a fresh one, e.g. to restart. */
  work?: string;
  port?: number;
}

export async function startDynsec(options: DynsecOptions = {}): Promise<DynsecBroker> {
  const work = options.work ?? mkdtempSync(join(tmpdir(), 'skeeter-dynsec-'));
  const file = join(work, 'dynamic-security.json');
  if (options.fixture !== undefined) copyFileSync(join(FIXTURES, options.fixture), file);
  // Any directory: the file name alone selects skeeter's own plugin.
  const lines = options.oldSpelling
    ? ['auth_plugin /opt/mosquitto/lib/mosquitto_dynamic_security.so', `auth_opt_config_file ${file}`]
    : ['plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so', `plugin_opt_config_file ${file}`];
  const broker = await startBroker({ config: ['allow_anonymous true', ...lines, ...(options.extra ?? [])], verbose: true, port: options.port });
  const stop = broker.stop.bind(broker);
  return {
    ...broker,
    file,
    work,
    stop: async (signal?: NodeJS.Signals) => {
      const code = await stop(signal);
      if (options.work === undefined) rmSync(work, { recursive: true, force: true });
      return code;
    },
  };
}

/** A PUBLISH packet's topic and payload (any QoS, MQTT 3 or 5). */
export function parsePublish(p: Buffer, v: m.Version = 4): { topic: string; payload: Buffer; qos: number } {
  assert.equal(p[0]! >> 4, 3, `a PUBLISH, not ${p.toString('hex')}`);
  const qos = (p[0]! >> 1) & 3;
  let i = 1;
  while (p[i]! & 0x80) i++;
  i++;
  const tl = p.readUInt16BE(i);
  const topic = p.subarray(i + 2, i + 2 + tl).toString('utf8');
  i += 2 + tl;
  if (qos > 0) i += 2;
  if (v === 5) {
    let len = 0;
    let mul = 1;
    for (;;) {
      const b = p[i++]!;
      len += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) break;
    }
    i += len;
  }
  return { topic, payload: p.subarray(i), qos };
}

/** A connected client; the CONNACK it got is in `connack`. */
export async function connectClient(port: number, v: m.Version, o: m.ConnectOptions): Promise<{ c: RawClient; connack: Buffer | null }> {
  const c = await RawClient.open(port);
  c.send(m.connect(v, o));
  return { c, connack: await c.next(5000) };
}

/** The administrator's connection: subscribed to the answers, sends commands. */
export class Admin {
  readonly c: RawClient;
  #mid = 100;
  private constructor(c: RawClient) {
    this.c = c;
  }

  static async open(port: number, clientId = 'dynsec-admin'): Promise<Admin> {
    const { c, connack } = await connectClient(port, 4, { clientId, ...ADMIN });
    assert.equal(connack?.toString('hex'), m.connack(4, 0).toString('hex'), 'the administrator logs in');
    c.send(m.subscribe(4, 1, [['$CONTROL/dynamic-security/#', 1]]));
    assert.equal((await c.next())?.toString('hex'), m.suback(4, 1, [1]).toString('hex'));
    return new Admin(c);
  }

  /** Sends one payload (commands as an array, or raw text/bytes) and returns the answer's payload as bytes in a latin1 string. */
  async raw(payload: unknown[] | string | Buffer, qos = 0): Promise<string> {
    const body = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify({ commands: payload }), 'utf8');
    const mid = this.#mid++;
    this.c.send(m.publish(4, CONTROL, body, { qos, mid }));
    if (qos === 1) assert.equal((await this.c.next())?.toString('hex'), m.puback(4, mid).toString('hex'), 'PUBACK before the answer');
    const p = await this.c.next(5000);
    assert.ok(p !== null, 'an answer, not a disconnect');
    const { topic, payload: answer } = parsePublish(p);
    assert.equal(topic, RESPONSE);
    return answer.toString('latin1');
  }

  /** The answer as text (UTF-8). */
  async send(commands: unknown[]): Promise<string> {
    return Buffer.from(await this.raw(commands), 'latin1').toString('utf8');
  }

  async json(commands: unknown[]): Promise<{ responses: Array<Record<string, unknown>> }> {
    return JSON.parse(await this.send(commands)) as { responses: Array<Record<string, unknown>> };
  }

  close(): void {
    this.c.close();
  }
}

/** Waits (at most `ms`, polling every 50 ms) until `read()` contains `text`. */
export async function waitForText(read: () => string, text: string, ms = 5000): Promise<boolean> {
  for (let waited = 0; waited <= ms; waited += 50) {
    if (read().includes(text)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
