// mosquitto_passwd on real files: what it writes, what it keeps byte for byte, and where it
// deliberately differs from Mosquitto 2.0.11 to never lose data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePasswordHash, PasswordFile, AuthResult, type PasswordHash } from '@skeeter/password-file';
import { DEBIAN, debianMissing, fixtures, OUR_PASSWD, run, tempDir } from './helpers.js';

function fields(path: string): Map<string, PasswordHash> {
  const map = new Map<string, PasswordHash>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0 || line.startsWith('#')) continue;
    const decoded = decodePasswordHash(line.slice(colon + 1));
    assert.ok(decoded.ok, line);
    map.set(line.slice(0, colon), decoded.hash);
  }
  return map;
}

async function accepts(path: string, username: string, password: string): Promise<boolean> {
  return (await PasswordFile.load(path)).check(username, password).then((r) => r === AuthResult.allow);
}

test('-c -b writes one argon2id line (2.1 parameters) to a new 0600 file', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  const r = run(OUR_PASSWD, ['-c', '-b', path, 'alice', 'alice-secret']);
  assert.deepEqual(r, { status: 0, stdout: 'Adding password for user alice\n', stderr: '' });
  assert.match(readFileSync(path, 'utf8'), /^alice:\$argon2id\$v=19\$m=47104,t=1,p=1\$[A-Za-z0-9+/]{86}\$[A-Za-z0-9+/]{86}\n$/);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(await accepts(path, 'alice', 'alice-secret'), true);
  assert.equal(await accepts(path, 'alice', 'alice-secreT'), false);
  assert.deepEqual(readdirSync(dir), ['pw'], 'no temporary file left');
});

test('-c overwrites an existing file, keeping its mode', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  writeFileSync(path, 'old:$6$x$y\nother:$6$x$y\n');
  chmodSync(path, 0o640);
  assert.equal(run(OUR_PASSWD, ['-H', 'sha512', '-c', '-b', path, 'bob', 'pw']).status, 0);
  assert.deepEqual([...fields(path).keys()], ['bob']);
  assert.equal(statSync(path).mode & 0o777, 0o640);
});

test('-H sha512-pbkdf2 and -H sha512 write 12-byte salts; -I sets the iterations, 2.1 default 210000', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  assert.equal(run(OUR_PASSWD, ['-H', 'sha512-pbkdf2', '-I', '1000', '-c', '-b', path, 'kate', 'kate-pw']).status, 0);
  assert.equal(run(OUR_PASSWD, ['-H', 'sha512-pbkdf2', '-b', path, 'liam', 'liam-pw']).status, 0);
  assert.equal(run(OUR_PASSWD, ['-H', 'sha512', '-I', '5', '-b', path, 'ivan', 'ivan-pw']).status, 0);
  const hashes = fields(path);
  const kate = hashes.get('kate');
  const liam = hashes.get('liam');
  const ivan = hashes.get('ivan');
  assert.ok(kate?.kind === 'sha512-pbkdf2' && liam?.kind === 'sha512-pbkdf2' && ivan?.kind === 'sha512');
  assert.equal(kate.iterations, 1000);
  assert.equal(liam.iterations, 210000);
  assert.deepEqual([kate.salt.length, liam.salt.length, ivan.salt.length], [12, 12, 12]);
  assert.match(readFileSync(path, 'utf8'), /^kate:\$7\$1000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==\n/);
  for (const [user, pw] of [['kate', 'kate-pw'], ['liam', 'liam-pw'], ['ivan', 'ivan-pw']] as const) {
    assert.equal(await accepts(path, user, pw), true, user);
  }
});

test('-b updates a user in place and keeps every other line byte for byte', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  copyFileSync(join(fixtures, 'pwfile-update.before'), path);
  const before = readFileSync(path, 'utf8').split('\n');
  const r = run(OUR_PASSWD, ['-b', path, 'user2', 'user2-NEW-pass']);
  assert.deepEqual(r, { status: 0, stdout: 'Updating password for user user2\n', stderr: '' });
  const after = readFileSync(path, 'utf8').split('\n');
  assert.equal(after.length, before.length);
  assert.equal(after[0], before[0]);
  assert.notEqual(after[1], before[1]);
  assert.equal(after[2], before[2]);
  assert.ok(after[1]?.startsWith('user2:$argon2id$'));
  assert.equal(await accepts(path, 'user2', 'user2-NEW-pass'), true);
  assert.equal(await accepts(path, 'user2', 'user2-old-pass'), false);
  assert.equal(await accepts(path, 'user1', 'first-password'), true);
});

