/**
 * What the built-in Dynamic Security plugin decides for clients, with real MQTT clients on a
 * broker process: logins against its clients (salted PBKDF2-SHA512, client id binding,
 * disabled clients), ACL checks (own roles, then groups, by priority; default access; the
 * anonymous group) and the clients it kicks when their rights change, as Mosquitto 2.0.20.
 */
import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { Admin, connectClient, parsePublish, startDynsec, type DynsecBroker } from './helpers.js';

const hex = (b: Buffer | null | undefined): string => (b ? b.toString('hex') : String(b));

async function withAdmin(fn: (b: DynsecBroker, admin: Admin, track: (c: RawClient) => RawClient) => Promise<void>, extra: string[] = []): Promise<void> {
  const b = await startDynsec({ fixture: 'admin-only.json', extra });
  const admin = await Admin.open(b.port);
  const clients: RawClient[] = [];
  try {
    await fn(b, admin, (c) => (clients.push(c), c));
  } finally {
    for (const c of clients) c.close();
    admin.close();
    await b.stop();
  }
}

/** Runs commands and checks that none failed. */
async function ok(admin: Admin, commands: unknown[]): Promise<void> {
  const r = await admin.json(commands);
  assert.deepEqual(
    r.responses.filter((x) => x['error'] !== undefined),
    [],
    JSON.stringify(commands),
  );
}

test('logins: right password, bound client id, disabled clients, clients without a password, unknown users', { timeout: 60_000 }, async () => {
  await withAdmin(async (b, admin, track) => {
    await ok(admin, [
      { command: 'createClient', username: 'alice', password: 'alice-pw' },
      { command: 'createClient', username: 'bound', password: 'bound-pw', clientid: 'bound-device' },
      { command: 'createClient', username: 'nopw' },
      { command: 'createClient', username: 'off', password: 'off-pw' },
      { command: 'disableClient', username: 'off' },
    ]);
    const login = async (v: m.Version, o: m.ConnectOptions): Promise<string> => {
      const r = await connectClient(b.port, v, o);
      track(r.c);
      return hex(r.connack);
    };
    const refused4 = hex(m.connack(4, 5));
    const refused5 = hex(m.connack(5, 0x87));
    const accepted4 = hex(m.connack(4, 0));
    assert.equal(await login(4, { clientId: 'a1', username: 'alice', password: 'alice-pw' }), accepted4);
    assert.equal(await login(4, { clientId: 'a2', username: 'alice', password: 'wrong' }), refused4);
    assert.equal(await login(5, { clientId: 'a3', username: 'alice', password: 'wrong' }), refused5);
    assert.equal(await login(4, { clientId: 'a4', username: 'alice' }), refused4, 'no password: dynsec defers, and a user name is then refused');
    assert.equal(await login(4, { clientId: 'a5', username: 'alice', password: '' }), refused4, 'an empty password is no password');
    assert.equal(await login(4, { clientId: 'bound-device', username: 'bound', password: 'bound-pw' }), accepted4);
    assert.equal(await login(4, { clientId: 'elsewhere', username: 'bound', password: 'bound-pw' }), refused4, 'another client id');
    assert.equal(await login(4, { clientId: 'n1', username: 'nopw', password: 'anything' }), refused4, 'a client without a password can never log in');
    assert.equal(await login(4, { clientId: 'o1', username: 'off', password: 'off-pw' }), refused4, 'disabled');
    assert.equal(await login(4, { clientId: 's1', username: 'stranger', password: 'x' }), refused4, 'unknown users are refused even with allow_anonymous true');
    assert.equal(await login(4, { clientId: 'anon' }), accepted4, 'no user name: allow_anonymous decides');
    await ok(admin, [{ command: 'enableClient', username: 'off' }, { command: 'setClientPassword', username: 'alice', password: 'new-pw' }]);
    assert.equal(await login(4, { clientId: 'o2', username: 'off', password: 'off-pw' }), accepted4, 'enabled again');
    assert.equal(await login(4, { clientId: 'a6', username: 'alice', password: 'alice-pw' }), refused4, 'the old password is gone');
    assert.equal(await login(4, { clientId: 'a7', username: 'alice', password: 'new-pw' }), accepted4);
  });
});

test('logins without a user name are refused when allow_anonymous is false', { timeout: 60_000 }, async () => {
  const b = await startDynsec({ fixture: 'admin-only.json', extra: ['allow_anonymous false'] });
  try {
    const { c, connack } = await connectClient(b.port, 5, { clientId: 'anon' });
    c.close();
    assert.equal(hex(connack), hex(m.connack(5, 0x87)));
  } finally {
    await b.stop();
  }
});

