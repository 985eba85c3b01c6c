import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClientMessageState,
  clientMsgOpLength,
  crc32c,
  decodeJournalHeader,
  encodeJournalFrame,
  encodeJournalHeader,
  JOURNAL_HEADER_LENGTH,
  JournalHeaderError,
  JournalRecordError,
  JournalWriter,
  MessageDirection,
  readJournalBuffer,
  readJournalFile,
  replayJournals,
  sealFrame,
  shortOpLength,
  writeClientMsgOp,
  writeJournalRecord,
  writeShortOp,
  JournalOpCode,
  messageOpLength,
  writeMessageOp,
  patchOpLength,
  queueManyOpLength,
  writeQueueManyMore,
  writeQueueManyOp,
  SESSION_EXPIRY_NEVER,
  type ClientMsgRecord,
  type ClientRecord,
  type DbState,
  type JournalRecord,
  type MsgStoreRecord,
} from '../src/index.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

function message(storeId: bigint, topic: string, payload: string, extra: Partial<MsgStoreRecord> = {}): MsgStoreRecord {
  return {
    kind: 'msg_store', storeId, expiryTime: 0n, sourceMid: 0, sourcePort: 0, sourceId: b('pub'), sourceUsername: null,
    topic: b(topic), qos: 1, retain: 0, payload: b(payload), properties: null, ...extra,
  };
}

function client(id: string, extra: Partial<ClientRecord> = {}): ClientRecord {
  return { kind: 'client', clientId: b(id), username: null, sessionExpiryTime: 0n, sessionExpiryInterval: SESSION_EXPIRY_NEVER, lastMid: 0, listenerPort: 1883, ...extra };
}

function cmsg(id: string, storeId: bigint, mid: number, state: number, extra: Partial<ClientMsgRecord> = {}): ClientMsgRecord {
  return { kind: 'client_msg', clientId: b(id), storeId, mid, qos: 1, state, retain: 0, dup: 0, direction: MessageDirection.OUT, properties: null, ...extra };
}

/** One of every operation, with properties and odd bytes where the format allows them. */
const EVERY_OP: JournalRecord[] = [
  { op: 'message', record: message(7n, 'a/b', 'hello', { properties: [{ identifier: 0x03, value: b('text/plain') }], sourceUsername: b('u') }) },
  { op: 'session', record: client('c1', { username: Buffer.from([0xff, 0x00]) }) },
  { op: 'subscribe', record: { kind: 'sub', clientId: b('c1'), topic: b('a/#'), qos: 2, options: 0x04, identifier: 9 } },
  { op: 'client_msg', record: cmsg('c1', 7n, 0, ClientMessageState.QUEUED, { properties: [{ identifier: 0x0b, value: 9 }] }) },
  { op: 'dequeue', clientId: b('c1'), mid: 1 },
  { op: 'state', clientId: b('c1'), mid: 1, state: ClientMessageState.WAIT_FOR_PUBCOMP },
  { op: 'complete', clientId: b('c1'), mid: 1 },
  { op: 'client_msg', record: cmsg('c1', 7n, 5, ClientMessageState.WAIT_FOR_PUBREL, { direction: MessageDirection.IN, qos: 2 }) },
  { op: 'released', clientId: b('c1'), mid: 5 },
  { op: 'retain', storeId: 7n },
  { op: 'unsubscribe', clientId: b('c1'), topic: b('a/#') },
  { op: 'session_end', clientId: b('c1') },
  { op: 'queue_many', storeId: 2n ** 40n + 7n, qos: 2, retain: 1, clientIds: [b('a'), b(''), b('sensor/ü')] },
];

function journal(...frames: JournalRecord[][]): Buffer {
  return Buffer.concat([encodeJournalHeader(42n, 1000n), ...frames.map((f) => encodeJournalFrame(f))]);
}

test('crc32c matches the Castagnoli check value and continues across calls', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff));
  for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) {
    assert.equal(crc32c(data, cut, data.length, crc32c(data, 0, cut)), crc32c(data), `split at ${cut}`);
  }
  // The 8-byte loop and the byte loop agree for every alignment.
  for (let start = 0; start < 9; start++) {
    let slow = ~0 >>> 0;
    for (let i = start; i < 100; i++) {
      slow ^= data[i]!;
      for (let k = 0; k < 8; k++) slow = slow & 1 ? (0x82f63b78 ^ (slow >>> 1)) >>> 0 : slow >>> 1;
    }
    assert.equal(crc32c(data, start, 100), ~slow >>> 0);
  }
});