test('-b adds a new user at the end, after a newline even when the last line had none', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  const kate = readFileSync(join(fixtures, 'pwfile-sha512-mixed'), 'utf8').split('\n')[2] ?? '';
  writeFileSync(path, kate);
  const r = run(OUR_PASSWD, ['-H', 'sha512', '-b', path, 'mona', 'mona-pass']);
  assert.deepEqual(r, { status: 0, stdout: 'Adding password for user mona\n', stderr: '' });
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines[0], kate);
  assert.equal(await accepts(path, 'kate', 'kate-pbkdf2-pw'), true);
  assert.equal(await accepts(path, 'mona', 'mona-pass'), true);
});

test('-D gives exactly the file Debian 2.0.11 gave', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  copyFileSync(join(fixtures, 'pwfile-delete.before'), path);
  assert.deepEqual(run(OUR_PASSWD, ['-D', path, 'hank']), { status: 0, stdout: '', stderr: '' });
  assert.deepEqual(readFileSync(path), readFileSync(join(fixtures, 'pwfile-delete')));
});

test('-U hashes plain text lines as Mosquitto does (blanks trimmed, cut at the second colon)', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  copyFileSync(join(fixtures, 'pwfile-plain.before'), path);
  assert.deepEqual(run(OUR_PASSWD, ['-H', 'sha512', '-U', path]), { status: 0, stdout: '', stderr: '' });
  assert.deepEqual([...fields(path).keys()], ['plainuser1', 'plainuser2', 'padded-user', 'colon-user', 'unicode-user']);
  const cases: [string, string, boolean][] = [
    ['plainuser1', 'plain-pw-1', true],
    ['plainuser2', 'plain pw with spaces', true],
    ['padded-user', 'padded-pw', true],
    ['padded-user', '  padded-pw  ', false],
    ['colon-user', 'pa', true],
    ['colon-user', 'pa:ss', false],
    ['unicode-user', 'ünïcødé-pw', true],
  ];
  for (const [user, pw, ok] of cases) assert.equal(await accepts(path, user, pw), ok, `${user} ${pw}`);
});

test('-U again leaves hashed lines alone (2.0.11 hashed the hashes) and does not rewrite the file', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  copyFileSync(join(fixtures, 'pwfile-plain.before'), path);
  assert.equal(run(OUR_PASSWD, ['-H', 'sha512', '-U', path]).status, 0);
  const once = readFileSync(path);
  const inode = statSync(path).ino;
  assert.deepEqual(run(OUR_PASSWD, ['-U', path]), { status: 0, stdout: '', stderr: '' });
  assert.deepEqual(readFileSync(path), once);
  assert.equal(statSync(path).ino, inode);
  assert.equal(await accepts(path, 'plainuser1', 'plain-pw-1'), true);
});

test('-U on a mix: only the plain lines change, comments stay', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  const hashed = readFileSync(join(fixtures, 'pwfile-sha512-mixed'), 'utf8').split('\n')[0] ?? '';
  writeFileSync(path, `# users\n${hashed}\nnew-user:new-pw\n\n`);
  assert.equal(run(OUR_PASSWD, ['-H', 'sha512', '-U', path]).status, 0);
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines[0], '# users');
  assert.equal(lines[1], hashed);
  assert.ok(lines[2]?.startsWith('new-user:$6$'));
  assert.deepEqual(lines.slice(3), ['', '']);
  assert.equal(await accepts(path, 'new-user', 'new-pw'), true);
  assert.equal(await accepts(path, 'ivan', 'ivan-legacy-pw'), true);
});

test('-U on an empty file succeeds and changes nothing (2.0.11 exits 1 silently)', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  writeFileSync(path, '');
  assert.deepEqual(run(OUR_PASSWD, ['-U', path]), { status: 0, stdout: '', stderr: '' });
  assert.equal(readFileSync(path, 'utf8'), '');
});

test('comment and blank lines are kept where Mosquitto 2.0.11 drops the rest of the file', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  const before = readFileSync(join(fixtures, 'pwfile-comment.before'), 'utf8');
  writeFileSync(path, before.replace('\n', '\n\n'));
  const r = run(OUR_PASSWD, ['-b', path, 'mona', 'mona-pass']);
  assert.deepEqual(r, { status: 0, stdout: 'Adding password for user mona\n', stderr: '' });
  const after = readFileSync(path, 'utf8');
  assert.ok(after.startsWith(before.replace('\n', '\n\n')), 'comment, blank line and kate kept byte for byte');
  assert.equal(await accepts(path, 'kate', 'kate-pbkdf2-pw'), true);
  assert.equal(await accepts(path, 'mona', 'mona-pass'), true);
  // Deleting and -U keep them too.
  assert.equal(run(OUR_PASSWD, ['-D', path, 'mona']).status, 0);
  assert.equal(readFileSync(path, 'utf8'), before.replace('\n', '\n\n'));
  assert.equal(run(OUR_PASSWD, ['-U', path]).status, 0);
  assert.equal(readFileSync(path, 'utf8'), before.replace('\n', '\n\n'));
});

