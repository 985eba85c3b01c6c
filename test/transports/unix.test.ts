/**
 * Unix socket listeners (`listener 0 <path>`) against Debian's mosquitto_pub/sub --unix, with the
 * Debian broker as oracle for the log lines and the socket file's life cycle.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasDebianMosquitto, startBroker } from '../helpers/broker-process.js';
import { DEBIAN_TOOLS, hasDebianTools, runTool, ToolProcess } from '../interop/tools.js';
import { eventually, logLines } from './helpers.js';

const skip = !hasDebianTools() ? 'Debian mosquitto clients not installed' : false;
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'skeeter-unix-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

for (const oracle of [false, true]) {
  const name = oracle ? 'Debian mosquitto' : 'skeeter';
  test(`${name}: pub/sub over a unix socket, TCP and unix clients see each other, socket removed at exit`, {
    skip: skip || (oracle && !hasDebianMosquitto() ? 'Debian mosquitto not installed' : false),
  }, async () => {
    const path = join(dir, oracle ? 'oracle.sock' : 'ours.sock');
    // A stale file at the path is replaced, as after a crash.
    writeFileSync(path, 'stale');
    const broker = await startBroker({ oracle, verbose: true, config: [`listener 0 ${path}`] });
    try {
      await eventually(() => existsSync(path) && statSync(path).isSocket(), 5000, 'the socket file');
      assert.equal(statSync(path).mode & 0o777, 0o770);
      const sub = new ToolProcess(DEBIAN_TOOLS.sub, ['--unix', path, '-t', 'u/#', '-v', '-C', '2']);
      const subTcp = new ToolProcess(DEBIAN_TOOLS.sub, ['-p', String(broker.port), '-h', '127.0.0.1', '-t', 'u/#', '-v', '-C', '2']);
      try {
        // Both subscriptions must be in place before publishing.
        await eventually(() => (broker.stderr().match(/Sending SUBACK/g) ?? []).length >= 2, 5000, 'two SUBACKs');
        const p1 = await runTool(DEBIAN_TOOLS.pub, ['--unix', path, '-t', 'u/one', '-m', 'from-unix']);
        assert.equal(p1.code, 0, p1.stderr);
        const p2 = await runTool(DEBIAN_TOOLS.pub, ['-p', String(broker.port), '-h', '127.0.0.1', '-t', 'u/two', '-m', 'from-tcp']);
        assert.equal(p2.code, 0, p2.stderr);
        const r1 = await sub.done(5000);
        const r2 = await subTcp.done(5000);
        assert.equal(r1.stdout, 'u/one from-unix\nu/two from-tcp\n');
        assert.equal(r2.stdout, 'u/one from-unix\nu/two from-tcp\n');
      } finally {
        sub.kill();
        subTcp.kill();
      }
    } finally {
      await broker.stop();
    }
    const lines = logLines(broker.stderr());
    assert.ok(lines.includes(`Opening unix listen socket on path ${path}.`), lines.join('\n'));
    assert.ok(!existsSync(path), 'the socket file is removed at shutdown');
  });
}

test('skeeter: connections over the unix socket are logged with the path and port 0', { skip }, async () => {
  const path = join(dir, 'log.sock');
  const broker = await startBroker({ config: [`listener 0 ${path}`] });
  try {
    await eventually(() => existsSync(path), 5000, 'the socket file');
    const r = await runTool(DEBIAN_TOOLS.pub, ['--unix', path, '-t', 't', '-m', 'x', '-i', 'unix-client']);
    assert.equal(r.code, 0, r.stderr);
    await eventually(() => broker.stderr().includes('unix-client disconnected'), 5000, 'the disconnect line');
  } finally {
    await broker.stop();
  }
  const lines = logLines(broker.stderr());
  assert.ok(lines.includes(`New connection from ${path}:0 on port 0.`), lines.join('\n'));
  assert.ok(lines.includes(`New client connected from ${path}:0 as unix-client (p2, c1, k60).`), lines.join('\n'));
});

test('skeeter: max_connections applies to a unix socket listener, with Mosquitto\'s line', { skip }, async () => {
  const path = join(dir, 'max.sock');
  const broker = await startBroker({ config: [`listener 0 ${path}`, 'max_connections 1'] });
  try {
    await eventually(() => existsSync(path), 5000, 'the socket file');
    const first = new ToolProcess(DEBIAN_TOOLS.sub, ['--unix', path, '-t', 'm', '-i', 'first']);
    try {
      await eventually(() => broker.stderr().includes(' as first ('), 5000, 'the first client');
      const second = await runTool(DEBIAN_TOOLS.pub, ['--unix', path, '-t', 'm', '-m', 'x', '-i', 'second']);
      assert.notEqual(second.code, 0);
    } finally {
      first.kill();
    }
  } finally {
    await broker.stop();
  }
  assert.ok(logLines(broker.stderr()).includes(`Client connection from ${path} denied: max_connections exceeded.`), broker.stderr());
});
