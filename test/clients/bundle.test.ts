/**
 * The clients' one-file bundles (packages/cli/scripts/bundle-clients.mjs) carry yargs' parser
 * and not the rest of yargs: `yargs/helpers` would also load the i18n (y18n) and layout
 * (cliui) modules of yargs' own help, which these tools never use (their --help is
 * Mosquitto's text), at start-up cost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bundleDir = fileURLToPath(new URL('../../../packages/cli/dist/bundle/', import.meta.url));

for (const tool of ['mosquitto_pub', 'mosquitto_sub', 'mosquitto_rr']) {
  for (const ext of ['bundle.cjs', 'mjs']) {
    const file = `${bundleDir}${tool}.${ext}`;
    test(`${tool}.${ext} bundles yargs-parser only`, { skip: existsSync(file) ? false : 'bundle not built' }, () => {
      const text = readFileSync(file, 'utf8');
      // yargs-parser's own error text: the parser is in.
      assert.ok(text.includes('Not enough arguments following'));
      // y18n's and cliui's method names survive minification: neither is in.
      assert.ok(!text.includes('updateFiles'), 'y18n bundled');
      assert.ok(!text.includes('rowToString'), 'cliui bundled');
    });
  }
}

// <tool>.cjs runs <tool>.bundle.cjs with a V8 code cache: a cache V8 rejects (here: garbage)
// must not change what the tool does, and is replaced by a good one at exit.
test('mosquitto_sub.cjs runs with a rejected code cache and rewrites it', { skip: existsSync(`${bundleDir}mosquitto_sub.cjs`) ? false : 'bundle not built' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-cache-'));
  try {
    for (const f of ['mosquitto_sub.cjs', 'mosquitto_sub.bundle.cjs']) copyFileSync(`${bundleDir}${f}`, join(dir, f));
    const garbage = Buffer.from('not a V8 code cache');
    writeFileSync(join(dir, 'mosquitto_sub.cache'), garbage);
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, XDG_CONFIG_HOME: dir };
    for (let run = 0; run < 2; run++) {
      const r = spawnSync(process.execPath, [join(dir, 'mosquitto_sub.cjs'), '-t', 'a', '-C', '0'], { encoding: 'utf8', env, timeout: 30_000 });
      assert.deepEqual([r.stdout, r.stderr, r.status], ['', 'Error: Invalid message count "0".\n\n\nUse \'mosquitto_sub --help\' to see usage.\n', 1]);
      const cache = readFileSync(join(dir, 'mosquitto_sub.cache'));
      assert.ok(cache.length > 1000 && !cache.equals(garbage));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
