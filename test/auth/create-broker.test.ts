/**
 * createBroker({ conf }) loads password_file, acl_file and plugin lines as the `mosquitto`
 * process does: start() installs them before any listener opens, a bad file makes start()
 * reject with Mosquitto's lines and exit status, reloadSecurity() is SIGHUP's security part.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, createBroker } from '@skeeter/broker';
import { freePort } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { repoRoot } from '../helpers/paths.js';
import { passwordLine } from './helpers.js';

const QUIET = { types: new Set<never>(), dests: [], timestamp: false, connectionMessages: false };
const work = mkdtempSync(join(tmpdir(), 'skeeter-create-broker-'));
after(() => rmSync(work, { recursive: true, force: true }));
const hex = (b: Buffer | null | undefined): string => (b ? b.toString('hex') : String(b));

async function connect(port: number, o: m.ConnectOptions): Promise<{ c: RawClient; rc: number }> {
  const c = await RawClient.open(port);
  c.send(m.connect(4, o));
  const ack = await c.next(10_000);
  assert.equal(ack?.[0], 0x20);
  return { c, rc: ack[3]! };
}

test('password_file and acl_file from conf: logins and ACLs as in the process; reloadSecurity re-checks clients', { timeout: 60_000 }, async () => {
  const pw = join(work, 'pw');
  const acl = join(work, 'acl');
  writeFileSync(pw, passwordLine('alice', 'secret') + '\n' + passwordLine('bob', 'b') + '\n');
  writeFileSync(acl, 'user alice\ntopic readwrite a/#\nuser bob\ntopic read a/#\n');
  const port = await freePort();
  const b = createBroker({
    conf: `listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${pw}\nacl_file ${acl}\nsys_interval 0\n`,
    settings: { log: QUIET },
  });
  await b.start();
  const open: RawClient[] = [];
  try {
    assert.equal((await connect(port, {})).rc, 5);
    assert.equal((await connect(port, { username: 'alice', password: 'wrong' })).rc, 5);
    const alice = await connect(port, { clientId: 'alice', username: 'alice', password: 'secret' });
    const bob = await connect(port, { clientId: 'bob', username: 'bob', password: 'b' });
    open.push(alice.c, bob.c);
    assert.equal(alice.rc, 0);
    assert.equal(bob.rc, 0);
    alice.c.send(m.subscribe(4, 1, [['a/#', 0]]));
    assert.equal(hex(await alice.c.next()), hex(m.suback(4, 1, [0])));
    bob.c.send(m.publish(4, 'a/denied', 'from bob')); // bob may only read a/#
    alice.c.send(m.publish(4, 'a/ok', 'from alice'));
    assert.equal(hex(await alice.c.next()), hex(m.publish(4, 'a/ok', 'from alice')));
    // Bob's password changes: the reload disconnects him, alice stays.
    writeFileSync(pw, passwordLine('alice', 'secret') + '\n' + passwordLine('bob', 'new') + '\n');
    b.reloadSecurity();
    assert.equal(await bob.c.next(10_000), null);
    alice.c.send(m.pingreq());
    assert.equal(hex(await alice.c.next()), hex(m.pingresp()));
  } finally {
    for (const c of open) c.close();
    await b.stop();
  }
});

test('a bad ACL file or a missing password file: start() rejects with Mosquitto\'s lines and exit status', { timeout: 30_000 }, async () => {
  const badAcl = join(work, 'bad-acl');
  writeFileSync(badAcl, 'topic read a/#\nbogus line\n');
  const missing = join(work, 'missing-pw');
  for (const [line, lines, exitCode] of [
    [`acl_file ${badAcl}`, [`Error: Invalid line in acl_file "${badAcl}": bogus.`, `Error opening acl file "${badAcl}".`], 3],
    [`password_file ${missing}`, [`Error: Unable to open pwfile "${missing}".`, `Error opening password file "${missing}".`], 13],
  ] as const) {
    const port = await freePort();
    const b = createBroker({ conf: `listener ${port} 127.0.0.1\n${line}\n`, settings: { log: QUIET } });
    await assert.rejects(b.start(), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.lines, lines);
      assert.equal(e.exitCode, exitCode);
      return true;
    });
    await b.stop();
    // Nothing listens: the listener was never opened.
    await assert.rejects(RawClient.open(port, '127.0.0.1', 2000));
  }
});

test('a plugin line in conf is loaded by start()', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const plugin = join(repoRoot, 'examples', 'plugins', 'dist', 'payload-modification', 'payload-modification.js');
  const b = createBroker({ conf: `listener ${port} 127.0.0.1\nallow_anonymous true\nplugin ${plugin}\nplugin_opt_trailing_nul false\n`, settings: { log: QUIET } });
  await b.start();
  try {
    const { c } = await connect(port, { clientId: 'p' });
    try {
      c.send(m.subscribe(4, 1, [['x', 0]]));
      assert.equal(hex(await c.next()), hex(m.suback(4, 1, [0])));
      c.send(m.publish(4, 'x', 'there'));
      assert.equal(hex(await c.next()), hex(m.publish(4, 'x', 'hello there')));
    } finally {
      c.close();
    }
  } finally {
    await b.stop();
  }
});
