// Interop with Debian's Mosquitto 2.0.11: password files written by our mosquitto_passwd in
// $6$ and $7$ work with Debian's broker, files written by Debian's mosquitto_passwd work with
// our module and our tool, and the broker's answers for odd files match our module's.
// Skipped, with the reason, when the Debian binaries are not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthResult, MOSQUITTO_2_0_RULES, PasswordFile } from '@skeeter/password-file';
import { connackCode, DEBIAN, debianMissing, debianPublish, fixtures, OUR_PASSWD, run, startDebianBroker, tempDir } from './helpers.js';

const NOT_AUTHORISED = 'Connection error: Connection Refused: not authorised.\n';

function brokerErrors(log: string): string[] {
  return log
    .split('\n')
    .map((line) => line.replace(/^\d+: /, ''))
    .filter((line) => /^(Error|Warning): /.test(line) && !line.includes('root/administrator'));
}

test('Debian mosquitto accepts $6$ and $7$ files written by our mosquitto_passwd', { skip: debianMissing('broker', 'pub', 'sub') }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  const users: [string, string, string[]][] = [
    ['six', 'six-pw', ['-H', 'sha512', '-c', '-b']],
    ['seven', 'seven pw: with colon', ['-H', 'sha512-pbkdf2', '-I', '101', '-b']],
    ['seven-default', 'default-iterations', ['-H', 'sha512-pbkdf2', '-b']],
    ['ünïcødé', 'Pässwörd', ['-H', 'sha512-pbkdf2', '-I', '1000', '-b']],
    ['six-unicode', 'ünï', ['-H', 'sha512', '-b']],
  ];
  for (const [user, pw, flags] of users) assert.equal(run(OUR_PASSWD, [...flags, path, user, pw]).status, 0, user);
  const broker = await startDebianBroker(path, dir);
  t.after(() => broker.stop());
  for (const [user, pw] of users) {
    assert.deepEqual(debianPublish(broker.port, user, pw), { status: 0, stdout: '', stderr: '' }, `${user} right password`);
    const wrong = debianPublish(broker.port, user, `${pw}x`);
    assert.equal(wrong.status, 5, `${user} wrong password`);
    assert.ok(wrong.stderr.startsWith(NOT_AUTHORISED), wrong.stderr);
  }
  const sub = run(DEBIAN.sub, ['-h', '127.0.0.1', '-p', String(broker.port), '-u', 'seven', '-P', 'seven pw: with colon', '-t', 'x', '-E']);
  assert.deepEqual(sub, { status: 0, stdout: '', stderr: '' });
  const badSub = run(DEBIAN.sub, ['-h', '127.0.0.1', '-p', String(broker.port), '-u', 'six', '-P', 'nope', '-t', 'x', '-E']);
  assert.deepEqual(badSub, { status: 5, stdout: '', stderr: NOT_AUTHORISED });
  assert.deepEqual(brokerErrors(broker.log()), []);
});

test('Debian mosquitto refuses our default argon2id lines, as our 2.0 rules predict', { skip: debianMissing('broker', 'pub') }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  assert.equal(run(OUR_PASSWD, ['-c', '-b', path, 'argon', 'argon-pw']).status, 0);
  assert.equal(run(OUR_PASSWD, ['-H', 'sha512', '-b', path, 'six', 'six-pw']).status, 0);
  const broker = await startDebianBroker(path, dir);
  t.after(() => broker.stop());
  assert.equal(debianPublish(broker.port, 'argon', 'argon-pw').status, 5);
  assert.equal(debianPublish(broker.port, 'six', 'six-pw').status, 0);
  const ours = PasswordFile.parse(readFileSync(path), { fileName: path, rules: MOSQUITTO_2_0_RULES });
  assert.deepEqual(brokerErrors(broker.log()), ours.messages.map((m) => m.text));
  assert.deepEqual(brokerErrors(broker.log()), ['Error: Invalid password hash type for user argon, removing entry.']);
});

