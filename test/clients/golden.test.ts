/**
 * Golden tests: every row of golden-cases.ts runs with Debian's tool and with ours, same
 * arguments, same Debian broker; stdout, stderr, exit status (and, for rows that observe, the
 * messages that reached the broker) must be identical after masking.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import mqtt from 'mqtt';
import { CASES, type GoldenCase, type Seed } from './golden-cases.js';
import { debian, debianToolsMissing, freePort, mask, ours, runTool, startDebianBroker, type Broker, type RunResult } from './harness.js';

const missing = debianToolsMissing();

interface Ctx {
  broker: Broker;
  deny: Broker;
  closed: number;
}

/** Per-row helper connection: seeds retained/live messages and observes {t}/#. */
interface Helper {
  client: mqtt.MqttClient;
  seen: string[] | undefined;
}

async function openHelper(ctx: Ctx, prefix: string): Promise<Helper> {
  const client = await mqtt.connectAsync({ host: '127.0.0.1', port: ctx.broker.port, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000 });
  const helper: Helper = { client, seen: undefined };
  client.on('error', () => {});
  client.on('message', (topic, payload, packet) => {
    const props = { ...(packet.properties ?? {}) } as Record<string, unknown>;
    delete props.subscriptionIdentifier;
    helper.seen?.push(`${topic}|${payload.toString('latin1')}|q${packet.qos}|r${packet.retain ? 1 : 0}|${JSON.stringify(props)}`);
  });
  await client.subscribeAsync(`${prefix}/#`, { qos: 2, rap: true });
  return helper;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Publishes from the helper client; bounded so a lost connection fails the row, not the run. */
function publish(client: mqtt.MqttClient, topic: string, payload: string | Buffer, opts: mqtt.IClientPublishOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`helper publish to ${topic} not acknowledged in 5 s`)), 5000);
    client.publish(topic, payload, opts, (err) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    });
  });
}

async function seedRetained(h: Helper, seeds: readonly Seed[], sub: (s: string) => string): Promise<void> {
  for (const s of seeds) {
    await publish(h.client, sub(s.topic), s.payload, { qos: s.qos ?? 1, retain: true, ...(s.properties ? { properties: s.properties } : {}) });
  }
}

async function clearRetained(h: Helper, prefix: string, topics: Iterable<string>): Promise<void> {
  for (const t of topics) {
    if (t.startsWith(prefix)) await publish(h.client, t, '', { qos: 1, retain: true });
  }
}

async function runOnce(ctx: Ctx, h: Helper, c: GoldenCase, bin: string, prefix: string, dir: string): Promise<{ result: RunResult; seen: string[] }> {
  const sub = (s: string): string =>
    s
      .replaceAll('{port}', String(ctx.broker.port))
      .replaceAll('{deny}', String(ctx.deny.port))
      .replaceAll('{closed}', String(ctx.closed))
      .replaceAll('{t}', prefix)
      .replaceAll('{dir}', dir);
  for (const [name, content] of Object.entries(c.files ?? {})) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, sub(content));
  }
  await seedRetained(h, c.retained ?? [], sub);
  await sleep(100);
  const seen: string[] = [];
  h.seen = seen;
  const result = await runTool(bin, c.args.map(sub), {
    cwd: dir,
    stdin: c.stdin,
    env: c.env,
    timeoutMs: c.timeoutMs ?? 15_000,
    whileRunning: c.live
      ? async (done) => {
          // Bounded: at most 100 rounds of live messages.
          for (let i = 0; i < 100 && !done(); i++) {
            await sleep(150);
            for (const s of c.live ?? []) {
              if (done()) break;
              await publish(h.client, sub(s.topic), s.payload, { qos: s.qos ?? 0, retain: false }).catch(() => {});
            }
          }
        }
      : undefined,
  });
  await sleep(c.observe ? 400 : 50);
  h.seen = undefined;
  const retainedTopics = new Set<string>((c.retained ?? []).map((s) => sub(s.topic)));
  for (const line of seen) if (line.includes('|r1|')) retainedTopics.add(line.split('|')[0] as string);
  await clearRetained(h, prefix, retainedTopics);
  await sleep(50);
  return { result, seen };
}

function describeResult(r: RunResult): { stdout: string; stderr: string; status: number | null; signal: string | null } {
  return { stdout: mask(r.stdout), stderr: mask(r.stderr), status: r.status, signal: r.signal };
}

describe('golden: our mosquitto_pub/sub/rr against Debian 2.0.11, same args, same broker', { concurrency: 6 }, () => {
  if (missing) {
    it('skipped', { skip: missing }, () => {});
    return;
  }
  const ctx = {} as Ctx;
  before(async () => {
    ctx.broker = await startDebianBroker();
    ctx.deny = await startDebianBroker(['allow_anonymous false']);
    ctx.closed = await freePort();
  });
  after(async () => {
    await ctx.broker?.stop();
    await ctx.deny?.stop();
  });

  CASES.forEach((c, index) => {
    it(`${c.tool} ${c.name}`, { timeout: 120_000 }, async () => {
      const prefix = `g/${index}`;
      const dir = mkdtempSync(join(tmpdir(), 'skeeter-golden-case-'));
      const h = await openHelper(ctx, prefix);
      try {
        const theirs = await runOnce(ctx, h, c, debian(c.tool), prefix, dir);
        const mine = await runOnce(ctx, h, c, ours(c.tool), prefix, dir);
        assert.deepEqual(describeResult(mine.result), describeResult(theirs.result), `args: ${JSON.stringify(c.args)}`);
        if (c.observe) assert.deepEqual(mine.seen, theirs.seen, 'messages that reached the broker');
      } finally {
        h.client.end(true);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
