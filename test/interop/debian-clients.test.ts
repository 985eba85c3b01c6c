/**
 * Debian's mosquitto_pub / mosquitto_sub / mosquitto_rr (2.0.11) against our broker. Every case
 * also runs against the Debian broker, and the tools' exit codes and output must be the same.
 * Readiness of a subscriber is taken from the broker's own -v log line `Sending SUBACK to <id>`
 * (the broker has processed the SUBSCRIBE before it writes that line), so the tools' output stays
 * exactly what a user sees.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEBIAN_TOOLS, hasDebianTools, runTool, ToolProcess, type ToolResult } from './tools.js';
import { logLine, runInteropCases, type CaseContext, type InteropCase } from './oracle-cases.js';

const VERSIONS = ['31', '311', '5'] as const;
type V = (typeof VERSIONS)[number];

const result = (r: ToolResult): { code: number | null; stdout: string; stderr: string } => ({ code: r.code, stdout: r.stdout, stderr: r.stderr });

const pub = (ctx: CaseContext, args: string[]): Promise<ToolResult> =>
  runTool(DEBIAN_TOOLS.pub, ['-h', '127.0.0.1', '-p', String(ctx.broker.port), ...args]);

/** Starts mosquitto_sub with `-i id` and waits until the broker has acknowledged its subscriptions. */
async function subscriber(ctx: CaseContext, id: string, args: string[], ready = true): Promise<ToolProcess> {
  const mark = ctx.logMark();
  const t = new ToolProcess(DEBIAN_TOOLS.sub, ['-h', '127.0.0.1', '-p', String(ctx.broker.port), '-i', id, ...args]);
  t.proc.stdin!.end();
  if (ready) {
    try {
      await ctx.waitLog(logLine(`Sending SUBACK to ${id}\n`), mark);
    } catch (e) {
      t.kill('SIGKILL');
      throw new Error(`${String(e)}; mosquitto_sub: ${t.stdout()} ${t.stderr()}`);
    }
  }
  return t;
}

const sub = async (ctx: CaseContext, id: string, args: string[]): Promise<ToolResult> => {
  const t = await subscriber(ctx, id, args, false);
  return t.done();
};

/**
 * Proves that nothing is waiting for a subscriber on `topic` without waiting for a timeout: the
 * subscriber also subscribes to a probe topic, the probe is published after its SUBACK, and the
 * first (and only) message it prints must be the probe.
 */
async function nothingPending(ctx: CaseContext, id: string, args: string[], topic: string): Promise<ToolResult> {
  const probe = `probe/${id}`;
  const s = await subscriber(ctx, id, [...args, '-t', topic, '-t', probe, '-C', '1', '-W', '5', '-v']);
  await pub(ctx, ['-t', probe, '-m', 'probe']);
  const r = await s.done();
  assert.equal(r.stdout, `${probe} probe\n`, `nothing pending on ${topic}`);
  return r;
}

const cases: InteropCase[] = [];

// --- publish / subscribe at every QoS and version, with the tools' debug transcript -------------
for (const v of VERSIONS) {
  for (const q of [0, 1, 2]) {
    cases.push({
      name: `-V ${v}: QoS ${q} publish reaches a QoS ${q} subscriber (-d transcripts of both tools)`,
      async run(ctx) {
        const topic = `it/${v}/${q}`;
        const s = await subscriber(ctx, `sub-${v}-${q}`, ['-V', v, '-q', String(q), '-t', topic, '-C', '1', '-W', '5', '-v', '-d']);
        const p = await pub(ctx, ['-V', v, '-q', String(q), '-t', topic, '-m', `hello ${v} ${q}`, '-i', `pub-${v}-${q}`, '-d']);
        const r = await s.done();
        assert.equal(p.code, 0, p.stderr);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.includes(`${topic} hello ${v} ${q}\n`), r.stdout);
        return { pub: result(p), sub: result(r) };
      },
    });
  }
}