test('the header carries base and time, and rejects wrong magic, checksum and version', () => {
  const h = encodeJournalHeader(123456789012n, 1700000000000n);
  assert.equal(h.length, JOURNAL_HEADER_LENGTH);
  assert.deepEqual(decodeJournalHeader(h), { version: 1, base: 123456789012n, created: 1700000000000n });
  const badMagic = Buffer.from(h);
  badMagic[5] = badMagic[5]! ^ 1;
  assert.throws(() => decodeJournalHeader(badMagic), (e: unknown) => e instanceof JournalHeaderError && e.code === 'BAD_MAGIC');
  const badBase = Buffer.from(h);
  badBase[25] = badBase[25]! ^ 1;
  assert.throws(() => decodeJournalHeader(badBase), (e: unknown) => e instanceof JournalHeaderError && e.code === 'BAD_CHECKSUM');
  const v2 = Buffer.from(h);
  v2.writeUInt32BE(2, 18);
  v2.writeUInt32BE(crc32c(v2, 0, 38), 38);
  assert.throws(() => decodeJournalHeader(v2), (e: unknown) => e instanceof JournalHeaderError && e.code === 'UNSUPPORTED_VERSION');
  // A mosquitto.db is not a journal.
  const db = Buffer.concat([Buffer.from([0x00, 0xb5, 0x00]), Buffer.from('mosquitto db'), Buffer.alloc(30)]);
  assert.throws(() => readJournalBuffer(db), (e: unknown) => e instanceof JournalHeaderError && e.code === 'BAD_MAGIC');
});

test('every operation survives a write and read, frame by frame', () => {
  const file = journal(EVERY_OP.slice(0, 4), EVERY_OP.slice(4));
  const r = readJournalBuffer(file);
  assert.equal(r.tail, null);
  assert.equal(r.frames.length, 2);
  assert.equal(r.end, file.length);
  assert.deepEqual(r.records, EVERY_OP);
  assert.deepEqual(r.header, { version: 1, base: 42n, created: 1000n });
});

test('the fast-path encoders write the same bytes as the generic one', () => {
  const rec = cmsg('sensor-17', 2n ** 40n + 5n, 65535, ClientMessageState.WAIT_FOR_PUBREC, { qos: 2, retain: 1 });
  const generic = Buffer.alloc(200);
  const end = writeJournalRecord(generic, 0, { op: 'client_msg', record: rec });
  const fast = Buffer.alloc(200);
  const fastEnd = writeClientMsgOp(fast, 0, b('sensor-17'), 2 ** 40 + 5, 65535, 2, ClientMessageState.WAIT_FOR_PUBREC, 1, MessageDirection.OUT, null);
  assert.equal(fastEnd, end);
  assert.equal(clientMsgOpLength(b('sensor-17'), null), end);
  assert.ok(fast.subarray(0, end).equals(generic.subarray(0, end)));
  for (const [code, op] of [
    [JournalOpCode.DEQUEUE, { op: 'dequeue', clientId: b('x'), mid: 300 }],
    [JournalOpCode.COMPLETE, { op: 'complete', clientId: b('x'), mid: 300 }],
    [JournalOpCode.RELEASED, { op: 'released', clientId: b('x'), mid: 300 }],
    [JournalOpCode.STATE, { op: 'state', clientId: b('x'), mid: 300, state: 9 }],
  ] as const) {
    const g = Buffer.alloc(50);
    const ge = writeJournalRecord(g, 0, op);
    const f = Buffer.alloc(50);
    const fe = writeShortOp(f, 0, code, b('x'), 300, 'state' in op ? op.state : 0);
    assert.equal(fe, ge);
    assert.equal(shortOpLength(code, b('x')), ge);
    assert.ok(f.equals(g));
  }
});

