// mosquitto_passwd's command line: every error text, usage and exit status, compared with
// Debian's mosquitto_passwd 2.0.11 where the behaviour is shared. Each case runs in a fresh
// temp dir holding a regular file `file` and a directory `dir`; `${DIR}` in an expectation
// stands for that dir (the tool prints resolved, absolute paths for files that exist).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePasswordHash, verifyPassword } from '@skeeter/password-file';
import { DEBIAN, debianMissing, OUR_PASSWD, run, tempDir, type Run } from './helpers.js';

interface Case {
  name: string;
  args: string[];
  input?: string;
  status: number;
  stdout: string;
  stderr: string;
  /** Our stdout where 2.1 differs from Debian's 2.0.11 (usage text, Adding/Updating lines). */
  ourStdout?: string;
  /** Debian's result where it differs from ours beyond stdout (argon2id is 2.1 only). */
  debian?: Partial<Run>;
}

const DEBIAN_USAGE = readFileSync(new URL('../../passwd/fixtures/usage-2.0.11.txt', import.meta.url), 'utf8');
const OUR_USAGE = readFileSync(new URL('../../passwd/fixtures/usage-skeeter.txt', import.meta.url), 'utf8');
const usage = { status: 1, stdout: DEBIAN_USAGE, ourStdout: OUR_USAGE, stderr: '' };
const err = (stderr: string): Pick<Case, 'status' | 'stdout' | 'stderr'> => ({ status: 1, stdout: '', stderr: `${stderr}\n` });

const CASES: Case[] = [
  { name: 'no arguments', args: [], ...usage },
  { name: '-b with too few arguments', args: ['-b', 'file', 'u'], ...usage },
  { name: 'one positional', args: ['file'], ...usage },
  { name: 'password without -b', args: ['file', 'u', 'p'], ...usage },
  { name: '-b with too many arguments', args: ['-b', 'file', 'u', 'p', 'x'], ...usage },
  { name: 'flags after the file are positionals', args: ['file', '-c', 'u'], ...usage },
  { name: '--help is not a flag', args: ['--help'], ...usage },
  { name: '-H without value', args: ['-H'], ...err('Error: -H argument given but not enough other arguments.') },
  { name: 'unknown hash', args: ['-H', 'md5', 'file', 'u'], ...err("Error: Unknown hash type 'md5'") },
  { name: 'hash names are case sensitive', args: ['-H', 'SHA512', '-b', 'file', 'u', 'p'], ...err("Error: Unknown hash type 'SHA512'") },
  { name: '-H takes the next word whatever it is', args: ['-H', '-b', 'file', 'u', 'p'], ...err("Error: Unknown hash type '-b'") },
  { name: '-I without value', args: ['-I'], ...err('Error: -I argument given but not enough other arguments.') },
  { name: '-I 0', args: ['-I', '0', 'file', 'u'], ...err('Error: Number of iterations must be > 0.') },
  { name: '-I not a number', args: ['-I', 'abc', 'file', 'u'], ...err('Error: Number of iterations must be > 0.') },
  { name: '-I negative', args: ['-I', '-3', 'file', 'u'], ...err('Error: Number of iterations must be > 0.') },
  { name: '-c with -D', args: ['-c', '-D', 'file', 'u'], ...err('Error: -c and -D cannot be used together.') },
  { name: '-c with -U', args: ['-c', '-U', 'file'], ...err('Error: -c and -U cannot be used together.') },
  { name: '-D with -U', args: ['-D', '-U', 'file'], ...err('Error: -D and -U cannot be used together.') },
  { name: '-b with -D', args: ['-b', '-D', 'file', 'u'], ...err('Error: -b and -D cannot be used together.') },
  { name: '-c -b without password', args: ['-c', '-b', 'file', 'u'], ...err('Error: -c argument given but password file, username, or password missing.') },
  { name: '-c without username', args: ['-c', 'file'], ...err('Error: -c argument given but password file or username missing.') },
  { name: '-D without username', args: ['-D', 'file'], ...err('Error: -D argument given but password file or username missing.') },
  { name: '-U without file', args: ['-U'], ...err('Error: -U argument given but password file missing.') },
  { name: '-U with two files', args: ['-U', 'file', 'other'], ...err('Error: -U argument given but password file missing.') },
  { name: 'username with a colon', args: ['-c', '-b', 'new', 'a:b', 'p'], ...err("Error: Username must not contain the ':' character.") },
  { name: 'username with a tab', args: ['-c', '-b', 'new', 'a\tb', 'p'], ...err('Error: Username must not contain control characters.') },
  { name: 'username with DEL', args: ['-b', 'file', 'a\x7f', 'p'], ...err('Error: Username must not contain control characters.') },
  { name: 'username too long', args: ['-c', '-b', 'new', 'u'.repeat(65536), 'p'], ...err('Error: Username must be less than 65536 characters long.') },
  { name: 'password too long', args: ['-c', '-b', 'new', 'u', 'p'.repeat(65536)], ...err('Error: Password must be less than 65536 characters long.') },
  { name: 'update a missing file', args: ['-b', 'missing', 'u', 'p'], ...err('Error: Unable to open password file missing. No such file or directory.') },
  { name: 'delete from a missing file', args: ['-D', 'missing', 'u'], ...err('Error: Unable to open password file missing. No such file or directory.') },
  { name: '-U a missing file', args: ['-U', 'missing'], ...err('Error: Unable to open password file missing. No such file or directory.') },
  { name: 'update a directory', args: ['-b', 'dir', 'u', 'p'], ...err('Error: Unable to open password file ${DIR}/dir. Is a directory.') },
  { name: 'create over a directory', args: ['-c', '-b', 'dir', 'u', 'p'], ...err('Error: Unable to open file ${DIR}/dir for writing. Is a directory.') },
  { name: 'create in a missing directory', args: ['-c', '-b', 'nodir/pw', 'u', 'p'], ...err('Error: Unable to open file nodir/pw for writing. No such file or directory.') },
  { name: 'path through a file', args: ['-b', 'file/pw', 'u', 'p'], ...err('Error reading password file: Not a directory') },
  { name: 'delete an absent user', args: ['-D', 'file', 'nobody'], ...err('Warning: User nobody not found in password file.') },
  {
    name: 'a corrupt line is an error (user present before it)',
    args: ['-b', 'corrupt', 'a', 'x'],
    ...err('Error: Corrupt password file at line 2.'),
  },
  { name: 'delete with a corrupt line', args: ['-D', 'corrupt', 'a'], ...err('Error: Corrupt password file at line 2.') },
  { name: '-U with a corrupt line', args: ['-U', 'corrupt'], ...err('Error: Corrupt password file at line 2.') },
  {
    name: 'argon2id is a 2.1 hash',
    args: ['-H', 'argon2id', '-c', '-b', 'new', 'u', 'p'],
    status: 0,
    stdout: '',
    ourStdout: 'Adding password for user u\n',
    stderr: '',
    debian: { status: 1, stderr: "Error: Unknown hash type 'argon2id'\n" },
  },
  // The interactive prompt reading from a pipe, as scripts use it.
  {
    name: 'prompt: matching answers from stdin',
    args: ['-c', 'new', 'u'],
    input: 'a b \r\na b \r\n',
    status: 0,
    stdout: 'Password: \nReenter password: \n',
    ourStdout: 'Password: \nReenter password: \nAdding password for user u\n',
    stderr: '',
  },
  { name: 'prompt: last answer without newline', args: ['-c', 'new', 'u'], input: 'pw\npw', status: 0, stdout: 'Password: \nReenter password: \n', ourStdout: 'Password: \nReenter password: \nAdding password for user u\n', stderr: '' },
  { name: 'prompt: different answers', args: ['-c', 'new', 'u'], input: 'a\nb\n', status: 2, stdout: 'Password: \nReenter password: \n', stderr: 'Error: Passwords do not match.\n' },
  { name: 'prompt: different answers when updating', args: ['file', 'u'], input: 'a\nb\n', status: 2, stdout: 'Password: \nReenter password: \n', stderr: 'Error: Passwords do not match.\n' },
  { name: 'prompt: empty first answer', args: ['-c', 'new', 'u'], input: '\na\n', status: 1, stdout: 'Password: ', stderr: 'Error: Empty password.\n' },
  { name: 'prompt: no input at all', args: ['-c', 'new', 'u'], input: '', status: 1, stdout: 'Password: ', stderr: 'Error: Empty password.\n' },
  { name: 'prompt: input ends before the second answer', args: ['-c', 'new', 'u'], input: 'a', status: 1, stdout: 'Password: \nReenter password: ', stderr: 'Error: Empty password.\n' },
  { name: 'prompt: empty second answer', args: ['-c', 'new', 'u'], input: 'a\n\n', status: 1, stdout: 'Password: \nReenter password: ', stderr: 'Error: Empty password.\n' },
];

