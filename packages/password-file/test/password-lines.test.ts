import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { joinPasswordFileLines, lineIsUser, makeUserLine, splitPasswordFileLines, usernameError } from '@skeeter/password-file';

const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

test('split then join gives back every fixture byte for byte', () => {
  for (const file of ['pwfile-batch', 'pwfile-comment.before', 'pwfile-plain.before', 'pwfile-tricky', 'argon2id-example']) {
    const content = readFileSync(fixtures + file);
    assert.deepEqual(joinPasswordFileLines(splitPasswordFileLines(content)), content, file);
  }
  const odd = Buffer.from('a:b\r\n\xff\xfe:x\n\n# c\nlast:line', 'latin1');
  assert.deepEqual(joinPasswordFileLines(splitPasswordFileLines(odd)), odd);
});

test('lines are classified as mosquitto_passwd splits them', () => {
  const lines = splitPasswordFileLines(Buffer.from('# c\n\n \r\n  padded-user  :  padded-pw  \n:::a:b\nuser:\nnocolon\ncolon-user:pa:ss\n'));
  assert.deepEqual(lines.map((l) => l.kind), ['comment', 'blank', 'blank', 'user', 'user', 'corrupt', 'corrupt', 'user']);
  assert.equal(lines[3]?.username, 'padded-user');
  assert.equal(lines[3]?.password, 'padded-pw');
  assert.equal(lines[4]?.username, 'a');
  assert.equal(lines[7]?.password, 'pa');
  assert.deepEqual(lines.map((l) => l.number), [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('usernames are matched as UTF-8 bytes', () => {
  const [line] = splitPasswordFileLines(readFileSync(fixtures + 'pwfile-batch')).filter((l) => l.text.startsWith('\xc3'));
  assert.ok(line);
  assert.equal(lineIsUser(line, 'ümlaut-user'), true);
  assert.equal(lineIsUser(line, 'umlaut-user'), false);
});

test('a line appended after a last line without newline starts on its own line', () => {
  const lines = splitPasswordFileLines(Buffer.from('a:b'));
  lines.push(makeUserLine('ü', '$6$x'));
  assert.equal(joinPasswordFileLines(lines).toString('utf8'), 'a:b\nü:$6$x\n');
});

test('username checks give mosquitto_passwd error lines', () => {
  assert.equal(usernameError('fine user ü'), undefined);
  assert.equal(usernameError('a:b'), "Error: Username must not contain the ':' character.");
  assert.equal(usernameError('a\tb'), 'Error: Username must not contain control characters.');
  assert.equal(usernameError('a\x7f'), 'Error: Username must not contain control characters.');
  assert.equal(usernameError('x'.repeat(65536)), 'Error: Username must be less than 65536 characters long.');
  assert.equal(usernameError('é'.repeat(32768)), 'Error: Username must be less than 65536 characters long.');
});
