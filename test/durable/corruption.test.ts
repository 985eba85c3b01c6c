/**
 * Durable mode at start-up: a torn journal tail is cut with a warning and everything before it
 * is kept; a corrupt journal or database stops the broker (exit 3 for the journal, 1 for the
 * database, as Mosquitto) or, with `persistence_on_corruption quarantine`, is moved aside and
 * the broker starts empty. Plus the new options' errors and a clean restart.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeJournalFrame, encodeJournalHeader, sealFrame, type JournalRecord } from '@skeeter/persistence';
import { drainSubscriber, durableConfig, persistentSubscriber, runPublisher, startDurable } from './helpers.js';

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skeeter-durable-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const conf = (dir: string, extra: string[] = []): string[] =>
  durableConfig(dir, 0, extra).map((l) => (l.startsWith('listener') ? 'listener %PORT% 127.0.0.1' : l));

const journals = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('mosquitto.db.journal.')).sort();

/** A subscriber session with `n` acknowledged QoS 1 messages queued, then SIGKILL. Returns the payloads. */
async function seedAndKill(dir: string, n: number): Promise<string[]> {
  const b = await startDurable(dir, conf(dir));
  try {
    await persistentSubscriber(b.port, 4, 'victim', 't/#');
    const run = await runPublisher(b.port, 4, 'feeder', 't/x', 1, 'm', n);
    assert.equal(run.acked.length, n);
    return run.acked;
  } finally {
    await b.kill();
  }
}

test('a torn journal tail is cut off with a warning; every acknowledged message before it survives', withDir(async (dir) => {
  const acked = await seedAndKill(dir, 40);
  const names = journals(dir);
  assert.equal(names.length, 1, names.join());
  const path = join(dir, names[0]!);
  // Half a frame, as a crash in the middle of a group commit leaves it.
  const frame = encodeJournalFrame([{ op: 'session_end', clientId: Buffer.from('victim') }]);
  appendFileSync(path, frame.subarray(0, frame.length - 3));
  const b = await startDurable(dir, conf(dir));
  try {
    assert.match(b.stderr(), /Warning: Journal .*mosquitto\.db\.journal\.\d+ ends with \d+ torn byte\(s\) at offset \d+ \(truncated\)/);
    const got = await drainSubscriber(b.port, 4, 'victim', 't/marker');
    assert.equal(got.present, true);
    for (const p of acked) assert.equal(got.counts.get(p), 1, p);
  } finally {
    assert.equal(await b.stop(), 0);
  }
}));

test('a clean stop leaves one snapshot and an empty journal; the next start replays nothing', withDir(async (dir) => {
  const b = await startDurable(dir, conf(dir));
  await persistentSubscriber(b.port, 5, 'keeper', 'k/#');
  const run = await runPublisher(b.port, 5, 'feeder', 'k/1', 2, 'q2', 10);
  assert.equal(await b.stop(), 0);
  assert.equal(journals(dir).length, 1);
  // Header only: nothing after the shutdown snapshot.
  assert.equal(readFileSync(join(dir, journals(dir)[0]!)).length, encodeJournalHeader(0n).length);
  const b2 = await startDurable(dir, conf(dir));
  try {
    assert.doesNotMatch(b2.stderr(), /Replayed/);
    const got = await drainSubscriber(b2.port, 5, 'keeper', 'k/marker');
    assert.equal(got.present, true);
    for (const p of run.acked) assert.equal(got.counts.get(p), 1, p);
    assert.equal(journals(dir).length, 1, 'the replaced journal was deleted');
  } finally {
    assert.equal(await b2.stop(), 0);
  }
  // Journal off again: the database is read as before, the journal left alone with a warning.
  const b3 = await startDurable(dir, conf(dir).filter((l) => l !== 'persistence_journal true'));
  try {
    assert.match(b3.stderr(), /Warning: 1 journal file\(s\) beside .*mosquitto\.db are ignored: persistence_journal is off\./);
    const got = await drainSubscriber(b3.port, 5, 'keeper', 'k/marker');
    assert.equal(got.present, true);
  } finally {
    assert.equal(await b3.stop(), 0);
  }
}));