test('the MESSAGE fast path writes the same bytes as the generic one', () => {
  for (const [origin, user, topic, payload] of [['pub', undefined, 'a/b', 'x'], ['', 'ü', 'tö/p', ''], ['c', 'u', 't', 'p'.repeat(300)]] as const) {
    const rec = message(2n ** 35n + 3n, topic, payload, {
      expiryTime: 1700000123n, sourceId: origin ? b(origin) : null, sourceUsername: user ? b(user) : null, qos: 2, retain: 1,
    });
    const generic = Buffer.alloc(600);
    const end = writeJournalRecord(generic, 0, { op: 'message', record: rec });
    const fast = Buffer.alloc(600);
    const tb = Buffer.byteLength(topic);
    const ob = Buffer.byteLength(origin);
    const ub = user ? Buffer.byteLength(user) : 0;
    const fastEnd = writeMessageOp(fast, 0, 2 ** 35 + 3, 1700000123, topic, tb, b(payload), origin, ob, user, ub, 2, 1);
    assert.equal(fastEnd, end);
    assert.equal(messageOpLength(tb, b(payload).length, ob, ub), end);
    assert.ok(fast.equals(generic));
  }
});

test('QUEUE_MANY grown session by session equals the generic encoding', () => {
  const ids = [b('s1'), b('second'), b('s3')];
  const generic = Buffer.alloc(100);
  const end = writeJournalRecord(generic, 0, { op: 'queue_many', storeId: 2n ** 33n + 1n, qos: 1, retain: 0, clientIds: ids });
  const fast = Buffer.alloc(100);
  let p = writeQueueManyOp(fast, 0, 2 ** 33 + 1, 1, 0, ids[0]!);
  assert.equal(p, queueManyOpLength(ids[0]!));
  for (const id of ids.slice(1)) p = writeQueueManyMore(fast, p, id);
  patchOpLength(fast, 0, p);
  assert.equal(p, end);
  assert.ok(fast.equals(generic));
});

test('a journal cut anywhere in its last frame keeps every earlier frame and reports the tail', () => {
  const first = encodeJournalFrame(EVERY_OP.slice(0, 3));
  const last = encodeJournalFrame(EVERY_OP.slice(3));
  const whole = Buffer.concat([encodeJournalHeader(1n), first, last]);
  const goodEnd = JOURNAL_HEADER_LENGTH + first.length;
  for (let cut = goodEnd + 1; cut < whole.length; cut++) {
    const r = readJournalBuffer(whole.subarray(0, cut));
    assert.deepEqual(r.records, EVERY_OP.slice(0, 3), `cut at ${cut}`);
    assert.deepEqual(r.tail, { offset: goodEnd, bytes: cut - goodEnd, reason: 'truncated' });
  }
  // A header cut short is a crash at creation: no records, no error.
  for (let cut = 1; cut < JOURNAL_HEADER_LENGTH; cut++) {
    const r = readJournalBuffer(whole.subarray(0, cut));
    assert.equal(r.header, null);
    assert.deepEqual(r.tail, { offset: 0, bytes: cut, reason: 'truncated-header' });
  }
  assert.equal(readJournalBuffer(Buffer.alloc(0)).tail, null);
});

test('a flipped bit or zeroed bytes in a frame end the trusted part there: nothing after it is read', () => {
  const frames = [EVERY_OP.slice(0, 2), EVERY_OP.slice(2, 5), EVERY_OP.slice(5)].map((f) => encodeJournalFrame(f));
  const whole = Buffer.concat([encodeJournalHeader(1n), ...frames]);
  const secondAt = JOURNAL_HEADER_LENGTH + frames[0]!.length;
  for (let i = secondAt; i < secondAt + frames[1]!.length; i++) {
    const bad = Buffer.from(whole);
    bad[i] = bad[i]! ^ 0x10;
    const r = readJournalBuffer(bad);
    assert.deepEqual(r.records, EVERY_OP.slice(0, 2), `flip at ${i}`);
    assert.equal(r.tail?.offset, secondAt);
    assert.equal(r.tail?.bytes, whole.length - secondAt);
  }
  // Zeroes where a frame should be (a file extended but never written): a checksum tail.
  const zeroed = Buffer.concat([encodeJournalHeader(1n), frames[0]!, Buffer.alloc(64)]);
  assert.equal(readJournalBuffer(zeroed).tail?.reason, 'checksum');
});