cases.push({
  name: 'delivery QoS is the lower of publish and subscription QoS, for each pair (-V 311 and 5, -F %q)',
  async run(ctx) {
    const out: Record<string, unknown> = {};
    for (const v of ['311', '5'] as const) {
      for (const sq of [0, 1, 2]) {
        const topic = `down/${v}/${sq}`;
        const s = await subscriber(ctx, `down-${v}-${sq}`, ['-V', v, '-q', String(sq), '-t', topic, '-C', '3', '-W', '5', '-F', '%t q%q r%r %p']);
        const codes: Array<number | null> = [];
        for (const pq of [0, 1, 2]) codes.push((await pub(ctx, ['-V', v, '-q', String(pq), '-t', topic, '-m', `p${pq}`])).code);
        const r = await s.done();
        const want = [0, 1, 2].map((pq) => `${topic} q${Math.min(pq, sq)} r0 p${pq}\n`).join('');
        assert.equal(r.stdout, want);
        out[topic] = { codes, sub: result(r) };
      }
    }
    return out;
  },
});

// --- retained messages -----------------------------------------------------------------------------
for (const v of VERSIONS) {
  cases.push({
    name: `-V ${v}: -r retains, a later subscriber gets it with the retain flag; -n -r clears it`,
    async run(ctx) {
      const topic = `ret/${v}/a`;
      const p1 = await pub(ctx, ['-V', v, '-r', '-q', '1', '-t', topic, '-m', 'kept']);
      const s1 = await sub(ctx, `ret1-${v}`, ['-V', v, '-t', topic, '-C', '1', '-W', '5', '-F', '%t %r %p']);
      assert.equal(s1.stdout, `${topic} 1 kept\n`);
      const p2 = await pub(ctx, ['-V', v, '-r', '-n', '-t', topic]);
      const s2 = await nothingPending(ctx, `ret2-${v}`, ['-V', v], topic);
      return { p1: result(p1), s1: result(s1), p2: result(p2), s2: result(s2) };
    },
  });
}

cases.push({
  name: '--retained-only prints the retained messages and exits at the first live one',
  async run(ctx) {
    const p1 = await pub(ctx, ['-V', '311', '-r', '-t', 'ro/x', '-m', 'stale']);
    const s = await subscriber(ctx, 'ro-sub', ['-V', '311', '-t', 'ro/x', '--retained-only', '-v', '-W', '5']);
    const p2 = await pub(ctx, ['-V', '311', '-t', 'ro/x', '-m', 'live']);
    const r = await s.done();
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'ro/x stale\n');
    return { p1: result(p1), p2: result(p2), sub: result(r) };
  },
});

cases.push({
  name: '-R hides retained (stale) messages and prints live ones',
  async run(ctx) {
    await pub(ctx, ['-V', '5', '-r', '-t', 'stale/x', '-m', 'old']);
    const s = await subscriber(ctx, 'stale-sub', ['-V', '5', '-t', 'stale/x', '-R', '-C', '1', '-W', '5', '-v']);
    const p = await pub(ctx, ['-V', '5', '-t', 'stale/x', '-m', 'new']);
    const r = await s.done();
    assert.equal(r.stdout, 'stale/x new\n');
    return { p: result(p), sub: result(r) };
  },
});

// --- -C / -W exit codes, -v output ----------------------------------------------------------------
for (const v of VERSIONS) {
  cases.push({
    name: `-V ${v}: -C 2 exits 0 after two -v lines` + (v === '311' ? '; -W with no message exits 27 ("Timed out")' : ''),
    async run(ctx) {
      // -W is the tool's own timer: checked once, not for every version.
      const w = v === '311' ? await sub(ctx, `w-${v}`, ['-V', v, '-t', `none/${v}`, '-W', '1']) : undefined;
      if (w) assert.equal(w.code, 27);
      const s = await subscriber(ctx, `cv-${v}`, ['-V', v, '-t', `cv/${v}/#`, '-C', '2', '-W', '5', '-v']);
      const ps = [await pub(ctx, ['-V', v, '-t', `cv/${v}/a`, '-m', 'first']), await pub(ctx, ['-V', v, '-t', `cv/${v}/b/c`, '-m', 'second line'])];
      const r = await s.done();
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `cv/${v}/a first\ncv/${v}/b/c second line\n`);
      return { w: w && result(w), pubs: ps.map(result), sub: result(r) };
    },
  });
}

