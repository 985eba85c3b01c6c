/**
 * Runs an interop case against the Debian broker (oracle) first and then against ours: each run
 * returns a record (exit codes, stdout, stderr of the tools, normalised), the case's own
 * assertions run on both, and our record must equal the oracle's. Without the Debian broker
 * only our run happens (the expectations in the case still apply).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';

export type CaseRecord = Record<string, unknown>;

export interface CaseContext {
  broker: RunningBroker;
  oracle: boolean;
  /** Resolves when the broker's log (run with -v) from offset `from` on matches `re`; bounded. */
  waitLog(re: RegExp, from?: number, timeoutMs?: number): Promise<void>;
  /** The current length of the broker's log, to wait only for lines written after now. */
  logMark(): number;
}

export interface InteropCase {
  name: string;
  config?: string[];
  /** Set when our broker is known to differ: our run is marked todo with this reason. */
  todo?: string;
  /** Set when the oracle run is not comparable (the reason is shown). */
  noCompare?: string;
  run(ctx: CaseContext): Promise<CaseRecord>;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
export const logLine = (s: string): RegExp => new RegExp(escape(s));

export function runInteropCases(suite: string, cases: InteropCase[]): void {
  const withOracle = hasDebianMosquitto();
  const brokers = new Map<string, Promise<RunningBroker>>();
  const brokerFor = (oracle: boolean, config: string[] = []): Promise<RunningBroker> => {
    const key = `${oracle}\n${config.join('\n')}`;
    let b = brokers.get(key);
    if (!b) brokers.set(key, (b = startBroker({ config, oracle, verbose: true })));
    return b;
  };

  describe(suite, () => {
    after(async () => {
      for (const b of brokers.values()) await (await b).stop().catch(() => undefined);
    });
    if (!withOracle) test('Debian mosquitto is not installed: oracle comparison skipped', { skip: 'apt-get install mosquitto' }, () => {});

    for (const c of cases) {
      describe(c.name, () => {
        let oracleRecord: CaseRecord | undefined;
        const runOn = async (oracle: boolean): Promise<CaseRecord> => {
          const broker = await brokerFor(oracle, c.config);
          const ctx: CaseContext = {
            broker,
            oracle,
            logMark: () => broker.stderr().length,
            async waitLog(re, from = 0, timeoutMs = 5000) {
              const deadline = Date.now() + timeoutMs;
              while (!re.test(broker.stderr().slice(from))) {
                if (Date.now() > deadline) throw new Error(`broker log has no ${re} within ${timeoutMs} ms`);
                await new Promise((r) => setTimeout(r, 20));
              }
            },
          };
          return c.run(ctx);
        };
        if (withOracle) {
          test('debian mosquitto 2.0.11 (oracle)', { timeout: 20_000 }, async () => {
            oracleRecord = await runOn(true);
          });
        }
        test('skeeter', { timeout: 20_000, ...(c.todo ? { todo: c.todo } : {}) }, async () => {
          const ours = await runOn(false);
          if (oracleRecord && !c.noCompare) assert.deepEqual(ours, oracleRecord, 'same tool output as against Debian mosquitto');
        });
      });
    }
  });
}
