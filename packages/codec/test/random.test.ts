/**
 * Random inputs against the decoder: 120,000 inputs (random bytes, random bodies behind
 * plausible fixed headers, valid packets and their mutants: bit flips, overwrites, truncations,
 * splices, remaining-length and inner-length tampering), each through `decodePacket` and through
 * a `Decoder` fed random chunk splits, for MQTT 3.1, 3.1.1 and 5.0 and the roles server, client
 * and any. The only outcomes allowed are packets or `MqttProtocolError`; the two decoding paths
 * must agree, and every accepted packet must survive encode/decode unchanged (see gen/fuzz.ts).
 *
 * Each version runs in a worker thread watched for progress, so a decoder that hangs fails the
 * test (with the input it hung on) instead of hanging the run. The seed is fixed (override with
 * CODEC_TEST_SEED=n) and printed with every failure.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProtocolVersion } from '../src/constants.js';
import { formatFailure } from './gen/fuzz.js';
import { runWatchedFuzz } from './gen/fuzz-runner.js';
import { seedFromEnv } from './gen/random.js';

const SEED = seedFromEnv(20_260_226);
const PER_VERSION = 40_000;
/** No progress report (every 2,000 inputs) for this long means a hang. */
const STALL_SECONDS = 30;

const VERSIONS: Array<[ProtocolVersion, string]> = [
  [3, '3.1'],
  [4, '3.1.1'],
  [5, '5.0'],
];

for (const [version, name] of VERSIONS) {
  // The timeout bounds a slow run; the watchdog inside catches a hang much sooner.
  test(`MQTT ${name}: ${PER_VERSION} random and mutated inputs give packets or MqttProtocolError only`, { timeout: 180_000 }, async () => {
    const seed = (SEED + version) >>> 0;
    const result = await runWatchedFuzz({
      seed,
      iterations: PER_VERSION,
      versions: [version],
      maxFailures: 5,
      stallSeconds: STALL_SECONDS,
    });
    if (result.problem) {
      assert.fail(
        `${result.problem} (seed ${seed}, version ${version})` +
          (result.stuckInputHex === undefined ? '' : `\ninput being decoded: ${result.stuckInputHex}`),
      );
    }
    const stats = result.stats;
    assert.ok(stats, 'the worker reported');
    if (stats.failures.length > 0) {
      assert.fail(`${stats.failures.length} failure(s); replay with CODEC_TEST_SEED=${SEED}\n\n` + stats.failures.map((f) => formatFailure(f, seed)).join('\n\n'));
    }
    assert.equal(stats.inputs, PER_VERSION);
    // The inputs reach both outcomes in bulk: not everything is rejected at the first byte.
    assert.ok(stats.packets > PER_VERSION / 10, `decoded packets: ${stats.packets}`);
    assert.ok(stats.protocolErrors > PER_VERSION / 2, `protocol errors: ${stats.protocolErrors}`);
  });
}