test('a frame whose checksum holds but whose operation is unknown is corruption, not a torn tail', () => {
  const frame = Buffer.alloc(8 + 5 + 2);
  frame[8] = 99;
  frame.writeUInt32BE(2, 9);
  sealFrame(frame, 0, frame.length);
  assert.throws(() => readJournalBuffer(Buffer.concat([encodeJournalHeader(1n), frame])), JournalRecordError);
  // An embedded chunk of the wrong type too.
  const wrong = Buffer.alloc(400);
  let end = writeJournalRecord(wrong, 8, { op: 'subscribe', record: { kind: 'sub', clientId: b('c'), topic: b('t'), qos: 0, options: 0, identifier: 0 } });
  wrong[8] = JournalOpCode.MESSAGE;
  sealFrame(wrong, 0, end);
  assert.throws(() => readJournalBuffer(Buffer.concat([encodeJournalHeader(1n), wrong.subarray(0, end)])), JournalRecordError);
  end = 0;
});

test('replay: queue, flight, QoS 2 states, acknowledgements, subscriptions and retained messages', () => {
  const base: DbState = {
    lastDbId: 10n,
    shutdown: 0,
    messages: [message(3n, 'r/t', 'old-retained'), message(4n, 'x', 'queued-in-snapshot')],
    sessions: [{ client: client('s1', { lastMid: 4 }), messages: [cmsg('s1', 4n, 0, ClientMessageState.QUEUED)] }],
    subscriptions: [{ kind: 'sub', clientId: b('s1'), topic: b('x'), qos: 1, options: 0, identifier: 0 }],
    retained: [3n],
  };
  const ops: JournalRecord[] = [
    { op: 'message', record: message(11n, 'x', 'one') },
    { op: 'client_msg', record: cmsg('s1', 11n, 0, ClientMessageState.QUEUED) },
    { op: 'message', record: message(12n, 'x', 'two', { qos: 2 }) },
    { op: 'client_msg', record: cmsg('s1', 12n, 0, ClientMessageState.QUEUED, { qos: 2 }) },
    // The client came back: the snapshot's message and "one" go in flight, "one" is acknowledged.
    { op: 'session', record: client('s1', { lastMid: 4, listenerPort: 1884 }) },
    { op: 'dequeue', clientId: b('s1'), mid: 5 },
    { op: 'dequeue', clientId: b('s1'), mid: 6 },
    { op: 'complete', clientId: b('s1'), mid: 6 },
    { op: 'dequeue', clientId: b('s1'), mid: 7 },
    { op: 'state', clientId: b('s1'), mid: 7, state: ClientMessageState.WAIT_FOR_PUBCOMP },
    // Retained: replaced, then a new topic set and cleared by an empty message.
    { op: 'message', record: message(13n, 'r/t', 'new-retained', { retain: 1 }) },
    { op: 'retain', storeId: 13n },
    { op: 'message', record: message(14n, 'r/u', 'u', { retain: 1 }) },
    { op: 'retain', storeId: 14n },
    { op: 'message', record: message(15n, 'r/u', '', { retain: 1 }) },
    { op: 'retain', storeId: 15n },
    // A second session: created, subscribed, held a QoS 2 message, then ended.
    { op: 'session', record: client('s2') },
    { op: 'subscribe', record: { kind: 'sub', clientId: b('s2'), topic: b('#'), qos: 2, options: 0, identifier: 0 } },
    { op: 'message', record: message(16n, 'in', 'held', { qos: 2 }) },
    { op: 'client_msg', record: cmsg('s2', 16n, 9, ClientMessageState.WAIT_FOR_PUBREL, { direction: MessageDirection.IN, qos: 2 }) },
    { op: 'session_end', clientId: b('s2') },
    { op: 'unsubscribe', clientId: b('s1'), topic: b('x') },
    { op: 'subscribe', record: { kind: 'sub', clientId: b('s1'), topic: b('y/+'), qos: 0, options: 8, identifier: 3 } },
    // Operations for unknown sessions are ignored.
    { op: 'complete', clientId: b('nobody'), mid: 1 },
    { op: 'message', record: message(17n, 'x', 'fan') },
    { op: 'queue_many', storeId: 17n, qos: 1, retain: 0, clientIds: [b('nobody'), b('s1')] },
  ];
  const state = replayJournals(base, [ops.slice(0, 10), ops.slice(10)]);
  assert.equal(state.lastDbId, 17n);
  assert.deepEqual(state.retained, [13n]);
  assert.deepEqual(state.messages.map((m) => m.storeId), [4n, 12n, 13n, 17n]);
  assert.equal(state.sessions.length, 1);
  const s1 = state.sessions[0]!;
  assert.equal(s1.client.listenerPort, 1884);
  assert.equal(s1.client.lastMid, 7);
  assert.deepEqual(
    s1.messages.map((m) => [m.storeId, m.mid, m.state]),
    [
      [4n, 5, ClientMessageState.WAIT_FOR_PUBACK],
      [12n, 7, ClientMessageState.WAIT_FOR_PUBCOMP],
      [17n, 0, ClientMessageState.QUEUED],
    ],
  );
  assert.deepEqual(state.subscriptions.map((s) => s.topic?.toString()), ['y/+']);
});

