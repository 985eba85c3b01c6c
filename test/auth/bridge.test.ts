/**
 * A bridge's own connection to its local broker is not subject to that broker's password file,
 * anonymous rule or ACL (Mosquitto: "the broker's own bridge connections bypass ACLs"); the
 * local subscribers' read access still applies. Run with our broker and Debian's 2.0.11 as the
 * bridging broker, the remote end being a plain broker of the same kind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { hasDebianMosquitto, startBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { passwordLine } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'skeeter-auth-bridge-'));
after(() => rmSync(work, { recursive: true, force: true }));

const targets = [{ name: 'skeeter', oracle: false }];
if (hasDebianMosquitto()) targets.push({ name: 'debian mosquitto 2.0.11 (oracle)', oracle: true });

async function connected(port: number, o: m.ConnectOptions): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.send(m.connect(4, o));
  const ack = await c.next();
  assert.equal(ack?.toString('hex'), m.connack(4, 0).toString('hex'));
  return c;
}

for (const target of targets) {
  describe(`bridges and broker security [${target.name}]`, () => {
    test('messages cross a bridge into a broker with password_file, allow_anonymous false and acl_file', { timeout: 60_000 }, async () => {
      const pw = join(work, `${target.oracle ? 'o' : 's'}-pw`);
      const acl = join(work, `${target.oracle ? 'o' : 's'}-acl`);
      writeFileSync(pw, passwordLine('loc', 'loc-pw') + '\n');
      writeFileSync(acl, 'user loc\ntopic readwrite local/open/#\n');
      const remote = await startBroker({ oracle: target.oracle });
      const local = await startBroker({
        oracle: target.oracle,
        config: [
          `password_file ${pw}`,
          `acl_file ${acl}`,
          'allow_anonymous false',
          'connection b',
          `address 127.0.0.1:${remote.port}`,
          'topic local/# both 0',
        ],
      });
      const clients: RawClient[] = [];
      try {
        const loc = await connected(local.port, { clientId: 'loc', username: 'loc', password: 'loc-pw' });
        clients.push(loc);
        loc.send(m.subscribe(4, 1, [['local/#', 0]]));
        assert.equal((await loc.next())?.toString('hex'), m.suback(4, 1, [0]).toString('hex'));
        const far = await connected(remote.port, { clientId: 'far' });
        clients.push(far);
        // The bridge connects in the background: publish until a message arrives (bounded).
        let got: Buffer | null | undefined;
        for (let i = 0; i < 50 && got === undefined; i++) {
          far.send(m.publish(4, 'local/closed/x', 'not readable by loc'));
          far.send(m.publish(4, 'local/open/x', `try ${i}`));
          got = await loc.next(200).catch(() => undefined);
        }
        assert.ok(got, 'a message crossed the bridge');
        // Only local/open/x may be read by loc: the bridge wrote both, loc got only that one.
        assert.match(got.subarray(4, 4 + 'local/open/x'.length).toString(), /^local\/open\/x$/);
      } finally {
        for (const c of clients) c.close();
        await local.stop();
        await remote.stop();
      }
    });
  });
}
