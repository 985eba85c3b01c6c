/**
 * acl_file problems at start-up: the exact log lines and exit status of Debian's 2.0.11, for
 * our broker and the oracle side by side (reference 7.3).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DEBIAN_MOSQUITTO, hasDebianMosquitto, startBroker } from '../helpers/broker-process.js';
import { waitForText } from './helpers.js';
import { launcher } from '../helpers/paths.js';

const work = mkdtempSync(join(tmpdir(), 'skeeter-auth-aclerr-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Case {
  name: string;
  /** ACL file contents; undefined = the file does not exist. */
  acl: string | undefined;
  status: number;
  /** Error lines from the security set-up, `<f>` standing for the file name. */
  lines: string[];
}

const cases: Case[] = [
  { name: 'unknown access type', acl: 'topic bogus a/b\n', status: 3, lines: ['Error: Invalid topic access type "bogus" in acl_file "<f>".', 'Error opening acl file "<f>".'] },
  { name: 'invalid filter', acl: 'topic read a/+b\n', status: 3, lines: ['Error: Invalid ACL topic "a/+b" in acl_file "<f>".', 'Error opening acl file "<f>".'] },
  { name: 'user without a name', acl: 'topic a\nuser   \n', status: 3, lines: ['Error: Missing username in acl_file "<f>".', 'Error opening acl file "<f>".'] },
  { name: 'topic without a filter', acl: 'topic\n', status: 3, lines: ['Error: Empty topic in acl_file "<f>".', 'Error opening acl file "<f>".'] },
  { name: 'an indented # is not a comment', acl: '# fine\n  # not fine\n', status: 3, lines: ['Error: Invalid line in acl_file "<f>":   #.', 'Error opening acl file "<f>".'] },
  { name: 'unknown keyword (printed up to its first word)', acl: 'topic a\ngroup admins here\n', status: 3, lines: ['Error: Invalid line in acl_file "<f>": group.', 'Error opening acl file "<f>".'] },
  { name: 'a tab does not separate words', acl: 'topic\tread a\n', status: 3, lines: ['Error: Invalid line in acl_file "<f>": topic\tread.', 'Error opening acl file "<f>".'] },
  { name: 'missing file', acl: undefined, status: 13, lines: ['Error: Unable to open acl_file "<f>".', 'Error opening acl file "<f>".'] },
];

const targets = [{ name: 'skeeter', oracle: false }];
if (hasDebianMosquitto()) targets.push({ name: 'debian mosquitto 2.0.11 (oracle)', oracle: true });

for (const target of targets) {
  describe(`acl_file start-up errors [${target.name}]`, () => {
    cases.forEach((c, i) => {
      test(c.name, { timeout: 30_000 }, () => {
        const dir = mkdtempSync(join(work, `${target.oracle ? 'o' : 's'}${i}-`));
        const acl = join(dir, 'acl');
        if (c.acl !== undefined) writeFileSync(acl, c.acl);
        const conf = join(dir, 'm.conf');
        // The broker stops before opening its listeners, so port 0 is never used.
        const lines = ['listener 0 127.0.0.1', `acl_file ${acl}`, 'allow_anonymous true'];
        if (target.oracle) lines.push('user root');
        writeFileSync(conf, lines.join('\n') + '\n');
        const bin = target.oracle ? DEBIAN_MOSQUITTO : launcher('mosquitto');
        const r = spawnSync(bin, ['-c', conf], { encoding: 'utf8', timeout: 20_000, cwd: dir });
        const logged = r.stderr
          .split('\n')
          .map((s) => s.replace(/^\d+: /, ''))
          .filter((s) => s.startsWith('Error'));
        assert.deepEqual(logged, c.lines.map((l) => l.replaceAll('<f>', acl)), r.stderr);
        assert.equal(r.status, c.status, r.stderr);
      });
    });

    test('a pattern without %c or %u is logged as a warning and the broker runs', { timeout: 30_000 }, async () => {
      const acl = join(work, `${target.oracle ? 'o' : 's'}-warn`);
      writeFileSync(acl, 'pattern read a/b\npattern write c/%u\n');
      const broker = await startBroker({ config: [`acl_file ${acl}`], oracle: target.oracle });
      try {
        assert.ok(await waitForText(broker.stderr, 'running'), broker.stderr());
        const warnings = broker.stderr().split('\n').filter((s) => s.includes('ACL pattern'));
        assert.deepEqual(warnings.map((s) => s.replace(/^\d+: /, '')), ["Warning: ACL pattern 'a/b' does not contain '%c' or '%u'."]);
      } finally {
        await broker.stop();
      }
    });
  });
}