cases.push({
  name: 'mosquitto_pub -l sends one message per stdin line; -s sends stdin whole; -n an empty payload',
  async run(ctx) {
    const s = await subscriber(ctx, 'lines-sub', ['-V', '311', '-t', 'lines/#', '-C', '5', '-W', '5', '-F', '%t [%p] %l']);
    const port = String(ctx.broker.port);
    const l = await runTool(DEBIAN_TOOLS.pub, ['-p', port, '-t', 'lines/l', '-l', '-q', '1'], 10_000, 'one\ntwo\nthree\n');
    const w = await runTool(DEBIAN_TOOLS.pub, ['-p', port, '-t', 'lines/s', '-s'], 10_000, 'whole\nfile');
    const n = await pub(ctx, ['-t', 'lines/n', '-n']);
    const r = await s.done();
    assert.equal(r.stdout, 'lines/l [one] 3\nlines/l [two] 3\nlines/l [three] 5\nlines/s [whole\nfile] 10\nlines/n [] 0\n');
    return { l: result(l), w: result(w), n: result(n), sub: result(r) };
  },
});

// --- wills ------------------------------------------------------------------------------------------
for (const v of VERSIONS) {
  cases.push({
    name: `-V ${v}: the will is published when the client is killed (SIGKILL by PID), retained with --will-retain`,
    async run(ctx) {
      const watcher = await subscriber(ctx, `watch-${v}`, ['-V', v, '-t', `will/${v}`, '-C', '1', '-W', '5', '-F', '%t %q %r %p']);
      const dying = await subscriber(ctx, `dying-${v}`, [
        '-V', v, '-t', `alive/${v}`, '--will-topic', `will/${v}`, '--will-payload', 'gone', '--will-qos', '1', '--will-retain',
      ]);
      dying.kill('SIGKILL');
      await dying.done();
      const w = await watcher.done();
      assert.equal(w.stdout, `will/${v} 0 0 gone\n`);
      const later = await sub(ctx, `later-${v}`, ['-V', v, '-q', '1', '-t', `will/${v}`, '-C', '1', '-W', '5', '-F', '%t %q %r %p']);
      assert.equal(later.stdout, `will/${v} 1 1 gone\n`);
      await pub(ctx, ['-V', v, '-r', '-n', '-t', `will/${v}`]);
      return { watcher: result(w), later: result(later) };
    },
  });
}

for (const v of ['311', '5'] as const) {
  cases.push({
    name:
      `-V ${v}: on SIGINT mosquitto_sub disconnects ` +
      (v === '5' ? 'with reason 0x04 (disconnect with will message): the will is published' : 'cleanly: the will is discarded'),
    async run(ctx) {
      const leaving = await subscriber(ctx, `leaving-${v}`, ['-V', v, '-t', `x/int/${v}`, '--will-topic', `will/int/${v}`, '--will-payload', 'gone']);
      const watcher = v === '5' ? await subscriber(ctx, `watch-int-${v}`, ['-V', v, '-t', `will/int/${v}`, '-C', '1', '-W', '5', '-v']) : undefined;
      leaving.kill('SIGINT');
      const l = await leaving.done();
      const w = watcher ? await watcher.done() : await nothingPending(ctx, `watch-int-${v}`, ['-V', v], `will/int/${v}`);
      if (watcher) assert.equal(w.stdout, `will/int/${v} gone\n`);
      return { leaving: { code: l.code, stdout: l.stdout }, watcher: result(w) };
    },
  });
}

// --- persistent sessions -------------------------------------------------------------------------
for (const v of VERSIONS) {
  cases.push({
    name: `-V ${v}: -c keeps the session; QoS 1/2 messages published meanwhile are delivered on return, QoS 0 is not queued`,
    async run(ctx) {
      const id = `persist-${v}`;
      const topic = `pq/${v}`;
      const first = await sub(ctx, id, ['-V', v, '-c', '-q', '2', '-t', topic, '-E']);
      assert.equal(first.code, 0, first.stderr);
      const pubs = [
        await pub(ctx, ['-V', v, '-q', '1', '-t', topic, '-m', 'one']),
        await pub(ctx, ['-V', v, '-q', '0', '-t', topic, '-m', 'zero']),
        await pub(ctx, ['-V', v, '-q', '2', '-t', topic, '-m', 'two']),
      ];
      const back = await sub(ctx, id, ['-V', v, '-c', '-q', '2', '-t', topic, '-C', '2', '-W', '5', '-F', '%t %q %p']);
      assert.equal(back.code, 0, back.stderr);
      assert.equal(back.stdout, `${topic} 1 one\n${topic} 2 two\n`);
      // Without -c the session is discarded: nothing is waiting on the next return.
      await sub(ctx, id, ['-V', v, '-t', topic, '-E']);
      await pub(ctx, ['-V', v, '-q', '1', '-t', topic, '-m', 'lost']);
      const clean = await nothingPending(ctx, id, ['-V', v, '-c', '-q', '1'], topic);
      return { first: result(first), pubs: pubs.map(result), back: result(back), clean: result(clean) };
    },
  });
}

