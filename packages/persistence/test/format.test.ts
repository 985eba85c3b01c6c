import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChunkType,
  encodeDb,
  PersistenceError,
  readDbBuffer,
  readDbFile,
  recordsToState,
  stateToRecords,
  type DbEvent,
  type DbRecord,
  type MsgStoreRecord,
  type ClientRecord,
} from '../src/index.js';
import { FIXTURES, fixture } from './helpers/fixtures.js';
import { generateState } from './helpers/generate.js';
import { chunkV56, clientV5, header, v234 } from './helpers/legacy.js';

const records = (buf: Buffer): DbRecord[] =>
  [...readDbBuffer(buf)].flatMap((e) => (e.event === 'chunk' ? [e.chunk.record] : []));

async function streamEvents(path: string, blockSize: number): Promise<DbEvent[]> {
  const out: DbEvent[] = [];
  for await (const e of readDbFile(path, { blockSize })) out.push(e);
  return out;
}

function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-persist-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

function expectError(fn: () => unknown, code: string, extra: Record<string, unknown> = {}): PersistenceError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PersistenceError, `expected PersistenceError, got ${String(e)}`);
    assert.equal(e.code, code);
    for (const [k, v] of Object.entries(extra)) assert.deepEqual((e.details as Record<string, unknown>)[k], v, k);
    return e;
  }
  assert.fail(`expected ${code}`);
}

for (const name of FIXTURES) {
  test(`${name}: read then write gives back Mosquitto's file byte for byte`, () => {
    const buf = fixture(name);
    const out = encodeDb(records(buf));
    assert.equal(out.length, buf.length);
    assert.ok(out.equals(buf), 'bytes differ');
  });

  test(`${name}: the state regrouped and written in Mosquitto's chunk order is the same file`, () => {
    const buf = fixture(name);
    assert.ok(encodeDb(stateToRecords(recordsToState(records(buf)))).equals(buf));
  });

  test(`${name}: the streaming reader yields what the buffer reader does, for tiny and large blocks`, async () => {
    const buf = fixture(name);
    const expected = [...readDbBuffer(buf)];
    await withTempDir(async (dir) => {
      const path = join(dir, 'mosquitto.db');
      writeFileSync(path, buf);
      for (const blockSize of [1, 7, 64, 1 << 20]) {
        if (name === 'e-large' && blockSize < 64) continue; // quadratic re-decoding at 1-byte blocks
        assert.deepEqual(await streamEvents(path, blockSize), expected, `blockSize ${blockSize}`);
      }
    });
  });
}

test('b-retained decodes to the documented fields', () => {
  const evs = [...readDbBuffer(fixture('b-retained'))];
  assert.deepEqual(evs[0], { event: 'header', header: { crc: 0, version: 6 } });
  const recs = records(fixture('b-retained'));
  assert.deepEqual(recs[0], { kind: 'cfg', lastDbId: 57n, shutdown: 1, dbidSize: 8 });
  const msgs = recs.filter((r): r is MsgStoreRecord => r.kind === 'msg_store');
  assert.deepEqual(msgs.map((m) => m.storeId), [55n, 54n, 53n]);
  const bin = msgs[1]!;
  assert.equal(bin.topic?.toString(), 'fx/retain/qos1/binary');
  assert.equal(bin.payload.toString('hex'), '0001027f80feff0a');
  assert.equal(bin.qos, 1);
  assert.equal(bin.retain, 1);
  assert.equal(bin.sourceId?.toString(), 'fx-b-pub1');
  assert.equal(bin.sourceUsername, null);
  assert.equal(bin.sourcePort, 23102);
  assert.equal(msgs[0]!.topic?.toString(), 'fx/retain/qos2/ütf8 topic');
  assert.equal(msgs[0]!.payload.toString(), 'héllo wörld ✓ qos2');
  assert.deepEqual(recs.filter((r) => r.kind === 'retain').map((r) => (r.kind === 'retain' ? r.storeId : 0n)), [53n, 54n, 55n]);
});

test('c2 keeps the stale username bytes (NUL and heap garbage) of the 2.0.11 writer bug', () => {
  const clients = records(fixture('c2-stale-username-v311')).filter((r): r is ClientRecord => r.kind === 'client');
  assert.equal(clients[1]!.clientId?.toString(), 'fx-c-sub2');
  const u = clients[1]!.username!;
  assert.equal(u.length, 1280);
  assert.equal(u.subarray(0, 6).toString('latin1'), 'alice\0');
});

