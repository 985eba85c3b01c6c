/**
 * Printing rules of Mosquitto 2.0's db_dump on files written by our writer, where the
 * fixtures do not reach: payload printability, signed printf conversions, sign-extended
 * binary properties, C-string truncation, client-stats attribution.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeDb, type DbRecord, type MsgStoreRecord } from '@skeeter/persistence';
import { run, withTempDir } from './helpers.js';

const msg = (storeId: bigint, payload: Buffer, extra: Partial<MsgStoreRecord> = {}): MsgStoreRecord => ({
  kind: 'msg_store', storeId, expiryTime: 0n, sourceMid: 0, sourcePort: 0, sourceId: null, sourceUsername: null,
  topic: Buffer.from('t'), qos: 0, retain: 0, payload, properties: null, ...extra,
});

async function dump(records: DbRecord[], args: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return withTempDir(async (dir) => {
    const path = join(dir, 'q.db');
    writeFileSync(path, encodeDb(records));
    const r = await run([...args, path]);
    return { status: r.status, stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1') };
  });
}

const block = (out: string, storeId: number): string => {
  const start = out.indexOf(`\tStore ID: ${storeId}\n`);
  const end = out.indexOf('DB_CHUNK_', start);
  return out.slice(start, end < 0 ? undefined : end);
};

test('payload lines: only for 1..255 bytes of MQTT-valid UTF-8', async () => {
  const cfg: DbRecord = { kind: 'cfg', lastDbId: 10n, shutdown: 0, dbidSize: 8 };
  const r = await dump([
    cfg,
    msg(1n, Buffer.from('plain text')),
    msg(2n, Buffer.from('x'.repeat(255))),
    msg(3n, Buffer.from('x'.repeat(256))),
    msg(4n, Buffer.from('line\n')),
    msg(5n, Buffer.from('tab\there')),
    msg(6n, Buffer.alloc(0)),
    msg(7n, Buffer.from([0xc3, 0xa9, 0xe2, 0x9c, 0x93])), // "é✓"
    msg(8n, Buffer.from([0xef, 0xbf, 0xbf])), // U+FFFF non-character
    msg(9n, Buffer.from([0xc2, 0x85])), // U+0085, a C1 control
    msg(10n, Buffer.from([0xe0, 0x80, 0xaf])), // overlong
  ]);
  assert.equal(r.status, 0);
  const printed = (id: number) => block(r.stdout, id).includes('\tPayload: ');
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(printed), [true, true, false, false, false, false, true, false, false, false]);
  assert.ok(block(r.stdout, 7).includes('\tPayload: \xc3\xa9\xe2\x9c\x93\n'), 'printed raw');
});

test('numbers: 64-bit times unsigned, 32-bit %d fields signed, sign-extended binary properties', async () => {
  const r = await dump([
    { kind: 'cfg', lastDbId: 0xffffffffffffffffn, shutdown: 1, dbidSize: 8 },
    msg(5n, Buffer.from('p'), {
      expiryTime: -1n,
      properties: [
        { identifier: 1, value: 1 },
        { identifier: 2, value: 0xffffffff },
        { identifier: 9, value: Buffer.from([0x00, 0x7f, 0x80, 0xfe]) },
        { identifier: 38, name: Buffer.from('k'), value: Buffer.from('v') },
        { identifier: 3, value: Buffer.from('text/plain') },
        { identifier: 8, value: Buffer.from('reply/to') },
      ],
    }),
    { kind: 'client', clientId: Buffer.from('c\0hidden'), username: Buffer.from('\0'), sessionExpiryTime: -2n, sessionExpiryInterval: 0xffffffff, lastMid: 65535, listenerPort: 0 },
    { kind: 'sub', clientId: Buffer.from('c'), topic: Buffer.from('a/#'), qos: 1, options: 0x0c, identifier: 0x80000000 },
    { kind: 'client_msg', clientId: Buffer.from('c'), storeId: 5n, mid: 1, qos: 1, state: 3, retain: 1, dup: 1, direction: 1, properties: [{ identifier: 11, value: 268435455 }] },
  ]);
  assert.equal(r.status, 0);
  assert.equal(
    r.stdout,
    'Mosquitto DB dump\nCRC: 0\nDB version: 6\n' +
      'DB_CHUNK_CFG:\n\tLength: 16\n\tShutdown: 1\n\tDB ID size: 8\n\tLast DB ID: 18446744073709551615\n' +
      'DB_CHUNK_MSG_STORE:\n\tLength: 80\n\tStore ID: 5\n\tSource Port: 0\n\tSource MID: 0\n\tTopic: t\n\tQoS: 0\n\tRetain: 0\n' +
      '\tPayload Length: 1\n\tExpiry Time: 18446744073709551615\n\tPayload: p\n' +
      '\tProperties:\n\t\tPayload format indicator: 1\n\t\tMessage expiry interval: -1\n' +
      '\t\tCorrelation data: 007FFFFFFF80FFFFFFFE\n\t\tUser property: k , v\n\t\tContent type: text/plain\n\t\tResponse topic: reply/to\n' +
      'DB_CHUNK_CLIENT:\n\tLength: 33\n\tClient ID: c\n\tUsername: \n\tLast MID: 65535\n' +
      '\tSession expiry time: 18446744073709551614\n\tSession expiry interval: 4294967295\n' +
      'DB_CHUNK_SUB:\n\tLength: 16\n\tClient ID: c\n\tTopic: a/#\n\tQoS: 1\n\tSubscription ID: -2147483648\n\tOptions: 0x0C\n' +
      'DB_CHUNK_CLIENT_MSG:\n\tLength: 23\n\tClient ID: c\n\tStore ID: 5\n\tMID: 1\n\tQoS: 1\n\tRetain: 1\n\tDirection: 1\n\tState: 3\n\tDup: 1\n' +
      '\tProperties:\n\t\tSubscription identifier: 268435455\n',
  );
});

test('--client-stats: only clients and stores seen earlier count; file order; C-string ids', async () => {
  const client = (id: string): DbRecord => ({
    kind: 'client', clientId: Buffer.from(id), username: null, sessionExpiryTime: 0n, sessionExpiryInterval: 0, lastMid: 0, listenerPort: 0,
  });
  const cmsg = (id: string, storeId: bigint): DbRecord => ({
    kind: 'client_msg', clientId: Buffer.from(id), storeId, mid: 1, qos: 1, state: 11, retain: 0, dup: 0, direction: 1, properties: null,
  });
  const sub = (id: string): DbRecord => ({ kind: 'sub', clientId: Buffer.from(id), topic: Buffer.from('t'), qos: 0, options: 0, identifier: 0 });
  const r = await dump(
    [
      { kind: 'cfg', lastDbId: 3n, shutdown: 1, dbidSize: 8 },
      sub('b'), // before its client: not counted
      cmsg('b', 1n), // ditto
      msg(1n, Buffer.from('one')), // 32 + 1 + 3 = 36; each SUB here is 12 + 1 + 1 = 14
      client('b'),
      cmsg('b', 1n), // 17 + 36
      cmsg('b', 2n), // 17, store 2 comes later: not added
      client('a'),
      msg(2n, Buffer.from('two!')),
      sub('a'),
      sub('b'),
      sub('b'),
    ],
    ['--client-stats'],
  );
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'SC: 2 SS: 28 MC: 2 MS: 70   b\nSC: 1 SS: 14 MC: 0 MS: 0   a\n');
});
