/**
 * The Dynamic Security config file and the plugin lines, with broker processes and real files:
 * a corrupt file stops the broker and is never overwritten, a missing one is created by the
 * first change, every save replaces the file in one rename, changes survive a restart, and the
 * `plugin` / `auth_plugin` lines and their mistakes give Mosquitto's messages.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, startBroker } from '../helpers/broker-process.js';
import { launcher } from '../helpers/paths.js';
import * as m from '../helpers/mqtt-bytes.js';
import { Admin, FIXTURES, connectClient, startDynsec, waitForText } from './helpers.js';

const hex = (b: Buffer | null | undefined): string => (b ? b.toString('hex') : String(b));
const stamp = (s: string): string[] => s.split('\n').map((l) => l.replace(/^\d+: /, ''));

/** Runs the broker to its exit (it must not start) on a config; stderr lines without timestamps. */
async function runToExit(work: string, lines: string[]): Promise<{ status: number | null; lines: string[] }> {
  const port = await freePort();
  const conf = join(work, 'broker.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', ...lines, ''].join('\n'));
  const r = spawnSync(launcher('mosquitto'), ['-c', conf], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, lines: stamp(r.stderr) };
}

function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'skeeter-dynsec-file-'));
}

test('a file that is not valid JSON stops the broker with exit status 3 and is left as it was', { timeout: 60_000 }, async () => {
  const work = workDir();
  try {
    const file = join(work, 'dynamic-security.json');
    const corrupt = readFileSync(join(FIXTURES, 'admin-only.json'), 'utf8').slice(0, 200);
    writeFileSync(file, corrupt);
    const r = await runToExit(work, ['plugin /usr/lib/mosquitto_dynamic_security.so', `plugin_opt_config_file ${file}`]);
    assert.equal(r.status, 3);
    const i = r.lines.indexOf('Loading plugin: /usr/lib/mosquitto_dynamic_security.so');
    assert.ok(i !== -1, r.lines.join('\n'));
    // Mosquitto's line ends with its own "\n", hence the empty line after it.
    assert.deepEqual(r.lines.slice(i + 1), ['Error loading Dynamic security plugin config: File is not valid JSON.', '', 'Error: Plugin returned 3 when initialising.', '']);
    assert.equal(readFileSync(file, 'utf8'), corrupt);
    assert.deepEqual(readdirSync(work).sort(), ['broker.conf', 'dynamic-security.json']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('valid JSON of the wrong shape, an unreadable path and a directory are refused too', { timeout: 60_000 }, async () => {
  const work = workDir();
  try {
    const file = join(work, 'dynamic-security.json');
    const lines = ['plugin /x/mosquitto_dynamic_security.so', `plugin_opt_config_file ${file}`];
    for (const [content, why] of [
      ['[]', 'File is not a JSON object.'],
      ['{"roles": {}}', '"roles" is not an array.'],
      ['{"clients": "boss"}', '"clients" is not an array.'],
      ['{"groups": 1}', '"groups" is not an array.'],
    ] as const) {
      writeFileSync(file, content);
      const r = await runToExit(work, lines);
      assert.equal(r.status, 3, content);
      assert.ok(r.lines.includes(`Error loading Dynamic security plugin config: ${why}`), r.lines.join('\n'));
      assert.equal(readFileSync(file, 'utf8'), content);
    }
    rmSync(file);
    mkdirSync(file);
    const r = await runToExit(work, lines);
    assert.equal(r.status, 14);
    const i = r.lines.indexOf(`Error: ${file} is not a file.`);
    assert.ok(i !== -1, r.lines.join('\n'));
    assert.deepEqual(r.lines.slice(i + 1, i + 4), ['Error loading Dynamic security plugin config: File is not readable - check permissions.', '', 'Error: Plugin returned 14 when initialising.']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a missing file starts an empty config (with 2.0.20\'s error line); the first change creates it, 0600', { timeout: 60_000 }, async () => {
  const b = await startDynsec();
  try {
    assert.ok(await waitForText(b.stderr, 'Error loading Dynamic security plugin config: File is not readable - check permissions.\n\n'), b.stderr());
    assert.equal(existsSync(b.file), false);
    // Nobody can send commands to an empty config; unknown users are refused.
    const { c, connack } = await connectClient(b.port, 4, { clientId: 'x', username: 'boss', password: 'admin-secret' });
    c.close();
    assert.equal(hex(connack), hex(m.connack(4, 5)));
  } finally {
    await b.stop();
  }
  // The same with a file that holds only the administrator, created as a user would: the first
  // change writes the whole config back.
  const work = workDir();
  try {
    const file = join(work, 'dynamic-security.json');
    writeFileSync(file, '');
    const b2 = await startDynsec({ work });
    try {
      assert.equal(readFileSync(file, 'utf8'), '', 'an empty file is an empty config, not rewritten at start');
    } finally {
      await b2.stop();
    }
    rmSync(file);
    const b3 = await startDynsec({ work, fixture: 'admin-only.json' });
    const admin = await Admin.open(b3.port);
    try {
      rmSync(file);
      assert.equal(await admin.send([{ command: 'createGroup', groupname: 'g' }]), '{"responses":[{"command":"createGroup"}]}');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.match(readFileSync(file, 'utf8'), /^\{\n\t"defaultACLAccess":\t\{\n/);
    } finally {
      admin.close();
      await b3.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a save writes <file>.new and renames it: a reader of the old file sees it whole, nothing is left behind', { timeout: 60_000 }, async () => {
  const b = await startDynsec({ fixture: 'admin-only.json' });
  const admin = await Admin.open(b.port);
  try {
    const before = readFileSync(b.file);
    const inode = statSync(b.file).ino;
    const fd = openSync(b.file, 'r');
    try {
      assert.equal(await admin.send([{ command: 'createClient', username: 'new-user', password: 'x' }]), '{"responses":[{"command":"createClient"}]}');
      const old = Buffer.alloc(before.length + 16);
      const n = readSync(fd, old, 0, old.length, 0);
      assert.equal(old.subarray(0, n).toString(), before.toString(), 'the file open before the save was not written to');
    } finally {
      closeSync(fd);
    }
    assert.notEqual(statSync(b.file).ino, inode, 'replaced, not rewritten in place');
    assert.match(readFileSync(b.file, 'utf8'), /"username":\t"new-user"/);
    assert.deepEqual(readdirSync(b.work), ['dynamic-security.json']);
  } finally {
    admin.close();
    await b.stop();
  }
});

test('a save that cannot be written is logged; the answer is still success and the file is untouched', { timeout: 60_000 }, async () => {
  const b = await startDynsec({ fixture: 'admin-only.json' });
  const admin = await Admin.open(b.port);
  try {
    const before = readFileSync(b.file, 'utf8');
    // A directory where <file>.new would go: it cannot be opened for writing.
    mkdirSync(`${b.file}.new`);
    assert.equal(await admin.send([{ command: 'createRole', rolename: 'unsaved' }]), '{"responses":[{"command":"createRole"}]}');
    assert.ok(await waitForText(b.stderr, 'Error saving Dynamic security plugin config: File is not writable - check permissions.'), b.stderr());
    assert.equal(readFileSync(b.file, 'utf8'), before);
    rmSync(`${b.file}.new`, { recursive: true });
    // The next save writes everything, the role kept in memory included.
    assert.equal(await admin.send([{ command: 'createRole', rolename: 'saved' }]), '{"responses":[{"command":"createRole"}]}');
    assert.match(readFileSync(b.file, 'utf8'), /"rolename":\t"saved"[\s\S]*"rolename":\t"unsaved"/);
  } finally {
    admin.close();
    await b.stop();
  }
});

test('changes survive a restart: the file written is the file read', { timeout: 60_000 }, async () => {
  const work = workDir();
  try {
    const port = await freePort();
    const b1 = await startDynsec({ work, fixture: 'admin-only.json', port });
    const a1 = await Admin.open(b1.port);
    const commands = [
      { command: 'createRole', rolename: 'r', acls: [{ acltype: 'subscribeLiteral', topic: 'a', priority: 2, allow: true }] },
      { command: 'createGroup', groupname: 'g', roles: [{ rolename: 'r', priority: 1 }] },
      { command: 'createClient', username: 'u', password: 'u-pw', clientid: 'u-id', groups: [{ groupname: 'g', priority: 3 }], roles: [{ rolename: 'r' }] },
      { command: 'setAnonymousGroup', groupname: 'g' },
      { command: 'setDefaultACLAccess', acls: [{ acltype: 'publishClientSend', allow: true }] },
    ];
    const look = [
      { command: 'getClient', username: 'u' },
      { command: 'getGroup', groupname: 'g' },
      { command: 'getRole', rolename: 'r' },
      { command: 'getAnonymousGroup' },
      { command: 'getDefaultACLAccess' },
    ];
    let seen: string;
    try {
      await a1.send(commands);
      seen = await a1.send(look);
    } finally {
      a1.close();
      await b1.stop();
    }
    const saved = readFileSync(join(work, 'dynamic-security.json'), 'utf8');
    const b2 = await startDynsec({ work, port });
    const a2 = await Admin.open(b2.port);
    try {
      assert.equal(await a2.send(look), seen);
      const { c, connack } = await connectClient(b2.port, 4, { clientId: 'u-id', username: 'u', password: 'u-pw' });
      c.close();
      assert.equal(hex(connack), hex(m.connack(4, 0)), 'the password hash was saved and read back');
      await a2.send([{ command: 'getClient', username: 'u' }]);
      assert.equal(readFileSync(join(work, 'dynamic-security.json'), 'utf8'), saved, 'nothing changed, nothing rewritten');
    } finally {
      a2.close();
      await b2.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('auth_plugin / auth_opt_config_file load it as well, from any directory', { timeout: 60_000 }, async () => {
  const b = await startDynsec({ fixture: 'admin-only.json', oldSpelling: true });
  const admin = await Admin.open(b.port);
  try {
    assert.equal(await admin.send([{ command: 'listRoles' }]), '{"responses":[{"command":"listRoles","data":{"totalCount":1,"roles":["dynsec-admin"]}}]}');
    assert.match(b.stderr(), /Loading plugin: \/opt\/mosquitto\/lib\/mosquitto_dynamic_security\.so\n/);
  } finally {
    admin.close();
    await b.stop();
  }
});

test('without plugin_opt_config_file the plugin warns and does nothing; loaded twice, the broker does not start (31)', { timeout: 60_000 }, async () => {
  const work = workDir();
  try {
    const file = join(work, 'dynamic-security.json');
    writeFileSync(file, readFileSync(join(FIXTURES, 'admin-only.json')));
    const twice = await runToExit(work, [
      'plugin /a/mosquitto_dynamic_security.so',
      `plugin_opt_config_file ${file}`,
      'plugin /b/mosquitto_dynamic_security.so',
      `plugin_opt_config_file ${file}`,
    ]);
    assert.equal(twice.status, 31);
    const i = twice.lines.indexOf('Loading plugin: /b/mosquitto_dynamic_security.so');
    assert.deepEqual(twice.lines.slice(i + 1, i + 4), [
      'Error: Dynamic security plugin can currently only be loaded once.',
      'Note that this was previously incorrectly allowed but could cause problems with duplicate entries in the config.',
      'Error: Plugin returned 31 when initialising.',
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const nb = await startBroker({ config: ['allow_anonymous true', 'plugin /x/mosquitto_dynamic_security.so'] });
  try {
    assert.ok(await waitForText(nb.stderr, 'Warning: Dynamic security plugin has no plugin_opt_config_file defined. The plugin will not be activated.'), nb.stderr());
    // Not activated: a user name is let in as allow_anonymous says.
    const { c, connack } = await connectClient(nb.port, 4, { clientId: 'x', username: 'anyone', password: 'x' });
    c.close();
    assert.equal(hex(connack), hex(m.connack(4, 0)));
  } finally {
    await nb.stop();
  }
});
