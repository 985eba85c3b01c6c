#!/usr/bin/env node
// Where an idle connection's memory goes in skeeter's broker: starts the broker (as the launcher
// would, plus --heapsnapshot-signal), takes a V8 heap snapshot before and after N idle clients
// have connected, and prints the heap growth per connection by object kind, next to the RSS
// growth. Not part of the benchmark run; a tool for the idle-connections row.
// Usage: node scripts/bench/broker/idle-heap.mjs [N=5000]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectMany, MqttSocket } from './client.mjs';
import { rssBytes, SKEETER_ENTRY } from './brokers.mjs';

const N = Number(process.argv[2] ?? 5000);
const SIGNAL = 'SIGXCPU';

/** Self size and count per "type:name" of a .heapsnapshot file. */
function heapByKind(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const stride = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out = new Map();
  let total = 0;
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += stride) {
    const type = types[nodes[i + iType]];
    let name = snap.strings[nodes[i + iName]];
    // Strings and numbers are keyed by type only (their names are their contents).
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number') name = '';
    const key = `${type}:${name.slice(0, 60)}`;
    const size = nodes[i + iSize];
    const e = out.get(key) ?? { size: 0, count: 0 };
    e.size += size;
    e.count++;
    out.set(key, e);
    total += size;
  }
  return { kinds: out, total };
}

const dir = mkdtempSync(join(tmpdir(), 'idle-heap-'));
const probe = createServer();
await new Promise((r) => probe.listen(0, '127.0.0.1', r));
const port = probe.address().port;
await new Promise((r) => probe.close(r));
writeFileSync(join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\nlog_dest none\n`);
const child = spawn(process.execPath, [`--heapsnapshot-signal=${SIGNAL}`, SKEETER_ENTRY, '-c', join(dir, 'mosquitto.conf')], {
  cwd: dir,
  stdio: 'inherit',
});
const clients = [];
try {
  for (let i = 0; ; i++) {
    const c = new MqttSocket(port, 'probe');
    try {
      await c.connect(1000);
      c.close();
      break;
    } catch {
      c.close();
      if (i > 100) throw new Error('broker did not start');
      await sleep(100);
    }
  }
  const snapshot = async () => {
    const before = readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')).length;
    process.kill(child.pid, SIGNAL);
    for (let i = 0; i < 600; i++) {
      await sleep(100);
      const files = readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')).sort();
      // Written once the next file appears, its size stops changing and it ends the JSON.
      if (files.length > before) {
        const file = join(dir, files[files.length - 1]);
        let size = -1;
        for (let j = 0; j < 600; j++) {
          await sleep(500);
          const now = statSync(file).size;
          if (now === size && now > 0 && readFileSync(file, 'utf8').trimEnd().endsWith('}')) return file;
          size = now;
        }
        throw new Error('heap snapshot not finished');
      }
    }
    throw new Error('no heap snapshot written');
  };
  await sleep(500);
  const a = await snapshot();
  const rssA = rssBytes(child.pid);
  clients.push(...(await connectMany(port, 'idle-', N, 100)));
  await sleep(1500);
  const rssB = rssBytes(child.pid);
  const b = await snapshot();
  const rssC = rssBytes(child.pid);
  const ha = heapByKind(a);
  const hb = heapByKind(b);
  console.log(`${N} idle connections: RSS +${((rssB - rssA) / N / 1024).toFixed(2)} kB/conn (after the snapshot's GC: +${((rssC - rssA) / N / 1024).toFixed(2)})`);
  console.log(`live V8 heap: +${((hb.total - ha.total) / N).toFixed(0)} B/conn; by kind (bytes and objects per connection):`);
  const rows = [];
  for (const [k, e] of hb.kinds) {
    const before = ha.kinds.get(k) ?? { size: 0, count: 0 };
    rows.push({ k, size: (e.size - before.size) / N, count: (e.count - before.count) / N });
  }
  rows.sort((x, y) => y.size - x.size);
  for (const r of rows.slice(0, 30)) console.log(`  ${r.size.toFixed(0).padStart(6)} B  ${r.count.toFixed(2).padStart(6)}  ${r.k}`);
} finally {
  for (const c of clients) c.close();
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid, 'SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}
