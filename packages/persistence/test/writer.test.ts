import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeDb, loadDbFile, PersistenceError, stateToRecords, writeDbFile, type DbRecord } from '../src/index.js';
import { fixture } from './helpers/fixtures.js';
import { generateState } from './helpers/generate.js';
import { chunkV56, header } from './helpers/legacy.js';

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-persist-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('writeDbFile writes exactly encodeDb, owner-only, and leaves no .new behind', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'mosquitto.db');
    const state = generateState(11);
    const res = await writeDbFile(path, stateToRecords(state), { batchSize: 4096 });
    const bytes = readFileSync(path);
    assert.ok(bytes.equals(encodeDb(stateToRecords(state))));
    assert.equal(res.bytes, bytes.length);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(existsSync(`${path}.new`), false);
    const loaded = await loadDbFile(path);
    assert.deepEqual(loaded.state, state);
    assert.deepEqual(loaded.warnings, []);
    assert.equal(loaded.version, 6);
  });
});

test('a stale <file>.new (even a hard link to another file) is replaced, not written through', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'mosquitto.db');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'keep me');
    linkSync(victim, `${path}.new`);
    await writeDbFile(path, stateToRecords(generateState(3)));
    assert.equal(readFileSync(victim, 'utf8'), 'keep me');
    assert.equal(existsSync(`${path}.new`), false);
  });
});

test('a save that fails midway leaves the previous file whole and removes <file>.new', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'mosquitto.db');
    const before = fixture('c-persistent-v311');
    writeFileSync(path, before);
    function* failing(): Generator<DbRecord> {
      yield* stateToRecords(generateState(5));
      throw new Error('broker state changed under us');
    }
    await assert.rejects(writeDbFile(path, failing(), { batchSize: 1024 }), /changed under us/);
    assert.ok(readFileSync(path).equals(before));
    assert.equal(existsSync(`${path}.new`), false);
  });
});

test('loadDbFile: missing file is a fresh start, empty file a warning, bad versions and dbid sizes errors', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'mosquitto.db');
    assert.deepEqual(await loadDbFile(path), { state: null, warnings: [], version: null });
    writeFileSync(path, '');
    assert.deepEqual(await loadDbFile(path), { state: null, warnings: ['Warning: Persistence file is empty.'], version: null });
    for (const v of [1, 7]) {
      writeFileSync(path, header(v));
      await assert.rejects(loadDbFile(path), (e: unknown) => {
        assert.ok(e instanceof PersistenceError);
        assert.equal(e.code, 'UNSUPPORTED_VERSION');
        assert.equal(e.message, `Error: Unsupported persistent database format version ${v} (need version 6).`);
        return true;
      });
    }
    const cfg = Buffer.from(fixture('a-empty'));
    cfg[23 + 8 + 9] = 4; // dbid_size
    writeFileSync(path, cfg);
    await assert.rejects(loadDbFile(path), /dbid size is 4 bytes, expected 8/);
    writeFileSync(path, Buffer.concat([fixture('a-empty'), chunkV56(42, Buffer.from('xyz'))]));
    const r = await loadDbFile(path);
    assert.deepEqual(r.warnings, ['Warning: Unsupported chunk "42" in persistent database file. Ignoring.']);
    assert.equal(r.state?.lastDbId, 52n);
  });
});

test('kill -9 during saves always leaves a complete, loadable file', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'mosquitto.db');
    const child = spawn(process.execPath, [fileURLToPath(new URL('./helpers/save-loop.js', import.meta.url)), path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      // Wait (bounded) for two complete saves, so the third is in progress when we kill.
      await new Promise<void>((resolve, reject) => {
        let saves = 0;
        const timer = setTimeout(() => reject(new Error('child did not save within 60 s')), 60_000);
        child.stdout!.on('data', (d: Buffer) => {
          saves += d.toString().split('\n').filter((l) => l === 'saved').length;
          if (saves >= 2) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on('exit', () => reject(new Error('child exited early')));
      });
    } finally {
      process.kill(child.pid!, 'SIGKILL');
    }
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
    const loaded = await loadDbFile(path);
    assert.deepEqual(loaded.state, generateState(7, { messages: 20000, sessions: 500 }));
  });
});
