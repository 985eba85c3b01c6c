// Table test: every fixture password file must authenticate exactly as Debian's Mosquitto
// 2.0.11 broker did (broker-auth-results.json, pwfile-tricky-results.json), including the log
// lines it printed while loading the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AuthResult, MOSQUITTO_2_0_RULES, MOSQUITTO_2_1_RULES, PasswordFile } from '@skeeter/password-file';

const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

interface Attempt {
  username: string | null;
  password: string | null;
  connack_rc: number;
  accepted: boolean;
}
interface FileResults {
  results: Attempt[];
  broker_load_messages: string[];
}

const tables: Record<string, FileResults> = {
  ...(JSON.parse(readFileSync(fixtures + 'broker-auth-results.json', 'utf8')) as Record<string, FileResults>),
  ...(JSON.parse(readFileSync(fixtures + 'pwfile-tricky-results.json', 'utf8')) as Record<string, FileResults>),
};

test('the tables cover every fixture file', () => {
  assert.equal(Object.keys(tables).length, 14);
});

for (const [file, table] of Object.entries(tables)) {
  test(`${file}: 2.0 rules load with the broker's messages and authenticate as the broker did`, async () => {
    const content = readFileSync(fixtures + file);
    const passwordFile = PasswordFile.parse(content, { fileName: file, rules: MOSQUITTO_2_0_RULES });
    assert.deepEqual(
      passwordFile.messages.map((m) => m.text),
      table.broker_load_messages,
    );
    for (const attempt of table.results) {
      const result = await passwordFile.check(attempt.username, attempt.password);
      // Without allow_anonymous, a deferred check (no username) is refused too.
      assert.equal(result === AuthResult.allow, attempt.accepted, `${JSON.stringify(attempt)} gave ${result}`);
    }
  });
}

// The 2.1 rules (skeeter's default) read argon2id and 64-byte salts too; everything else must
// come out the same as with 2.0.
const ACCEPTED_BY_2_1 = new Set(['argon2-user argon2-pass', 'argon argon2-pass', 'salt64 salt64-pw', 'salt64-6 salt64-6-pw']);

for (const [file, table] of Object.entries(tables)) {
  test(`${file}: 2.1 rules differ from 2.0 only for argon2id and 64-byte salts`, async () => {
    const passwordFile = PasswordFile.parse(readFileSync(fixtures + file), { fileName: file, rules: MOSQUITTO_2_1_RULES });
    for (const attempt of table.results) {
      const expected = attempt.accepted || ACCEPTED_BY_2_1.has(`${attempt.username} ${attempt.password}`);
      const result = await passwordFile.check(attempt.username, attempt.password);
      assert.equal(result === AuthResult.allow, expected, `${JSON.stringify(attempt)} gave ${result}`);
    }
    const expectedMessages = table.broker_load_messages.filter(
      (m) => !/for user (argon2-user|argon|salt64|salt64-6),/.test(m),
    );
    assert.deepEqual(passwordFile.messages.map((m) => m.text), expectedMessages);
  });
}

test('the default rules are the 2.1 rules', async () => {
  const passwordFile = PasswordFile.parse(readFileSync(fixtures + 'argon2id-example'));
  assert.equal(await passwordFile.check('argon2-user', 'argon2-pass'), AuthResult.allow);
  assert.equal(await passwordFile.check('argon2-user', 'argon2-pasS'), AuthResult.deny);
});

test('check: no username defers, unknown user and missing password deny', async () => {
  const passwordFile = PasswordFile.parse(readFileSync(fixtures + 'pwfile-create'));
  assert.equal(await passwordFile.check(null, null), AuthResult.defer);
  assert.equal(await passwordFile.check(undefined, 'alice-secret'), AuthResult.defer);
  assert.equal(await passwordFile.check('', 'alice-secret'), AuthResult.defer);
  assert.equal(await passwordFile.check('nobody', 'alice-secret'), AuthResult.deny);
  assert.equal(await passwordFile.check('alice', null), AuthResult.deny);
  assert.equal(await passwordFile.check('alice', new Uint8Array(0)), AuthResult.deny);
  assert.equal(await passwordFile.check('alice', Buffer.from('alice-secret')), AuthResult.allow);
  assert.equal(await passwordFile.check(Buffer.from('alice'), 'alice-secret'), AuthResult.allow);
});

test('usernames are compared as UTF-8 bytes, passwords as raw bytes', async () => {
  const passwordFile = PasswordFile.parse(readFileSync(fixtures + 'pwfile-batch'));
  assert.ok(passwordFile.has('ümlaut-user'));
  assert.ok(!passwordFile.has('umlaut-user'));
  assert.equal(await passwordFile.check('ümlaut-user', 'unicode-username-pw'), AuthResult.allow);
  assert.equal(await passwordFile.check('carol', Buffer.from('Pässwörd-ünïcødé', 'utf8')), AuthResult.allow);
  assert.equal(await passwordFile.check('carol', Buffer.from('Pässwörd-ünïcødé', 'latin1')), AuthResult.deny);
  assert.deepEqual(passwordFile.usernames().sort(), ['bob', 'carol', 'dave', 'erin', 'frank', 'ümlaut-user']);
  assert.equal(passwordFile.size, 6);
});

test('over-long fields are skipped with the notice the broker logs', () => {
  const long = 'u'.repeat(65536);
  const passwordFile = PasswordFile.parse(`${long}:$6$x$y\nuser:${'p'.repeat(65536)}\n`, { fileName: 'f' });
  assert.deepEqual(passwordFile.messages, [
    { level: 'notice', text: "Warning: Invalid line in password file 'f', username too long." },
    { level: 'notice', text: "Warning: Invalid line in password file 'f', password too long." },
  ]);
  assert.equal(passwordFile.size, 0);
});

test('an all-blank username before a final colon is printed as it stands', () => {
  const passwordFile = PasswordFile.parse('  :', { fileName: 'f' });
  assert.deepEqual(passwordFile.messages.map((m) => m.text), ["Warning: Invalid line in password file 'f':   "]);
});

test('load reads the file and names it in the messages', async () => {
  const passwordFile = await PasswordFile.load(fixtures + 'pwfile-plain.before', { rules: MOSQUITTO_2_0_RULES });
  assert.equal(passwordFile.messages.length, 5);
  assert.ok(passwordFile.messages.every((m) => m.level === 'error'));
  await assert.rejects(PasswordFile.load(fixtures + 'does-not-exist'), { code: 'ENOENT' });
});
