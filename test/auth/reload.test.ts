/**
 * SIGHUP re-reads password_file and acl_file and re-checks connected clients (reference 5.3,
 * 7.3), and per_listener_settings gives each listener its own files. Every test runs on our
 * broker and on Debian's 2.0.11. What 2.0.11 does on reload, seen with the oracle: a client
 * that no longer passes is closed without a DISCONNECT packet (also on MQTT 5), the log says
 * `Client <id> disconnected.`, and its will is not published.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort, hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { passwordLine, waitForText } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'skeeter-auth-reload-'));
after(() => rmSync(work, { recursive: true, force: true }));

const targets = [{ name: 'skeeter', oracle: false }];
if (hasDebianMosquitto()) targets.push({ name: 'debian mosquitto 2.0.11 (oracle)', oracle: true });

const hex = (b: Buffer | null): string => (b === null ? 'CLOSED' : b.toString('hex'));

async function connected(port: number, v: m.Version, o: m.ConnectOptions): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.send(m.connect(v, o));
  const ack = await c.next();
  assert.ok(ack && ack[0] === 0x20 && ack[3] === 0, `CONNACK 0 expected for ${o.clientId}, got ${hex(ack)}`);
  return c;
}

async function connackCode(port: number, v: m.Version, o: m.ConnectOptions): Promise<number | null> {
  const c = await RawClient.open(port);
  try {
    c.send(m.connect(v, o));
    const ack = await c.next(10_000);
    return ack === null ? null : ack[3]!;
  } finally {
    c.close();
  }
}

/** Rewrites the broker's own config file (startBroker's test.conf) through `edit`. */
function editConfig(broker: RunningBroker, edit: (text: string) => string): void {
  const path = join(broker.dir, 'test.conf');
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
}

