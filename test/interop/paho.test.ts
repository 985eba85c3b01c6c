/**
 * Python's paho-mqtt (Debian python3-paho-mqtt) against our broker: test/interop/paho-client.py is
 * copied to a temp dir and run per scenario and protocol version. The same runs go to the Debian
 * broker where installed, and the JSON each prints must be the same for both brokers.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { repoRoot } from '../helpers/paths.js';
import { pythonWithPaho, runTool } from './tools.js';

const python = pythonWithPaho();

interface Message {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  props?: Record<string, unknown>;
}

const SCENARIOS: Array<{ name: string; scenario: string; versions: Array<'31' | '311' | '5'>; check(out: unknown, v: string): void }> = [
  {
    name: 'QoS 0, 1 and 2 in both directions between two clients',
    scenario: 'pubsub',
    versions: ['31', '311', '5'],
    check(out, v) {
      const rounds = out as Array<{ granted: number[]; at_a: Message[]; at_b: Message[] }>;
      assert.equal(rounds.length, 3);
      rounds.forEach((r, q) => {
        assert.deepEqual(r.granted, [q, q]);
        assert.deepEqual(r.at_a, [{ topic: `paho/${v}/to-a/${q}`, payload: `b${q}`, qos: q, retain: false, ...(v === '5' ? { props: r.at_a[0]!.props } : {}) }]);
        assert.equal(r.at_b[0]!.payload, `a${q}`);
        assert.equal(r.at_b[0]!.qos, q);
      });
    },
  },
  {
    name: 'a retained message reaches a later subscriber with the retain flag',
    scenario: 'retained',
    versions: ['311', '5'],
    check(out, v) {
      const [m] = out as Message[];
      assert.equal(m!.topic, `paho/${v}/ret`);
      assert.equal(m!.payload, 'kept');
      assert.equal(m!.retain, true);
      assert.equal(m!.qos, 1);
    },
  },
  {
    name: 'a persistent session gets the QoS 1/2 messages published while it was away',
    scenario: 'session',
    versions: ['311', '5'],
    check(out) {
      const r = out as { session_present: boolean; got: Message[] };
      assert.equal(r.session_present, true);
      assert.deepEqual(
        r.got.map((m) => [m.payload, m.qos]),
        [
          ['one', 1],
          ['two', 2],
        ],
      );
    },
  },
  {
    name: 'the will is published when the connection drops',
    scenario: 'will',
    versions: ['311', '5'],
    check(out, v) {
      const [m] = out as Message[];
      assert.equal(`${m!.topic} ${m!.payload}`, `paho/${v}/will gone`);
    },
  },
  {
    name: 'v5 properties: user properties, response topic, correlation data, content type, expiry, subscription id',
    scenario: 'properties',
    versions: ['5'],
    check(out) {
      const [m] = out as Message[];
      const p = m!.props!;
      assert.deepEqual(p['user'], [
        ['k1', 'v1'],
        ['k2', 'v2'],
      ]);
      assert.equal(p['response_topic'], 'paho/5/resp');
      assert.equal(p['correlation'], 'corr-1');
      assert.equal(p['content_type'], 'text/plain');
      assert.ok(p['expiry'] === 3600 || p['expiry'] === 3599, `expiry ${String(p['expiry'])}`);
      assert.deepEqual(p['sub_ids'], [42]);
    },
  },
];

/** The remaining expiry may have ticked a second; everything else must match exactly. */
const normalise = (s: string): string => s.replace(/"expiry": 3599/g, '"expiry": 3600');

if (python === undefined) {
  test('paho-mqtt interop skipped: `python3 -c "import paho.mqtt.client"` fails', { skip: 'apt-get install python3-paho-mqtt' }, () => {});
} else {
  const targets: Array<{ name: string; oracle: boolean }> = [];
  if (hasDebianMosquitto()) targets.push({ name: 'debian mosquitto 2.0.11 (oracle)', oracle: true });
  else test('Debian mosquitto not installed: the oracle comparison of the paho tests is skipped', { skip: 'apt-get install mosquitto' }, () => {});
  targets.push({ name: 'skeeter', oracle: false });

  const oracleOutput = new Map<string, string>();
  let dir: string;
  let script: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'skeeter-paho-'));
    script = join(dir, 'paho-client.py');
    copyFileSync(join(repoRoot, 'test', 'interop', 'paho-client.py'), script);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const target of targets) {
    describe(`paho-mqtt (${python}) against ${target.name}`, () => {
      let broker: RunningBroker;
      before(async () => {
        broker = await startBroker({ oracle: target.oracle });
      });
      after(async () => {
        await broker.stop();
      });
      for (const s of SCENARIOS) {
        for (const v of s.versions) {
          test(`${s.name} (MQTT ${v === '31' ? '3.1' : v === '311' ? '3.1.1' : '5'})`, { timeout: 30_000 }, async () => {
            const r = await runTool(python, [script, String(broker.port), v, s.scenario], 25_000);
            assert.equal(r.code, 0, `paho script failed: ${r.stderr}${r.stdout}`);
            const out = normalise(r.stdout.trim());
            s.check(JSON.parse(out), v);
            const key = `${s.scenario}/${v}`;
            if (target.oracle) oracleOutput.set(key, out);
            else if (oracleOutput.has(key)) assert.equal(out, oracleOutput.get(key), 'same as against Debian mosquitto');
          });
        }
      }
    });
  }
}
