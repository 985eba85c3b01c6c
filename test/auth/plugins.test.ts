/**
 * JavaScript plugins (`plugin <path>` + `plugin_opt_*`): basic-auth and acl-check callbacks in
 * Mosquitto's chain order, a throwing callback counted as "deny", reload events, and a C `.so`
 * refused with Mosquitto's load-error lines. These tests drive a library Broker through the
 * same `installBrokerSecurity` the process uses (plugin-events.test.ts and
 * example-plugins.test.ts run the `mosquitto` process with `plugin` lines).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { Broker, Logger, parseConfig, toBrokerSettings, type BrokerConfig } from '@skeeter/broker';
import { freePort } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { repoRoot } from '../helpers/paths.js';
import { passwordLine } from './helpers.js';

/** The part of packages/broker/src/auth the tests use (not exported by the package yet). */
interface AuthModule {
  installBrokerSecurity(broker: Broker, config: BrokerConfig, log: Logger): Promise<{ ok: boolean; exitCode: number; security: unknown }>;
  reloadBrokerSecurity(broker: Broker, config: BrokerConfig, log: Logger, previous: unknown): unknown;
}
const auth = (await import(pathToFileURL(join(repoRoot, 'packages/broker/dist/src/auth/index.js')).href)) as AuthModule;

const work = mkdtempSync(join(tmpdir(), 'skeeter-auth-plugins-'));
after(() => rmSync(work, { recursive: true, force: true }));

const plugin = join(work, 'example-plugin.mjs');
writeFileSync(
  plugin,
  `// A test plugin: users and topics come from plugin_opt_*.
export function pluginInit(host, options) {
  const users = new Map(options.users.split(',').map((u) => u.split('=')));
  host.register('basic-auth', async (client, username, password) => {
    // Called for clients without a user name too (Mosquitto 2.0).
    if (username === undefined) return client.clientId === 'anon-deny' ? 'deny' : client.clientId === 'anon-allow' ? 'allow' : 'defer';
    if (username === 'thrower') throw new Error('boom');
    if (username === 'defer-me') return 'defer';
    const want = users.get(username);
    if (want === undefined) return 'deny';
    return Buffer.from(password ?? []).toString() === want ? 'allow' : 'deny';
  });
  host.register('acl-check', (client, access, topic) => {
    if (access !== 'write') return 'allow';
    if (topic.startsWith(options.writable)) return 'allow';
    if (topic.startsWith('defer/')) return 'defer';
    if (topic.startsWith('throw/')) throw new Error('acl boom');
    return 'deny';
  });
  host.register('reload', (opts) => host.log('notice', 'plugin reloaded with users=' + opts.users));
  host.log('notice', 'plugin ready for ' + users.size + ' users');
  globalThis.skeeterTestPluginHost = host;
}
`,
);

interface Running {
  broker: Broker;
  port: number;
  lines: string[];
  config: BrokerConfig;
  security: unknown;
}

async function start(extra: string[] = []): Promise<Running> {
  const port = await freePort();
  const r = parseConfig([`listener ${port} 127.0.0.1`, 'allow_anonymous true', ...extra, ''].join('\n'));
  assert.ok(r.ok, JSON.stringify(r));
  const settings = toBrokerSettings(r.config);
  const lines: string[] = [];
  const log = new Logger({ ...settings.log, dests: [{ kind: 'none' }] });
  const write = log.write.bind(log);
  log.write = (type, text) => {
    lines.push(text);
    write(type, text);
  };
  const broker = new Broker(settings, log);
  const loaded = await auth.installBrokerSecurity(broker, r.config, log);
  assert.ok(loaded.ok, lines.join('\n'));
  await broker.start();
  return { broker, port, lines, config: r.config, security: loaded.security };
}

async function connack(port: number, o: m.ConnectOptions, v: m.Version = 4): Promise<number> {
  const c = await RawClient.open(port);
  try {
    c.send(m.connect(v, { clientId: `p-${Math.random().toString(36).slice(2, 8)}`, ...o }));
    const ack = await c.next();
    assert.ok(ack && ack[0] === 0x20);
    return ack[3]!;
  } finally {
    c.close();
  }
}

test('basic-auth: the plugin decides, defer means refused, a throw is a refusal and is logged', { timeout: 30_000 }, async () => {
  const r = await start([`plugin ${plugin}`, 'plugin_opt_users alice=a-pw,bob=b-pw', 'plugin_opt_writable ok/']);
  try {
    assert.ok(r.lines.includes(`Loading plugin: ${plugin}`));
    assert.ok(r.lines.includes('plugin ready for 2 users'));
    assert.equal(await connack(r.port, { username: 'alice', password: 'a-pw' }), 0);
    assert.equal(await connack(r.port, { username: 'alice', password: 'nope' }), 5);
    assert.equal(await connack(r.port, { username: 'bob', password: 'b-pw' }, 5), 0);
    assert.equal(await connack(r.port, { username: 'carol', password: 'x' }, 5), 0x87);
    assert.equal(await connack(r.port, { username: 'defer-me', password: 'x' }), 5);
    assert.equal(await connack(r.port, { username: 'thrower', password: 'x' }), 5);
    assert.ok(r.lines.some((l) => l.startsWith(`Error: Plugin "${plugin}" failed in its basic-auth callback: boom`)), r.lines.join('\n'));
    // Clients without a user name go through the plugin too: its 'deny' is final, its 'defer'
    // leaves them to allow_anonymous (true here).
    assert.equal(await connack(r.port, {}), 0);
    assert.equal(await connack(r.port, { clientId: 'anon-deny' }), 5);
    assert.equal(await connack(r.port, { clientId: 'anon-deny' }, 5), 0x87);
  } finally {
    await r.broker.stop();
  }
});

