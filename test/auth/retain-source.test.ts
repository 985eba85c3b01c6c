/**
 * check_retain_source (CVE-2018-12546): a retained message reaches a new subscriber only while
 * its publisher may still write it, checked in the publisher's own ACL scope (its listener with
 * per_listener_settings), also after a restart from mosquitto.db. On our broker and Debian's
 * 2.0.11 side by side.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort, hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';

const work = mkdtempSync(join(tmpdir(), 'skeeter-retain-source-'));
after(() => rmSync(work, { recursive: true, force: true }));

const targets = [{ name: 'skeeter', oracle: false }];
if (hasDebianMosquitto()) targets.push({ name: 'debian mosquitto 2.0.11 (oracle)', oracle: true });

const hex = (b: Buffer | null): string => (b === null ? 'CLOSED' : b.toString('hex'));

async function connected(port: number, o: m.ConnectOptions): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.send(m.connect(4, o));
  assert.equal(hex(await c.next()), hex(m.connack(4)), `CONNACK for ${o.clientId}`);
  return c;
}

/** Subscribes to `topic` and returns the retained message it gets (or 'none' before a PINGRESP). */
async function retainedFor(port: number, clientId: string, topic: string): Promise<string> {
  const c = await connected(port, { clientId });
  try {
    c.send(m.subscribe(4, 1, [[topic, 0]]));
    assert.equal(hex(await c.next()), hex(m.suback(4, 1, [0])));
    c.send(m.pingreq());
    const p = await c.next();
    return hex(p) === hex(m.pingresp()) ? 'none' : hex(p);
  } finally {
    c.close();
  }
}

async function publishRetained(port: number, o: m.ConnectOptions, topic: string, payload: string): Promise<void> {
  const c = await connected(port, o);
  c.send(m.publish(4, topic, payload, { qos: 1, mid: 1, retain: true }));
  assert.equal(hex(await c.next()), hex(m.puback(4, 1)));
  c.send(m.disconnect(4));
  await c.next();
}

async function reload(broker: RunningBroker): Promise<void> {
  const before = broker.stderr().split('Reloading config.').length;
  process.kill(broker.pid, 'SIGHUP');
  for (let i = 0; i < 100 && broker.stderr().split('Reloading config.').length === before; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(broker.stderr().split('Reloading config.').length > before, 'the broker logged its reload');
}

for (const target of targets) {
  const tag = target.oracle ? 'o' : 's';
  describe(`check_retain_source [${target.name}]`, () => {
    test("after a reload takes write access away, the retained message is withheld (the publisher reading it is not enough)", { timeout: 60_000 }, async () => {
      const acl = join(work, `${tag}-acl-global`);
      writeFileSync(acl, 'user writer\ntopic readwrite rs/#\n');
      const broker = await startBroker({ oracle: target.oracle, config: ['check_retain_source true', `acl_file ${acl}`] });
      try {
        const writer = { clientId: 'rs-w', username: 'writer' };
        await publishRetained(broker.port, writer, 'rs/a', 'kept');
        const kept = hex(m.publish(4, 'rs/a', 'kept', { retain: true }));
        assert.equal(await retainedFor(broker.port, 'rs-r1', 'rs/a'), 'none', 'the reader has no read access');
        writeFileSync(acl, 'user writer\ntopic readwrite rs/#\nuser rs-r\ntopic read rs/#\n');
        await reload(broker);
        const reader = await connected(broker.port, { clientId: 'rs-r2', username: 'rs-r' });
        reader.send(m.subscribe(4, 1, [['rs/a', 0]]));
        assert.equal(hex(await reader.next()), hex(m.suback(4, 1, [0])));
        assert.equal(hex(await reader.next()), kept);
        reader.close();
        writeFileSync(acl, 'user writer\ntopic read rs/#\nuser rs-r\ntopic read rs/#\n');
        await reload(broker);
        const again = await connected(broker.port, { clientId: 'rs-r3', username: 'rs-r' });
        again.send(m.subscribe(4, 1, [['rs/a', 0]]));
        assert.equal(hex(await again.next()), hex(m.suback(4, 1, [0])));
        again.send(m.pingreq());
        assert.equal(hex(await again.next()), hex(m.pingresp()), 'the publisher can no longer write rs/a');
        again.close();
      } finally {
        await broker.stop();
      }
    });

    test('per_listener_settings: the publisher listener\'s ACL decides, also after a restart from mosquitto.db', { timeout: 60_000 }, async () => {
      const acl = join(work, `${tag}-acl-pl`);
      const data = mkdtempSync(join(work, `${tag}-db-`));
      writeFileSync(acl, 'topic readwrite pl/#\n');
      const port = await freePort();
      const open = await freePort();
      // The publisher's listener has the ACL; the subscribers' listener has none.
      const config = (p: number): string[] => [
        'per_listener_settings true', 'check_retain_source true', 'persistence true', `persistence_location ${data}/`,
        `listener ${p} 127.0.0.1`, 'allow_anonymous true', `acl_file ${acl}`,
        `listener ${open} 127.0.0.1`, 'allow_anonymous true',
      ];
      const kept = hex(m.publish(4, 'pl/a', 'kept', { retain: true }));
      let broker = await startBroker({ oracle: target.oracle, port, wholeConfig: config });
      try {
        await publishRetained(port, { clientId: 'pl-w' }, 'pl/a', 'kept');
        assert.equal(await retainedFor(open, 'pl-r1', 'pl/a'), kept);
        await broker.stop();
        broker = await startBroker({ oracle: target.oracle, port, wholeConfig: config });
        // Restored with its listener (found again by port): the publisher may still write.
        assert.equal(await retainedFor(open, 'pl-r2', 'pl/a'), kept);
        writeFileSync(acl, 'topic read pl/#\n');
        await reload(broker);
        assert.equal(await retainedFor(open, 'pl-r3', 'pl/a'), 'none');
        writeFileSync(acl, 'topic readwrite pl/#\n');
        await reload(broker);
        assert.equal(await retainedFor(open, 'pl-r4', 'pl/a'), kept, 'write access is back');
      } finally {
        await broker.stop();
      }
    });
  });
}
