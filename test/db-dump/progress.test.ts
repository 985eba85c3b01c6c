/**
 * Progress on stderr for large files: shown when stderr is a terminal (run under `script`,
 * which gives the tool a pseudo-terminal), never when it is a pipe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { writeDbFile, type DbRecord } from '@skeeter/persistence';
import { launcher } from '../helpers/paths.js';
import { run, withTempDir } from './helpers.js';

const haveScript = spawnSync('sh', ['-c', 'command -v script'], { stdio: 'ignore' }).status === 0;

/** About 20 MB: above the 16 MiB threshold for progress. */
function* bigFile(): Generator<DbRecord> {
  yield { kind: 'cfg', lastDbId: 200_000n, shutdown: 1, dbidSize: 8 };
  const payload = Buffer.alloc(60, 0x62);
  for (let i = 1; i <= 200_000; i++) {
    yield {
      kind: 'msg_store', storeId: BigInt(i), expiryTime: 0n, sourceMid: 0, sourcePort: 0, sourceId: null, sourceUsername: null,
      topic: Buffer.from(`progress/${i}`), qos: 0, retain: 1, payload, properties: null,
    };
  }
  for (let i = 1; i <= 200_000; i++) yield { kind: 'retain', storeId: BigInt(i) };
}

const STATS = 'DB_CHUNK_CFG:        1\nDB_CHUNK_MSG_STORE:  200000\nDB_CHUNK_CLIENT_MSG: 0\nDB_CHUNK_RETAIN:     200000\nDB_CHUNK_SUB:        0\nDB_CHUNK_CLIENT:     0\n';

test('large file, stderr a pipe: no progress, just the output', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'big.db');
    await writeDbFile(path, bigFile(), { noSync: true });
    const r = await run(['--stats', path], undefined, 60_000);
    assert.equal(r.status, 0);
    assert.equal(r.stderr.toString(), '');
    assert.equal(r.stdout.toString(), STATS);
  });
});

test('large file, stderr a terminal: a progress line, erased at the end', { skip: haveScript ? false : '`script` (util-linux) not installed', timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'big.db');
    await writeDbFile(path, bigFile(), { noSync: true });
    const r = await run(['-qec', `${launcher('db_dump')} --stats ${path}`, '/dev/null'], 'script', 60_000);
    assert.equal(r.status, 0, r.stderr.toString());
    const tty = r.stdout.toString('latin1');
    assert.match(tty, /\rdb_dump: \d+% \(\d+ of \d+ MiB\)\x1b\[K/);
    assert.ok(tty.includes('\r\x1b[K'), 'progress line erased');
    // The terminal turns \n into \r\n.
    assert.ok(tty.replaceAll('\r\n', '\n').endsWith(STATS), tty.slice(-400));
  });
});
