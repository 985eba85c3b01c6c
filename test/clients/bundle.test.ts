/**
 * The clients' one-file bundles (packages/cli/scripts/bundle-clients.mjs) carry yargs' parser
 * and not the rest of yargs: `yargs/helpers` would also load the i18n (y18n) and layout
 * (cliui) modules of yargs' own help, which these tools never use (their --help is
 * Mosquitto's text), at start-up cost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundleDir = fileURLToPath(new URL('../../../packages/cli/dist/bundle/', import.meta.url));

for (const tool of ['mosquitto_pub', 'mosquitto_sub', 'mosquitto_rr']) {
  for (const ext of ['cjs', 'mjs']) {
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
