/**
 * More acl_file cases against Debian's 2.0.11: `$SYS` delivery, use_username_as_clientid with
 * `%c`, an empty user name, and wills (checked against write access when they fire).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { m, runScenarios, type Scenario } from '../broker/harness.js';
import { hasDebianMosquitto, startBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';

const dir = mkdtempSync(join(tmpdir(), 'skeeter-auth-acl2-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const aclPath = join(dir, 'acl');
writeFileSync(
  aclPath,
  ['topic read $SYS/broker/version', 'topic readwrite anon/#', 'user u1', 'topic readwrite mine/u1', 'pattern readwrite id/%c', ''].join('\n'),
);
const config = [`acl_file ${aclPath}`, 'allow_anonymous true'];
const byUsername = [`acl_file ${aclPath}`, 'allow_anonymous true', 'use_username_as_clientid true'];
const ALL: m.Version[] = [3, 4, 5];

/** The topic of a PUBLISH packet (fixed header of 2 bytes: short packets only). */
const topicOf = (p: Buffer | null): string => (p === null ? 'CLOSED' : p.subarray(4, 4 + p.readUInt16BE(2)).toString());

const scenarios: Scenario[] = [
  {
    name: '$SYS messages are delivered only where an entry starting with $SYS allows reading',
    versions: ALL,
    config,
    async run(ctx, v) {
      const a = await ctx.connected(v);
      a.send(m.subscribe(v, 1, [['$SYS/broker/version', 0], ['$SYS/broker/uptime', 0]]));
      await ctx.expect(a, m.suback(v, 1, [0, 0]));
      // The retained version string arrives; the uptime (not readable) never does.
      const p = await a.next();
      assert.equal(topicOf(p), '$SYS/broker/version');
      a.send(m.publish(v, 'anon/marker', 'm'));
      a.send(m.subscribe(v, 2, [['anon/#', 0]]));
      await ctx.expect(a, m.suback(v, 2, [0]));
      a.send(m.publish(v, 'anon/marker', 'after'));
      await ctx.expect(a, m.publish(v, 'anon/marker', 'after'));
    },
  },
  {
    name: 'use_username_as_clientid: %c is the user name',
    versions: ALL,
    config: byUsername,
    async run(ctx, v) {
      const a = await ctx.connected(v, { clientId: `given-${v}`, username: 'u1', password: 'x' });
      a.send(m.subscribe(v, 1, [['#', 0]]));
      await ctx.expect(a, m.suback(v, 1, [0]));
      a.send(m.publish(v, `id/given-${v}`, 'by the id it sent'));
      a.send(m.publish(v, 'id/u1', 'by its user name'));
      await ctx.expect(a, m.publish(v, 'id/u1', 'by its user name'));
    },
  },
  {
    name: 'an empty user name counts as none: the anonymous block applies',
    versions: [4, 5],
    config,
    async run(ctx, v) {
      const a = await ctx.connected(v, { clientId: `empty-${v}`, username: '' });
      a.send(m.subscribe(v, 1, [['#', 0]]));
      await ctx.expect(a, m.suback(v, 1, [0]));
      a.send(m.publish(v, 'mine/u1', 'not anonymous'));
      a.send(m.publish(v, 'anon/x', 'anonymous block'));
      await ctx.expect(a, m.publish(v, 'anon/x', 'anonymous block'));
    },
  },
  {
    name: 'v5 PUBACK when the only subscriber may not read the topic',
    versions: [5],
    config,
    async run(ctx, v) {
      const reader = await ctx.connected(v, { clientId: 'u1', username: 'u1', password: 'x' });
      reader.send(m.subscribe(v, 1, [['anon/#', 0]]));
      await ctx.expect(reader, m.suback(v, 1, [0]));
      const a = await ctx.connected(v);
      a.send(m.publish(v, 'anon/q1', 'x', { qos: 1, mid: 9 }));
      // The subscription matched, so this is not "no matching subscribers" (0x10).
      await ctx.expect(a, m.puback(v, 9, 0));
    },
  },
];

runScenarios('acl_file, more cases', scenarios);

// Mosquitto checks a will against the client's write access when it is published; our broker
// publishes wills without asking the security hooks (broker.ts publishWill is not ours).
const targets = [{ name: 'skeeter', oracle: false }];
if (hasDebianMosquitto()) targets.push({ name: 'debian mosquitto 2.0.11 (oracle)', oracle: true });
for (const target of targets) {
  describe(`wills and acl_file [${target.name}]`, () => {
    test(
      'a will to a topic its client may not write is not published',
      { timeout: 30_000 },
      async () => {
        const acl = join(dir, `will-${target.oracle ? 'o' : 's'}`);
        writeFileSync(acl, 'topic read will/#\ntopic readwrite marker\n');
        const broker = await startBroker({ config: [`acl_file ${acl}`, 'allow_anonymous true'], oracle: target.oracle });
        const clients: RawClient[] = [];
        try {
          const obs = await RawClient.open(broker.port);
          clients.push(obs);
          obs.send(m.connect(4, { clientId: 'obs' }));
          assert.equal((await obs.next())?.[3], 0);
          obs.send(m.subscribe(4, 1, [['#', 0]]));
          assert.equal((await obs.next())?.toString('hex'), m.suback(4, 1, [0]).toString('hex'));
          const w = await RawClient.open(broker.port);
          clients.push(w);
          w.send(m.connect(4, { clientId: 'w', will: { topic: 'will/w', payload: 'bye' } }));
          assert.equal((await w.next())?.[3], 0);
          w.close();
          // The will (if any) is published when the broker sees the socket close; then the marker.
          await new Promise((r) => setTimeout(r, 300));
          obs.send(m.publish(4, 'marker', 'm'));
          assert.equal(topicOf(await obs.next()), 'marker');
        } finally {
          for (const c of clients) c.close();
          await broker.stop();
        }
      },
    );
  });
}
