/**
 * password_file in the broker process: every fixture file written by Debian's mosquitto_passwd
 * (and the hand-made tricky one) is loaded by our broker with `allow_anonymous false`, and every
 * login recorded against Debian's 2.0.11 broker is replayed as a raw MQTT 3.1.1 CONNECT. The
 * same table also runs live against the Debian broker when it is installed.
 *
 * Deliberate difference: skeeter's broker reads 2.1 password files (argon2id, 64-byte salts),
 * because its mosquitto_passwd writes argon2id by default as 2.1 does. Where the 2.0 and 2.1
 * rule sets disagree on a login, our broker is expected to give 2.1's answer, and the test
 * checks that the 2.0 rule set reproduces what Debian's broker recorded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pbkdf2, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MOSQUITTO_2_0_RULES, MOSQUITTO_2_1_RULES, PasswordFile } from '@skeeter/password-file';
import { hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { launcher } from '../helpers/paths.js';

/** test/auth/fixtures (this file compiles to test/dist/auth/). */
const FIXTURES = fileURLToPath(new URL('../../auth/fixtures/', import.meta.url));

interface Login {
  username: string | null;
  password: string | null;
  connack_rc: number;
}
interface FixtureResults {
  results: Login[];
  broker_load_messages: string[];
}

const table: Record<string, FixtureResults> = {
  ...(JSON.parse(readFileSync(join(FIXTURES, 'broker-auth-results.json'), 'utf8')) as Record<string, FixtureResults>),
  ...(JSON.parse(readFileSync(join(FIXTURES, 'pwfile-tricky-results.json'), 'utf8')) as Record<string, FixtureResults>),
};