test('ACLs: own roles first, then groups, each by priority; the first match decides, then the default access', { timeout: 60_000 }, async () => {
  await withAdmin(async (b, admin, track) => {
    await ok(admin, [
      {
        command: 'createRole',
        rolename: 'low',
        acls: [
          { acltype: 'publishClientSend', topic: 'x/#', allow: true },
          { acltype: 'subscribePattern', topic: 'x/#', allow: true },
          { acltype: 'publishClientReceive', topic: 'x/hidden', allow: false },
        ],
      },
      {
        command: 'createRole',
        rolename: 'high',
        acls: [
          { acltype: 'publishClientSend', topic: 'x/closed', priority: 1, allow: false },
          { acltype: 'subscribeLiteral', topic: 'x/secret', allow: false },
          { acltype: 'subscribePattern', topic: 'x/+/deep', priority: 2, allow: false },
          { acltype: 'unsubscribeLiteral', topic: 'x/sticky', allow: false },
        ],
      },
      { command: 'createRole', rolename: 'group-role', acls: [{ acltype: 'subscribePattern', topic: 'g/#', allow: true }, { acltype: 'subscribeLiteral', topic: 'x/secret', allow: true }] },
      { command: 'createGroup', groupname: 'G', roles: [{ rolename: 'group-role' }] },
      { command: 'createClient', username: 'u', password: 'pw', roles: [{ rolename: 'low', priority: 1 }, { rolename: 'high', priority: 5 }], groups: [{ groupname: 'G' }] },
    ]);
    const u = track((await connectClient(b.port, 5, { clientId: 'u', username: 'u', password: 'pw' })).c);
    u.send(m.subscribe(5, 1, [['x/#', 0], ['x/secret', 0], ['x/a/deep', 0], ['g/1', 0], ['other', 0], ['x/sticky', 0]]));
    // x/secret: the own role "high" denies it before the group's role would allow it;
    // other: no ACL, and the default subscribe access is false.
    assert.equal(hex(await u.next()), hex(m.suback(5, 1, [0, 0x87, 0x87, 0, 0x87, 0])));
    // (The copy for the sender's own subscription goes out before the PUBACK, as in Mosquitto.)
    u.send(m.publish(5, 'x/open', 'a', { qos: 1, mid: 2 }));
    assert.equal(hex(await u.next()), hex(m.publish(5, 'x/open', 'a')), 'delivered back: publishClientReceive defaults to true');
    assert.equal(hex(await u.next()), hex(m.puback(5, 2)));
    u.send(m.publish(5, 'x/closed', 'b', { qos: 1, mid: 3 }));
    assert.equal(hex(await u.next()), hex(m.puback(5, 3, 0x87)), 'the higher priority deny wins over x/#');
    u.send(m.publish(5, 'x/hidden', 'c', { qos: 1, mid: 4 }));
    assert.equal(hex(await u.next()), hex(m.puback(5, 4)), 'accepted, but not delivered: publishClientReceive x/hidden is denied');
    u.send(m.publish(5, 'elsewhere', 'd', { qos: 1, mid: 5 }));
    assert.equal(hex(await u.next()), hex(m.puback(5, 5, 0x87)), 'default publishClientSend is false');
    u.send(m.unsubscribe(5, 6, ['x/sticky', 'x/#']));
    assert.equal(hex(await u.next()), hex(m.unsuback(5, 6, [0x87, 0])), 'x/sticky may not be unsubscribed');
    await ok(admin, [{ command: 'setDefaultACLAccess', acls: [{ acltype: 'publishClientSend', allow: true }] }]);
    u.send(m.publish(5, 'x/sticky', 'e', { qos: 1, mid: 7 }));
    assert.equal(hex(await u.next()), hex(m.publish(5, 'x/sticky', 'e')));
    assert.equal(hex(await u.next()), hex(m.puback(5, 7)));
  });
});