// --- v5 properties ---------------------------------------------------------------------------------
cases.push({
  name: '-D v5 properties reach the subscriber: user properties, expiry, content type, format, response topic, correlation data, subscription id',
  async run(ctx) {
    const s = await subscriber(ctx, 'props-sub', [
      '-V', '5', '-q', '1', '-t', 'props/x', '-C', '1', '-W', '5', '-D', 'subscribe', 'subscription-identifier', '7',
      '-F', '%t|%P|%E|%C|%F|%R|%D|%S|%q|%p',
    ]);
    const p = await pub(ctx, [
      '-V', '5', '-q', '1', '-t', 'props/x', '-m', 'body',
      '-D', 'publish', 'user-property', 'k1', 'v1', '-D', 'publish', 'user-property', 'k2', 'v2',
      '-D', 'publish', 'message-expiry-interval', '3600', '-D', 'publish', 'content-type', 'text/plain',
      '-D', 'publish', 'payload-format-indicator', '1', '-D', 'publish', 'response-topic', 'r/t',
      '-D', 'publish', 'correlation-data', 'abc',
    ]);
    const r = await s.done();
    // The expiry is the remaining time on delivery: 3600, or 3599 if a second boundary passed.
    assert.match(r.stdout, /^props\/x\|k1:v1 k2:v2\|360[0]\|text\/plain\|1\|r\/t\|abc\|7\|1\|body\n$|^props\/x\|k1:v1 k2:v2\|3599\|/);
    return { p: result(p), sub: { code: r.code, stdout: r.stdout.replace('|3599|', '|3600|') } };
  },
});

cases.push({
  name: '-D connect user-property and will properties are accepted; a message-expiry of 1 s expires a retained message and a queued one',
  async run(ctx) {
    const c = await pub(ctx, ['-V', '5', '-D', 'connect', 'user-property', 'who', 'me', '-D', 'connect', 'session-expiry-interval', '0', '-t', 'exp/ok', '-m', 'x']);
    assert.equal(c.code, 0, c.stderr);
    await sub(ctx, 'exp-sess', ['-V', '5', '-c', '-x', '60', '-q', '1', '-t', 'exp/q', '-E']);
    await pub(ctx, ['-V', '5', '-r', '-t', 'exp/r', '-m', 'short', '-D', 'publish', 'message-expiry-interval', '1']);
    await pub(ctx, ['-V', '5', '-q', '1', '-t', 'exp/q', '-m', 'short', '-D', 'publish', 'message-expiry-interval', '1']);
    await pub(ctx, ['-V', '5', '-q', '1', '-t', 'exp/q', '-m', 'long', '-D', 'publish', 'message-expiry-interval', '100']);
    // Past the 1 s expiry (Mosquitto counts whole seconds, so wait over two).
    await new Promise((r) => setTimeout(r, 2200));
    const retained = await nothingPending(ctx, 'exp-ret', ['-V', '5'], 'exp/r');
    const queued = await sub(ctx, 'exp-sess', ['-V', '5', '-c', '-x', '60', '-q', '1', '-t', 'exp/q', '-C', '1', '-W', '5', '-F', '%p %E']);
    assert.match(queued.stdout, /^long 9[78]\n$/);
    return { c: result(c), retained: result(retained), queued: { code: queued.code, stdout: queued.stdout.slice(0, 5) } };
  },
});

