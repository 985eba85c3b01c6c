// The interactive prompt on a real terminal (a pseudo-terminal from util-linux `script`):
// prompts, no echo, line editing, the terminal restored afterwards, and -U progress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthResult, PasswordFile } from '@skeeter/password-file';
import { DEBIAN, debianMissing, hasScript, OUR_PASSWD, startInPty, tempDir } from './helpers.js';

const noScript = hasScript() ? false : 'util-linux `script` is not installed';

/** Answer both prompts, waiting for each so the answer is typed while echo is off. */
async function answer(binary: string, args: string[], dir: string, first: string, second: string): Promise<{ status: number | null; output: string }> {
  const pty = startInPty(binary, args, dir);
  const afterFirst = await pty.waitFor('Password: ');
  pty.send(first);
  await pty.waitFor('Reenter password: ', afterFirst);
  pty.send(second);
  const status = await pty.exit();
  return { status, output: pty.output() };
}

test('prompts on the terminal without echo; Backspace erases', { skip: noScript }, async (t) => {
  const dir = tempDir(t);
  const r = await answer(OUR_PASSWD, ['-c', 'pw', 'alice'], dir, 's3crx\x7fet\r', 's3cret\r');
  assert.equal(r.status, 0);
  assert.equal(r.output, 'Password: \r\nReenter password: \r\nAdding password for user alice\r\n');
  const file = PasswordFile.parse(readFileSync(join(dir, 'pw')));
  assert.equal(await file.check('alice', 's3cret'), AuthResult.allow);
});

test("Debian's mosquitto_passwd shows the same terminal transcript (without 2.1's message)", { skip: noScript || debianMissing('passwd') }, async (t) => {
  const dir = tempDir(t);
  const r = await answer(DEBIAN.passwd, ['-c', 'pw', 'alice'], dir, 's3cret\r', 's3cret\r');
  assert.equal(r.status, 0);
  assert.equal(r.output, 'Password: \r\nReenter password: \r\n');
});

test('different answers on the terminal: exit 2, no file', { skip: noScript }, async (t) => {
  const dir = tempDir(t);
  const r = await answer(OUR_PASSWD, ['-c', 'pw', 'alice'], dir, 'one\r', 'two\r');
  assert.equal(r.status, 2);
  assert.equal(r.output, 'Password: \r\nReenter password: \r\nError: Passwords do not match.\r\n');
  assert.equal(existsSync(join(dir, 'pw')), false);
});

test('Ctrl-C at the prompt: exit 130, file untouched, echo back on', { skip: noScript }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'pw'), 'a:b\n');
  // sh runs our tool then prints the terminal settings, on the same pty.
  const pty = startInPty('sh', ['-c', `'${OUR_PASSWD}' pw alice; echo "status=$?"; stty -a`], dir);
  await pty.waitFor('Password: ');
  pty.send('abc\x03');
  assert.equal(await pty.exit(), 0);
  const output = pty.output();
  assert.match(output, /status=130/);
  assert.match(output, /[ ;\n]echo[ ;\r\n]/, 'echo restored');
  assert.doesNotMatch(output, /-echo[ ;\r\n]/);
  assert.doesNotMatch(output, /abc/);
  assert.equal(readFileSync(join(dir, 'pw'), 'utf8'), 'a:b\n');
});

test('after a normal run the terminal is as before (echo, canonical)', { skip: noScript }, async (t) => {
  const dir = tempDir(t);
  const pty = startInPty('sh', ['-c', `'${OUR_PASSWD}' -H sha512 -c pw alice; stty -a`], dir);
  const at = await pty.waitFor('Password: ');
  pty.send('x\r');
  await pty.waitFor('Reenter password: ', at);
  pty.send('x\r');
  assert.equal(await pty.exit(), 0);
  assert.match(pty.output(), /[ ;\n]icanon[ ;\r\n]/);
  assert.match(pty.output(), /[ ;\n]echo[ ;\r\n]/);
});

test('-U shows progress on a terminal for a long run', { skip: noScript }, async (t) => {
  const dir = tempDir(t);
  const users = Array.from({ length: 25 }, (_, i) => `user${i}:pw${i}\n`).join('');
  writeFileSync(join(dir, 'pw'), users);
  const pty = startInPty(OUR_PASSWD, ['-H', 'sha512', '-U', 'pw'], dir);
  assert.equal(await pty.exit(), 0);
  assert.match(pty.output(), /Hashing passwords: 25\/25\r\n$/);
  const file = PasswordFile.parse(readFileSync(join(dir, 'pw')));
  assert.equal(file.size, 25);
  assert.equal(await file.check('user24', 'pw24'), AuthResult.allow);
});

test('-U shows no progress for a short run', { skip: noScript }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'pw'), 'a:b\n');
  const pty = startInPty(OUR_PASSWD, ['-H', 'sha512', '-U', 'pw'], dir);
  assert.equal(await pty.exit(), 0);
  assert.equal(pty.output(), '');
});
