// The same invalid configs run through Debian's real `mosquitto -c FILE`: its stderr error
// lines (timestamp prefix removed) must equal ours. Skipped when mosquitto is not installed.
// Only configs that fail while loading are used, so the oracle never opens a socket; each
// run is bounded by a timeout and killed by PID if it overruns.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadBrokerConfig, loadConfigFile, usageText, type BrokerStartup } from '../src/index.js';
import { INVALID_CASES } from './fixtures/config/invalid-cases.js';

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => spawnSync(p, ['-h'], { timeout: 5000 }).status === 3);
const skip = MOSQUITTO === undefined ? 'Debian mosquitto not installed (apt-get install mosquitto); oracle comparison skipped' : false;

const tmp = mkdtempSync(join(tmpdir(), 'skeeter-config-oracle-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface OracleRun {
  status: number | null;
  stdout: string;
  /** stderr lines with Mosquitto's "<unix time>: " log prefix removed. */
  lines: string[];
}

function runMosquitto(args: string[]): OracleRun {
  const r = spawnSync(MOSQUITTO as string, args, { timeout: 5000, killSignal: 'SIGKILL', encoding: 'latin1' });
  assert.notEqual(r.signal, 'SIGKILL', 'mosquitto did not exit on its own (config unexpectedly valid?)');
  const lines = r.stderr.split('\n').filter((l) => l.length > 0).map((l) => l.replace(/^\d+: /, ''));
  return { status: r.status, stdout: r.stdout, lines };
}

function ourLines(r: BrokerStartup): string[] {
  if (r.ok) return [];
  const out = r.messages.map((m) => m.text);
  if ('stderr' in r && r.stderr.length > 0) out.unshift(...r.stderr.split('\n').filter((l) => l.length > 0));
  return out;
}

describe('config errors match Debian mosquitto 2.0.11', { skip }, () => {
  let n = 0;
  for (const k of INVALID_CASES) {
    if (!k.oracle) continue;
    const file = join(tmp, `case-${n++}.conf`);
    test(k.name, () => {
      writeFileSync(file, Buffer.from(k.conf, 'latin1'));
      const theirs = runMosquitto(['-c', file]);
      assert.equal(theirs.status, 3);
      const ours = loadConfigFile(file, { hostname: 'oracle' });
      assert.equal(ours.ok, false);
      if (ours.ok) return;
      assert.equal(ours.exitCode, 3);
      assert.deepEqual(ours.messages.map((m) => m.text), theirs.lines);
    });
  }

  test('include_dir: order, Loading lines and nested error locations', () => {
    const dir = join(tmp, 'inc.d');
    mkdirSync(dir);
    writeFileSync(join(dir, 'b.conf'), 'bogus_b\n');
    writeFileSync(join(dir, 'B.conf'), 'sys_interval 5\n');
    writeFileSync(join(dir, 'a.conf'), '# x\nlog_type debug\n');
    writeFileSync(join(dir, '_.conf'), 'bogus_underscore\n');
    writeFileSync(join(dir, 'skip.txt'), 'bogus_txt\n');
    const main = join(tmp, 'inc-main.conf');
    writeFileSync(main, `\ninclude_dir ${dir}\n`);
    const theirs = runMosquitto(['-c', main]);
    const ours = loadConfigFile(main);
    assert.equal(theirs.status, 3);
    assert.equal(ours.ok, false);
    assert.deepEqual(ourLines(ours), theirs.lines);
  });

  const cli: Array<[string, string[]]> = [
    ['unknown option', ['-x']],
    ['-c without a file', ['-c']],
    ['-p without a port', ['-p']],
    ['-p 0', ['-p', '0']],
    ['-p out of range', ['-p', '70000']],
    ['missing config file', ['-c', '/nonexistent/skeeter.conf']],
    ['config file is a directory', ['-c', '/']],
  ];
  for (const [name, args] of cli) {
    test(`command line: ${name}`, () => {
      const theirs = runMosquitto(args);
      const ours = loadBrokerConfig(args);
      assert.equal(theirs.status, 3);
      assert.equal(ours.ok, false);
      assert.deepEqual(ourLines(ours), theirs.lines);
      const ourStdout = !ours.ok && 'stdout' in ours ? ours.stdout : '';
      // Usage: identical except the version line (ours names skeeter's version too).
      const strip = (s: string): string => s.replace(/^mosquitto version [^\n]*\n/, '');
      assert.equal(strip(ourStdout), strip(theirs.stdout));
    });
  }

  test('command line: -h prints the usage and exits 3', () => {
    const theirs = runMosquitto(['-h']);
    assert.equal(theirs.status, 3);
    assert.match(theirs.stdout, /^mosquitto version 2\.0\.\d+\n/);
    assert.equal(usageText().replace(/^[^\n]*\n/, ''), theirs.stdout.replace(/^[^\n]*\n/, ''));
  });
});
