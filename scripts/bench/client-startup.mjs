#!/usr/bin/env node
// Start-up benchmark of the client tools (not a test): median wall time of a one-shot
// `mosquitto_pub -t t -m x` against a running Debian broker, ours vs `node -e 0` vs Debian's
// mosquitto_pub, interleaved in the same run; then `-l` throughput (lines/s piped in).
// Usage: node scripts/bench/client-startup.mjs [runs=31] [lines=20000]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const runs = Number(process.argv[2] ?? 31);
const lines = Number(process.argv[3] ?? 20000);
const BROKER = '/usr/sbin/mosquitto';
const DEB_PUB = '/usr/bin/mosquitto_pub';
if (!existsSync(BROKER) || !existsSync(DEB_PUB)) {
  console.log('client-startup: Debian mosquitto/mosquitto-clients not installed; skipped.');
  process.exit(0);
}

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'skeeter-bench-'));
writeFileSync(join(dir, 'm.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\n${process.getuid?.() === 0 ? 'user root\n' : ''}`);
const broker = spawn(BROKER, ['-c', join(dir, 'm.conf')], { stdio: 'ignore' });
for (let i = 0; i < 50; i++) {
  const ok = await new Promise((r) => {
    const s = connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
    s.on('error', () => r(false));
  });
  if (ok) break;
  await new Promise((r) => setTimeout(r, 100));
}

const env = { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir };
const args = ['-p', String(port), '-t', 't', '-m', 'x'];
if (!existsSync(join(root, 'packages/cli/dist/bundle/mosquitto_pub.cjs'))) {
  console.log('client-startup: run `node packages/cli/scripts/bundle-clients.mjs` after the build first.');
  process.exit(1);
}
const contenders = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'skeeter mosquitto_pub (launcher)': [join(root, 'scripts/bin/mosquitto_pub'), args],
  'skeeter mosquitto_pub (node bin)': [process.execPath, [join(root, 'packages/cli/dist/src/bin/mosquitto_pub.js'), ...args]],
  'skeeter mosquitto_pub (cjs bundle)': [process.execPath, [join(root, 'packages/cli/dist/bundle/mosquitto_pub.cjs'), ...args]],
  'Debian mosquitto_pub': [DEB_PUB, args],
};
const times = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, [cmd, a]] of Object.entries(contenders)) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, a, { env, stdio: 'ignore', timeout: 30_000 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
    times[name].push(ms);
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const base = median(times['node -e 0']);
console.log(`one-shot publish, median of ${runs} (ms):`);
for (const [name, xs] of Object.entries(times)) {
  console.log(`  ${name.padEnd(34)} ${median(xs).toFixed(1).padStart(8)}   ${(median(xs) / base).toFixed(2)}x node -e 0`);
}

const input = Buffer.from(Array.from({ length: lines }, (_, i) => `line ${i}`).join('\n') + '\n');
const throughput = (cmd, a) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, a, { env, input, stdio: ['pipe', 'ignore', 'ignore'], timeout: 300_000 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}`);
  return lines / s;
};
for (const qos of ['0', '1']) {
  const la = ['-p', String(port), '-t', 't/lines', '-l', '-q', qos];
  const ourRate = throughput(process.execPath, [join(root, 'packages/cli/dist/bundle/mosquitto_pub.cjs'), ...la]);
  const debRate = throughput(DEB_PUB, la);
  console.log(`-l QoS ${qos}, ${lines} lines: skeeter ${Math.round(ourRate)} lines/s, Debian ${Math.round(debRate)} lines/s (${(ourRate / debRate).toFixed(2)}x)`);
}

broker.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
