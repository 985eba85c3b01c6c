/**
 * mosquitto_ctrl without a broker: usage and help texts, option errors (and how Mosquitto goes
 * on after them), command argument errors, prompts, options files, set-up and connect failures,
 * with their exit statuses. Each row of fixtures/offline-cases.json holds what Mosquitto
 * 2.0.20's mosquitto_ctrl printed for it (stdout, stderr, status); our launcher must print the
 * same bytes. Placeholders: {dir} is the row's temp dir (also HOME), {closed} a port nobody
 * listens on.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '../helpers/broker-process.js';
import { repoRoot } from '../helpers/paths.js';
import { OUR_VERSION, runCtrl } from './harness.js';

interface Row {
  args: string[];
  stdin?: string;
  files?: Record<string, string>;
  env?: Record<string, string>;
  stdout: string;
  stderr: string;
  status: number;
}

const ROWS = JSON.parse(readFileSync(join(repoRoot, 'test', 'ctrl', 'fixtures', 'offline-cases.json'), 'utf8')) as Row[];

const label = (r: Row): string =>
  `mosquitto_ctrl ${r.args.map((a) => (a === '' || /\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}${r.stdin !== undefined ? ` < ${JSON.stringify(r.stdin)}` : ''}`;

describe('mosquitto_ctrl without a broker: 2.0.20 bytes and exit statuses', { concurrency: 4 }, () => {
  for (const row of ROWS) {
    it(label(row), async () => {
      const dir = mkdtempSync(join(tmpdir(), 'skeeter-ctrl-'));
      try {
        const closed = String(await freePort());
        const sub = (s: string): string => s.replaceAll('{dir}', dir).replaceAll('{closed}', closed);
        for (const [name, content] of Object.entries(row.files ?? {})) {
          mkdirSync(dirname(join(dir, name)), { recursive: true });
          writeFileSync(join(dir, name), content);
        }
        const env: Record<string, string> = {};
        for (const [k, v] of Object.entries(row.env ?? {})) env[k] = sub(v);
        const r = await runCtrl({ args: row.args.map(sub), stdin: row.stdin, env, cwd: dir });
        const back = (s: string): string => Buffer.from(s, 'latin1').toString('utf8').replaceAll(dir, '{dir}').replaceAll(closed, '{closed}');
        assert.equal(back(r.stdout).replace(OUR_VERSION, '.\n'), row.stdout, 'stdout');
        assert.equal(back(r.stderr), row.stderr, 'stderr');
        assert.equal(r.status, row.status, 'exit status');
        // init never touches a file that is there.
        if (row.files?.['exists.json'] !== undefined) assert.equal(readFileSync(join(dir, 'exists.json'), 'utf8'), row.files['exists.json']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('mosquitto_ctrl version line', () => {
  it("is Mosquitto's with skeeter's version added, as the other tools'", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skeeter-ctrl-'));
    try {
      const r = await runCtrl({ args: [], cwd: dir });
      assert.match(r.stdout.split('\n')[1] ?? '', /^mosquitto_ctrl version 2\.0\.20 running on libmosquitto 2\.0\.20 \(skeeter [0-9.]+\)\.$/);
      assert.equal(r.status, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
