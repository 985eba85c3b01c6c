/**
 * Durable mode, fan-outs: a publish queued for several offline sessions is one QUEUE_MANY, and a
 * publish queued for the same sessions as the one before is a 10-byte QUEUE_SAME referring back
 * to it (docs/durable-journal.md). Publishes alternate between two sets of sessions (one a
 * subset of the other), the broker is killed with SIGKILL, and after the restart every session
 * holds exactly what was acknowledged for it, no more (the journal held both kinds of operation).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { durableConfig, drainSubscriber, persistentSubscriber, runPublisher, startDurable } from './helpers.js';

const conf = (dir: string): string[] => durableConfig(dir, 0).map((l) => (l.startsWith('listener') ? 'listener %PORT% 127.0.0.1' : l));

/** Operation codes of every frame of a journal file, read without the library (raw layout). */
function opCodes(file: Buffer): number[] {
  const codes: number[] = [];
  let p = 42;
  while (p + 8 <= file.length) {
    const len = file.readUInt32BE(p);
    const end = p + 8 + len;
    if (end > file.length) break;
    let q = p + 8;
    while (q + 5 <= end) {
      codes.push(file[q]!);
      q += 5 + file.readUInt32BE(q + 1);
    }
    p = end;
  }
  return codes;
}

test('publishes to the same sessions as the last one are QUEUE_SAME and replay to those sessions', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-fanout-'));
  let broker = await startDurable(dir, conf(dir));
  try {
    await persistentSubscriber(broker.port, 4, 'fan-a', 'fan/#');
    await persistentSubscriber(broker.port, 4, 'fan-b', 'fan/#');
    await persistentSubscriber(broker.port, 4, 'fan-c', 'fan/all');
    const acked: Record<string, string[]> = { all: [], ab: [] };
    // Alternating runs: each run repeats its fan-out (QUEUE_SAME), each switch departs from it.
    const plan: Array<['all' | 'ab', number]> = [['all', 30], ['ab', 12], ['all', 7], ['ab', 1], ['all', 25], ['ab', 20]];
    for (const [i, [which, n]] of plan.entries()) {
      const run = await runPublisher(broker.port, 4, 'fan-pub', `fan/${which}`, 1, `${which}${i}`, n, 10);
      assert.equal(run.acked.length, n);
      acked[which]!.push(...run.acked);
    }
    await broker.kill();
    const journals = readdirSync(dir).filter((f) => f.includes('.journal.'));
    const codes = journals.flatMap((f) => opCodes(readFileSync(join(dir, f))));
    assert.ok(codes.includes(12), `a QUEUE_MANY in ${journals.join(', ')}`);
    assert.ok(codes.filter((c) => c === 13).length >= 50, `QUEUE_SAME operations: ${codes.filter((c) => c === 13).length}`);

    broker = await startDurable(dir, conf(dir), broker.port);
    assert.ok(broker.ready, broker.stderr());
    const expect: Record<string, string[]> = { 'fan-a': [...acked.all!, ...acked.ab!], 'fan-b': [...acked.all!, ...acked.ab!], 'fan-c': acked.all! };
    for (const [id, want] of Object.entries(expect)) {
      const got = await drainSubscriber(broker.port, 4, id, `mark/${id}`);
      assert.equal(got.present, true);
      const payloads = [...got.counts.keys()].filter((p) => !p.startsWith('marker-')).sort();
      assert.deepEqual(payloads, [...want].sort(), id);
      for (const p of payloads) assert.equal(got.counts.get(p), 1, `${id} ${p}`);
    }
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