const HASH = '$7$101$EidsU9vLpMCpwBKy$AlV8Vj6CWgcPsZTAASIcClnbO3y2Uv5cJPd7KatWuPHdQuylrfVaeqWyqJ5+PhlwW/Gvd0I2wtD96U3WfiL3Wg==';

function runCase(binary: string, c: Case, dir: string): Run {
  writeFileSync(join(dir, 'file'), `u:${HASH}\n`);
  writeFileSync(join(dir, 'corrupt'), `a:${HASH}\nb:\n`);
  mkdirSync(join(dir, 'dir'));
  return run(binary, c.args, { cwd: dir, ...(c.input === undefined ? {} : { input: c.input }) });
}

function expand(text: string, dir: string): string {
  return text.replaceAll('${DIR}', realpathSync(dir));
}

for (const c of CASES) {
  test(`mosquitto_passwd ${c.name}`, async (t) => {
    const dir = tempDir(t);
    const before = { file: `u:${HASH}\n`, corrupt: `a:${HASH}\nb:\n` };
    const ours = runCase(OUR_PASSWD, c, dir);
    assert.deepEqual(ours, { status: c.status, stdout: expand(c.ourStdout ?? c.stdout, dir), stderr: expand(c.stderr, dir) });
    // Failures never touch existing files.
    if (c.status !== 0) {
      assert.equal(readFileSync(join(dir, 'file'), 'utf8'), before.file);
      assert.equal(readFileSync(join(dir, 'corrupt'), 'utf8'), before.corrupt);
      assert.equal(existsSync(join(dir, 'new')), false);
    }
    if (c.args[0] === '-c' && c.status === 0 && c.input !== undefined) {
      const field = readFileSync(join(dir, 'new'), 'latin1').trimEnd().split(':')[1] ?? '';
      const decoded = decodePasswordHash(field);
      assert.ok(decoded.ok);
      const expected = c.input.split('\n')[0]?.replace(/\r$/, '') ?? '';
      assert.equal(await verifyPassword(decoded.hash, expected), true, 'the first answer, without its line end, is the password');
    }
  });
}

test('Debian mosquitto_passwd 2.0.11 gives the same texts and statuses', { skip: debianMissing('passwd') }, (t) => {
  for (const c of CASES) {
    const dir = tempDir(t);
    const theirs = runCase(DEBIAN.passwd, c, dir);
    const expected = { status: c.status, stdout: expand(c.stdout, dir), stderr: expand(c.stderr, dir), ...c.debian };
    assert.deepEqual(theirs, expected, c.name);
  }
});