async function reload(broker: RunningBroker): Promise<void> {
  const before = broker.stderr().split('Reloading config.').length;
  process.kill(broker.pid, 'SIGHUP');
  for (let i = 0; i < 100 && broker.stderr().split('Reloading config.').length === before; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(broker.stderr().split('Reloading config.').length > before, 'the broker logged its reload');
}

for (const target of targets) {
  describe(`SIGHUP and per-listener security [${target.name}]`, () => {
    test('a reload disconnects clients whose password no longer passes, and anonymous ones when anonymous access is off', { timeout: 60_000 }, async () => {
      const pw = join(work, `${target.oracle ? 'o' : 's'}-pw`);
      writeFileSync(pw, [passwordLine('gone', 'gone-pw'), passwordLine('stays', 'stays-pw')].join('\n') + '\n');
      const broker = await startBroker({ config: [`password_file ${pw}`, 'allow_anonymous true'], oracle: target.oracle });
      const clients: RawClient[] = [];
      try {
        const gone5 = await connected(broker.port, 5, { clientId: 'gone5', username: 'gone', password: 'gone-pw' });
        const gone4 = await connected(broker.port, 4, {
          clientId: 'gone4',
          username: 'gone',
          password: 'gone-pw',
          will: { topic: 'will/gone4', payload: 'bye' },
        });
        const gone3 = await connected(broker.port, 3, { clientId: 'gone3', username: 'gone', password: 'gone-pw' });
        const anon = await connected(broker.port, 5, { clientId: 'anon5' });
        const stays = await connected(broker.port, 5, { clientId: 'stays5', username: 'stays', password: 'stays-pw' });
        clients.push(gone5, gone4, gone3, anon, stays);
        stays.send(m.subscribe(5, 1, [['will/#', 0]]));
        assert.equal(hex(await stays.next()), hex(m.suback(5, 1, [0])));

        writeFileSync(pw, passwordLine('stays', 'stays-pw') + '\n');
        editConfig(broker, (t) => t.replace('allow_anonymous true', 'allow_anonymous false'));
        await reload(broker);

        for (const [name, c] of [['gone5', gone5], ['gone4', gone4], ['gone3', gone3], ['anon5', anon]] as const) {
          assert.equal(hex(await c.next(10_000)), 'CLOSED', `${name} is closed, without a DISCONNECT packet`);
          assert.ok(await waitForText(broker.stderr, `Client ${name} disconnected.`), broker.stderr());
        }
        // The client that still passes stays, and gone4's will was not published.
        stays.send(m.pingreq());
        assert.equal(hex(await stays.next()), hex(m.pingresp()));
        assert.equal(await connackCode(broker.port, 4, { clientId: 'again', username: 'gone', password: 'gone-pw' }), 5);
        assert.equal(await connackCode(broker.port, 4, { clientId: 'anon-again' }), 5);
        assert.equal(await connackCode(broker.port, 4, { clientId: 'stays-again', username: 'stays', password: 'stays-pw' }), 0);
      } finally {
        for (const c of clients) c.close();
        await broker.stop();
      }
    });

    test('a reload applies the new ACL to existing subscriptions at once', { timeout: 60_000 }, async () => {
      const acl = join(work, `${target.oracle ? 'o' : 's'}-acl`);
      writeFileSync(acl, 'topic readwrite acl/#\n');
      const broker = await startBroker({ config: [`acl_file ${acl}`, 'allow_anonymous true'], oracle: target.oracle });
      const clients: RawClient[] = [];
      try {
        const a = await connected(broker.port, 4, { clientId: 'acl-a' });
        clients.push(a);
        a.send(m.subscribe(4, 1, [['acl/#', 0]]));
        assert.equal(hex(await a.next()), hex(m.suback(4, 1, [0])));
        a.send(m.publish(4, 'acl/a', 'before'));
        assert.equal(hex(await a.next()), hex(m.publish(4, 'acl/a', 'before')));

        writeFileSync(acl, 'topic read acl/#\ntopic write acl/w\n');
        await reload(broker);
        a.send(m.publish(4, 'acl/a', 'no write any more'));
        a.send(m.publish(4, 'acl/w', 'after'));
        assert.equal(hex(await a.next()), hex(m.publish(4, 'acl/w', 'after')));

        // A reload with a bad line. Debian's 2.0.11 then registers no ACL check at all, so
        // everything is allowed (fail-open, also for an unreadable password file). skeeter
        // deliberately keeps the rules it had: the new file is not used at all.
        writeFileSync(acl, 'topic readwrite acl/early\nbogus line\ntopic readwrite acl/late\n');
        await reload(broker);
        assert.ok(await waitForText(broker.stderr, `Error: Invalid line in acl_file "${acl}": bogus.`), broker.stderr());
        assert.ok(await waitForText(broker.stderr, `Error opening acl file "${acl}".`), broker.stderr());
        a.send(m.publish(4, 'acl/early', 'early'));
        a.send(m.publish(4, 'acl/w', 'marker'));
        if (target.oracle) assert.equal(hex(await a.next()), hex(m.publish(4, 'acl/early', 'early')));
        assert.equal(hex(await a.next()), hex(m.publish(4, 'acl/w', 'marker')));
        // The client itself was not disconnected.
        a.send(m.pingreq());
        assert.equal(hex(await a.next()), hex(m.pingresp()));
      } finally {
        for (const c of clients) c.close();
        await broker.stop();
      }
    });

    test('a reload that revokes read access drops what an offline session had queued there, leaving gaps in its packet ids', { timeout: 60_000 }, async () => {
      const acl = join(work, `${target.oracle ? 'o' : 's'}-acl-queued`);
      writeFileSync(acl, 'topic readwrite q/one\ntopic readwrite q/two\n');
      const broker = await startBroker({ config: [`acl_file ${acl}`, 'allow_anonymous true'], oracle: target.oracle });
      const clients: RawClient[] = [];
      try {
        const keep = { clientId: 'acl-q', clean: false };
        const sub = await connected(broker.port, 4, keep);
        clients.push(sub);
        sub.send(m.subscribe(4, 1, [['q/one', 1], ['q/two', 1]]));
        assert.equal(hex(await sub.next()), hex(m.suback(4, 1, [1, 1])));
        sub.send(m.disconnect(4));
        assert.equal(hex(await sub.next()), 'CLOSED');
        const pub = await connected(broker.port, 4, { clientId: 'acl-q-pub' });
        clients.push(pub);
        for (const [mid, topic, payload] of [[1, 'q/one', 'm1'], [2, 'q/two', 'm2'], [3, 'q/one', 'm3']] as const) {
          pub.send(m.publish(4, topic, payload, { qos: 1, mid }));
          assert.equal(hex(await pub.next()), hex(m.puback(4, mid)));
        }
        writeFileSync(acl, 'topic readwrite q/one\n');
        await reload(broker);
        const again = await RawClient.open(broker.port);
        clients.push(again);
        again.send(m.connect(4, keep));
        assert.equal(hex(await again.next()), hex(m.connack(4, 0, true)));
        // m2 is gone; it had packet id 2 when it was queued, so m3 keeps 3.
        assert.equal(hex(await again.next()), hex(m.publish(4, 'q/one', 'm1', { qos: 1, mid: 1 })));
        assert.equal(hex(await again.next()), hex(m.publish(4, 'q/one', 'm3', { qos: 1, mid: 3 })));
        again.send(m.puback(4, 1));
        again.send(m.puback(4, 3));
        again.send(m.pingreq());
        assert.equal(hex(await again.next()), hex(m.pingresp()));
      } finally {
        for (const c of clients) c.close();
        await broker.stop();
      }
    });

    test('per_listener_settings: options before any listener line stay with the `port` listener across a reload', { timeout: 60_000 }, async () => {
      const acl = join(work, `${target.oracle ? 'o' : 's'}-acl-default`);
      writeFileSync(acl, 'topic readwrite open/#\n');
      const broker = await startBroker({
        oracle: target.oracle,
        wholeConfig: (port) => ['per_listener_settings true', `port ${port}`, 'allow_anonymous true', `acl_file ${acl}`],
      });
      const clients: RawClient[] = [];
      try {
        for (const round of ['before', 'after']) {
          if (round === 'after') await reload(broker);
          const c = await connected(broker.port, 4, { clientId: `dl-${round}` });
          clients.push(c);
          c.send(m.subscribe(4, 1, [['#', 0]]));
          assert.equal(hex(await c.next()), hex(m.suback(4, 1, [0])));
          c.send(m.publish(4, 'closed/x', 'denied'));
          c.send(m.publish(4, 'open/x', round));
          assert.equal(hex(await c.next()), hex(m.publish(4, 'open/x', round)), `the ACL holds ${round} the reload`);
        }
      } finally {
        for (const c of clients) c.close();
        await broker.stop();
      }
    });

    test('per_listener_settings: a reload re-checks each client against its own listener', { timeout: 60_000 }, async () => {
      const pw = join(work, `${target.oracle ? 'o' : 's'}-plr-pw`);
      writeFileSync(pw, [passwordLine('ann', 'ann-pw'), passwordLine('ben', 'ben-pw')].join('\n') + '\n');
      const second = await freePort();
      const broker = await startBroker({
        oracle: target.oracle,
        config: ['per_listener_settings true', `password_file ${pw}`, 'allow_anonymous false', `listener ${second} 127.0.0.1`, 'allow_anonymous true'],
      });
      const clients: RawClient[] = [];
      try {
        const ann = await connected(broker.port, 5, { clientId: 'ann1', username: 'ann', password: 'ann-pw' });
        const ben = await connected(broker.port, 4, { clientId: 'ben1', username: 'ben', password: 'ben-pw' });
        const anon2 = await connected(second, 4, { clientId: 'anon2' });
        const user2 = await connected(second, 5, { clientId: 'user2', username: 'who', password: 'ever' });
        clients.push(ann, ben, anon2, user2);
        writeFileSync(pw, passwordLine('ann', 'ann-pw') + '\n');
        // The second listener's allow_anonymous true (the last line) becomes false.
        editConfig(broker, (t) => {
          const i = t.lastIndexOf('allow_anonymous true');
          return t.slice(0, i) + 'allow_anonymous false' + t.slice(i + 'allow_anonymous true'.length);
        });
        await reload(broker);
        for (const [name, c] of [['ben1', ben], ['anon2', anon2], ['user2', user2]] as const) {
          assert.equal(hex(await c.next(10_000)), 'CLOSED', `${name} is closed`);
        }
        ann.send(m.pingreq());
        assert.equal(hex(await ann.next()), hex(m.pingresp()), 'ann still passes on the first listener');
      } finally {
        for (const c of clients) c.close();
        await broker.stop();
      }
    });

    test('per_listener_settings: each listener has its own password file, ACL file and anonymous rule', { timeout: 60_000 }, async () => {
      const pw = join(work, `${target.oracle ? 'o' : 's'}-pl-pw`);
      const acl = join(work, `${target.oracle ? 'o' : 's'}-pl-acl`);
      writeFileSync(pw, passwordLine('ann', 'ann-pw') + '\n');
      writeFileSync(acl, 'topic readwrite open/#\n');
      const second = await freePort();
      const broker = await startBroker({
        oracle: target.oracle,
        config: [
          'per_listener_settings true',
          `password_file ${pw}`,
          'allow_anonymous false',
          `listener ${second} 127.0.0.1`,
          `acl_file ${acl}`,
          'allow_anonymous true',
        ],
      });
      const clients: RawClient[] = [];
      try {
        // First listener: password file, no anonymous clients, no ACL.
        assert.equal(await connackCode(broker.port, 4, { clientId: 'p1' }), 5);
        assert.equal(await connackCode(broker.port, 4, { clientId: 'p2', username: 'ann', password: 'wrong' }), 5);
        const ann = await connected(broker.port, 4, { clientId: 'p3', username: 'ann', password: 'ann-pw' });
        clients.push(ann);
        ann.send(m.subscribe(4, 1, [['#', 0]]));
        assert.equal(hex(await ann.next()), hex(m.suback(4, 1, [0])));
        ann.send(m.publish(4, 'closed/x', 'no ACL here'));
        assert.equal(hex(await ann.next()), hex(m.publish(4, 'closed/x', 'no ACL here')));
        // Second listener: no password file, so any user name passes as anonymous access is on; the ACL applies.
        assert.equal(await connackCode(second, 4, { clientId: 'q0', username: 'who', password: 'ever' }), 0);
        // The anonymous block of the ACL: a client without a user name may use open/#.
        const other = await connected(second, 4, { clientId: 'q1' });
        clients.push(other);
        other.send(m.subscribe(4, 1, [['#', 0]]));
        assert.equal(hex(await other.next()), hex(m.suback(4, 1, [0])));
        other.send(m.publish(4, 'closed/y', 'denied'));
        other.send(m.publish(4, 'open/y', 'allowed'));
        assert.equal(hex(await other.next()), hex(m.publish(4, 'open/y', 'allowed')));
        // ann (first listener, no ACL) sees what the second listener's client may write.
        assert.equal(hex(await ann.next()), hex(m.publish(4, 'open/y', 'allowed')));
      } finally {
        for (const c of clients) c.close();
        await broker.stop();
      }
    });
  });
}