test('Debian 2.0.11 really does lose the lines after a comment (why we differ)', { skip: debianMissing('passwd') }, (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  copyFileSync(join(fixtures, 'pwfile-comment.before'), path);
  const r = run(DEBIAN.passwd, ['-b', path, 'mona', 'mona-pass']);
  assert.deepEqual(r, { status: 0, stdout: '', stderr: 'Error: Corrupt password file at line 1.\n' });
  assert.deepEqual([...fields(path).keys()], ['mona']);
});

test('a duplicated user gets the new password on every line', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  const ivan = readFileSync(join(fixtures, 'pwfile-sha512-mixed'), 'utf8').split('\n')[0] ?? '';
  writeFileSync(path, `${ivan}\nother:x\n${ivan}\n`);
  assert.equal(run(OUR_PASSWD, ['-H', 'sha512', '-b', path, 'ivan', 'new-pw']).stdout, 'Updating password for user ivan\n');
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines[1], 'other:x');
  assert.ok(lines[0]?.startsWith('ivan:$6$') && lines[2]?.startsWith('ivan:$6$') && lines[0] !== lines[2]);
  assert.equal(await accepts(path, 'ivan', 'new-pw'), true);
  assert.equal(run(OUR_PASSWD, ['-D', path, 'ivan']).status, 0);
  assert.equal(readFileSync(path, 'utf8'), 'other:x\n');
});

test('CRLF lines of other users are kept byte for byte; a CRLF user still matches', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  const [ivan, judy] = readFileSync(join(fixtures, 'pwfile-sha512-mixed'), 'utf8').split('\n');
  writeFileSync(path, `${ivan}\r\n${judy}\r\n`);
  assert.equal(run(OUR_PASSWD, ['-H', 'sha512', '-b', path, 'judy', 'judy-new']).stdout, 'Updating password for user judy\n');
  const after = readFileSync(path, 'utf8');
  assert.ok(after.startsWith(`${ivan}\r\njudy:$6$`));
  assert.equal(await accepts(path, 'judy', 'judy-new'), true);
});

test('a symlinked password file is edited at its target; mode and symlink stay', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'real');
  const link = join(dir, 'link');
  copyFileSync(join(fixtures, 'pwfile-update.before'), target);
  chmodSync(target, 0o640);
  symlinkSync(target, link);
  assert.equal(run(OUR_PASSWD, ['-H', 'sha512', '-b', link, 'user4', 'pw4']).status, 0);
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(statSync(target).mode & 0o777, 0o640);
  assert.equal(await accepts(target, 'user4', 'pw4'), true);
  assert.deepEqual(readdirSync(dir).sort(), ['link', 'real']);
});

test('updates replace the file atomically (new inode) and leave no temporary file', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  copyFileSync(join(fixtures, 'pwfile-update.before'), path);
  const inode = statSync(path).ino;
  assert.equal(run(OUR_PASSWD, ['-H', 'sha512', '-b', path, 'user1', 'x']).status, 0);
  assert.notEqual(statSync(path).ino, inode);
  assert.deepEqual(readdirSync(dir), ['pw']);
});

test('a read-only directory: the update fails cleanly and the file is untouched', { skip: process.getuid?.() === 0 ? 'root can write anywhere' : false }, (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  copyFileSync(join(fixtures, 'pwfile-update.before'), path);
  chmodSync(dir, 0o500);
  t.after(() => chmodSync(dir, 0o700));
  const r = run(OUR_PASSWD, ['-H', 'sha512', '-b', path, 'user1', 'x']);
  assert.deepEqual(r, { status: 1, stdout: '', stderr: 'Error: Unable to open temporary file. Permission denied.\n' });
  assert.deepEqual(readFileSync(path), readFileSync(join(fixtures, 'pwfile-update.before')));
});

test('-c - writes the line to stdout and no file (2.1)', async (t) => {
  const dir = tempDir(t);
  const r = run(OUR_PASSWD, ['-H', 'sha512', '-c', '-b', '-', 'eve', 'eve-pw'], { cwd: dir });
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^eve:\$6\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==\n$/);
  assert.deepEqual(readdirSync(dir), []);
  assert.equal(await PasswordFile.parse(r.stdout).check('eve', 'eve-pw'), AuthResult.allow);
  // Interactive: the prompts go to stderr so stdout holds only the line.
  const i = run(OUR_PASSWD, ['-H', 'sha512', '-c', '-', 'eve'], { cwd: dir, input: 'p\np\n' });
  assert.equal(i.status, 0);
  assert.equal(i.stderr, 'Password: \nReenter password: \n');
  assert.match(i.stdout, /^eve:\$6\$/);
  assert.equal(await PasswordFile.parse(i.stdout).check('eve', 'p'), AuthResult.allow);
});

