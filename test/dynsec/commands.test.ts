/**
 * The `$CONTROL/dynamic-security/v1` commands of skeeter's built-in Dynamic Security plugin,
 * against answers, log lines and a saved file recorded from Mosquitto 2.0.20's own plugin
 * (fixtures/README.md), and the rules around them: who may send commands, the order of the
 * acknowledgement and the answer, bytes that are not UTF-8.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as m from '../helpers/mqtt-bytes.js';
import { Admin, CONTROL, FIXTURES, RESPONSE, connectClient, parsePublish, startDynsec, waitForText } from './helpers.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
const utf8 = (latin1: string): string => Buffer.from(latin1, 'latin1').toString('utf8');

test('every command answers byte for byte as 2.0.20 does, and logs the same dynsec lines', { timeout: 60_000 }, async () => {
  const cases = fixture<Array<{ payload: string; answer: string }>>('answers-by-mosquitto-2.0.20.json');
  const logLines = readFileSync(join(FIXTURES, 'answers-log-by-mosquitto-2.0.20.txt'), 'utf8').trim().split('\n');
  const b = await startDynsec({ fixture: 'admin-only.json' });
  const admin = await Admin.open(b.port);
  try {
    for (const { payload, answer } of cases) {
      assert.equal(utf8(await admin.raw(Buffer.from(payload, 'utf8'))), answer, `answer to ${payload}`);
    }
    assert.ok(await waitForText(b.stderr, logLines.at(-1)!), b.stderr());
    const ours = b
      .stderr()
      .split('\n')
      .filter((l) => l.includes(' dynsec: '))
      .map((l) => l.replace(/^\d+: /, ''));
    assert.deepEqual(ours, logLines);
  } finally {
    admin.close();
    await b.stop();
  }
});

test('the saved file has 2.0.20\'s layout and member order (cJSON_Print), password hashes aside', { timeout: 60_000 }, async () => {
  const commands = fixture<string[]>('saved-by-mosquitto-2.0.20.commands.json');
  const expected = readFileSync(join(FIXTURES, 'saved-by-mosquitto-2.0.20.json'), 'utf8');
  // New passwords get a random salt: compare everything else.
  const mask = (s: string): string => s.replace(/"(password|salt)":\t"[^"]*"/g, '"$1":\t"..."');
  const b = await startDynsec({ fixture: 'admin-only.json' });
  const admin = await Admin.open(b.port);
  try {
    for (const c of commands) {
      const answer = JSON.parse(utf8(await admin.raw(Buffer.from(c, 'utf8')))) as { responses: Array<{ error?: string }> };
      assert.equal(answer.responses[0]?.error, undefined, c);
    }
    const saved = readFileSync(b.file, 'utf8');
    assert.equal(mask(saved), mask(expected));
    // The administrator's hash, unchanged, is written back as read.
    assert.ok(saved.includes('"password":\t"lVzpjLTwGF6AgTM1ItjOFfb5ZGaVupsI3mwXysa9nCspkbHVOn7gY8YZNayvm+X8ea0ypNTEOgpEdAtEvooKYA=="'));
    assert.match(saved, /"username":\t"probe-1",[\s\S]*?"salt":\t"[A-Za-z0-9+/]{16}",\n\t\t\t"iterations":\t101/);
  } finally {
    admin.close();
    await b.stop();
  }
});

test('only a client whose roles allow publishClientSend on the command topic may send commands', { timeout: 60_000 }, async () => {
  const b = await startDynsec({ fixture: 'admin-only.json' });
  const admin = await Admin.open(b.port);
  const clients = [];
  try {
    assert.match(await admin.send([{ command: 'createClient', username: 'eve', password: 'eve-pw' }]), /"createClient"/);
    // eve may read the answers (default publishClientReceive) but not write the command topic.
    const eve = await connectClient(b.port, 5, { clientId: 'eve', username: 'eve', password: 'eve-pw' });
    const anon = await connectClient(b.port, 4, { clientId: 'anon' });
    clients.push(eve.c, anon.c);
    eve.c.send(m.publish(5, CONTROL, JSON.stringify({ commands: [{ command: 'deleteClient', username: 'boss' }] }), { qos: 1, mid: 3 }));
    assert.equal((await eve.c.next())?.toString('hex'), m.puback(5, 3, 0x87).toString('hex'), 'refused as not authorised');
    anon.c.send(m.publish(4, CONTROL, JSON.stringify({ commands: [{ command: 'deleteClient', username: 'boss' }] })));
    // Even with every default access allowed, $CONTROL topics must be granted explicitly.
    assert.match(await admin.send([{ command: 'setDefaultACLAccess', acls: ['publishClientSend', 'subscribe'].map((acltype) => ({ acltype, allow: true })) }]), /"setDefaultACLAccess"/);
    anon.c.send(m.publish(4, CONTROL, JSON.stringify({ commands: [{ command: 'deleteClient', username: 'boss' }] })), m.pingreq());
    // Its PINGRESP comes after the broker has handled the PUBLISH before it.
    assert.equal((await anon.c.next())?.toString('hex'), m.pingresp().toString('hex'));
    const answer = await admin.json([{ command: 'getClient', username: 'boss' }]);
    assert.equal(answer.responses[0]?.error, undefined, 'nobody else deleted the administrator: the next answer is ours');
    anon.c.send(m.subscribe(4, 2, [['$CONTROL/dynamic-security/#', 0], ['other/#', 0]]));
    assert.equal((await anon.c.next())?.toString('hex'), m.suback(4, 2, [0x80, 0]).toString('hex'));
  } finally {
    for (const c of clients) c.close();
    admin.close();
    await b.stop();
  }
});

test('a QoS 1 command is acknowledged before its answer is sent; QoS 2 too', { timeout: 60_000 }, async () => {
  const b = await startDynsec({ fixture: 'admin-only.json' });
  const admin = await Admin.open(b.port);
  try {
    assert.match(await admin.raw([{ command: 'listRoles' }], 1), /"totalCount":1/);
    admin.c.send(m.publish(4, CONTROL, JSON.stringify({ commands: [{ command: 'listClients' }] }), { qos: 2, mid: 9 }));
    assert.equal((await admin.c.next())?.toString('hex'), m.pubrec(4, 9).toString('hex'));
    const p = await admin.c.next();
    assert.equal(parsePublish(p!).topic, RESPONSE);
  } finally {
    admin.close();
    await b.stop();
  }
});

test('names that are not UTF-8 are refused; other strings keep their bytes, as cJSON keeps them', { timeout: 60_000 }, async () => {
  const b = await startDynsec({ fixture: 'admin-only.json' });
  const admin = await Admin.open(b.port);
  try {
    const raw = (s: string): Promise<string> => admin.raw(Buffer.from(s, 'latin1'));
    assert.equal(await raw('{"commands":[{"command":"createClient","username":"\xff\xfe"}]}'), '{"responses":[{"command":"createClient","error":"Username not valid UTF-8"}]}');
    // A text name is not checked: its bytes are stored and sent back as they came.
    assert.equal(await raw('{"commands":[{"command":"createRole","rolename":"r","textname":"caf\xc3\xa9 \xff"}]}'), '{"responses":[{"command":"createRole"}]}');
    assert.equal(
      await raw('{"commands":[{"command":"getRole","rolename":"r"}]}'),
      '{"responses":[{"command":"getRole","data":{"role":{"rolename":"r","textname":"caf\xc3\xa9 \xff","acls":[]}}}]}',
    );
    // \u escapes become UTF-8; a NUL ends the string as C reads it; control bytes are escaped on the way out.
    assert.equal(await raw('{"commands":[{"command":"createRole","rolename":"\\u00e9t\\u00e9","textname":"a\\u0000b","textdescription":"tab\\there"}]}'), '{"responses":[{"command":"createRole"}]}');
    assert.equal(
      utf8(await raw('{"commands":[{"command":"getRole","rolename":"été"}]}'.replace('été', '\xc3\xa9t\xc3\xa9'))),
      '{"responses":[{"command":"getRole","data":{"role":{"rolename":"été","textname":"a","textdescription":"tab\\there","acls":[]}}}]}',
    );
    // Lone surrogates are not JSON cJSON accepts; U+FFFF is, but is no valid name.
    assert.equal(await raw('{"commands":[{"command":"getRole","rolename":"\\udc00"}]}'), '{"responses":[{"command":"Unknown command","error":"Payload not valid JSON"}]}');
    assert.equal(await raw('{"commands":[{"command":"getRole","rolename":"\\uffff"}]}'), '{"responses":[{"command":"getRole","error":"Role name not valid UTF-8"}]}');
  } finally {
    admin.close();
    await b.stop();
  }
});