test('allow_anonymous false: a plugin may still allow a client without a user name; its defer refuses', { timeout: 30_000 }, async () => {
  const r = await start([`plugin ${plugin}`, 'plugin_opt_users alice=a-pw', 'plugin_opt_writable ok/', 'allow_anonymous false']);
  try {
    assert.equal(await connack(r.port, {}), 5);
    assert.equal(await connack(r.port, { clientId: 'anon-allow' }), 0);
    assert.equal(await connack(r.port, { clientId: 'anon-allow' }, 5), 0);
    assert.equal(await connack(r.port, { username: 'alice', password: 'a-pw' }), 0);
  } finally {
    await r.broker.stop();
  }
});

test('acl-check: allow, deny, all-defer = deny, throw = deny', { timeout: 30_000 }, async () => {
  const r = await start([`plugin ${plugin}`, 'plugin_opt_users alice=a-pw', 'plugin_opt_writable ok/']);
  try {
    const c = await RawClient.open(r.port);
    try {
      c.send(m.connect(4, { clientId: 'acl', username: 'alice', password: 'a-pw' }));
      assert.equal((await c.next())?.toString('hex'), m.connack(4, 0).toString('hex'));
      c.send(m.subscribe(4, 1, [['#', 0]]));
      assert.equal((await c.next())?.toString('hex'), m.suback(4, 1, [0]).toString('hex'));
      c.send(m.publish(4, 'no/x', 'denied'));
      c.send(m.publish(4, 'defer/x', 'all deferred'));
      c.send(m.publish(4, 'throw/x', 'thrown'));
      c.send(m.publish(4, 'ok/x', 'allowed'));
      assert.equal((await c.next())?.toString('hex'), m.publish(4, 'ok/x', 'allowed').toString('hex'));
      assert.ok(r.lines.some((l) => l.startsWith(`Error: Plugin "${plugin}" failed in its acl-check callback: acl boom`)));
    } finally {
      c.close();
    }
  } finally {
    await r.broker.stop();
  }
});

test('plugins run before the built-in password file: a plugin\'s refusal is final, its defer leaves the file to decide', { timeout: 30_000 }, async () => {
  const pw = join(work, 'pw');
  writeFileSync(pw, [passwordLine('alice', 'file-pw'), passwordLine('defer-me', 'dm-pw')].join('\n') + '\n');
  const r = await start([`password_file ${pw}`, `plugin ${plugin}`, 'plugin_opt_users alice=a-pw,bob=b-pw', 'plugin_opt_writable ok/']);
  try {
    assert.equal(await connack(r.port, { username: 'alice', password: 'file-pw' }), 5, 'the plugin refuses before the file is asked');
    assert.equal(await connack(r.port, { username: 'alice', password: 'a-pw' }), 0);
    assert.equal(await connack(r.port, { username: 'bob', password: 'b-pw' }), 0, 'not in the file, allowed by the plugin');
    assert.equal(await connack(r.port, { username: 'defer-me', password: 'dm-pw' }), 0, 'the plugin defers, the file allows');
    assert.equal(await connack(r.port, { username: 'defer-me', password: 'wrong' }), 5);
  } finally {
    await r.broker.stop();
  }
});

test('acl-check runs before the built-in ACL file: a plugin\'s answer is final, its defer leaves the file to decide', { timeout: 30_000 }, async () => {
  const acl = join(work, 'acl-order');
  // The file would allow none of ok/x (the plugin allows it) and only defer/yes of the deferred topics.
  writeFileSync(acl, 'user alice\ntopic readwrite defer/yes\ntopic read #\n');
  const r = await start([`acl_file ${acl}`, `plugin ${plugin}`, 'plugin_opt_users alice=a-pw', 'plugin_opt_writable ok/']);
  try {
    const c = await RawClient.open(r.port);
    try {
      c.send(m.connect(4, { clientId: 'acl-order', username: 'alice', password: 'a-pw' }));
      assert.equal((await c.next())?.toString('hex'), m.connack(4, 0).toString('hex'));
      c.send(m.subscribe(4, 1, [['#', 0]]));
      assert.equal((await c.next())?.toString('hex'), m.suback(4, 1, [0]).toString('hex'));
      c.send(m.publish(4, 'defer/no', 'file denies'));
      c.send(m.publish(4, 'defer/yes', 'file allows'));
      c.send(m.publish(4, 'ok/x', 'plugin allows'));
      assert.equal((await c.next())?.toString('hex'), m.publish(4, 'defer/yes', 'file allows').toString('hex'));
      assert.equal((await c.next())?.toString('hex'), m.publish(4, 'ok/x', 'plugin allows').toString('hex'));
    } finally {
      c.close();
    }
  } finally {
    await r.broker.stop();
  }
});

