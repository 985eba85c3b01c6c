/**
 * Every Mosquitto 2.0.11 fixture through the real built db_dump in all modes, byte for byte
 * against the output of Mosquitto's own db_dump.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURES, fixtureBytes, fixturePath, referenceStats, run } from './helpers.js';

for (const name of FIXTURES) {
  test(`db_dump ${name}.db matches Mosquitto's output`, async () => {
    const r = await run([fixturePath(name)]);
    assert.equal(r.stderr.toString(), '');
    assert.equal(r.status, 0);
    assert.ok(r.stdout.equals(fixtureBytes(name, '.dump.txt')), `stdout differs:\n${r.stdout.toString('latin1').slice(0, 2000)}`);
  });

  test(`db_dump --stats ${name}.db matches Mosquitto's output`, async () => {
    const r = await run(['--stats', fixturePath(name)]);
    assert.equal(r.stderr.toString(), '');
    assert.equal(r.status, 0);
    assert.equal(r.stdout.toString('latin1'), referenceStats(name).stats.toString('latin1'));
  });

  test(`db_dump --client-stats ${name}.db matches Mosquitto's output`, async () => {
    const r = await run(['--client-stats', fixturePath(name)]);
    assert.equal(r.stderr.toString(), '');
    assert.equal(r.status, 0);
    assert.equal(r.stdout.toString('latin1'), referenceStats(name).clientStats.toString('latin1'));
  });

  test(`db_dump --json ${name}.db lists every record with its real store id`, async () => {
    const r = await run(['--json', fixturePath(name)]);
    assert.equal(r.stderr.toString(), '');
    assert.equal(r.status, 0);
    const doc = JSON.parse(r.stdout.toString('utf8')) as Record<string, Array<Record<string, unknown>>>;
    assert.deepEqual(Object.keys(doc), ['base-messages', 'clients', 'client-messages', 'retained-messages', 'subscriptions']);
    // Cross-check against the reference text dump: same store ids, in file order.
    const text = fixtureBytes(name, '.dump.txt').toString('latin1');
    const blocks = text.split(/^(?=DB_CHUNK_)/m).slice(1);
    const ids = (kind: string): string[] =>
      blocks.filter((b) => b.startsWith(`DB_CHUNK_${kind}:`)).map((b) => /\tStore ID: (\d+)/.exec(b)![1]!);
    assert.deepEqual(doc['base-messages']!.map((m) => String(m['storeid'])), ids('MSG_STORE'));
    assert.deepEqual(doc['client-messages']!.map((m) => String(m['storeid'])), ids('CLIENT_MSG'));
    assert.deepEqual(doc['retained-messages']!.map((m) => String(m['storeid'])), ids('RETAIN'));
    assert.equal(doc['clients']!.length, blocks.filter((b) => b.startsWith('DB_CHUNK_CLIENT:')).length);
    assert.equal(doc['subscriptions']!.length, blocks.filter((b) => b.startsWith('DB_CHUNK_SUB:')).length);
  });
}

test('--json payloads are base64 of the stored bytes', async () => {
  const r = await run(['--json', fixturePath('b-retained')]);
  const doc = JSON.parse(r.stdout.toString('utf8')) as { 'base-messages': Array<{ topic: string; payload: string; clientid: string }> };
  const bin = doc['base-messages'].find((m) => m.topic === 'fx/retain/qos1/binary')!;
  assert.equal(Buffer.from(bin.payload, 'base64').toString('hex'), '0001027f80feff0a');
  assert.equal(bin.clientid, 'fx-b-pub1');
});
