/**
 * Damaged files never crash the reader: random byte mutations of real files either decode or
 * fail with PersistenceError, and the streaming reader agrees with the buffer reader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PersistenceError, readDbBuffer, readDbFile, type DbEvent } from '../src/index.js';
import { fixture } from './helpers/fixtures.js';
import { Rng } from './helpers/generate.js';

type Outcome = { events: DbEvent[]; error: string | null };

function syncOutcome(buf: Buffer): Outcome {
  const events: DbEvent[] = [];
  try {
    for (const e of readDbBuffer(buf)) events.push(e);
    return { events, error: null };
  } catch (e) {
    if (!(e instanceof PersistenceError)) throw e;
    return { events, error: `${e.code} ${JSON.stringify(e.details)}` };
  }
}

async function streamOutcome(path: string): Promise<Outcome> {
  const events: DbEvent[] = [];
  try {
    for await (const e of readDbFile(path, { blockSize: 97 })) events.push(e);
    return { events, error: null };
  } catch (e) {
    if (!(e instanceof PersistenceError)) throw e;
    return { events, error: `${e.code} ${JSON.stringify(e.details)}` };
  }
}

function mutate(rng: Rng, src: Buffer): Buffer {
  const b = Buffer.from(src);
  for (let k = 1 + rng.int(4); k > 0; k--) {
    const at = 23 + rng.int(b.length - 23);
    switch (rng.int(3)) {
      case 0: b[at] = rng.int(256); break;
      case 1: b[at] = b[at]! ^ (1 << rng.int(8)); break;
      default: b[at] = [0x00, 0xff, 0x7f, 0x80][rng.int(4)]!; break;
    }
  }
  return rng.int(5) === 0 ? b.subarray(0, 23 + rng.int(b.length - 23)) : b;
}

for (const name of ['b-retained', 'c-persistent-v311', 'c2-stale-username-v311'] as const) {
  test(`${name}: 1500 random mutations decode or fail with PersistenceError; both readers agree`, async () => {
    const src = fixture(name);
    const rng = new Rng(name.length * 7919);
    const dir = mkdtempSync(join(tmpdir(), 'skeeter-fuzz-'));
    try {
      let failures = 0;
      for (let i = 0; i < 1500; i++) {
        const buf = mutate(rng, src);
        const sync = syncOutcome(buf);
        if (sync.error) failures++;
        if (i % 25 === 0) {
          const path = join(dir, 'm.db');
          writeFileSync(path, buf);
          assert.deepEqual(await streamOutcome(path), sync, `mutation ${i}`);
        }
      }
      // The mutations must actually reach the error paths.
      assert.ok(failures > 50, `only ${failures} mutations failed`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