test('e-large: v5 properties and subscription identifiers decode', () => {
  const recs = records(fixture('e-large'));
  const withProps = recs.filter((r): r is MsgStoreRecord => r.kind === 'msg_store' && r.properties !== null);
  assert.equal(withProps.length, 100);
  const p = withProps[0]!.properties!;
  assert.equal(p[0]!.identifier, 3);
  assert.ok(Buffer.isBuffer(p[0]!.value) && p[0]!.value.toString().includes('/'));
  assert.equal(p[1]!.identifier, 38);
  const subIds = recs.filter((r) => r.kind === 'client_msg' && r.properties !== null);
  assert.ok(subIds.length > 0);
  const counts = new Map<string, number>();
  for (const r of recs) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(counts), { cfg: 1, msg_store: 1208, client: 100, client_msg: 1198, sub: 200, retain: 1000 });
});

for (const seed of [1, 2, 3, 42, 2011]) {
  test(`generated state ${seed}: read(write(x)) == x, and writing again is byte-stable`, () => {
    const state = generateState(seed);
    const bytes = encodeDb(stateToRecords(state));
    const back = recordsToState(records(bytes));
    assert.deepEqual(back, state);
    assert.ok(encodeDb(stateToRecords(back)).equals(bytes));
  });
}

test('version 6 layout: mixed byte order and zeroed padding, field by field', () => {
  const bytes = encodeDb([
    { kind: 'cfg', lastDbId: 0x0102030405060708n, shutdown: 1, dbidSize: 8 },
    { kind: 'sub', clientId: Buffer.from('c'), topic: Buffer.from('t/#'), qos: 2, options: 0x0c, identifier: 0x01020304 },
    { kind: 'client', clientId: Buffer.from('id'), username: Buffer.from('u'), sessionExpiryTime: 1795634000n, sessionExpiryInterval: 3600, lastMid: 0x0102, listenerPort: 1883 },
  ]);
  assert.equal(bytes.subarray(0, 23).toString('hex'), '00b5006d6f7371756974746f2064620000000000000006');
  // CFG: header (BE type 1, BE length 16), last_db_id LE, shutdown, dbid size, 6 zero bytes.
  assert.equal(bytes.subarray(23, 47).toString('hex'), '00000001' + '00000010' + '0807060504030201' + '01' + '08' + '000000000000');
  // SUB: identifier BE, id len BE, topic len BE, qos, options, 2 zero bytes, id, topic.
  assert.equal(bytes.subarray(47, 47 + 8 + 16).toString('hex'), '00000005' + '00000010' + '01020304' + '0001' + '0003' + '02' + '0c' + '0000' + '63' + '742f23');
  // CLIENT: expiry time LE, interval BE, last mid BE, id len BE, port BE, username len BE, 4 zero bytes.
  const c = bytes.subarray(71);
  assert.equal(c.toString('hex'), '00000006' + '0000001b' + '5033076b00000000' /* 1795634000 = 0x6B073350, LE */ + '00000e10' + '0102' + '0002' + '075b' + '0001' + '00000000' + '6964' + '75');
});

test('versions 2, 3 and 4 are read field by field, ignoring their unreliable chunk lengths', () => {
  for (const version of [2, 3, 4]) {
    const file = Buffer.concat([
      header(version),
      v234.cfg(1, 77n),
      v234.msgStore(version, 70n, 'pub', 'a/b', 'hello', 1, 1),
      v234.client(version, 'sess', 12),
      v234.clientMsg('sess', 70n, 5, 1, 1, 1, 11, 1),
      v234.sub('sess', 'a/#', 2),
      v234.retain(70n),
    ]);
    const recs = records(file);
    assert.deepEqual(
      recs.map((r) => r.kind),
      ['cfg', 'msg_store', 'client', 'client_msg', 'sub', 'retain'],
      `version ${version}`,
    );
    assert.deepEqual(recs[0], { kind: 'cfg', lastDbId: 77n, shutdown: 1, dbidSize: 8 });
    const m = recs[1] as MsgStoreRecord;
    assert.equal(m.topic?.toString(), 'a/b');
    assert.equal(m.payload.toString(), 'hello');
    assert.equal(m.sourceMid, 7);
    assert.equal(m.sourceUsername?.toString(), version === 4 ? 'user' : undefined);
    assert.equal(m.sourcePort, version === 4 ? 1883 : 0);
    assert.deepEqual(recs[3], {
      kind: 'client_msg', clientId: Buffer.from('sess'), storeId: 70n, mid: 5, qos: 1, state: 11, retain: 1, dup: 1, direction: 1, properties: null,
    });
    assert.deepEqual(recs[4], { kind: 'sub', clientId: Buffer.from('sess'), topic: Buffer.from('a/#'), qos: 2, options: 0, identifier: 0 });
    // Loaded v2..v4 state is rewritten as version 6 and reads back the same.
    const state = recordsToState(recs);
    assert.deepEqual(recordsToState(records(encodeDb(stateToRecords(state)))), state);
  }
});

