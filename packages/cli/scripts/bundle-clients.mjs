#!/usr/bin/env node
// Bundles mosquitto_pub, mosquitto_sub and mosquitto_rr with esbuild, one file per tool, into
// packages/cli/dist/bundle/<tool>.mjs (run after `tsc -b`: @skeeter/client is taken from its
// dist). The bins in dist/src/bin load the bundle when it is newer than the tsc output.
// Start-up is what these tools are judged on: one file means one read and no module
// resolution; MQTT.js, TLS, chalk and the usage texts are still only evaluated when needed.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { realpathSync } from 'node:fs';

const cli = fileURLToPath(new URL('..', import.meta.url));

// MQTT.js is written for browsers too. On Node its polyfills are dead weight at start-up:
// readable-stream is Node's own stream module, worker-timers is only used for the 'worker'
// timer variant (browsers), and debug output is switched off (the client passes its own log).
const STUBS = {
  'readable-stream': "module.exports = require('node:stream');",
  'worker-timers': 'module.exports = { setInterval, clearInterval, setTimeout, clearTimeout };',
  debug: 'module.exports = function debug() { const f = function () {}; f.enabled = false; f.extend = debug; return f; };',
};
// The option parser is yargs' (argv.ts imports `Parser` from 'yargs/helpers'). That module
// also loads yargs' platform shims (cliui, y18n, string-width, ...), which only yargs' own
// command/help layer uses; the bundle takes yargs-parser alone, resolved where yargs finds it.
const yargsDir = dirname(realpathSync(createRequire(join(cli, 'package.json')).resolve('yargs/package.json')));
const YARGS_HELPERS = "export { default as Parser } from 'yargs-parser';";
const nodeOnly = {
  name: 'node-only',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${Object.keys(STUBS).join('|')})$`) }, (args) => ({ path: args.path, namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({ contents: STUBS[args.path], loader: 'js' }));
    b.onResolve({ filter: /^yargs\/helpers$/ }, () => ({ path: 'yargs-helpers', namespace: 'yargs-parser-only' }));
    b.onLoad({ filter: /.*/, namespace: 'yargs-parser-only' }, () => ({ contents: YARGS_HELPERS, resolveDir: yargsDir, loader: 'js' }));
  },
};
const tools = { mosquitto_pub: 'pub', mosquitto_sub: 'sub', mosquitto_rr: 'rr' };

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [nodeOnly],
  // ws's optional native helpers: required inside try/catch, absent here.
  external: ['bufferutil', 'utf-8-validate'],
};

await Promise.all(
  Object.entries(tools).flatMap(([tool, mod]) => [
    // <tool>.cjs runs by itself: `node dist/bundle/<tool>.cjs args`. CommonJS because Node 20's
    // ESM loader costs a visible share of a one-shot run; this is what the launchers should
    // exec when it is newer than the tsc builds.
    build({
      ...common,
      stdin: {
        contents: `import { main } from './${mod}.ts';\nvoid main(process.argv.slice(2));\n`,
        resolveDir: join(cli, 'src', 'clients'),
        sourcefile: `${tool}-entry.ts`,
        loader: 'ts',
      },
      outfile: join(cli, 'dist', 'bundle', `${tool}.cjs`),
      format: 'cjs',
      // yargs-parser is ESM and takes a require() from import.meta.url.
      define: { 'import.meta.url': '__skeeterUrl' },
      banner: { js: "const __skeeterUrl=require('node:url').pathToFileURL(__filename).href;" },
    }),
    // <tool>.mjs exports main() for the ESM bins in dist/src/bin.
    build({
      entryPoints: [join(cli, 'src', 'clients', `${mod}.ts`)],
      outfile: join(cli, 'dist', 'bundle', `${tool}.mjs`),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      minify: true,
      legalComments: 'none',
      // MQTT.js is CommonJS and require()s node built-ins.
      banner: { js: "import{createRequire as __skeeterCR}from'node:module';const require=__skeeterCR(import.meta.url);" },
      logLevel: 'warning',
      plugins: [nodeOnly],
      external: ['bufferutil', 'utf-8-validate'],
    }),
  ]),
);
