/**
 * A bounded fuzz run against a live broker process (the long run is scripts/fuzz-broker.mjs):
 * random bytes and mutated packets from many connections, in all three versions, while
 * well-behaved clients keep doing QoS 1 round trips. Afterwards the broker must still run, serve
 * a fresh client, hold no leftover sockets, and have written no stack trace or crash line.
 * The seed is printed; FUZZ_SEED=<n> repeats a run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBroker } from '../helpers/broker-process.js';
import { crashLines, fuzzBroker, RoundTripper, socketCount } from '../interop/broker-fuzz.js';

const SECONDS = 20;

test(`broker survives ${SECONDS} s of random and mutated packets and keeps serving clients`, { timeout: 50_000 }, async (t) => {
  const seed = process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  t.diagnostic(`seed ${seed} (repeat with FUZZ_SEED=${seed})`);
  // Small limits so that the limit paths are fuzzed too.
  const broker = await startBroker({ config: ['max_inflight_messages 5', 'max_queued_messages 20', 'max_packet_size 10000'] });
  try {
    const baseline = socketCount(broker.pid);
    const report = await fuzzBroker({ port: broker.port, seconds: SECONDS, seed });
    t.diagnostic(
      `${report.attacks} attack connections (${JSON.stringify(report.byKind)}), ${report.bytes} bytes, ` +
        `${report.closedByBroker} closed by the broker, ${report.roundTrips} QoS 1 round trips`,
    );
    assert.deepEqual(report.failures, [], `well-behaved clients failed (seed ${seed})`);
    assert.ok(report.attacks > 200, `enough attacks ran: ${report.attacks}`);
    assert.ok(report.roundTrips > 50, `round trips kept going: ${report.roundTrips}`);
    assert.equal(broker.process.exitCode, null, `broker exited: ${broker.stderr().slice(-2000)}`);
    assert.equal(broker.process.signalCode, null);

    // A fresh client in every version is served.
    for (const v of [3, 4, 5] as const) {
      const fresh = new RoundTripper(v, `fresh-v${v}`);
      try {
        await fresh.open(broker.port);
        await fresh.roundTrip();
      } finally {
        fresh.close();
      }
    }

    // Every attacker socket is gone on our side: the broker must have closed its side too.
    if (baseline !== undefined) {
      let now = socketCount(broker.pid)!;
      for (let i = 0; i < 50 && now > baseline; i++) {
        await new Promise((r) => setTimeout(r, 100));
        now = socketCount(broker.pid)!;
      }
      assert.ok(now <= baseline, `broker holds ${now} sockets, ${baseline} before the run (leaked connections)`);
    }

    assert.deepEqual(crashLines(broker.stderr()), [], 'no stack trace or crash line on stderr');
  } finally {
    const code = await broker.stop();
    assert.equal(code, 0, 'clean exit on SIGTERM after the run');
  }
});