const work = mkdtempSync(join(tmpdir(), 'skeeter-auth-pw-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** CONNACK return code for one login (3.1.1 unless `v` says otherwise). */
async function login(port: number, username: string | null, password: string | null, v: m.Version = 4): Promise<number> {
  const c = await RawClient.open(port);
  try {
    const o: m.ConnectOptions = { clientId: `pw-${Math.random().toString(36).slice(2, 10)}` };
    if (username !== null) o.username = username;
    if (password !== null) o.password = password;
    c.send(m.connect(v, o));
    const ack = await c.next(10_000);
    assert.ok(ack && ack[0] === 0x20, `CONNACK expected, got ${ack?.toString('hex') ?? 'CLOSED'}`);
    return ack[3]!;
  } finally {
    c.close();
  }
}

/** 0 when the 2.1 rules accept the login, 5 otherwise. */
async function ruleResult(content: Buffer, l: Login, rules: typeof MOSQUITTO_2_0_RULES): Promise<number> {
  const file = PasswordFile.parse(content, { rules });
  return (await file.check(l.username, l.password)) === 'allow' ? 0 : 5;
}

const targets = [{ name: 'skeeter', oracle: false }];
if (hasDebianMosquitto()) targets.push({ name: 'debian mosquitto 2.0.11 (oracle)', oracle: true });

for (const target of targets) {
  describe(`password_file fixtures [${target.name}]`, () => {
    for (const [name, expected] of Object.entries(table)) {
      test(`${name}: ${expected.results.length} logins as recorded`, { timeout: 60_000 }, async () => {
        const path = join(work, `${target.oracle ? 'oracle' : 'ours'}-${name}`);
        copyFileSync(join(FIXTURES, name), path);
        const content = readFileSync(path);
        const broker = await startBroker({ config: [`password_file ${path}`, 'allow_anonymous false'], oracle: target.oracle });
        try {
          for (const l of expected.results) {
            let want = l.connack_rc;
            if (!target.oracle) {
              const r20 = await ruleResult(content, l, MOSQUITTO_2_0_RULES);
              assert.equal(r20, l.connack_rc, `2.0 rules reproduce the recorded login ${l.username}/${l.password}`);
              want = await ruleResult(content, l, MOSQUITTO_2_1_RULES);
            }
            assert.equal(await login(broker.port, l.username, l.password), want, `login ${JSON.stringify(l)}`);
          }
          // The broker's load messages, in order, with the file name as configured.
          const lines = broker
            .stderr()
            .split('\n')
            .map((s) => s.replace(/^\d+: /, '').replaceAll(path, basename(name)));
          const ours = target.oracle
            ? expected.broker_load_messages
            : PasswordFile.parse(content, { fileName: basename(name), rules: MOSQUITTO_2_1_RULES }).messages.map((x) => x.text);
          const logged = lines.filter((s) => s.startsWith('Error: ') || s.startsWith('Warning: Invalid line'));
          assert.deepEqual(logged, ours);
        } finally {
          await broker.stop();
        }
      });
    }

    test('a refused login is 0x87 on MQTT 5 and 5 on MQTT 3.1', { timeout: 30_000 }, async () => {
      const path = join(work, `${target.oracle ? 'oracle' : 'ours'}-v5`);
      copyFileSync(join(FIXTURES, 'pwfile-create'), path);
      const broker = await startBroker({ config: [`password_file ${path}`, 'allow_anonymous false'], oracle: target.oracle });
      try {
        assert.equal(await login(broker.port, 'alice', 'wrong', 5), 0x87);
        assert.equal(await login(broker.port, 'nobody', 'x', 5), 0x87);
        assert.equal(await login(broker.port, 'alice', 'alice-secret', 5), 0);
        assert.equal(await login(broker.port, 'alice', 'wrong', 3), 5);
        assert.equal(await login(broker.port, 'alice', 'alice-secret', 3), 0);
      } finally {
        await broker.stop();
      }
    });

    test('with allow_anonymous true, clients without a user name pass and unknown users are still refused', { timeout: 30_000 }, async () => {
      const path = join(work, `${target.oracle ? 'oracle' : 'ours'}-anon`);
      copyFileSync(join(FIXTURES, 'pwfile-create'), path);
      const broker = await startBroker({ config: [`password_file ${path}`, 'allow_anonymous true'], oracle: target.oracle });
      try {
        assert.equal(await login(broker.port, null, null), 0);
        assert.equal(await login(broker.port, 'nobody', 'x'), 5);
        assert.equal(await login(broker.port, 'alice', null), 5);
        assert.equal(await login(broker.port, 'alice', 'alice-secret'), 0);
        // A zero-length user name reads as none in Mosquitto: an anonymous client.
        assert.equal(await login(broker.port, '', null), 0);
        assert.equal(await login(broker.port, '', 'x', 5), 0);
      } finally {
        await broker.stop();
      }
    });
  });
}

test('hashing runs off the event loop: other clients are served while a slow $7$ login is checked', { timeout: 60_000 }, async () => {
  // 1,000,000 PBKDF2 rounds take about half a second or more: long enough to be certain of the order below.
  const salt = randomBytes(12);
  const hash = await new Promise<Buffer>((res, rej) => pbkdf2('slow-pw', salt, 1_000_000, 64, 'sha512', (e, k) => (e ? rej(e) : res(k))));
  const path = join(work, 'slow');
  writeFileSync(path, `slow:$7$1000000$${salt.toString('base64')}$${hash.toString('base64')}\n`);
  const broker = await startBroker({ config: [`password_file ${path}`, 'allow_anonymous true'] });
  const other = await RawClient.open(broker.port);
  const slow = await RawClient.open(broker.port);
  try {
    other.send(m.connect(4, { clientId: 'other' }));
    assert.equal((await other.next())?.toString('hex'), m.connack(4, 0).toString('hex'));
    slow.send(m.connect(4, { clientId: 'slow', username: 'slow', password: 'slow-pw' }));
    // While the slow login hashes, the other client's PINGREQs are answered...
    for (let i = 0; i < 3; i++) {
      other.send(m.pingreq());
      assert.equal((await other.next())?.toString('hex'), m.pingresp().toString('hex'));
    }
    // ...and the slow client has no CONNACK yet (a 1 ms look, not a timing assertion).
    await assert.rejects(slow.next(1), /no packet within/);
    assert.equal((await slow.next(30_000))?.toString('hex'), m.connack(4, 0).toString('hex'));
  } finally {
    other.close();
    slow.close();
    await broker.stop();
  }
});

describe('password_file start-up errors', () => {
  for (const target of targets) {
    test(`a missing password file stops the broker [${target.name}]`, { timeout: 30_000 }, async () => {
      const dir = mkdtempSync(join(work, 'missing-'));
      const conf = join(dir, 'm.conf');
      const missing = join(dir, 'nope');
      const lines = ['listener 0 127.0.0.1', `password_file ${missing}`];
      if (target.oracle) lines.push('user root');
      // port 0 is never opened: the broker stops before its listeners.
      writeFileSync(conf, lines.join('\n') + '\n');
      const bin = target.oracle ? '/usr/sbin/mosquitto' : launcher('mosquitto');
      const r = spawnSync(bin, ['-c', conf], { encoding: 'utf8', timeout: 20_000, cwd: dir });
      assert.equal(r.status, 13);
      const tail = r.stderr
        .split('\n')
        .map((s) => s.replace(/^\d+: /, ''))
        .filter((s) => s.startsWith('Error'));
      assert.deepEqual(tail, [`Error: Unable to open pwfile "${missing}".`, `Error opening password file "${missing}".`]);
    });
  }
});

describe('interop: Debian mosquitto_passwd and mosquitto_pub with our broker', { skip: !hasDebianMosquitto() && 'Debian mosquitto not installed' }, () => {
  for (const hash of ['sha512-pbkdf2', 'sha512']) {
    test(`a file written by Debian's mosquitto_passwd -H ${hash} works with our broker`, { timeout: 60_000 }, async () => {
      const path = join(work, `debian-${hash}`);
      let r = spawnSync('mosquitto_passwd', ['-H', hash, '-c', '-b', path, 'deb-user', 'deb pass:word'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      r = spawnSync('mosquitto_passwd', ['-H', hash, '-b', path, 'second', 'ünïcødé'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      for (const oracle of [false, true]) {
        const broker = await startBroker({ config: [`password_file ${path}`, 'allow_anonymous false'], oracle });
        try {
          const pub = (user: string, pw: string) =>
            spawnSync('mosquitto_pub', ['-p', String(broker.port), '-h', '127.0.0.1', '-u', user, '-P', pw, '-t', 't', '-m', 'x'], {
              encoding: 'utf8',
              timeout: 20_000,
            });
          const good = pub('deb-user', 'deb pass:word');
          assert.equal(good.status, 0, good.stderr);
          assert.equal(pub('second', 'ünïcødé').status, 0);
          const bad = pub('deb-user', 'deb pass');
          assert.equal(bad.status, 5);
          assert.equal(bad.stderr, 'Connection error: Connection Refused: not authorised.\nError: The connection was refused.\n');
        } finally {
          await broker.stop();
        }
      }
    });
  }
});
