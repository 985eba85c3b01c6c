/**
 * scanChunk / scanDbHandle (the record-free pass of `db_dump --stats`) must see exactly what
 * the full decoder sees: the same chunk types and lengths in the same order, and the same
 * error (code, chunk type, reason) at the same place, for real files, every version's layout,
 * every truncation and random corruption.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeChunk, decodeHeader, encodeDb, NeedMoreData, PersistenceError, scanChunk, scanDbHandle, stateToRecords } from '../src/index.js';
import { FIXTURES, fixture } from './helpers/fixtures.js';
import { generateState } from './helpers/generate.js';
import { chunkV56, clientV5, header, v234 } from './helpers/legacy.js';

type Outcome = { items: string[]; error: string | null };

function describeError(e: unknown): string {
  if (e instanceof PersistenceError) return `${e.code}:${String(e.details.chunkType)}:${String(e.details.reason)}`;
  if (e instanceof NeedMoreData) return 'need-more';
  throw e;
}

/** Walks a whole in-memory file with decodeChunk (eof = true, as at the end of a file). */
function walkDecode(buf: Buffer): Outcome {
  const items: string[] = [];
  try {
    const { header: h, next } = decodeHeader(buf, true);
    let pos = next;
    for (;;) {
      const r = decodeChunk(buf, pos, true, h.version, pos, { copy: false });
      if (r.kind === 'end') break;
      if (r.kind === 'unknown') {
        items.push(`?${r.type}/${r.length}@${r.offset}`);
        pos = r.next + r.skip;
        if (pos >= buf.length) break;
        continue;
      }
      items.push(`${r.chunk.type}/${r.chunk.length}@${r.chunk.offset}`);
      pos = r.next;
    }
    return { items, error: null };
  } catch (e) {
    return { items, error: describeError(e) };
  }
}

function walkScan(buf: Buffer): Outcome {
  const items: string[] = [];
  try {
    const { header: h, next } = decodeHeader(buf, true);
    let pos = next;
    for (;;) {
      const r = scanChunk(buf, pos, true, h.version, pos);
      if (r.type === -1) break;
      if (!r.known) {
        items.push(`?${r.type}/${r.length}@${pos}`);
        pos = r.next + r.skip;
        if (pos >= buf.length) break;
        continue;
      }
      items.push(`${r.type}/${r.length}@${pos}`);
      pos = r.next;
    }
    return { items, error: null };
  } catch (e) {
    return { items, error: describeError(e) };
  }
}

function legacyFiles(): Buffer[] {
  const files: Buffer[] = [];
  for (const version of [2, 3, 4]) {
    files.push(
      Buffer.concat([
        header(version),
        v234.cfg(1, 77n),
        v234.msgStore(version, 70n, 'pub', 'a/b', 'hello', 1, 1),
        v234.client(version, 'sess', 12),
        v234.clientMsg('sess', 70n, 5, 1, 1, 1, 11, 1),
        v234.retain(70n),
        v234.sub('sess', 'a/#', 1),
      ]),
    );
  }
  files.push(Buffer.concat([header(5), clientV5('five', 3, 60), chunkV56(99, Buffer.from('skipped')), clientV5('', 1, 0)]));
  return files;
}

const corpus = (): Buffer[] => [
  ...FIXTURES.map((n) => fixture(n)),
  ...[1, 2, 3].map((seed) => encodeDb(stateToRecords(generateState(seed, { messages: 20, sessions: 4 })))),
  ...legacyFiles(),
];

test('scanChunk agrees with decodeChunk on whole files of every layout', () => {
  for (const buf of corpus()) {
    const d = walkDecode(buf);
    assert.ok(d.items.length > 0);
    assert.deepEqual(walkScan(buf), d);
  }
});

test('scanChunk agrees with decodeChunk at every truncation length', () => {
  for (const buf of corpus()) {
    // Bounded: at most 3000 cut points per file, spread over the whole file.
    const step = Math.max(1, Math.ceil(buf.length / 3000));
    for (let len = 23; len < buf.length; len += step) {
      const cut = buf.subarray(0, len);
      assert.deepEqual(walkScan(cut), walkDecode(cut), `cut at ${len}`);
    }
  }
});

test('scanChunk agrees with decodeChunk on randomly corrupted files', () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let errors = 0;
  for (const original of corpus()) {
    for (let i = 0; i < 300; i++) {
      const buf = Buffer.from(original);
      const flips = 1 + rand(4);
      for (let f = 0; f < flips; f++) buf[23 + rand(buf.length - 23)] = rand(256);
      const d = walkDecode(buf);
      if (d.error !== null) errors++;
      assert.deepEqual(walkScan(buf), d);
    }
  }
  // The mutations must actually reach the error paths.
  assert.ok(errors > 50, `only ${errors} corrupted files failed to decode`);
});

test('scanDbHandle streams a file in small blocks with the same chunks as the full decoder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-scan-'));
  try {
    for (const [i, buf] of corpus().entries()) {
      const path = join(dir, `f${i}.db`);
      writeFileSync(path, buf);
      for (const blockSize of [1, 7, 4096]) {
        const seen: string[] = [];
        const fh = await open(path, 'r');
        try {
          await scanDbHandle(
            fh,
            {
              header() {},
              chunk(type, length, offset) {
                seen.push(`${type}/${length}@${offset}`);
              },
              unknown(type, length, offset) {
                seen.push(`?${type}/${length}@${offset}`);
              },
            },
            { blockSize },
          );
        } catch (e) {
          seen.push(`error ${describeError(e)}`);
        } finally {
          await fh.close();
        }
        const d = walkDecode(buf);
        assert.deepEqual(seen, d.error === null ? d.items : [...d.items, `error ${d.error}`], `file ${i} block ${blockSize}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
