/**
 * QUEUE_SAME (a QUEUE_MANY to the sessions of the previous one) and the writer's flat deferred
 * calls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeJournalFrame,
  encodeJournalHeader,
  FRAME_HEADER_LENGTH,
  JournalOpCode,
  JournalRecordError,
  JournalWriter,
  messageOpLength,
  readJournalBuffer,
  readJournalFile,
  sealFrame,
  writeJournalRecord,
  writeMessageOp,
  type JournalRecord,
} from '../src/index.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** A frame holding one QUEUE_SAME operation (store id, QoS, retain), `extra` bytes of body appended. */
function queueSameFrame(storeId: bigint, qos: number, retain: number, extra = 0): Buffer {
  const body = 10 + extra;
  const buf = Buffer.alloc(FRAME_HEADER_LENGTH + 5 + body);
  const p = FRAME_HEADER_LENGTH;
  buf[p] = JournalOpCode.QUEUE_SAME;
  buf.writeUInt32BE(body, p + 1);
  buf.writeBigUInt64BE(storeId, p + 5);
  buf[p + 13] = qos;
  buf[p + 14] = retain;
  sealFrame(buf, 0, buf.length);
  return buf;
}

test('QUEUE_SAME reads as a QUEUE_MANY to the sessions of the last one, across frames', () => {
  const ids = [b('a'), b('bb'), b('sensor/ü')];
  const many: JournalRecord = { op: 'queue_many', storeId: 3n, qos: 1, retain: 0, clientIds: ids };
  const other: JournalRecord = { op: 'queue_many', storeId: 4n, qos: 2, retain: 1, clientIds: [b('z')] };
  const file = Buffer.concat([
    encodeJournalHeader(1n),
    encodeJournalFrame([many, { op: 'dequeue', clientId: b('a'), mid: 7 }]),
    queueSameFrame(5n, 2, 1),
    queueSameFrame(6n, 1, 0),
    encodeJournalFrame([other]),
    queueSameFrame(8n, 0, 0),
  ]);
  const r = readJournalBuffer(file);
  assert.equal(r.tail, null);
  assert.deepEqual(r.records, [
    many,
    { op: 'dequeue', clientId: b('a'), mid: 7 },
    { op: 'queue_many', storeId: 5n, qos: 2, retain: 1, clientIds: ids },
    { op: 'queue_many', storeId: 6n, qos: 1, retain: 0, clientIds: ids },
    other,
    { op: 'queue_many', storeId: 8n, qos: 0, retain: 0, clientIds: [b('z')] },
  ]);
});

test('a QUEUE_SAME with no QUEUE_MANY before it in its file, or of the wrong size, is corruption', () => {
  assert.throws(() => readJournalBuffer(Buffer.concat([encodeJournalHeader(1n), queueSameFrame(5n, 1, 0)])), JournalRecordError);
  const many: JournalRecord = { op: 'queue_many', storeId: 3n, qos: 1, retain: 0, clientIds: [b('a')] };
  assert.throws(() => readJournalBuffer(Buffer.concat([encodeJournalHeader(1n), encodeJournalFrame([many]), queueSameFrame(5n, 1, 0, 2)])), JournalRecordError);
  // Each file starts afresh: the same frame after a QUEUE_MANY reads fine.
  assert.equal(readJournalBuffer(Buffer.concat([encodeJournalHeader(1n), encodeJournalFrame([many]), queueSameFrame(5n, 1, 0)])).records.length, 2);
});

test('deferred calls and callbacks run in registration order, each once, after the commit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-journal-calls-'));
  try {
    const path = join(dir, 'j');
    const w = JournalWriter.create(path, 1n, { syncMs: 1 });
    const seen: string[] = [];
    const call = (tag: string, x: number, y: number): void => {
      seen.push(`${tag}:${x}:${y}`);
    };
    for (let round = 0; round < 3; round++) {
      w.append({ op: 'session_end', clientId: b(`s${round}`) });
      w.afterDurableCall(call, `r${round}a`, round, 1);
      w.afterDurable(() => seen.push(`r${round}b`));
      w.afterDurableCall(call, `r${round}c`, round, 2);
      // Nothing runs before the commit covering the append.
      assert.equal(seen.filter((s) => s.startsWith(`r${round}`)).length, 0);
      if (round < 2) continue;
      await w.flush();
    }
    assert.deepEqual(seen, ['r0a:0:1', 'r0b', 'r0c:0:2', 'r1a:1:1', 'r1b', 'r1c:1:2', 'r2a:2:1', 'r2b', 'r2c:2:2']);
    await w.close();
    assert.equal((await readJournalFile(path)).records.length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the MESSAGE fast path copies ASCII by hand and anything else as UTF-8, byte for byte as the generic path', () => {
  const cases: Array<[string, string]> = [
    ['a'.repeat(64), 'o'.repeat(63)],
    ['t/'.repeat(40), 'origin-65-'.repeat(7).slice(0, 65)],
    ['emoji/\u{1F600}', 'é'],
    ['lone/\ud800', 'x'],
    ['', ''],
  ];
  for (const [topic, origin] of cases) {
    const topicBytes = Buffer.from(topic, 'utf8');
    const originBytes = Buffer.from(origin, 'utf8');
    const generic = Buffer.alloc(400);
    const end = writeJournalRecord(generic, 0, {
      op: 'message',
      record: {
        kind: 'msg_store', storeId: 9n, expiryTime: 0n, sourceMid: 0, sourcePort: 0, sourceId: origin ? originBytes : null, sourceUsername: null,
        topic: topicBytes, qos: 1, retain: 0, payload: b('p'), properties: null,
      },
    });
    const fast = Buffer.alloc(400, 0xee);
    const fastEnd = writeMessageOp(fast, 0, 9, 0, topic, topicBytes.length, b('p'), origin, originBytes.length, undefined, 0, 1, 0);
    assert.equal(fastEnd, end);
    assert.equal(messageOpLength(topicBytes.length, 1, originBytes.length, 0), end);
    assert.ok(fast.subarray(0, end).equals(generic.subarray(0, end)), topic);
  }
});