test('JournalWriter: a growable operation takes more sessions until something else is written or the frame closes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-journal-'));
  try {
    for (const maxFrameBytes of [1 << 20, 40]) {
      const path = join(dir, `g.${maxFrameBytes}`);
      const w = JournalWriter.create(path, 1n, { maxFrameBytes });
      const ids = ['s1', 'session-2', 's3', 's4'].map(b);
      const grow = (id: Buffer, token: number): boolean => {
        if (w.growToken !== token || token === 0) return false;
        const buf = w.extend(2 + id.length);
        writeQueueManyMore(buf, w.position, id);
        w.advance(2 + id.length);
        return true;
      };
      const start = (id: Buffer): number => {
        const n = queueManyOpLength(id);
        const buf = w.reserve(n);
        const at = w.position;
        writeQueueManyOp(buf, at, 9, 1, 0, id);
        const token = w.beginGrowable(at);
        w.advance(n);
        return token;
      };
      const expected: JournalRecord[] = [];
      let token = start(ids[0]!);
      let current: Buffer[] = [ids[0]!];
      for (const id of ids.slice(1)) {
        if (grow(id, token)) current.push(id);
        else {
          expected.push({ op: 'queue_many', storeId: 9n, qos: 1, retain: 0, clientIds: current });
          token = start(id);
          current = [id];
        }
      }
      expected.push({ op: 'queue_many', storeId: 9n, qos: 1, retain: 0, clientIds: current });
      // Any other operation ends the growable one.
      w.append({ op: 'session_end', clientId: b('x') });
      assert.equal(grow(b('late'), token), false);
      expected.push({ op: 'session_end', clientId: b('x') });
      await w.close();
      const r = await readJournalFile(path);
      assert.equal(r.tail, null);
      assert.deepEqual(r.records, expected);
      if (maxFrameBytes === 40) assert.ok(r.frames.length > 1);
      else assert.equal((r.records[0] as { readonly clientIds: readonly Buffer[] }).clientIds.length, 4);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('JournalWriter: group commits in order, callbacks after the data is in the file, rotation keeps order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-journal-'));
  try {
    const p1 = join(dir, 'j.1');
    const p2 = join(dir, 'j.2');
    const w = JournalWriter.create(p1, 1n, { syncMs: 1 });
    const order: number[] = [];
    const sizes: number[] = [];
    for (let i = 0; i < 50; i++) {
      w.append({ op: 'session', record: client(`c${i}`) });
      w.afterDurable(() => {
        order.push(i);
        sizes.push(readFileSync(p1).length);
      });
    }
    await w.flush();
    assert.deepEqual(order, Array.from({ length: 50 }, (_, i) => i));
    // Each callback saw its own operation already written.
    const r1 = readJournalBuffer(readFileSync(p1));
    assert.equal(r1.records.length, 50);
    assert.ok(sizes.every((s) => s === r1.size));
    assert.ok(w.commits >= 1 && w.commits <= 50);
    // Appends before a rotation go to the old file, after it to the new one; order is kept.
    w.append({ op: 'session_end', clientId: b('c0') });
    w.afterDurable(() => order.push(100));
    w.rotate(p2, 2n);
    w.append({ op: 'session_end', clientId: b('c1') });
    w.afterDurable(() => order.push(101));
    await w.close();
    assert.deepEqual(order.slice(50), [100, 101]);
    const old = await readJournalFile(p1);
    assert.equal(old.records.length, 51);
    assert.equal(old.tail, null);
    const fresh = await readJournalFile(p2);
    assert.equal(fresh.header?.base, 2n);
    assert.deepEqual(fresh.records, [{ op: 'session_end', clientId: b('c1') }]);
    // With nothing pending a callback runs at once.
    const w2 = JournalWriter.create(join(dir, 'j.3'), 3n);
    let ran = false;
    w2.afterDurable(() => (ran = true));
    assert.equal(ran, true);
    await w2.close();
    writeFileSync(join(dir, 'unused'), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
