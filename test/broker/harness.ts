/**
 * Scenario runner for black-box broker tests: each scenario talks raw bytes to a broker process
 * and asserts exact bytes back. Every scenario runs against our broker; where the Debian
 * Mosquitto 2.0.11 is installed, the same scenario also runs against it, so the expectations
 * themselves are checked against the real thing. Scenarios where 2.0.11 differs from 2.0.20
 * (the version we follow) say so in `debian`.
 */
import assert from 'node:assert/strict';
import { describe, test, after, before } from 'node:test';
import { hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';

export type Version = m.Version;

export interface Ctx {
  broker: RunningBroker;
  oracle: boolean;
  /** A raw socket to the broker; closed after the scenario. */
  open(): Promise<RawClient>;
  /** Opens, sends CONNECT and checks a successful CONNACK (any properties); returns the client. */
  connected(v: Version, o?: m.ConnectOptions, sessionPresent?: boolean): Promise<RawClient>;
  expect(c: RawClient, expected: Buffer | string, what?: string): Promise<void>;
  expectClosed(c: RawClient, what?: string): Promise<void>;
  /** Asserts nothing arrives within `ms` (used sparingly: only for "must not be delivered"). */
  expectSilence(c: RawClient, ms?: number): Promise<void>;
}

export interface Scenario {
  name: string;
  versions: Version[];
  config?: string[];
  /** 'same' (default), or why the Debian 2.0.11 oracle is not run on this scenario. */
  debian?: string;
  run(ctx: Ctx, v: Version): Promise<void>;
}

export const hex = (b: Buffer | null): string => (b === null ? 'CLOSED' : b.toString('hex'));

export function runScenarios(suite: string, scenarios: Scenario[]): void {
  const targets: Array<{ name: string; oracle: boolean }> = [{ name: 'skeeter', oracle: false }];
  if (hasDebianMosquitto()) targets.push({ name: 'debian mosquitto 2.0.11 (oracle)', oracle: true });
  else test(`${suite}: Debian mosquitto not installed; the oracle run is skipped`, { skip: 'apt-get install mosquitto' }, () => {});

  for (const target of targets) {
    describe(`${suite} [${target.name}]`, () => {
      // One broker per distinct config, shared by the scenarios that use it.
      const brokers = new Map<string, Promise<RunningBroker>>();
      const brokerFor = (config: string[] = []): Promise<RunningBroker> => {
        const key = config.join('\n');
        let b = brokers.get(key);
        if (!b) brokers.set(key, (b = startBroker({ config, oracle: target.oracle })));
        return b;
      };
      after(async () => {
        for (const b of brokers.values()) await (await b).stop();
      });
      for (const s of scenarios) {
        for (const v of s.versions) {
          const skip = target.oracle && s.debian !== undefined && s.debian !== 'same' ? s.debian : undefined;
          test(`${s.name} (v${v === 3 ? '3.1' : v === 4 ? '3.1.1' : '5'})`, { skip, timeout: 20_000 }, async () => {
            const broker = await brokerFor(s.config);
            const clients: RawClient[] = [];
            const ctx: Ctx = {
              broker,
              oracle: target.oracle,
              async open() {
                const c = await RawClient.open(broker.port);
                clients.push(c);
                return c;
              },
              async connected(version, o = {}, sessionPresent = false) {
                const c = await ctx.open();
                c.send(m.connect(version, { clientId: o.clientId ?? `c-${Math.random().toString(36).slice(2, 10)}`, ...o }));
                const ack = await c.next();
                assert.ok(ack, 'CONNACK expected');
                assert.equal(ack[0], 0x20, `CONNACK expected, got ${hex(ack)}`);
                assert.equal(ack[2], sessionPresent ? 1 : 0, `session present flag in ${hex(ack)}`);
                assert.equal(ack[3], 0, `CONNACK return code in ${hex(ack)}`);
                return c;
              },
              async expect(c, expected, what) {
                const want = typeof expected === 'string' ? expected : expected.toString('hex');
                assert.equal(hex(await c.next()), want, what);
              },
              async expectClosed(c, what) {
                assert.equal(hex(await c.next()), 'CLOSED', what);
              },
              async expectSilence(c, ms = 300) {
                await assert.rejects(c.next(ms), /no packet within/);
              },
            };
            try {
              await s.run(ctx, v);
            } finally {
              for (const c of clients) c.close();
            }
          });
        }
      }
    });
  }
}

export { before, m };
