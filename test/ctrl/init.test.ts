/**
 * `mosquitto_ctrl dynsec init`: the file it writes (2.0.20's layout byte for byte, fixture
 * made by 2.0.20 with the salt and hash masked), the password hash (PBKDF2-SHA512, 101
 * iterations, 12-byte salt), the file mode, prompting, and never overwriting.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { pbkdf2Sync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { CTRL, runCtrl } from './harness.js';

const FIXTURES = join(repoRoot, 'test', 'ctrl', 'fixtures');
const LAYOUT = readFileSync(join(FIXTURES, 'init-admin.json'), 'utf8');
const CREATED = readFileSync(join(FIXTURES, 'init-admin.stdout'), 'utf8');

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skeeter-ctrl-init-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** The admin client's salt and hash, checked to be Mosquitto 2.0's PBKDF2 of `password`. */
function checkHash(text: string, password: string): { salt: string; hash: string } {
  const salt = /"salt":\t"([^"]*)"/.exec(text)?.[1];
  const hash = /"password":\t"([^"]*)"/.exec(text)?.[1];
  assert.ok(salt !== undefined && hash !== undefined, 'salt and password present');
  const saltBytes = Buffer.from(salt, 'base64');
  assert.equal(saltBytes.length, 12, '12-byte salt');
  assert.equal(saltBytes.toString('base64'), salt, 'salt is padded base64');
  const expected = pbkdf2Sync(Buffer.from(password, 'utf8'), saltBytes, 101, 64, 'sha512').toString('base64');
  assert.equal(hash, expected, 'PBKDF2-HMAC-SHA512, 101 iterations, 64 bytes');
  return { salt, hash };
}

const masked = (text: string): string => text.replace(/"(password|salt)":\t"[^"]*"/g, '"$1":\t"<$1>"');

describe('mosquitto_ctrl dynsec init', () => {
  it(
    "writes 2.0.20's file layout with a PBKDF2 hash of the password and prints the next steps",
    withDir(async (dir) => {
      const file = join(dir, 'dynsec.json');
      const r = await runCtrl({ args: ['dynsec', 'init', file, 'admin', 'pw'], cwd: dir });
      assert.equal(r.status, 0);
      assert.equal(r.stderr, '');
      assert.equal(r.stdout, CREATED.replace('{file}', file));
      const text = readFileSync(file, 'utf8');
      assert.equal(masked(text), LAYOUT);
      assert.ok(!text.endsWith('\n'), 'no newline at the end, as cJSON_Print');
      checkHash(text, 'pw');
    }),
  );

  it(
    'uses a fresh salt each time',
    withDir(async (dir) => {
      const a = join(dir, 'a.json');
      const b = join(dir, 'b.json');
      await runCtrl({ args: ['dynsec', 'init', a, 'admin', 'pw'], cwd: dir });
      await runCtrl({ args: ['dynsec', 'init', b, 'admin', 'pw'], cwd: dir });
      assert.notEqual(checkHash(readFileSync(a, 'utf8'), 'pw').salt, checkHash(readFileSync(b, 'utf8'), 'pw').salt);
    }),
  );

  it(
    'creates the file with mode 0640 less the umask',
    withDir(async (dir) => {
      for (const [umask, mode] of [
        ['022', 0o640],
        ['077', 0o600],
        ['000', 0o640],
      ] as const) {
        const file = join(dir, `m${umask}.json`);
        const r = spawnSync('sh', ['-c', `umask ${umask} && exec "$0" "$@"`, CTRL, 'dynsec', 'init', file, 'admin', 'pw'], { encoding: 'utf8', timeout: 20_000 });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(statSync(file).mode & 0o777, mode, `umask ${umask}`);
      }
    }),
  );

  it(
    'escapes the user name as cJSON does',
    withDir(async (dir) => {
      const file = join(dir, 'esc.json');
      const user = 'a"b\\c\té\u0001';
      const r = await runCtrl({ args: ['dynsec', 'init', file, user, 'pw'], cwd: dir });
      assert.equal(r.status, 0);
      const text = readFileSync(file, 'utf8');
      assert.ok(text.includes('\t\t\t"username":\t"a\\"b\\\\c\\té\\u0001",\n'), text);
      assert.equal((JSON.parse(text) as { clients: Array<{ username: string }> }).clients[0]?.username, user);
    }),
  );

  it(
    'asks for the password twice when it is not given, prompts on stdout',
    withDir(async (dir) => {
      const file = join(dir, 'p.json');
      const r = await runCtrl({ args: ['dynsec', 'init', file, 'boss'], stdin: 's3cret\ns3cret\n', cwd: dir });
      assert.equal(r.status, 0);
      assert.equal(r.stderr, '');
      assert.ok(r.stdout.startsWith('New password for boss: \nReenter password for boss: \nThe client \'boss\' has been created'), r.stdout);
      checkHash(readFileSync(file, 'utf8'), 's3cret');
    }),
  );

  it(
    'reads each answer into 200 bytes like fgets: a longer one is split and the rest answers the second prompt',
    withDir(async (dir) => {
      const file = join(dir, 'long.json');
      const long = 'a'.repeat(250);
      const r = await runCtrl({ args: ['dynsec', 'init', file, 'admin'], stdin: `${long}\n${long}\n`, cwd: dir });
      assert.equal(r.status, 0);
      assert.equal(r.stderr, 'Error: Passwords do not match.\n');
      assert.ok(!existsSync(file));
    }),
  );

  it(
    'does not write through a dangling symlink (O_EXCL)',
    withDir(async (dir) => {
      const link = join(dir, 'link.json');
      const target = join(dir, 'target.json');
      symlinkSync(target, link);
      const r = await runCtrl({ args: ['dynsec', 'init', link, 'admin', 'pw'], cwd: dir });
      assert.equal(r.status, 0);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `dynsec init: Unable to open '${link}' for writing (File exists).\n`);
      assert.ok(!existsSync(target));
      assert.ok(lstatSync(link).isSymbolicLink());
    }),
  );

  it(
    'refuses a directory as the file',
    withDir(async (dir) => {
      const r = await runCtrl({ args: ['dynsec', 'init', dir, 'admin', 'pw'], cwd: dir });
      assert.equal(r.status, 0);
      assert.equal(r.stderr, `dynsec init: Unable to open '${dir}' for writing (File exists).\n`);
    }),
  );
});
