/**
 * db_dump on bad command lines and damaged files: Mosquitto 2.0's messages (without their
 * trailing newline where 2.0 has none), output printed up to the fault, and exit statuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDbBuffer } from '@skeeter/persistence';
import { launcher } from '../helpers/paths.js';
import { fixtureBytes, fixturePath, run, withTempDir } from './helpers.js';

const USAGE = 'Usage: db_dump [--stats | --client-stats] <mosquitto db filename>\n';

async function dumpBytes(bytes: Buffer, args: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return withTempDir(async (dir) => {
    const path = join(dir, 'mosquitto.db');
    writeFileSync(path, bytes);
    const r = await run([...args, path]);
    return { status: r.status, stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1') };
  });
}

test('usage: wrong argument counts print the usage line and exit 1', async () => {
  for (const args of [[], ['a', 'b', 'c'], ['--bogus', 'x'], ['--stats', 'a', 'b']]) {
    const r = await run(args);
    assert.equal(r.status, 1, args.join(' '));
    assert.equal(r.stdout.toString(), '');
    assert.equal(r.stderr.toString(), USAGE);
  }
});

test('a file that cannot be opened: message on stderr, exit status 0', async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, 'missing.db');
    const r = await run([missing]);
    assert.equal(r.status, 0);
    assert.equal(r.stdout.toString(), '');
    assert.equal(r.stderr.toString(), `Error: Unable to open ${missing}\n`);
    // With one argument, "--stats" is the file name.
    const s = await run(['--stats']);
    assert.equal(s.status, 0);
    assert.equal(s.stderr.toString(), 'Error: Unable to open --stats\n');
  });
});

test('a directory: the read fails with strerror(EISDIR)', async () => {
  await withTempDir(async (dir) => {
    const sub = join(dir, 'd');
    mkdirSync(sub);
    const r = await run([sub]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout.toString(), '');
    assert.equal(r.stderr.toString(), 'Error: Is a directory.');
  });
});

test('empty and short files: "Error: Success." (fread leaves errno 0), no newline, exit 1', async () => {
  const good = fixtureBytes('a-empty');
  const cases: Array<[number, string]> = [
    [0, ''],
    [10, ''],
    [15, 'Mosquitto DB dump\n'],
    [20, 'Mosquitto DB dump\nCRC: 0\n'],
  ];
  for (const [len, stdout] of cases) {
    const r = await dumpBytes(good.subarray(0, len));
    assert.deepEqual(r, { status: 1, stdout, stderr: 'Error: Success.' }, `length ${len}`);
    const s = await dumpBytes(good.subarray(0, len), ['--stats']);
    assert.deepEqual(s, { status: 1, stdout: '', stderr: 'Error: Success.' }, `--stats, length ${len}`);
  }
});

test('a foreign file: "Error: Unrecognised file format." without newline; --stats still prints zero counts', async () => {
  const bytes = Buffer.from('this is not a mosquitto database at all\n');
  assert.deepEqual(await dumpBytes(bytes), { status: 1, stdout: '', stderr: 'Error: Unrecognised file format.' });
  assert.deepEqual(await dumpBytes(bytes, ['--stats']), {
    status: 1,
    stdout:
      'DB_CHUNK_CFG:        0\nDB_CHUNK_MSG_STORE:  0\nDB_CHUNK_CLIENT_MSG: 0\n' +
      'DB_CHUNK_RETAIN:     0\nDB_CHUNK_SUB:        0\nDB_CHUNK_CLIENT:     0\n',
    stderr: 'Error: Unrecognised file format.',
  });
  assert.deepEqual(await dumpBytes(bytes, ['--client-stats']), { status: 1, stdout: '', stderr: 'Error: Unrecognised file format.' });
});

test('truncated files: output up to the damaged chunk, then the corrupt-database error', async () => {
  const name = 'c-persistent-v311';
  const bytes = fixtureBytes(name);
  const reference = fixtureBytes(name, '.dump.txt').toString('latin1');
  // The reference text split into its header and one block per chunk, in file order.
  const [head, ...blocks] = reference.split(/^(?=DB_CHUNK_)/m);
  const chunks = [...readDbBuffer(bytes)].flatMap((e) => (e.event === 'chunk' ? [e.chunk] : []));
  assert.equal(blocks.length, chunks.length);
  for (let k = 1; k < chunks.length; k++) {
    const { offset, length, record } = chunks[k]!;
    const before = head + blocks.slice(0, k).join('');
    // Cut inside the chunk header: the dump just ends there, successfully.
    assert.deepEqual(await dumpBytes(bytes.subarray(0, offset + 5)), { status: 0, stdout: before, stderr: '' }, `header of chunk ${k}`);
    // Cut inside the body.
    const cut = await dumpBytes(bytes.subarray(0, offset + 8 + length - 1));
    if (record.kind === 'retain') {
      // The RETAIN header lines come before its body is read, and its reader fails silently.
      assert.deepEqual(cut, { status: 1, stdout: before + 'DB_CHUNK_RETAIN:\n\tLength: 8\n', stderr: '' }, `body of chunk ${k}`);
    } else {
      assert.deepEqual(cut, { status: 1, stdout: before, stderr: 'Error: Corrupt persistent database.' }, `body of chunk ${k}`);
    }
    // --stats prints nothing after a corrupt chunk.
    const stats = await dumpBytes(bytes.subarray(0, offset + 8 + length - 1), ['--stats']);
    assert.equal(stats.status, 1);
    assert.equal(stats.stdout, '');
  }
});

test('unknown chunks: a warning line on stderr, the rest of the dump unchanged', async () => {
  const base = fixtureBytes('b-retained');
  const unknown = Buffer.alloc(8 + 5);
  unknown.writeUInt32BE(77, 0);
  unknown.writeUInt32BE(5, 4);
  const bytes = Buffer.concat([base.subarray(0, 47), unknown, base.subarray(47)]);
  const r = await dumpBytes(bytes);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, fixtureBytes('b-retained', '.dump.txt').toString('latin1'));
  assert.equal(r.stderr, 'Warning: Unsupported chunk "77" in persistent database file. Ignoring.\n');
});

test('a newer DB version: warning on stdout, then read on', async () => {
  const bytes = Buffer.from(fixtureBytes('a-empty').subarray(0, 23));
  bytes.writeUInt32BE(7, 19);
  assert.deepEqual(await dumpBytes(bytes), {
    status: 0,
    stdout: 'Mosquitto DB dump\nCRC: 0\nDB version: 7\nWarning: mosquitto_db_dump does not support this DB version, continuing but expecting errors.\n',
    stderr: '',
  });
});

test('a db id size other than 8: the CFG lines so far, then the error without newline', async () => {
  const bytes = Buffer.from(fixtureBytes('a-empty'));
  bytes[23 + 8 + 9] = 4;
  assert.deepEqual(await dumpBytes(bytes), {
    status: 1,
    stdout: 'Mosquitto DB dump\nCRC: 0\nDB version: 6\nDB_CHUNK_CFG:\n\tLength: 16\n\tShutdown: 1\n\tDB ID size: 4\n',
    stderr: 'Error: Incompatible database configuration (dbid size is 4 bytes, expected 8)',
  });
});

test('the launcher runs the built tool (not the placeholder)', async () => {
  const r = await run([fixturePath('a-empty')]);
  assert.equal(r.status, 0);
  assert.match(r.stdout.toString(), /^Mosquitto DB dump\n/);
});

test('a reader that goes away early (db_dump | head): quiet exit 141 like a SIGPIPE death, no stack trace', async () => {
  const child = spawn(launcher('db_dump'), [fixturePath('e-large')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // The dump is ~480 KB, far more than a pipe holds: closing our end after the first data
  // makes one of its later writes fail.
  child.stdout.once('data', () => child.stdout.destroy());
  const status = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      process.kill(child.pid!, 'SIGKILL');
      reject(new Error('db_dump did not exit within 30 s'));
    }, 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  assert.equal(status, 141);
  assert.equal(stderr, '');
});