test('a journal with a bad header stops the broker with exit 3; quarantine moves the files aside and starts empty', withDir(async (dir) => {
  await seedAndKill(dir, 5);
  const name = journals(dir)[0]!;
  const path = join(dir, name);
  const bytes = readFileSync(path);
  bytes[4] = bytes[4]! ^ 0xff; // inside the magic
  writeFileSync(path, bytes);
  const failed = await startDurable(dir, conf(dir));
  assert.equal(failed.ready, false);
  assert.equal(await failed.exited, 3);
  assert.match(failed.stderr(), new RegExp(`Error: Corrupt journal .*${name}: not a skeeter journal \\(bad magic\\)\\.`));
  assert.match(failed.stderr(), /Error: Couldn't open database\./);
  // Nothing was touched.
  assert.deepEqual(journals(dir), [name]);

  const b = await startDurable(dir, conf(dir, ['persistence_on_corruption quarantine']));
  try {
    assert.equal(b.ready, true);
    assert.match(b.stderr(), /Error: PERSISTENCE CORRUPT: moved 2 file\(s\) aside .* and starting with an EMPTY database/);
    const aside = readdirSync(dir).filter((n) => /\.corrupt-\d{8}T\d{6}Z$/.test(n)).sort();
    assert.equal(aside.length, 2, readdirSync(dir).join());
    assert.ok(aside.some((n) => n.startsWith('mosquitto.db.corrupt-')));
    assert.ok(aside.some((n) => n.startsWith(`${name}.corrupt-`)));
    const got = await drainSubscriber(b.port, 4, 'victim', 't/marker');
    assert.equal(got.present, false, 'started empty');
  } finally {
    assert.equal(await b.stop(), 0);
  }
}));

test('a frame with a good checksum but an unknown operation is corruption, not a torn tail', withDir(async (dir) => {
  await seedAndKill(dir, 3);
  const path = join(dir, journals(dir)[0]!);
  const frame = Buffer.alloc(8 + 5);
  frame[8] = 200;
  sealFrame(frame, 0, frame.length);
  appendFileSync(path, frame);
  const failed = await startDurable(dir, conf(dir));
  assert.equal(await failed.exited, 3);
  assert.match(failed.stderr(), /Error: Corrupt journal .*: unknown operation 200 at offset \d+\./);
}));

test('a cut journal followed by a later journal with records is corruption: acknowledged data is missing', withDir(async (dir) => {
  // No snapshot: the chain starts at base 0.
  const op: JournalRecord = { op: 'session', record: { kind: 'client', clientId: Buffer.from('c'), username: null, sessionExpiryTime: 0n, sessionExpiryInterval: 0xffffffff, lastMid: 0, listenerPort: 0 } };
  const frame = encodeJournalFrame([op]);
  writeFileSync(join(dir, 'mosquitto.db.journal.0'), Buffer.concat([encodeJournalHeader(0n), frame, frame.subarray(0, 5)]));
  writeFileSync(join(dir, 'mosquitto.db.journal.7'), Buffer.concat([encodeJournalHeader(7n), frame]));
  const failed = await startDurable(dir, conf(dir));
  assert.equal(await failed.exited, 3);
  assert.match(failed.stderr(), /Error: Corrupt journal .*mosquitto\.db\.journal\.0: it is cut short but a later journal has records\./);
  // The same files with the later journal empty: only a torn tail, the broker starts.
  writeFileSync(join(dir, 'mosquitto.db.journal.7'), encodeJournalHeader(7n));
  const b = await startDurable(dir, conf(dir));
  try {
    assert.equal(b.ready, true);
    assert.match(b.stderr(), /torn byte/);
    const got = await drainSubscriber(b.port, 4, 'c', 'c/marker');
    assert.equal(got.present, true, 'the session from the first journal was replayed');
  } finally {
    assert.equal(await b.stop(), 0);
  }
}));

test('a corrupt mosquitto.db in journal mode fails as Mosquitto does (exit 1); quarantine starts empty', withDir(async (dir) => {
  writeFileSync(join(dir, 'mosquitto.db'), Buffer.from('not a database at all, not even close'));
  const failed = await startDurable(dir, conf(dir));
  assert.equal(await failed.exited, 1);
  assert.match(failed.stderr(), /Error: Unable to restore persistent database\. Unrecognised file format\./);
  const b = await startDurable(dir, conf(dir, ['persistence_on_corruption quarantine']));
  try {
    assert.equal(b.ready, true);
    assert.match(b.stderr(), /PERSISTENCE CORRUPT: moved 1 file\(s\) aside/);
    assert.ok(existsSync(join(dir, 'mosquitto.db')), 'a fresh snapshot was written');
  } finally {
    assert.equal(await b.stop(), 0);
  }
}));

test('bad values of the journal options are configuration errors (exit 3)', withDir(async (dir) => {
  for (const [line, message] of [
    ['persistence_on_corruption maybe', 'Error: Invalid persistence_on_corruption value (maybe), must be error or quarantine.'],
    ['persistence_journal_sync_ms 5000', 'Error: Invalid persistence_journal_sync_ms value (5000), must be 0 to 1000.'],
    ['persistence_journal yes', 'Error: Invalid persistence_journal value (yes).'],
  ] as const) {
    const failed = await startDurable(dir, conf(dir, [line]));
    assert.equal(await failed.exited, 3, line);
    assert.ok(failed.stderr().includes(message), failed.stderr());
  }
  // Without persistence the journal cannot work: said at start, and nothing is written.
  const b = await startDurable(dir, ['listener %PORT% 127.0.0.1', 'allow_anonymous true', 'persistence_journal true']);
  try {
    assert.match(b.stderr(), /Warning: persistence_journal needs persistence true; the journal is off\./);
  } finally {
    assert.equal(await b.stop(), 0);
  }
  assert.deepEqual(journals(dir), []);
}));