test("files written by Debian's mosquitto_passwd verify with our module and our tool edits them", { skip: debianMissing('passwd') }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  assert.equal(run(DEBIAN.passwd, ['-c', '-b', path, 'kate', 'kate-pw']).status, 0);
  assert.equal(run(DEBIAN.passwd, ['-H', 'sha512', '-b', path, 'ivan', 'ivan pw']).status, 0);
  assert.equal(run(DEBIAN.passwd, ['-I', '1000', '-b', path, 'ünï', 'Pässwörd:x']).status, 0);
  assert.equal(run(DEBIAN.passwd, [path, 'typed'], { input: 'typed-pw\ntyped-pw\n' }).status, 0);
  const expectations: [string, string, AuthResult][] = [
    ['kate', 'kate-pw', 'allow'],
    ['kate', 'kate-pW', 'deny'],
    ['ivan', 'ivan pw', 'allow'],
    ['ünï', 'Pässwörd:x', 'allow'],
    ['typed', 'typed-pw', 'allow'],
    ['typed', 'typed-pw\n', 'deny'],
  ];
  for (const rules of [MOSQUITTO_2_0_RULES, undefined]) {
    const file = PasswordFile.parse(readFileSync(path), rules === undefined ? {} : { rules });
    assert.deepEqual(file.messages, []);
    for (const [user, pw, result] of expectations) assert.equal(await file.check(user, pw), result, `${user} ${pw}`);
  }
  // Our tool changes one line of their file and keeps the others byte for byte; theirs then
  // reads ours ($7$ 12-byte salt) back.
  const before = readFileSync(path, 'utf8').split('\n');
  assert.equal(run(OUR_PASSWD, ['-H', 'sha512-pbkdf2', '-I', '101', '-b', path, 'ivan', 'ivan-new']).status, 0);
  const after = readFileSync(path, 'utf8').split('\n');
  assert.deepEqual([after[0], after[2], after[3]], [before[0], before[2], before[3]]);
  assert.equal(run(DEBIAN.passwd, ['-b', path, 'kate', 'kate-new']).status, 0);
  assert.equal(readFileSync(path, 'utf8').split('\n')[1], after[1], "Debian's tool kept our line");
  const file = PasswordFile.parse(readFileSync(path));
  assert.equal(await file.check('ivan', 'ivan-new'), 'allow');
  assert.equal(await file.check('kate', 'kate-new'), 'allow');
  assert.equal(run(DEBIAN.passwd, ['-D', path, 'ivan']).status, 0);
  assert.equal(run(OUR_PASSWD, ['-D', path, 'typed']).status, 0);
  assert.deepEqual(PasswordFile.parse(readFileSync(path)).usernames(), ['kate', 'ünï']);
});

test('odd password files: the live Debian broker still answers as recorded, and as our module does', { skip: debianMissing('broker') }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pwfile-tricky');
  copyFileSync(join(fixtures, 'pwfile-tricky'), path);
  const recorded = (JSON.parse(readFileSync(join(fixtures, 'pwfile-tricky-results.json'), 'utf8')) as Record<string, { results: { username: string | null; password: string | null; connack_rc: number }[]; broker_load_messages: string[] }>)['pwfile-tricky'];
  assert.ok(recorded);
  const broker = await startDebianBroker(path, dir);
  t.after(() => broker.stop());
  const ours = PasswordFile.parse(readFileSync(path), { fileName: path, rules: MOSQUITTO_2_0_RULES });
  for (const attempt of recorded.results) {
    const live = await connackCode(broker.port, attempt.username, attempt.password);
    assert.equal(live, attempt.connack_rc, JSON.stringify(attempt));
    const mine = await ours.check(attempt.username, attempt.password);
    assert.equal(mine === 'allow', live === 0, JSON.stringify(attempt));
  }
  const liveMessages = brokerErrors(broker.log());
  assert.deepEqual(liveMessages, recorded.broker_load_messages.map((m) => m.replace("'pwfile-tricky'", `'${path}'`)));
  assert.deepEqual(liveMessages, ours.messages.map((m) => m.text));
});

test('the same edits with our tool and with Debian give the same users in the same order', { skip: debianMissing('passwd') }, async (t) => {
  const dir = tempDir(t);
  const ours = join(dir, 'ours');
  const theirs = join(dir, 'theirs');
  const steps: string[][] = [
    ['-c', '-b', 'FILE', 'a', 'pw-a'],
    ['-b', 'FILE', 'b', 'pw-b'],
    ['-b', 'FILE', 'c', 'pw-c'],
    ['-b', 'FILE', 'b', 'pw-b2'],
    ['-D', 'FILE', 'a'],
    ['-b', 'FILE', ' e ', 'pw-e'],
    ['-b', 'FILE', ' e ', 'pw-e2'],
    ['-b', 'FILE', 'ünï', 'pw-ü'],
    ['-D', 'FILE', 'c'],
    ['-b', 'FILE', 'a', ''],
  ];
  for (const step of steps) {
    const mine = run(OUR_PASSWD, ['-H', 'sha512-pbkdf2', '-I', '101', ...step.map((s) => (s === 'FILE' ? ours : s))]);
    const debian = run(DEBIAN.passwd, step.map((s) => (s === 'FILE' ? theirs : s)));
    assert.equal(mine.status, debian.status, step.join(' '));
    assert.equal(mine.stderr, debian.stderr, step.join(' '));
  }
  const names = (path: string): string[] => readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => l.slice(0, l.indexOf(':')));
  assert.deepEqual(names(ours), names(theirs));
  assert.deepEqual(names(ours), ['b', ' e ', ' e ', 'ünï', 'a']);
  const oursFile = PasswordFile.parse(readFileSync(ours), { rules: MOSQUITTO_2_0_RULES });
  const theirsFile = PasswordFile.parse(readFileSync(theirs), { rules: MOSQUITTO_2_0_RULES });
  for (const [user, pw] of [['b', 'pw-b2'], ['b', 'pw-b'], ['e', 'pw-e2'], ['e', 'pw-e'], ['ünï', 'pw-ü'], ['a', ''], ['c', 'pw-c']] as const) {
    assert.equal(await oursFile.check(user, pw), await theirsFile.check(user, pw), `${user} ${pw}`);
  }
  assert.equal(await oursFile.check('e', 'pw-e2'), 'allow', 'duplicates: the last line wins');
});
