/**
 * db_dump on a skeeter journal (docs/durable-journal.md): header, frames and each operation in
 * db_dump's style (operations holding a mosquitto.db chunk print it as db_dump prints that
 * chunk), `--stats` counts, a torn tail reported on stderr, a corrupt journal exits 1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ClientMessageState, encodeJournalFrame, encodeJournalHeader, MessageDirection, type JournalRecord } from '@skeeter/persistence';
import { run } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s);

const FRAME1: JournalRecord[] = [
  { op: 'session', record: { kind: 'client', clientId: b('c1'), username: b('u'), sessionExpiryTime: 0n, sessionExpiryInterval: 60, lastMid: 3, listenerPort: 1883 } },
  { op: 'subscribe', record: { kind: 'sub', clientId: b('c1'), topic: b('a/#'), qos: 1, options: 0x04, identifier: 5 } },
  {
    op: 'message',
    record: { kind: 'msg_store', storeId: 9n, expiryTime: 0n, sourceMid: 0, sourcePort: 0, sourceId: b('p'), sourceUsername: null, topic: b('a/b'), qos: 1, retain: 0, payload: b('hi'), properties: null },
  },
  { op: 'queue_many', storeId: 9n, qos: 1, retain: 0, clientIds: [b('c1'), b('c2')] },
];
const FRAME2: JournalRecord[] = [
  { op: 'dequeue', clientId: b('c1'), mid: 4 },
  { op: 'state', clientId: b('c1'), mid: 4, state: ClientMessageState.WAIT_FOR_PUBCOMP },
  { op: 'complete', clientId: b('c1'), mid: 4 },
  { op: 'client_msg', record: { kind: 'client_msg', clientId: b('c1'), storeId: 9n, mid: 7, qos: 2, state: ClientMessageState.WAIT_FOR_PUBREL, retain: 0, dup: 0, direction: MessageDirection.IN, properties: null } },
  { op: 'released', clientId: b('c1'), mid: 7 },
  { op: 'retain', storeId: 9n },
  { op: 'unsubscribe', clientId: b('c1'), topic: b('a/#') },
  { op: 'session_end', clientId: b('c1') },
];

const EXPECTED = `Skeeter journal dump
Journal version: 1
Base DB ID: 8
Created: 1700000000000
FRAME:
	Offset: 42
	Length: 144
	Operations: 4
JOURNAL_SESSION:
DB_CHUNK_CLIENT:
	Length: 27
	Client ID: c1
	Username: u
	Listener port: 1883
	Last MID: 3
	Session expiry time: 0
	Session expiry interval: 60
JOURNAL_SUBSCRIBE:
DB_CHUNK_SUB:
	Length: 17
	Client ID: c1
	Topic: a/#
	QoS: 1
	Subscription ID: 5
	Options: 0x04
JOURNAL_MESSAGE:
DB_CHUNK_MSG_STORE:
	Length: 38
	Store ID: 9
	Source Port: 0
	Source MID: 0
	Topic: a/b
	QoS: 1
	Retain: 0
	Payload Length: 2
	Expiry Time: 0
	Payload: hi
JOURNAL_QUEUE_MANY:
	Store ID: 9
	QoS: 1
	Retain: 0
	Sessions: 2
	Client ID: c1
	Client ID: c2
FRAME:
	Offset: 194
	Length: 100
	Operations: 8
JOURNAL_DEQUEUE:
	Client ID: c1
	MID: 4
JOURNAL_STATE:
	Client ID: c1
	MID: 4
	State: 9
JOURNAL_COMPLETE:
	Client ID: c1
	MID: 4
JOURNAL_CLIENT_MSG:
DB_CHUNK_CLIENT_MSG:
	Length: 18
	Client ID: c1
	Store ID: 9
	MID: 7
	QoS: 2
	Retain: 0
	Direction: 0
	State: 7
	Dup: 0
JOURNAL_RELEASED:
	Client ID: c1
	MID: 7
JOURNAL_RETAIN:
	Store ID: 9
JOURNAL_UNSUBSCRIBE:
	Client ID: c1
	Topic: a/#
JOURNAL_SESSION_END:
	Client ID: c1
`;

async function withJournal(bytes: Buffer, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-dbdump-journal-'));
  try {
    const path = join(dir, 'mosquitto.db.journal.8');
    writeFileSync(path, bytes);
    await fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const journal = (): Buffer => Buffer.concat([encodeJournalHeader(8n, 1700000000000n), encodeJournalFrame(FRAME1), encodeJournalFrame(FRAME2)]);

test('db_dump prints every journal operation in its style', async () => {
  await withJournal(journal(), async (path) => {
    const r = await run([path]);
    assert.equal(r.stderr.toString(), '');
    assert.equal(r.status, 0);
    assert.equal(r.stdout.toString(), EXPECTED);
  });
});

test('db_dump --stats counts a journal\'s frames and operations', async () => {
  await withJournal(journal(), async (path) => {
    const r = await run(['--stats', path]);
    assert.equal(r.status, 0);
    const lines = r.stdout.toString().split('\n');
    assert.equal(lines[0], 'FRAMES: 2');
    assert.ok(lines.includes('JOURNAL_QUEUE_MANY:   1'), r.stdout.toString());
    assert.ok(lines.includes('JOURNAL_SESSION:      1'));
    assert.ok(lines.includes('JOURNAL_COMPLETE:     1'));
  });
});

test('db_dump reports a torn journal tail on stderr and prints what comes before it', async () => {
  const whole = journal();
  await withJournal(whole.subarray(0, whole.length - 10), async (path) => {
    const r = await run([path]);
    assert.equal(r.status, 0);
    assert.equal(r.stdout.toString(), EXPECTED.slice(0, EXPECTED.indexOf('FRAME:\n\tOffset: 194')));
    assert.equal(r.stderr.toString(), 'Warning: Journal ends with 98 torn byte(s) at offset 194 (truncated); a broker cuts them off.\n');
  });
});

test('db_dump fails on a journal with a bad header checksum (exit 1)', async () => {
  const bad = journal();
  bad[30] = bad[30]! ^ 1;
  await withJournal(bad, async (path) => {
    const r = await run([path]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout.toString(), '');
    assert.equal(r.stderr.toString(), 'Error: Corrupt journal: journal header checksum mismatch.');
  });
});