test('the anonymous group gives clients without a user name its roles; setting it kicks them', { timeout: 60_000 }, async () => {
  await withAdmin(async (b, admin, track) => {
    await ok(admin, [
      { command: 'createRole', rolename: 'guest', acls: [{ acltype: 'subscribePattern', topic: 'public/#', allow: true }, { acltype: 'publishClientSend', topic: 'public/#', allow: true }] },
      { command: 'createGroup', groupname: 'guests', roles: [{ rolename: 'guest' }] },
    ]);
    const before = track((await connectClient(b.port, 5, { clientId: 'before' })).c);
    before.send(m.subscribe(5, 1, [['public/#', 0]]));
    assert.equal(hex(await before.next()), hex(m.suback(5, 1, [0x87])), 'no anonymous group yet: default subscribe access (false)');
    await ok(admin, [{ command: 'setAnonymousGroup', groupname: 'guests' }]);
    assert.equal(hex(await before.next()), hex(m.disconnect(5, 0x98)), 'anonymous clients are kicked (administrative action)');
    const anon = track((await connectClient(b.port, 5, { clientId: 'anon' })).c);
    anon.send(m.subscribe(5, 2, [['public/#', 0], ['private', 0]]));
    assert.equal(hex(await anon.next()), hex(m.suback(5, 2, [0, 0x87])));
    anon.send(m.publish(5, 'public/news', 'hi', { qos: 1, mid: 3 }));
    assert.equal(hex(await anon.next()), hex(m.publish(5, 'public/news', 'hi')));
    assert.equal(hex(await anon.next()), hex(m.puback(5, 3)));
    assert.deepEqual(await admin.json([{ command: 'getAnonymousGroup' }]), { responses: [{ command: 'getAnonymousGroup', data: { group: { groupname: 'guests' } } }] });
  });
});

test('disableClient kicks the client at once (DISCONNECT 0x98 on MQTT 5, no will) and refuses it until enableClient', { timeout: 60_000 }, async () => {
  await withAdmin(async (b, admin, track) => {
    await ok(admin, [
      { command: 'createRole', rolename: 'watch', acls: [{ acltype: 'subscribePattern', topic: 'will/#', allow: true }] },
      { command: 'createClient', username: 'watcher', password: 'w', roles: [{ rolename: 'watch' }] },
      { command: 'createClient', username: 'dev', password: 'd', clientid: 'dev-1' },
      { command: 'setDefaultACLAccess', acls: [{ acltype: 'publishClientSend', allow: true }] },
    ]);
    const watcher = track((await connectClient(b.port, 4, { clientId: 'watcher', username: 'watcher', password: 'w' })).c);
    watcher.send(m.subscribe(4, 1, [['will/#', 0]]));
    assert.equal(hex(await watcher.next()), hex(m.suback(4, 1, [0])));
    const dev5 = track((await connectClient(b.port, 5, { clientId: 'dev-1', username: 'dev', password: 'd', will: { topic: 'will/dev', payload: 'gone' } })).c);
    await ok(admin, [{ command: 'disableClient', username: 'dev' }]);
    assert.equal(hex(await dev5.next()), hex(m.disconnect(5, 0x98)));
    assert.equal(await dev5.next(), null);
    const again = await connectClient(b.port, 5, { clientId: 'dev-1', username: 'dev', password: 'd' });
    track(again.c);
    assert.equal(hex(again.connack), hex(m.connack(5, 0x87)));
    await ok(admin, [{ command: 'enableClient', username: 'dev' }]);
    const back = await connectClient(b.port, 4, { clientId: 'dev-1', username: 'dev', password: 'd' });
    track(back.c);
    assert.equal(hex(back.connack), hex(m.connack(4, 0)));
    // The kicked client's will was not published.
    watcher.send(m.pingreq());
    assert.equal(hex(await watcher.next()), hex(m.pingresp()));
    assert.match(b.stderr(), /Client dev-1 been disconnected by administrative action\./);
  });
});

test('changing a client, its groups or its roles kicks it; a kicked persistent session loses the subscriptions it may no longer make', { timeout: 60_000 }, async () => {
  await withAdmin(async (b, admin, track) => {
    await ok(admin, [
      { command: 'createRole', rolename: 'r', acls: [{ acltype: 'subscribePattern', topic: 'a/#', allow: true }, { acltype: 'subscribePattern', topic: 'b/#', allow: true }] },
      { command: 'createClient', username: 'p', password: 'p' },
      { command: 'addClientRole', username: 'p', rolename: 'r' },
      { command: 'createClient', username: 'pub', password: 'pub' },
      { command: 'setDefaultACLAccess', acls: [{ acltype: 'publishClientSend', allow: true }] },
    ]);
    const session = { clientId: 'persistent', username: 'p', password: 'p', clean: false };
    const p1 = track((await connectClient(b.port, 4, session)).c);
    p1.send(m.subscribe(4, 1, [['a/#', 1], ['b/#', 1]]));
    assert.equal(hex(await p1.next()), hex(m.suback(4, 1, [1, 1])));
    // removeRoleACL: the role lists p (addClientRole), so p is kicked (no DISCONNECT before MQTT 5).
    await ok(admin, [{ command: 'removeRoleACL', rolename: 'r', acltype: 'subscribePattern', topic: 'b/#' }]);
    assert.equal(await p1.next(), null);
    const p2 = await connectClient(b.port, 4, session);
    track(p2.c);
    assert.equal(hex(p2.connack), hex(m.connack(4, 0, true)), 'the session is still there');
    const pub = track((await connectClient(b.port, 4, { clientId: 'pub', username: 'pub', password: 'pub' })).c);
    pub.send(m.publish(4, 'b/1', 'dropped'), m.publish(4, 'a/1', 'kept'));
    assert.equal(parsePublish((await p2.c.next())!).topic, 'a/1', 'b/# was removed from the session when it was kicked');
    for (const change of [
      { command: 'modifyClient', username: 'p', textname: 'P' },
      { command: 'setClientId', username: 'p', clientid: 'persistent' },
      { command: 'removeClientRole', username: 'p', rolename: 'r' },
    ]) {
      const c = track((await connectClient(b.port, 5, { clientId: 'persistent', username: 'p', password: 'p' })).c);
      await ok(admin, [change]);
      assert.equal(hex(await c.next()), hex(m.disconnect(5, 0x98)), change.command);
    }
  });
});

