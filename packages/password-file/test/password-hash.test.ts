import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  decodePasswordHash,
  encodePasswordHash,
  HashKind,
  hashPassword,
  looksHashed,
  MOSQUITTO_2_0_RULES,
  MOSQUITTO_2_1_RULES,
  PBKDF2_ITERATIONS_2_1,
  verifyPassword,
  type PasswordHash,
} from '@skeeter/password-file';

const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

function fieldOf(file: string, user: string): string {
  const line = readFileSync(fixtures + file, 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  assert.ok(line, `${user} in ${file}`);
  return line.slice(user.length + 1);
}

function decoded(field: string, rules = MOSQUITTO_2_1_RULES): PasswordHash {
  const result = decodePasswordHash(field, rules);
  assert.ok(result.ok, `${field} should decode`);
  return result.hash;
}

test('hashes written by Debian mosquitto_passwd 2.0.11 verify, wrong passwords do not', async () => {
  const cases: [string, string, string, string][] = [
    ['pwfile-sha512-mixed', 'ivan', 'ivan-legacy-pw', 'sha512'],
    ['pwfile-sha512-mixed', 'kate', 'kate-pbkdf2-pw', 'sha512-pbkdf2'],
    ['pwfile-batch', 'frank', 'L0ng-'.repeat(60), 'sha512-pbkdf2'],
    ['pwfile-batch', 'erin', '', 'sha512-pbkdf2'],
    ['argon2id-example', 'argon2-user', 'argon2-pass', 'argon2id'],
  ];
  for (const [file, user, password, kind] of cases) {
    const hash = decoded(fieldOf(file, user));
    assert.equal(hash.kind, kind);
    assert.equal(await verifyPassword(hash, password), true, `${user} right password`);
    assert.equal(await verifyPassword(hash, password + 'x'), false, `${user} wrong password`);
  }
});

test('decode then encode gives back the field byte for byte', () => {
  for (const [file, user] of [['pwfile-sha512-mixed', 'judy'], ['pwfile-sha512-mixed', 'liam'], ['argon2id-example', 'argon2-user']] as const) {
    const field = fieldOf(file, user);
    assert.equal(encodePasswordHash(decoded(field)), field);
  }
});

test('hash and verify round trip for every kind, with the lengths Mosquitto writes', async () => {
  const sha = await hashPassword('pw', { kind: HashKind.sha512 });
  assert.match(encodePasswordHash(sha), /^\$6\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
  const pbkdf2 = await hashPassword('pw', { kind: HashKind.sha512Pbkdf2, iterations: 1000 });
  assert.match(encodePasswordHash(pbkdf2), /^\$7\$1000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
  const argon = await hashPassword('pw', { kind: HashKind.argon2id });
  assert.match(encodePasswordHash(argon), /^\$argon2id\$v=19\$m=47104,t=1,p=1\$[A-Za-z0-9+/]{86}\$[A-Za-z0-9+/]{86}$/);
  for (const hash of [sha, pbkdf2, argon]) {
    assert.equal(await verifyPassword(decoded(encodePasswordHash(hash)), 'pw'), true);
    assert.equal(await verifyPassword(decoded(encodePasswordHash(hash)), 'pW'), false);
  }
  // Random salts: the same password never gives the same line.
  assert.notEqual(encodePasswordHash(await hashPassword('pw', { kind: HashKind.sha512 })), encodePasswordHash(sha));
});

test('sha512-pbkdf2 defaults to the 2.1 iteration count; $6$/$7$ use 12-byte salts so 2.0 reads them', async () => {
  const hash = await hashPassword('pw', { kind: HashKind.sha512Pbkdf2 });
  assert.ok(hash.kind === 'sha512-pbkdf2');
  assert.equal(hash.iterations, PBKDF2_ITERATIONS_2_1);
  assert.equal(hash.salt.length, 12);
  assert.ok(decodePasswordHash(encodePasswordHash(hash), MOSQUITTO_2_0_RULES).ok);
  await assert.rejects(hashPassword('pw', { kind: HashKind.sha512Pbkdf2, iterations: 0 }), RangeError);
});

test('a given salt reproduces known lines (the argon2 CLI example, Python-computed $6$/$7$)', async () => {
  const argon = await hashPassword('argon2-pass', { kind: HashKind.argon2id, salt: Buffer.alloc(64, 'S') });
  assert.equal(encodePasswordHash(argon), fieldOf('argon2id-example', 'argon2-user'));
  const kate = decoded(fieldOf('pwfile-sha512-mixed', 'kate'));
  assert.ok(kate.kind === 'sha512-pbkdf2');
  const again = await hashPassword('kate-pbkdf2-pw', { kind: HashKind.sha512Pbkdf2, iterations: 101, salt: kate.salt });
  assert.equal(encodePasswordHash(again), fieldOf('pwfile-sha512-mixed', 'kate'));
  const ivan = decoded(fieldOf('pwfile-sha512-mixed', 'ivan'));
  assert.ok(ivan.kind === 'sha512');
  const ivanAgain = await hashPassword('ivan-legacy-pw', { kind: HashKind.sha512, salt: ivan.salt });
  assert.equal(encodePasswordHash(ivanAgain), fieldOf('pwfile-sha512-mixed', 'ivan'));
});

test('64-byte salts: accepted by the 2.1 rules, refused by the 2.0 rules', async () => {
  const hash = await hashPassword('pw', { kind: HashKind.sha512Pbkdf2, iterations: 5, salt: Buffer.alloc(64, 7) });
  const field = encodePasswordHash(hash);
  assert.deepEqual(decodePasswordHash(field, MOSQUITTO_2_0_RULES), { ok: false, error: 'bad-salt' });
  assert.equal(await verifyPassword(decoded(field, MOSQUITTO_2_1_RULES), 'pw'), true);
});

test('decode errors map to the broker reasons', () => {
  const cases: [string, string][] = [
    ['', 'invalid-hash'],
    ['$$$', 'invalid-hash'],
    ['plaintext', 'invalid-type'],
    ['$5$abc$def', 'invalid-type'],
    ['$7$0$AAAAAAAAAAAAAAAA$x', 'invalid-iterations'],
    ['$7$101', 'invalid-hash'],
    ['$7$101$AAAAAAAAAAAAAAAA', 'invalid-hash'],
    ['$7$101$AAAA$AAAA', 'bad-salt'],
    ['$6$AAAAAAAAAAAAAAAA$AAAA', 'bad-hash'],
    ['$argon2id$nonsense', 'bad-hash'],
  ];
  for (const [field, error] of cases) assert.deepEqual(decodePasswordHash(field), { ok: false, error }, field);
  assert.deepEqual(decodePasswordHash(fieldOf('argon2id-example', 'argon2-user'), MOSQUITTO_2_0_RULES), { ok: false, error: 'invalid-type' });
});

test('looksHashed: only fields a 2.1 reader decodes', () => {
  assert.equal(looksHashed(fieldOf('pwfile-plain', 'plainuser1')), true);
  assert.equal(looksHashed(fieldOf('argon2id-example', 'argon2-user')), true);
  assert.equal(looksHashed('plain-pw-1'), false);
  assert.equal(looksHashed('$7$not-really'), false);
});

test('PBKDF2 and argon2 run off the event loop: other callbacks run while hashing', async () => {
  for (const kind of [HashKind.sha512Pbkdf2, HashKind.argon2id] as const) {
    let turned = false;
    const hashing = hashPassword('pw', kind === HashKind.sha512Pbkdf2 ? { kind, iterations: 1_000_000 } : { kind });
    setImmediate(() => (turned = true));
    const hash = await hashing;
    assert.equal(turned, true, `${kind}: the event loop turned before the hash was ready`);
    turned = false;
    const verifying = verifyPassword(hash, 'pw');
    setImmediate(() => (turned = true));
    assert.equal(await verifying, true);
    assert.equal(turned, true, `${kind}: the event loop turned before the check was done`);
  }
});
