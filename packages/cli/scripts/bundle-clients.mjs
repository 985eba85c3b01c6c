#!/usr/bin/env node
// Bundles mosquitto_pub, mosquitto_sub, mosquitto_rr and mosquitto_ctrl with esbuild, one file per tool, into
// packages/cli/dist/bundle/<tool>.mjs (run after `tsc -b`: @skeeter/client is taken from its
// dist). The bins in dist/src/bin load the bundle when it is newer than the tsc output.
// Start-up is what these tools are judged on: one file means one read and no module
// resolution; MQTT.js, TLS, chalk and the usage texts are still only evaluated when needed.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';

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
// Each tool's module under src/, exporting main(argv).
const tools = { mosquitto_pub: 'clients/pub', mosquitto_sub: 'clients/sub', mosquitto_rr: 'clients/rr', mosquitto_ctrl: 'apps/ctrl/main' };

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
    // <tool>.bundle.cjs is the tool; <tool>.cjs (below) runs it: `node dist/bundle/<tool>.cjs
    // args`. CommonJS because Node 20's ESM loader costs a visible share of a one-shot run;
    // this is what the launchers exec when it is newer than the tsc builds.
    build({
      ...common,
      stdin: {
        contents: `import { main } from './${mod}.ts';\nvoid main(process.argv.slice(2));\n`,
        resolveDir: join(cli, 'src'),
        sourcefile: `${tool}-entry.ts`,
        loader: 'ts',
      },
      outfile: join(cli, 'dist', 'bundle', `${tool}.bundle.cjs`),
      format: 'cjs',
      // yargs-parser is ESM and takes a require() from import.meta.url.
      define: { 'import.meta.url': '__skeeterUrl' },
      banner: { js: "const __skeeterUrl=require('node:url').pathToFileURL(__filename).href;" },
    }),
    // <tool>.mjs exports main() for the ESM bins in dist/src/bin.
    build({
      entryPoints: [join(cli, 'src', `${mod}.ts`)],
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

// <tool>.cjs: compiles <tool>.bundle.cjs with V8's code cache for it (<tool>.cache), so a
// one-shot run does not parse and compile the bundle's functions again: Node 20 has no
// compile cache of its own (module.enableCompileCache is 22+). The cache is written when it
// is missing or V8 rejects it (another bundle, another node), at exit, so it holds the
// functions that run compiled; atomically (rename), and not at all where dist is read-only.
const loader = (tool) => `'use strict';
// Generated by packages/cli/scripts/bundle-clients.mjs: runs ${tool}.bundle.cjs with a V8 code cache.
const { accessSync, constants, readFileSync, writeFileSync, renameSync } = require('node:fs');
const { Script } = require('node:vm');
const Module = require('node:module');
const file = __dirname + '/${tool}.bundle.cjs';
const cacheFile = __dirname + '/${tool}.cache';
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {}
const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
if (script.cachedDataRejected !== false) {
  process.once('exit', () => {
    try {
      // Where dist is read-only, no cache (and no serialising one at every exit).
      accessSync(__dirname, constants.W_OK);
      const tmp = cacheFile + '.' + process.pid;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {}
  });
}
const m = { exports: {}, filename: file, id: file, loaded: false };
script.runInThisContext()(m.exports, Module.createRequire(file), m, file, __dirname);
`;
for (const tool of Object.keys(tools)) {
  rmSync(join(cli, 'dist', 'bundle', `${tool}.cache`), { force: true });
  writeFileSync(join(cli, 'dist', 'bundle', `${tool}.cjs`), loader(tool));
}

// Warm-up: one real session per tool against a minimal MQTT responder on loopback writes each
// cache with the functions a one-shot run needs (connect, publish, acks), not only those of
// the first run a user happens to make (--help, say). Best effort: without it the cache is
// written by the first run.
const responder = createServer((s) => {
  let buf = Buffer.alloc(0);
  let v5 = false;
  s.on('error', () => {});
  s.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (buf.length < 2) return;
      let len = 0;
      let mul = 1;
      let i = 1;
      for (; i < 5; i++) {
        const b = buf[i];
        if (b === undefined) return;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) break;
      }
      const total = i + 1 + len;
      if (buf.length < total) return;
      const body = buf.subarray(i + 1, total);
      const type = buf[0] >> 4;
      const qos = (buf[0] >> 1) & 3;
      buf = buf.subarray(total);
      const props = v5 ? [0] : [];
      if (type === 1) {
        v5 = body[6] === 5;
        s.write(Buffer.from([0x20, v5 ? 3 : 2, 0, 0, ...(v5 ? [0] : [])]));
      } else if (type === 8) {
        const rest = [body[0], body[1], ...props, 0];
        s.write(Buffer.from([0x90, rest.length, ...rest]));
        // A message for mosquitto_sub -C 1, on its topic 't'.
        s.write(Buffer.from([0x30, 4 + props.length, 0, 1, 0x74, ...props, 0x78]));
      } else if (type === 3) {
        const at = 2 + body.readUInt16BE(0);
        if (qos === 1) s.write(Buffer.from([0x40, 2, body[at], body[at + 1]]));
        // The response mosquitto_rr waits for, on its response topic 'r'.
        if (v5) s.write(Buffer.from([0x30, 4 + props.length, 0, 1, 0x72, ...props, 0x79]));
      } else if (type === 12) {
        s.write(Buffer.from([0xd0, 0]));
      }
    }
  });
});
try {
  await new Promise((resolve, reject) => responder.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = String(responder.address().port);
  const home = mkdtempSync(join(tmpdir(), 'skeeter-bundle-'));
  const runs = {
    mosquitto_pub: ['-p', port, '-t', 't', '-m', 'x', '-q', '1'],
    mosquitto_sub: ['-p', port, '-t', 't', '-C', '1'],
    mosquitto_rr: ['-p', port, '-t', 't', '-e', 'r', '-m', 'x', '-W', '5'],
    // The responder's message on 't' is its answer (not JSON: one error line).
    mosquitto_ctrl: ['-p', port, 'dynsec', 'listClients'],
  };
  await Promise.all(
    Object.entries(runs).map(
      ([tool, args]) =>
        new Promise((resolve) => {
          const child = spawn(process.execPath, [join(cli, 'dist', 'bundle', `${tool}.cjs`), ...args], {
            stdio: 'ignore',
            env: { ...process.env, HOME: home, XDG_CONFIG_HOME: home },
          });
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          child.on('exit', () => (clearTimeout(timer), resolve()));
          child.on('error', () => (clearTimeout(timer), resolve()));
        }),
    ),
  );
  rmSync(home, { recursive: true, force: true });
} catch {
  // No loopback: the caches come with the first runs.
} finally {
  responder.close();
}
