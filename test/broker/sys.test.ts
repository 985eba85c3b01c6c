import assert from 'node:assert/strict';
import { runScenarios, m, type Scenario } from './harness.js';
import type { RawClient } from '../helpers/raw-client.js';

/** Reads PUBLISH packets for `ms` and returns topic -> last payload. */
async function collect(c: RawClient, ms: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const end = Date.now() + ms;
  for (;;) {
    const left = end - Date.now();
    if (left <= 0) return out;
    const p = await c.next(left).catch(() => null);
    if (!p) return out;
    if ((p[0]! & 0xf0) !== 0x30) continue;
    let i = 1;
    while (p[i]! & 0x80) i++;
    i++;
    const tlen = p.readUInt16BE(i);
    const topic = p.subarray(i + 2, i + 2 + tlen).toString();
    out.set(topic, p.subarray(i + 2 + tlen).toString());
  }
}

const EXPECTED = [
  '$SYS/broker/version',
  '$SYS/broker/uptime',
  '$SYS/broker/clients/total',
  '$SYS/broker/clients/maximum',
  '$SYS/broker/clients/connected',
  '$SYS/broker/clients/active',
  '$SYS/broker/clients/disconnected',
  '$SYS/broker/clients/inactive',
  '$SYS/broker/clients/expired',
  '$SYS/broker/messages/stored',
  '$SYS/broker/store/messages/count',
  '$SYS/broker/store/messages/bytes',
  '$SYS/broker/subscriptions/count',
  '$SYS/broker/retained messages/count',
  '$SYS/broker/messages/received',
  '$SYS/broker/messages/sent',
  '$SYS/broker/publish/messages/received',
  '$SYS/broker/publish/messages/sent',
  '$SYS/broker/publish/messages/dropped',
  '$SYS/broker/bytes/received',
  '$SYS/broker/bytes/sent',
  '$SYS/broker/publish/bytes/received',
  '$SYS/broker/publish/bytes/sent',
];
const LOADS = ['messages/received', 'messages/sent', 'publish/dropped', 'publish/received', 'publish/sent', 'bytes/received', 'bytes/sent', 'sockets', 'connections'];
for (const l of LOADS) for (const w of ['1min', '5min', '15min']) EXPECTED.push(`$SYS/broker/load/${l}/${w}`);

const scenarios: Scenario[] = [
  {
    name: '$SYS: every topic of the reference is published, retained, with Mosquitto\'s value formats',
    versions: [4],
    config: ['sys_interval 1'],
    async run(ctx, v) {
      const c = await ctx.connected(v, { clientId: 'sys-all' });
      c.send(m.subscribe(v, 1, [['$SYS/#', 0]]));
      await ctx.expect(c, m.suback(v, 1, [0]));
      const seen = await collect(c, 2500);
      for (const t of EXPECTED) assert.ok(seen.has(t), `missing ${t}`);
      assert.match(seen.get('$SYS/broker/uptime')!, /^\d+ seconds$/);
      assert.match(seen.get('$SYS/broker/load/connections/1min')!, /^\d+\.\d\d$/);
      assert.match(seen.get('$SYS/broker/version')!, /^mosquitto version 2\.0\.\d+/);
      assert.ok(Number(seen.get('$SYS/broker/clients/connected')) >= 1);
    },
  },
  {
    name: '$SYS: clients/connected follows connections at the next update',
    versions: [4],
    config: ['sys_interval 1'],
    async run(ctx, v) {
      const watcher = await ctx.connected(v, { clientId: 'sys-w' });
      watcher.send(m.subscribe(v, 1, [['$SYS/broker/clients/connected', 0]]));
      await ctx.expect(watcher, m.suback(v, 1, [0]));
      const first = await collect(watcher, 300);
      const before = Number(first.get('$SYS/broker/clients/connected'));
      const extra = await ctx.connected(v, { clientId: 'sys-x' });
      const later = await collect(watcher, 2500);
      assert.equal(Number(later.get('$SYS/broker/clients/connected')), before + 1);
      extra.close();
    },
  },
  {
    name: 'log_dest topic: log lines are published under $SYS/broker/log/<level>',
    versions: [4],
    config: ['log_dest topic', 'log_type all'],
    async run(ctx, v) {
      const watcher = await ctx.connected(v, { clientId: 'log-w' });
      // The subscribe log line itself may arrive before the SUBACK (it does on Mosquitto too).
      watcher.send(m.subscribe(v, 1, [['$SYS/broker/log/#', 0]]));
      await new Promise((r) => setTimeout(r, 200));
      await ctx.connected(v, { clientId: 'log-newcomer' });
      const seen = await collect(watcher, 1000);
      const line = seen.get('$SYS/broker/log/N');
      assert.ok(line, `no notice line in ${[...seen.keys()].join(', ')}`);
      assert.match(line, /^\d+: New client connected from 127\.0\.0\.1:\d+ as log-newcomer \(p2, c1, k60\)\.$/);
    },
  },
];

runScenarios('broker $SYS', scenarios);