test('version 5 CLIENT chunks have the 16-byte fixed part', () => {
  const file = Buffer.concat([header(5), clientV5('v5client', 9, 0xffffffff), chunkV56(4, Buffer.from('0100000000000000', 'hex'))]);
  const recs = records(file);
  assert.deepEqual(recs[0], {
    kind: 'client', clientId: Buffer.from('v5client'), username: null, sessionExpiryTime: 0n, sessionExpiryInterval: 0xffffffff, lastMid: 9, listenerPort: 0,
  });
  assert.deepEqual(recs[1], { kind: 'retain', storeId: 1n });
});

test('empty, short and foreign files fail as Mosquitto does', () => {
  const good = fixture('a-empty');
  expectError(() => [...readDbBuffer(Buffer.alloc(0))], 'EMPTY_FILE');
  expectError(() => [...readDbBuffer(good.subarray(0, 10))], 'TRUNCATED_HEADER', { magicRead: false });
  expectError(() => [...readDbBuffer(good.subarray(0, 17))], 'TRUNCATED_HEADER', { magicRead: true, crc: undefined });
  expectError(() => [...readDbBuffer(good.subarray(0, 21))], 'TRUNCATED_HEADER', { magicRead: true, crc: 0 });
  const foreign = Buffer.from(good);
  foreign[3] = 0x4d;
  const e = expectError(() => [...readDbBuffer(foreign)], 'BAD_MAGIC');
  assert.equal(e.message, 'Error: Unable to restore persistent database. Unrecognised file format.');
});

test('every truncation of a file either ends cleanly at a chunk header or is CORRUPT, never a crash', () => {
  const buf = fixture('c-persistent-v311');
  // Offsets where a chunk header starts: cutting inside a header ends the file silently.
  const starts = [...readDbBuffer(buf)].flatMap((e) => (e.event === 'chunk' ? [e.chunk.offset] : []));
  for (let cut = 23; cut < buf.length; cut++) {
    const inHeader = starts.some((s) => cut >= s && cut < s + 8);
    if (inHeader) {
      const n = records(buf.subarray(0, cut)).length;
      assert.equal(n, starts.filter((s) => s + 8 <= cut).length, `cut ${cut}`);
    } else {
      const owner = Math.max(...starts.filter((s) => s < cut));
      expectError(() => records(buf.subarray(0, cut)), 'CORRUPT', { offset: owner, reason: 'truncated' });
    }
  }
});

test('unknown chunks are reported and skipped by their length', () => {
  const base = fixture('b-retained');
  const unknown = chunkV56(99, Buffer.from('whatever'));
  const file = Buffer.concat([base.subarray(0, 47), unknown, base.subarray(47)]);
  const evs = [...readDbBuffer(file)];
  assert.deepEqual(evs[2], { event: 'unknown', type: 99, length: 8, offset: 47 });
  assert.deepEqual(records(file), records(base));
  // An unknown chunk whose length runs past the end of the file simply ends it.
  const tail = Buffer.concat([base, chunkV56(7, Buffer.alloc(0), 1000)]);
  assert.equal(records(tail).length, records(base).length);
});

test('corrupt chunk contents: huge payload length, zero-length client id, bad property blocks', () => {
  const msg = (props: Buffer): Buffer => {
    const topic = Buffer.from('t');
    const fixed = Buffer.alloc(32);
    fixed.writeBigUInt64LE(1n, 0);
    fixed.writeUInt32BE(0, 16);
    fixed.writeUInt16BE(1, 26);
    return chunkV56(ChunkType.MSG_STORE, Buffer.concat([fixed, topic, props]));
  };
  const withHeader = (...c: Buffer[]): Buffer => Buffer.concat([header(6), ...c]);
  assert.equal(records(withHeader(msg(Buffer.from('03030001', 'hex').subarray(0, 0)))).length, 1);
  // Content type "a" is fine; an unknown property id, invalid UTF-8, a property not allowed on
  // PUBLISH and a duplicate are all corrupt.
  assert.equal(records(withHeader(msg(Buffer.from('0403000161', 'hex')))).length, 1);
  // Mosquitto reads while the declared length is positive: bytes after the block are ignored.
  assert.equal(records(withHeader(msg(Buffer.from('0403000161ffff', 'hex')))).length, 1);
  // unknown id 0; invalid UTF-8; request-problem-information (not a PUBLISH property);
  // duplicate payload-format-indicator; a string running past the chunk.
  for (const bad of ['020000', '04030001ff', '021701', '0401010100', '0503000561']) {
    expectError(() => records(withHeader(msg(Buffer.from(bad, 'hex')))), 'CORRUPT', { reason: 'properties' });
  }
  const huge = Buffer.alloc(32);
  huge.writeUInt32BE(268435456, 16);
  expectError(() => records(withHeader(chunkV56(2, huge))), 'CORRUPT', { reason: 'payload-too-large' });
  const noId = Buffer.alloc(24);
  expectError(() => records(withHeader(chunkV56(6, noId))), 'CORRUPT', { reason: 'no-client-id', chunkType: 6 });
});