test('a reload tells plugins, with their options', { timeout: 30_000 }, async () => {
  const r = await start([`plugin ${plugin}`, 'plugin_opt_users alice=a-pw', 'plugin_opt_writable ok/']);
  try {
    auth.reloadBrokerSecurity(r.broker, r.config, r.broker.log, r.security);
    assert.ok(r.lines.includes('plugin reloaded with users=alice=a-pw'), r.lines.join('\n'));
  } finally {
    await r.broker.stop();
  }
});

test('kickClient: DISCONNECT 0x98 on MQTT 5, the will only when asked', { timeout: 30_000 }, async () => {
  const r = await start([`plugin ${plugin}`, 'plugin_opt_users alice=a-pw,k=k-pw', 'plugin_opt_writable ok/']);
  const host = (globalThis as { skeeterTestPluginHost?: { kickClient(id: string, withWill?: boolean): boolean } }).skeeterTestPluginHost!;
  const clients: RawClient[] = [];
  const open = async (v: m.Version, o: m.ConnectOptions): Promise<RawClient> => {
    const c = await RawClient.open(r.port);
    clients.push(c);
    c.send(m.connect(v, o));
    assert.equal((await c.next())?.[0], 0x20);
    return c;
  };
  try {
    const obs = await open(4, { clientId: 'obs', username: 'alice', password: 'a-pw' });
    obs.send(m.subscribe(4, 1, [['ok/#', 0]]));
    assert.equal((await obs.next())?.toString('hex'), m.suback(4, 1, [0]).toString('hex'));
    const k5 = await open(5, { clientId: 'k5', username: 'k', password: 'k-pw', will: { topic: 'ok/will', payload: 'k5' } });
    assert.equal(host.kickClient('k5'), true);
    assert.equal((await k5.next())?.toString('hex'), 'e00198');
    assert.equal(await k5.next(), null);
    assert.equal(host.kickClient('k5'), false);
    const k4 = await open(4, { clientId: 'k4', username: 'k', password: 'k-pw', will: { topic: 'ok/will', payload: 'k4' } });
    assert.equal(host.kickClient('k4', true), true);
    assert.equal(await k4.next(), null, 'no DISCONNECT before MQTT 5');
    assert.equal((await obs.next())?.toString('hex'), m.publish(4, 'ok/will', 'k4').toString('hex'), 'only the will asked for');
    assert.ok(r.lines.includes('Client k5 been disconnected by administrative action.'), r.lines.join('\n'));
  } finally {
    for (const c of clients) c.close();
    await r.broker.stop();
  }
});

test('a C plugin (.so), a module without pluginInit and (on Node 20) a .ts file are refused with exit status 13', { timeout: 30_000 }, async () => {
  const noInit = join(work, 'no-init.mjs');
  writeFileSync(noInit, 'export const x = 1;\n');
  // Node 20 cannot strip types: a .ts plugin gets a clear error saying how to compile it.
  const tsPlugin = join(work, 'typed.ts');
  writeFileSync(tsPlugin, 'export function pluginInit(host: unknown): void {}\n');
  for (const [path, why] of [
    ['/usr/lib/x86_64-linux-gnu/mosquitto_payload_modification.so', 'skeeter loads JavaScript plugins only (.js, .mjs, .cjs); a C plugin (.so) cannot be loaded.'],
    [noInit, 'the module does not export a pluginInit(host, options) function.'],
    [tsPlugin, `this Node.js (${process.version}) cannot load TypeScript: compile the plugin to JavaScript first (e.g. \`npx tsc\` or \`npx esbuild plugin.ts --format=esm --platform=node --outfile=plugin.mjs\`) and name the .mjs/.js file.`],
  ] as const) {
    const port = await freePort();
    const r = parseConfig(`listener ${port} 127.0.0.1\nplugin ${path}\n`);
    assert.ok(r.ok);
    const settings = toBrokerSettings(r.config);
    const lines: string[] = [];
    const log = new Logger({ ...settings.log, dests: [{ kind: 'none' }] });
    log.write = (_t, text) => void lines.push(text);
    const loaded = await auth.installBrokerSecurity(new Broker(settings, log), r.config, log);
    assert.equal(loaded.ok, false);
    assert.equal(loaded.exitCode, 13);
    assert.deepEqual(lines, [`Loading plugin: ${path}`, `Error: Unable to load auth plugin "${path}".`, `Load error: ${path}: ${why}`]);
  }
});
