/**
 * allow_anonymous as Mosquitto 2.0's basic-auth chain applies it, on our broker and Debian's
 * 2.0.11 side by side: without any authentication source a user name proves nothing (allowed
 * exactly when anonymous clients are); with a password file, clients without a user name meet
 * allow_anonymous and every user name meets the file; per listener with per_listener_settings.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, hasDebianMosquitto, startBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { passwordLine } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'skeeter-anonymous-'));
after(() => rmSync(work, { recursive: true, force: true }));
const pw = join(work, 'pw');
writeFileSync(pw, passwordLine('alice', 'secret') + '\n');

async function code(port: number, v: m.Version, o: m.ConnectOptions): Promise<number> {
  const c = await RawClient.open(port);
  try {
    c.send(m.connect(v, { clientId: 'anon-test', ...o }));
    const ack = await c.next(10_000);
    assert.equal(ack?.[0], 0x20);
    return ack[3]!;
  } finally {
    c.close();
  }
}

/** [config, connect options, expected CONNACK code for 3.1 / 3.1.1 / 5] */
const cases: Array<[string, string[], m.ConnectOptions, [number, number, number]]> = [
  ['no source, anonymous off: anonymous refused', ['allow_anonymous false'], {}, [5, 5, 0x87]],
  ['no source, anonymous off: a user name alone is refused too', ['allow_anonymous false'], { username: 'alice', password: 'secret' }, [5, 5, 0x87]],
  ['no source, anonymous on: any user name passes', ['allow_anonymous true'], { username: 'who', password: 'ever' }, [0, 0, 0]],
  ['password file, anonymous off: anonymous refused', [`password_file ${pw}`, 'allow_anonymous false'], {}, [5, 5, 0x87]],
  ['password file, anonymous off: a known user passes', [`password_file ${pw}`, 'allow_anonymous false'], { username: 'alice', password: 'secret' }, [0, 0, 0]],
  ['password file, anonymous on: anonymous passes', [`password_file ${pw}`, 'allow_anonymous true'], {}, [0, 0, 0]],
  ['password file, anonymous on: a user without a password is refused', [`password_file ${pw}`, 'allow_anonymous true'], { username: 'alice' }, [5, 5, 0x87]],
  ['password file, anonymous on: an unknown user is refused', [`password_file ${pw}`, 'allow_anonymous true'], { username: 'bob', password: 'x' }, [5, 5, 0x87]],
];

for (const oracle of hasDebianMosquitto() ? [false, true] : [false]) {
  const who = oracle ? 'Debian 2.0.11' : 'skeeter';
  test(`allow_anonymous and basic auth (${who})`, { timeout: 120_000 }, async (t) => {
    for (const [name, config, options, expected] of cases) {
      await t.test(name, async () => {
        const b = await startBroker({ config, oracle });
        try {
          const got = [await code(b.port, 3, options), await code(b.port, 4, options), await code(b.port, 5, options)];
          assert.deepEqual(got, expected);
        } finally {
          await b.stop();
        }
      });
    }
  });

  test(`per_listener_settings: a password file on one listener, anonymous on the other (${who})`, { timeout: 60_000 }, async () => {
    const second = await freePort();
    const b = await startBroker({
      oracle,
      config: ['per_listener_settings true', `password_file ${pw}`, 'allow_anonymous false', `listener ${second} 127.0.0.1`, 'allow_anonymous true'],
    });
    try {
      assert.deepEqual(
        [await code(b.port, 4, {}), await code(b.port, 4, { username: 'alice', password: 'secret' }), await code(b.port, 4, { username: 'x', password: 'y' })],
        [5, 0, 5],
      );
      // No password file in the second listener's scope: any user name passes, as anonymous clients do.
      assert.deepEqual(
        [await code(second, 4, {}), await code(second, 4, { username: 'x', password: 'y' }), await code(second, 5, { username: 'alice', password: 'bad' })],
        [0, 0, 0],
      );
    } finally {
      await b.stop();
    }
  });

  test(`per_listener_settings: the \`port\` listener without allow_anonymous admits anonymous clients until a reload (${who})`, { timeout: 60_000 }, async () => {
    const second = await freePort();
    // Only the default listener (from `port`) is left unset; the explicit one defaults to false.
    const b = await startBroker({ oracle, wholeConfig: (port) => ['per_listener_settings true', `port ${port}`, `listener ${second} 127.0.0.1`] });
    try {
      assert.deepEqual([await code(b.port, 4, {}), await code(b.port, 5, {}), await code(second, 4, {})], [0, 0, 5]);
      const before = b.stderr().split('Reloading config.').length;
      process.kill(b.pid, 'SIGHUP');
      for (let i = 0; i < 100 && b.stderr().split('Reloading config.').length === before; i++) await new Promise((r) => setTimeout(r, 50));
      // The reload gives every listener the 2.0 default, as Mosquitto's does.
      assert.deepEqual([await code(b.port, 4, {}), await code(second, 4, {})], [5, 5]);
    } finally {
      await b.stop();
    }
  });

  test(`a refused login is logged as Mosquitto does: CONNACK to the address, then <unknown> (${who})`, { timeout: 60_000 }, async () => {
    const b = await startBroker({ oracle, verbose: true, config: [`password_file ${pw}`, 'allow_anonymous false'] });
    try {
      assert.equal(await code(b.port, 4, { username: 'alice', password: 'wrong' }), 5);
      assert.equal(await code(b.port, 5, {}), 0x87);
      // Both refusals' close lines, however late the pipe delivers them (at most 10 s).
      for (let i = 0; i < 200 && b.stderr().split('not authorised.').length < 3; i++) await new Promise((r) => setTimeout(r, 50));
      const lines = b.stderr().split('\n').map((l) => l.replace(/^\d+: /, ''));
      const refused = lines.filter((l) => l.startsWith('Sending CONNACK') || l.includes('not authorised'));
      assert.deepEqual(refused.slice(0, 4), [
        'Sending CONNACK to 127.0.0.1 (0, 5)',
        'Client <unknown> disconnected, not authorised.',
        'Sending CONNACK to 127.0.0.1 (0, 135)',
        'Client <unknown> disconnected, not authorised.',
      ]);
    } finally {
      await b.stop();
    }
  });
}