interface FixtureRun {
  cmd: string;
  stdin: string | null;
  rc: number;
  stdout: string;
  stderr: string;
}

/** Split a command line of mosquitto_passwd-runs.json (words and '…' quotes only). */
function shellWords(cmd: string): string[] {
  return [...cmd.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

test('replaying every recorded Debian run gives the same statuses and texts, plus 2.1 messages', async (t) => {
  const dir = tempDir(t);
  const runs = JSON.parse(readFileSync(join(fixtures, 'mosquitto_passwd-runs.json'), 'utf8')) as FixtureRun[];
  assert.equal(runs.length, 23);
  for (const recorded of runs) {
    const args = shellWords(recorded.cmd).slice(1);
    const file = args.find((a) => a.startsWith('pwfile-')) ?? '';
    if (!existsSync(join(dir, file))) {
      if (existsSync(join(fixtures, `${file}.before`))) copyFileSync(join(fixtures, `${file}.before`), join(dir, file));
      if (file === 'pwfile-plain-UU') copyFileSync(join(dir, 'pwfile-plain'), join(dir, file));
    }
    const before = existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : '';
    const r = run(OUR_PASSWD, ['-H', 'sha512-pbkdf2', '-I', '101', ...args], { cwd: dir, ...(recorded.stdin === null ? {} : { input: recorded.stdin }) });
    const user = args[args.indexOf(file) + 1] ?? '';
    let stdout = recorded.stdout;
    if (!args.includes('-D') && !args.includes('-U')) {
      const updating = !args.includes('-c') && before.split('\n').some((line) => line.startsWith(`${user}:`));
      stdout += `${updating ? 'Updating' : 'Adding'} password for user ${user}\n`;
    }
    // The one deliberate difference: the comment line is not "corrupt" for us.
    const stderr = file === 'pwfile-comment' ? '' : recorded.stderr;
    assert.deepEqual(r, { status: recorded.rc, stdout, stderr }, recorded.cmd);
  }
  const expectations: [string, string, string, boolean][] = [
    ['pwfile-create', 'alice', 'alice-secret', true],
    ['pwfile-batch', 'bob', 'bob pass with spaces', true],
    ['pwfile-batch', 'carol', 'Pässwörd-ünïcødé', true],
    ['pwfile-batch', 'dave', 'colon:in:password', true],
    ['pwfile-batch', 'erin', '', false],
    ['pwfile-batch', 'frank', 'L0ng-'.repeat(60), true],
    ['pwfile-batch', 'ümlaut-user', 'unicode-username-pw', true],
    ['pwfile-update', 'user2', 'user2-NEW-pass', true],
    ['pwfile-update', 'user2', 'user2-old-pass', false],
    ['pwfile-delete', 'hank', 'hank-pass', false],
    ['pwfile-delete', 'iris', 'iris-pass', true],
    ['pwfile-plain', 'colon-user', 'pa', true],
    ['pwfile-plain-UU', 'plainuser1', 'plain-pw-1', true],
    ['pwfile-sha512-mixed', 'ivan', 'ivan-legacy-pw', true],
    ['pwfile-comment', 'kate', 'kate-pbkdf2-pw', true],
    ['pwfile-comment', 'mona', 'mona-pass', true],
  ];
  for (const [file, user, pw, ok] of expectations) assert.equal(await accepts(join(dir, file), user, pw), ok, `${file} ${user}`);
});

test('root editing a file owned by another user keeps the owner', { skip: process.getuid?.() === 0 ? false : 'needs root to chown' }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'pw');
  copyFileSync(join(fixtures, 'pwfile-update.before'), path);
  chownSync(path, 1, 1);
  assert.equal(run(OUR_PASSWD, ['-H', 'sha512', '-b', path, 'user1', 'x']).status, 0);
  assert.deepEqual([statSync(path).uid, statSync(path).gid], [1, 1]);
  assert.equal(run(OUR_PASSWD, ['-H', 'sha512', '-c', '-b', path, 'user1', 'x']).status, 0);
  assert.deepEqual([statSync(path).uid, statSync(path).gid], [1, 1]);
  assert.equal(await accepts(path, 'user1', 'x'), true);
});
