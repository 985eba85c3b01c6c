#!/usr/bin/env node
// Long-running fuzz run against a live broker process: random bytes and mutated packets from many
// connections (all three protocol versions) while well-behaved clients keep doing QoS 1 round
// trips; the same engine as test/broker/fuzz.test.ts (test/interop/broker-fuzz.ts). At the end the
// broker must still run, serve fresh clients, hold no leftover sockets and have logged no crash.
// Prints progress every 5 s; exits 1 on any failure, printing the seed to repeat it.
//
//   node scripts/fuzz-broker.mjs [--seconds N] [--seed S] [--concurrency C] [--oracle] [--port P]
//   node scripts/fuzz-broker.mjs --differential [--count N] [--seed S]
//
// --oracle runs Debian's /usr/sbin/mosquitto instead (checks the fuzzer itself); --port attacks an
// already running broker on 127.0.0.1 instead of starting one. --differential sends the same
// attacks one at a time to our broker and to Debian's, and prints each difference in the answer
// (shrunk to the shortest input that still differs); it exits 1 when there is any. Build first.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

const root = new URL('..', import.meta.url);
const engineUrl = new URL('test/dist/interop/broker-fuzz.js', root);
const brokerUrl = new URL('test/dist/helpers/broker-process.js', root);
if (!existsSync(engineUrl) || !existsSync(brokerUrl)) {
  console.error('The tests are not built: run `pnpm build` (or `npx tsc -b`) first.');
  process.exit(1);
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    oracle: { type: 'boolean', default: false },
    port: { type: 'string' },
    differential: { type: 'boolean', default: false },
    count: { type: 'string', default: '500' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node scripts/fuzz-broker.mjs [--seconds N] [--seed S] [--concurrency C] [--oracle] [--port P]');
  console.log('       node scripts/fuzz-broker.mjs --differential [--count N] [--seed S]');
  process.exit(0);
}
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(values.seed) >>> 0;
if (!(seconds > 0) || !Number.isInteger(concurrency) || concurrency < 1) {
  console.error('Bad arguments: --seconds must be > 0, --concurrency >= 1.');
  process.exit(2);
}

const { fuzzBroker, RoundTripper, socketCount, crashLines, differentialRun } = await import(engineUrl.href);
const { startBroker, hasDebianMosquitto } = await import(brokerUrl.href);

if (values.differential) {
  if (!hasDebianMosquitto()) {
    console.error('--differential needs the Debian mosquitto (apt-get install mosquitto).');
    process.exit(2);
  }
  const count = Number(values.count);
  const ours = await startBroker({});
  const oracle = await startBroker({ oracle: true });
  console.log(`differential run: ${count} attacks, seed ${seed}`);
  const { compared, differences } = await differentialRun({
    ourPort: ours.port,
    oraclePort: oracle.port,
    count,
    seed,
    onDifference: (d) =>
      console.log(
        `#${d.index} ${d.kind} v${d.version}\n  sent:   ${d.sent}\n  ours:   ${d.ours.out} ${d.ours.closed ? 'CLOSED' : 'open'}\n` +
          `  oracle: ${d.oracle.out} ${d.oracle.closed ? 'CLOSED' : 'open'}`,
      ),
  });
  await ours.stop();
  await oracle.stop();
  console.log(`${differences.length} differences in ${compared} compared attacks (seed ${seed})`);
  process.exit(differences.length ? 1 : 0);
}

const broker =
  values.port === undefined
    ? await startBroker({ oracle: values.oracle, config: ['max_inflight_messages 5', 'max_queued_messages 20', 'max_packet_size 10000'] })
    : undefined;
const port = broker ? broker.port : Number(values.port);
const target = broker ? (values.oracle ? 'Debian mosquitto' : 'skeeter') : `127.0.0.1:${port}`;
console.log(`fuzzing ${target} on port ${port} for ${seconds} s, seed ${seed}, ${concurrency} attackers`);

const problems = [];
const started = Date.now();
const baseline = broker ? socketCount(broker.pid) : undefined;
const report = await fuzzBroker({
  port,
  seconds,
  seed,
  concurrency,
  onProgress: (r) =>
    console.log(
      `${Math.round((Date.now() - started) / 1000)} s: ${r.attacks} attacks, ${r.bytes} bytes, ` +
        `${r.closedByBroker} closed by the broker, ${r.roundTrips} round trips, ${r.failures.length} failures`,
    ),
});
problems.push(...report.failures);
if (broker && (broker.process.exitCode !== null || broker.process.signalCode !== null)) {
  problems.push(`broker exited (${broker.process.exitCode ?? broker.process.signalCode})`);
} else {
  for (const v of [3, 4, 5]) {
    const fresh = new RoundTripper(v, `fresh-v${v}`);
    try {
      await fresh.open(port);
      await fresh.roundTrip();
    } catch (e) {
      problems.push(`fresh v${v} client not served: ${e.message}`);
    } finally {
      fresh.close();
    }
  }
  if (baseline !== undefined) {
    let now = socketCount(broker.pid);
    for (let i = 0; i < 50 && now > baseline; i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = socketCount(broker.pid);
    }
    if (now > baseline) problems.push(`broker holds ${now} sockets, ${baseline} before the run`);
  }
}
if (broker) {
  const crash = crashLines(broker.stderr());
  if (crash.length) problems.push(`crash lines on stderr:\n${crash.slice(0, 40).join('\n')}`);
  const code = await broker.stop();
  if (code !== 0) problems.push(`exit code ${code} on SIGTERM`);
}

console.log(
  `${report.attacks} attacks (${JSON.stringify(report.byKind)}), ${report.bytes} bytes, ` +
    `${report.closedByBroker} closed by the broker, ${report.roundTrips} QoS 1 round trips`,
);
if (problems.length) {
  console.error(`FAILED (seed ${seed}):\n${problems.join('\n')}`);
  process.exit(1);
}
console.log('ok');
