/**
 * acl_file rules (reference 7.3), each scenario run on our broker and on Debian's 2.0.11 with
 * the same ACL and password files, in MQTT 3.1, 3.1.1 and 5. "Not delivered" is asserted
 * without waiting: a denied message is followed by an allowed marker, and the next packet the
 * receiver gets must be the marker.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { m, runScenarios, type Scenario } from '../broker/harness.js';
import { passwordLine, waitForText } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'skeeter-auth-acl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const passwords = join(dir, 'passwd');
writeFileSync(passwords, ['alice:alice-pw', 'bob:bob-pw', 'carol:carol-pw'].map((l) => passwordLine(...(l.split(':') as [string, string]))).join('\n') + '\n');

const aclPath = join(dir, 'acl');
writeFileSync(
  aclPath,
  [
    '# anonymous clients: the lines before any user line',
    'topic read anon/read',
    'topic write anon/write',
    'topic anon/rw',
    'topic deny anon/rw/secret',
    'topic readwrite anon/deny/#',
    'topic deny anon/deny/#',
    'topic read alice/shared/#',
    '',
    'user alice',
    'topic readwrite alice/#',
    'topic deny alice/private',
    'topic read anon/#',
    'topic write users/+/inbox',
    'topic read users/#',
    '',
    'user bob',
    'topic readwrite #',
    'topic readwrite $other/#',
    '',
    '# patterns apply to every client, wherever they are in the file',
    'pattern readwrite clients/%c/#',
    'pattern read users/%u/inbox',
    'pattern write users/%u/outbox',
    '',
  ].join('\n'),
);

const config = [`password_file ${passwords}`, `acl_file ${aclPath}`, 'allow_anonymous true'];
const ALL: m.Version[] = [3, 4, 5];
const alice = { username: 'alice', password: 'alice-pw' };
const bob = { username: 'bob', password: 'bob-pw' };
const carol = { username: 'carol', password: 'carol-pw' };

const scenarios: Scenario[] = [
  {
    name: 'anonymous block: read, write, readwrite, deny; SUBSCRIBE is never restricted',
    versions: ALL,
    config,
    async run(ctx, v) {
      const a = await ctx.connected(v);
      a.send(m.subscribe(v, 1, [['#', 2]]));
      await ctx.expect(a, m.suback(v, 1, [2]), 'a SUBSCRIBE to # is granted whatever the ACL says');
      a.send(m.publish(v, 'anon/write', 'w')); // may write, may not read
      a.send(m.publish(v, 'anon/read', 'r')); // may read, may not write
      a.send(m.publish(v, 'anon/rw/secret', 's')); // deny
      a.send(m.publish(v, 'anon/deny/x', 'd')); // deny wins over an earlier readwrite
      a.send(m.publish(v, 'anon/rw', 'ok'));
      await ctx.expect(a, m.publish(v, 'anon/rw', 'ok'));
    },
  },
  {
    name: "a user's block: writes of others reach it by its read entries; deny entries come first",
    versions: ALL,
    config,
    async run(ctx, v) {
      const al = await ctx.connected(v, alice);
      al.send(m.subscribe(v, 1, [['#', 0]]));
      await ctx.expect(al, m.suback(v, 1, [0]));
      const a = await ctx.connected(v);
      a.send(m.publish(v, 'anon/read', 'r')); // anonymous may not write it
      a.send(m.publish(v, 'anon/write', 'w'));
      await ctx.expect(al, m.publish(v, 'anon/write', 'w'), 'alice reads anon/# what anonymous clients wrote');
      al.send(m.publish(v, 'alice/private', 'p'));
      al.send(m.publish(v, 'alice/x', 'a'));
      await ctx.expect(al, m.publish(v, 'alice/x', 'a'), 'deny alice/private beats readwrite alice/#');
    },
  },
  {
    name: 'pattern %c: a client may use its own branch only',
    versions: ALL,
    config,
    async run(ctx, v) {
      const id = `dev-${v}`;
      const d = await ctx.connected(v, { clientId: id });
      d.send(m.subscribe(v, 1, [['clients/#', 0]]));
      await ctx.expect(d, m.suback(v, 1, [0]));
      d.send(m.publish(v, `clients/other-${v}/t`, 'theirs'));
      d.send(m.publish(v, `clients/${id}/t`, 'mine'));
      await ctx.expect(d, m.publish(v, `clients/${id}/t`, 'mine'));
    },
  },
  {
    name: 'pattern %u: a user without a block gets the patterns only; %u patterns skip anonymous clients',
    versions: ALL,
    config,
    async run(ctx, v) {
      const c = await ctx.connected(v, carol);
      c.send(m.subscribe(v, 1, [['users/#', 0]]));
      await ctx.expect(c, m.suback(v, 1, [0]));
      const al = await ctx.connected(v, alice);
      al.send(m.subscribe(v, 1, [['users/#', 0]]));
      await ctx.expect(al, m.suback(v, 1, [0]));
      al.send(m.publish(v, 'users/bob/inbox', 'not for carol'));
      al.send(m.publish(v, 'users/carol/inbox', 'for carol'));
      await ctx.expect(c, m.publish(v, 'users/carol/inbox', 'for carol'), 'read users/%u/inbox');
      await ctx.expect(al, m.publish(v, 'users/bob/inbox', 'not for carol'));
      await ctx.expect(al, m.publish(v, 'users/carol/inbox', 'for carol'));
      c.send(m.publish(v, 'users/carol/inbox', 'read only'));
      c.send(m.publish(v, 'users/carol/outbox', 'written'));
      await ctx.expect(al, m.publish(v, 'users/carol/outbox', 'written'), 'write users/%u/outbox, not the inbox');
      // An anonymous client: the %u patterns do not apply, so it can reach neither box.
      const a = await ctx.connected(v);
      a.send(m.publish(v, 'users//outbox', 'anon'));
      a.send(m.publish(v, 'users/carol/outbox', 'anon'));
      al.send(m.publish(v, 'users/carol/inbox', 'marker'));
      await ctx.expect(al, m.publish(v, 'users/carol/inbox', 'marker'));
    },
  },
  {
    name: '$ topics only match entries that start with $',
    versions: ALL,
    config,
    async run(ctx, v) {
      const b = await ctx.connected(v, bob);
      b.send(m.subscribe(v, 1, [['$weird/#', 0], ['$other/#', 0], ['#', 0]]));
      await ctx.expect(b, m.suback(v, 1, [0, 0, 0]));
      b.send(m.publish(v, '$weird/a', 'not by #'));
      b.send(m.publish(v, '$other/a', 'explicit'));
      await ctx.expect(b, m.publish(v, '$other/a', 'explicit'));
    },
  },
  {
    name: 'retained messages on SUBSCRIBE follow read access',
    versions: ALL,
    config,
    async run(ctx, v) {
      const al = await ctx.connected(v, alice);
      al.send(m.publish(v, `alice/hidden/${v}`, 'no', { retain: true }));
      al.send(m.publish(v, `alice/shared/${v}`, 'yes', { retain: true }));
      // A round trip so both are stored before the subscription.
      al.send(m.subscribe(v, 1, [[`alice/shared/${v}`, 0]]));
      await ctx.expect(al, m.suback(v, 1, [0]));
      await ctx.expect(al, m.publish(v, `alice/shared/${v}`, 'yes', { retain: true }));
      const a = await ctx.connected(v);
      a.send(m.subscribe(v, 1, [[`alice/hidden/${v}`, 0], [`alice/shared/${v}`, 0]]));
      await ctx.expect(a, m.suback(v, 1, [0, 0]));
      await ctx.expect(a, m.publish(v, `alice/shared/${v}`, 'yes', { retain: true }), 'only the readable retained message');
      al.send(m.publish(v, `alice/hidden/${v}`, '', { retain: true }));
      al.send(m.publish(v, `alice/shared/${v}`, '', { retain: true }));
    },
  },
  {
    name: 'a denied QoS 1 and QoS 2 PUBLISH is acknowledged (0x87 on v5) and dropped',
    versions: ALL,
    config,
    async run(ctx, v) {
      const a = await ctx.connected(v);
      a.send(m.subscribe(v, 1, [['anon/#', 0]]));
      await ctx.expect(a, m.suback(v, 1, [0]));
      a.send(m.publish(v, 'anon/read', 'q1', { qos: 1, mid: 5 }));
      await ctx.expect(a, m.puback(v, 5, v === 5 ? 0x87 : 0));
      a.send(m.publish(v, 'anon/read', 'q2', { qos: 2, mid: 6 }));
      await ctx.expect(a, m.pubrec(v, 6, v === 5 ? 0x87 : 0));
      a.send(m.publish(v, 'anon/rw', 'marker'));
      await ctx.expect(a, m.publish(v, 'anon/rw', 'marker'));
    },
  },
  {
    name: 'UNSUBSCRIBE is never restricted',
    versions: ALL,
    config,
    async run(ctx, v) {
      const a = await ctx.connected(v);
      a.send(m.subscribe(v, 1, [['alice/private', 1]]));
      await ctx.expect(a, m.suback(v, 1, [1]));
      a.send(m.unsubscribe(v, 2, ['alice/private']));
      await ctx.expect(a, m.unsuback(v, 2, [0]));
    },
  },
  {
    name: 'a client id with + or # is denied by the patterns (its block still applies), with a notice',
    versions: ALL,
    config,
    async run(ctx, v) {
      const id = `bad+id-${v}`;
      const a = await ctx.connected(v, { clientId: id });
      a.send(m.subscribe(v, 1, [['#', 0]]));
      await ctx.expect(a, m.suback(v, 1, [0]));
      a.send(m.publish(v, 'nowhere', 'x'));
      a.send(m.publish(v, 'anon/rw', 'by the block'));
      await ctx.expect(a, m.publish(v, 'anon/rw', 'by the block'));
      assert.ok(
        await waitForText(ctx.broker.stderr, `ACL denying access to client with dangerous client id "${id}"`),
        ctx.broker.stderr(),
      );
    },
  },
];

runScenarios('acl_file', scenarios);
