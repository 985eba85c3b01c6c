/**
 * Differential argv test: seeded random command lines built from Mosquitto's option names,
 * values that look like options, wildcards, numbers in C's forms and yargs syntax Mosquitto
 * does not have (`--topic=a`, `-rq`, `--`), run with our tool and Debian's 2.0.11 tool; stdout,
 * stderr and exit status must be equal. Every line points at 127.0.0.1 port 1 first, so one
 * that parses ends in the same "Connection refused". 2.1's `-o` and `--ws` are left out
 * (Debian's tools do not have them; extras.test.ts covers them).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debian, debianToolsMissing, mask, ours, runTool } from './harness.js';

const missing = debianToolsMissing();

const OPTIONS = [
  '-t', '-m', '-q', '-p', '-r', '-n', '-l', '-s', '-f', '-D', '-V', '-i', '-I', '-k', '-x', '-c', '-d', '--quiet',
  '--help', '-C', '-T', '-U', '-v', '-N', '-F', '-R', '-E', '-W', '-e', '--will-topic', '--will-payload',
  '--will-qos', '--will-retain', '-L', '-u', '-P', '--repeat', '--repeat-delay', '--random-filter',
  '--retained-only', '--remove-retained', '-M', '--id', '--topic', '--message', '--qos', '--', '-', '-rq',
  '--topic=a', 'foo', '--unix', '--proxy', '-A', '--nodelay', '--pretty', '--cert', '--key', '--keyform', '--psk',
  '--psk-identity', '--cafile', '--tls-version', '--version', '--no-retain', '-tfoo',
];
const VALUES = [
  'a', 'a/b', '#', 'a/+', '', '0', '1', '2', '3', '5', '-1', '70000', '0x10', 'abc', 'x y', 'publish', 'connect',
  'will', 'user-property', 'content-type', 'payload-format-indicator', 'receive-maximum', 'topic-alias',
  'mqtt://h/t', 'mqtt://u:p@127.0.0.1:1/t', 'socks5h://x', '%p', '%z', '\\q', 'mqttv5', '31', '∞', '-5', '--help', '-t',
];

/** A small LCG: the same lines on every run. */
function lines(seed: number, count: number): string[][] {
  let state = seed;
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  const out: string[][] = [];
  for (let i = 0; i < count; i++) {
    const argv = ['-p', '1', '-h', '127.0.0.1'];
    const options = 1 + next(6);
    for (let j = 0; j < options; j++) {
      argv.push(OPTIONS[next(OPTIONS.length)] as string);
      const values = next(3);
      for (let k = 0; k < values; k++) argv.push(VALUES[next(VALUES.length)] as string);
    }
    out.push(argv);
  }
  return out;
}

describe('client tools: random command lines, ours and Debian 2.0.11', { concurrency: 4, timeout: 600_000 }, () => {
  if (missing) {
    it('skipped', { skip: missing }, () => {});
    return;
  }
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'skeeter-argv-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [tool, seed] of [
    ['mosquitto_pub', 11],
    ['mosquitto_sub', 5],
    ['mosquitto_rr', 3],
  ] as const) {
    for (const [n, argv] of lines(seed, 40).entries()) {
      it(`${tool} #${n}: ${JSON.stringify(argv.slice(4))}`, async () => {
        const opts = { cwd: dir, timeoutMs: 30_000 };
        const [theirs, mine] = await Promise.all([runTool(debian(tool), argv, opts), runTool(ours(tool), argv, opts)]);
        assert.deepEqual(
          [mask(mine.stdout), mine.stderr, mine.status],
          [mask(theirs.stdout), theirs.stderr, theirs.status],
        );
      });
    }
  }
});