cases.push({
  name: 'mosquitto_rr: request with response topic and correlation data, answered by a mosquitto_sub/mosquitto_pub responder',
  async run(ctx) {
    const responder = await subscriber(ctx, 'responder', ['-V', '5', '-t', 'req/x', '-C', '1', '-W', '5', '-F', '%R|%D|%p']);
    const rr = new ToolProcess(DEBIAN_TOOLS.rr, [
      '-h', '127.0.0.1', '-p', String(ctx.broker.port), '-i', 'requester', '-t', 'req/x', '-e', 'resp/x', '-m', 'question',
      '-D', 'publish', 'correlation-data', 'cid-1', '-W', '5', '-v',
    ]);
    rr.proc.stdin!.end();
    const req = await responder.done();
    assert.equal(req.stdout, 'resp/x|cid-1|question\n');
    const [responseTopic, correlation] = req.stdout.trim().split('|');
    const answer = await pub(ctx, ['-V', '5', '-t', responseTopic!, '-D', 'publish', 'correlation-data', correlation!, '-m', 'answer']);
    const r = await rr.done();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'resp/x answer\n');
    return { req: result(req), answer: result(answer), rr: result(r) };
  },
});

cases.push({
  name: 'mosquitto_rr -W with no responder exits with "Timed out"',
  async run(ctx) {
    const r = await runTool(DEBIAN_TOOLS.rr, ['-p', String(ctx.broker.port), '-t', 'req/none', '-e', 'resp/none', '-m', 'q', '-W', '1']);
    assert.notEqual(r.code, 0);
    return { rr: result(r) };
  },
});

// --- $SYS ------------------------------------------------------------------------------------------
cases.push({
  name: '$SYS/broker/version is readable (retained); our broker names itself as Mosquitto 2.0.x',
  noCompare: 'the version text differs by design',
  async run(ctx) {
    const r = await sub(ctx, 'sys-version', ['-t', '$SYS/broker/version', '-C', '1', '-W', '5', '-F', '%t %r %p']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\$SYS\/broker\/version 1 mosquitto version 2\.0\.\d+.*\n$/);
    if (!ctx.oracle) assert.match(r.stdout, /skeeter/);
    const denied = await pub(ctx, ['-t', '$SYS/broker/version', '-m', 'fake', '-r']);
    assert.equal(denied.code, 0, 'a write to $SYS is silently dropped, not refused');
    const again = await sub(ctx, 'sys-version-2', ['-t', '$SYS/broker/version', '-C', '1', '-W', '5', '-F', '%p']);
    assert.notEqual(again.stdout, 'fake\n');
    return { code: r.code };
  },
});

// --- authentication refused ------------------------------------------------------------------------
const NO_ANON = ['allow_anonymous false'];
for (const v of VERSIONS) {
  cases.push({
    name: `-V ${v}: allow_anonymous false refuses an anonymous client ("not authorised"), with the tools' exit codes`,
    config: NO_ANON,
    async run(ctx) {
      const p = await pub(ctx, ['-V', v, '-t', 'a', '-m', 'b']);
      const s = await sub(ctx, `anon-${v}`, ['-V', v, '-t', 'a', '-C', '1', '-W', '3']);
      const refused = v === '5' ? 'Connection error: Not authorized\n' : 'Connection error: Connection Refused: not authorised.\n';
      assert.ok(p.stderr.startsWith(refused), p.stderr);
      assert.equal(s.stderr, refused);
      assert.equal(p.code, v === '5' ? 135 : 5);
      assert.equal(s.code, v === '5' ? 135 : 5);
      return { p: result(p), s: result(s) };
    },
  });
  cases.push({
    name: `-V ${v}: allow_anonymous false with no password file also refuses -u/-P ("not authorised")`,
    config: NO_ANON,
    async run(ctx) {
      const p = await pub(ctx, ['-V', v, '-u', 'bob', '-P', 'secret', '-t', 'a', '-m', 'b']);
      const s = await sub(ctx, `user-${v}`, ['-V', v, '-u', 'bob', '-P', 'secret', '-t', 'a', '-C', '1', '-W', '1']);
      assert.equal(p.code, v === '5' ? 135 : 5, p.stderr);
      assert.equal(s.code, v === '5' ? 135 : 5, s.stderr);
      return { p: result(p), s: result(s) };
    },
  });
}

if (!hasDebianTools()) {
  test('Debian mosquitto_pub/mosquitto_sub/mosquitto_rr are not installed: interop skipped', { skip: 'apt-get install mosquitto-clients' }, () => {});
} else {
  runInteropCases('Debian mosquitto clients against our broker', cases);
}
