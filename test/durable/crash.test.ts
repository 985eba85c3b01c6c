/**
 * Durable mode under SIGKILL: offline persistent sessions (MQTT 3.1, 3.1.1 and 5.0) receive
 * QoS 1 and QoS 2 messages from pipelining publishers of every version; the broker is killed
 * at a random moment while they run, restarted on the same directory, and every subscriber
 * must then get every message whose PUBACK / PUBCOMP its publisher received, QoS 2 ones at most
 * once. Rounds chain on one directory, so later rounds replay journals over snapshots that were
 * themselves made from replayed journals; in odd rounds a SIGUSR1 save (snapshot and journal
 * rotation) happens at a random moment while the publishers run, so kills also land in the
 * middle of a save or right after one.
 *
 * A second test gives the QoS 2 publishers persistent sessions that resume after each kill
 * (PUBLISH again with DUP, PUBREL again): the broker must have kept their held messages, so in
 * the end every message they ever sent arrives exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Version } from '../helpers/mqtt-bytes.js';
import { drainSubscriber, durableConfig, persistentSubscriber, prng, ResumablePublisher, runPublisher, startDurable, type PublishRun } from './helpers.js';

const VERSIONS: Version[] = [3, 4, 5];
const ROUNDS = 10;
const SEED = Number(process.env.DURABLE_SEED ?? Date.now() % 1_000_000);

test(`SIGKILL at random moments loses no acknowledged message (MQTT 3.1/3.1.1/5, QoS 1/2, ${ROUNDS} kills, seed ${SEED})`, { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-durable-'));
  const random = prng(SEED);
  const subscriber = (v: Version): string => `dsub-v${v}`;
  let lost = 0;
  let checked = 0;
  try {
    let port: number | undefined;
    let expected = new Map<Version, PublishRun[]>();
    /** QoS 2 payloads each subscriber got in earlier drains: none may come again. */
    const seenQ2 = new Map<Version, Set<string>>(VERSIONS.map((v) => [v, new Set()]));
    for (let round = 0; round <= ROUNDS; round++) {
      const broker = await startDurable(dir, durableConfig(dir, 0).map((l) => (l.startsWith('listener') ? 'listener %PORT% 127.0.0.1' : l)), port);
      port = broker.port;
      const log = (): string => `seed ${SEED}, round ${round}\n${broker.stderr()}`;
      try {
        if (round === 0) {
          for (const v of VERSIONS) await persistentSubscriber(port, v, subscriber(v), 'd/#');
        } else {
          // Everything acknowledged before the kill must be there, QoS 2 at most once.
          for (const v of VERSIONS) {
            const got = await drainSubscriber(port, v, subscriber(v), 'd/marker');
            // MQTT 3.1's CONNACK has no session-present flag.
            if (v !== 3) assert.equal(got.present, true, `session of ${subscriber(v)} survived (${log()})`);
            for (const runs of expected.values()) {
              for (const run of runs) {
                for (const payload of run.acked) {
                  checked++;
                  const n = got.counts.get(payload) ?? 0;
                  if (n === 0) lost++;
                  assert.ok(n >= 1, `${subscriber(v)} lost acknowledged ${payload} (${log()})`);
                  if (payload.includes('-q2-')) assert.equal(n, 1, `${subscriber(v)} got QoS 2 ${payload} ${n} times (${log()})`);
                }
              }
            }
            const seen = seenQ2.get(v)!;
            for (const [payload, n] of got.counts) {
              if (!payload.includes('-q2-') || got.qos.get(payload) !== 2) continue;
              assert.equal(n, 1, `${payload} delivered ${n} times (${log()})`);
              // Completed before an earlier kill: the replayed journal knows it is done.
              assert.ok(!seen.has(payload), `${subscriber(v)} got QoS 2 ${payload} again after a restart (${log()})`);
              seen.add(payload);
            }
          }
        }
        if (round === ROUNDS) {
          assert.equal(await broker.stop(), 0, log());
          break;
        }
        // Publishers of every version and QoS run; the kill comes at a random moment.
        expected = new Map();
        const runs: Array<Promise<PublishRun>> = [];
        for (const v of VERSIONS) {
          for (const qos of [1, 2] as const) {
            runs.push(runPublisher(port, v, `dpub-v${v}-q${qos}`, `d/v${v}/q${qos}`, qos, `r${round}-v${v}-q${qos}`, 100_000));
          }
        }
        const delay = 100 + Math.floor(random() * 300);
        if (round % 2 === 1) {
          // Odd rounds: SIGUSR1 saves (snapshot + journal rotation) while the publishers run,
          // so the kill can land during a save or just after one.
          const save = Math.floor(random() * delay);
          await new Promise((r) => setTimeout(r, save));
          broker.signal('SIGUSR1');
          await new Promise((r) => setTimeout(r, delay - save));
        } else {
          await new Promise((r) => setTimeout(r, delay));
        }
        await broker.kill();
        const results = await Promise.all(runs);
        let i = 0;
        for (const v of VERSIONS) {
          expected.set(v, [results[i]!, results[i + 1]!]);
          i += 2;
        }
      } catch (e) {
        await broker.kill();
        throw e;
      }
    }
    assert.equal(lost, 0);
    // The runs acknowledged something to check (else this test could not fail).
    assert.ok(checked > 0, 'no message was acknowledged in any round');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`QoS 2 publishers with persistent sessions resume after each SIGKILL: every message they sent is delivered exactly once (seed ${SEED})`, { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-durable-'));
  const random = prng(SEED + 1);
  const KILLS = 5;
  try {
    let port: number | undefined;
    const publishers = VERSIONS.map((v) => new ResumablePublisher(v, `rpub-v${v}`, `e/v${v}`, `rp-v${v}`));
    for (let round = 0; round <= KILLS; round++) {
      const broker = await startDurable(dir, durableConfig(dir, 0).map((l) => (l.startsWith('listener') ? 'listener %PORT% 127.0.0.1' : l)), port);
      port = broker.port;
      const log = (): string => `seed ${SEED}, round ${round}\n${broker.stderr()}`;
      try {
        if (round === 0) await persistentSubscriber(port, 4, 'esub', 'e/#');
        if (round < KILLS) {
          const runs = publishers.map((p) => p.run(port!, 100_000));
          await new Promise((r) => setTimeout(r, 100 + Math.floor(random() * 300)));
          await broker.kill();
          await Promise.all(runs);
          continue;
        }
        // Last start: every publisher completes what it has in flight, then the subscriber drains.
        await Promise.all(publishers.map((p) => p.run(port!, 0)));
        for (const p of publishers) assert.equal(p.outstanding, 0, `${p.sent.length} sent (${log()})`);
        const got = await drainSubscriber(port, 4, 'esub', 'e/marker');
        let total = 0;
        for (const p of publishers) {
          for (const payload of p.sent) {
            total++;
            assert.equal(got.counts.get(payload), 1, `${payload} delivered ${got.counts.get(payload) ?? 0} times (${log()})`);
          }
        }
        assert.ok(total > 0);
        assert.equal(await broker.stop(), 0, log());
      } catch (e) {
        await broker.kill();
        throw e;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