test('a role given by createClient does not list the client, as in 2.0.20: changing the role kicks nobody until a restart', { timeout: 60_000 }, async () => {
  await withAdmin(async (b, admin, track) => {
    await ok(admin, [
      { command: 'createRole', rolename: 'r' },
      { command: 'createClient', username: 'c', password: 'c', roles: [{ rolename: 'r' }] },
      { command: 'createClient', username: 'd', password: 'd' },
      { command: 'addClientRole', username: 'd', rolename: 'r' },
    ]);
    const c = track((await connectClient(b.port, 5, { clientId: 'c', username: 'c', password: 'c' })).c);
    const d = track((await connectClient(b.port, 5, { clientId: 'd', username: 'd', password: 'd' })).c);
    await ok(admin, [{ command: 'addRoleACL', rolename: 'r', acltype: 'subscribeLiteral', topic: 't', allow: true }]);
    assert.equal(hex(await d.next()), hex(m.disconnect(5, 0x98)), 'listed by addClientRole: kicked');
    c.send(m.pingreq());
    assert.equal(hex(await c.next()), hex(m.pingresp()), 'not listed: still connected');
    // Its ACLs still apply to it.
    c.send(m.subscribe(5, 1, [['t', 0]]));
    assert.equal(hex(await c.next()), hex(m.suback(5, 1, [0])));
  });
});

test('with a password_file and an acl_file too, dynsec answers first and the files decide what it defers, as in 2.0.20', { timeout: 60_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'skeeter-dynsec-files-'));
  const line = (user: string, pw: string): string => {
    const salt = randomBytes(12);
    return `${user}:$7$101$${salt.toString('base64')}$${pbkdf2Sync(pw, salt, 101, 64, 'sha512').toString('base64')}`;
  };
  // The files would refuse the administrator: it is in the password file with another password,
  // and the ACL file gives it nothing.
  writeFileSync(join(work, 'pw'), [line('boss', 'file-pw'), line('other', 'other-pw')].join('\n') + '\n');
  writeFileSync(join(work, 'acl'), 'user other\ntopic readwrite other/#\n');
  const b = await startDynsec({ work, fixture: 'admin-only.json', extra: [`password_file ${join(work, 'pw')}`, `acl_file ${join(work, 'acl')}`] });
  const clients: RawClient[] = [];
  try {
    const login = async (o: m.ConnectOptions): Promise<string> => {
      const r = await connectClient(b.port, 4, o);
      clients.push(r.c);
      return hex(r.connack);
    };
    assert.equal(await login({ clientId: 'b1', username: 'boss', password: 'file-pw' }), hex(m.connack(4, 5)), 'dynsec refuses first');
    assert.equal(await login({ clientId: 'o1', username: 'other', password: 'other-pw' }), hex(m.connack(4, 0)), 'unknown to dynsec: the file decides');
    const admin = await Admin.open(b.port);
    try {
      assert.match(await admin.send([{ command: 'listRoles' }]), /"totalCount":1/, 'dynsec allows the commands before the ACL file is asked');
    } finally {
      admin.close();
    }
    const other = clients[1]!;
    other.send(m.subscribe(4, 1, [['other/#', 0]]), m.publish(4, 'other/x', 'via the file'));
    assert.equal(hex(await other.next()), hex(m.suback(4, 1, [0])));
    assert.equal(hex(await other.next()), hex(m.publish(4, 'other/x', 'via the file')));
  } finally {
    for (const c of clients) c.close();
    await b.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
