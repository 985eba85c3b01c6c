import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, createReadStream, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtomicWriteError, writeFileAtomic } from '@skeeter/password-file';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-atomic-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a new file is created mode 0600 and no temporary file is left', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  await writeFileAtomic(path, Buffer.from('a:b\n'));
  assert.equal(readFileSync(path, 'utf8'), 'a:b\n');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['pw']);
});

test('replacing keeps the mode of the old file and swaps the inode', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  writeFileSync(path, 'old\n');
  chmodSync(path, 0o640);
  const before = statSync(path);
  await writeFileAtomic(path, Buffer.from('new\n'));
  const after = statSync(path);
  assert.equal(readFileSync(path, 'utf8'), 'new\n');
  assert.equal(after.mode & 0o777, 0o640);
  assert.notEqual(after.ino, before.ino, 'renamed, not rewritten in place');
  assert.deepEqual(readdirSync(dir), ['pw']);
});

test('a missing directory fails at the create step and leaves nothing', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(writeFileAtomic(join(dir, 'missing', 'pw'), Buffer.from('x')), (error: unknown) => {
    assert.ok(error instanceof AtomicWriteError);
    assert.equal(error.step, 'create');
    assert.equal(error.code, 'ENOENT');
    return true;
  });
});

test('a FIFO is written in place, not replaced', async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const chunks: Buffer[] = [];
  const reader = createReadStream(fifo);
  const done = new Promise<void>((resolve, reject) => {
    reader.on('data', (c) => chunks.push(Buffer.from(c)));
    reader.on('end', resolve);
    reader.on('error', reject);
  });
  await writeFileAtomic(fifo, Buffer.from('through the pipe\n'));
  await done;
  assert.equal(Buffer.concat(chunks).toString(), 'through the pipe\n');
  assert.ok(statSync(fifo).isFIFO());
});
