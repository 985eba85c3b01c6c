/**
 * A fuzzer for a live broker process, shared by test/broker/fuzz.test.ts (bounded run) and
 * scripts/fuzz-broker.mjs (long run). Many attacker connections send random bytes, mutated valid
 * packets (bit flips, truncation, bad remaining lengths, spliced and repeated packets) before and
 * after a valid CONNECT, in all three protocol versions, split into random chunks; meanwhile one
 * well-behaved client keeps doing QoS 1 publish/subscribe round trips, each bounded by a timeout.
 * The packets come from the independent builder in test/helpers/mqtt-bytes.ts, never our codec.
 * Deterministic for a seed, apart from the timing of the sockets.
 */
import { connect as netConnect } from 'node:net';
import { readdirSync, readlinkSync } from 'node:fs';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';

/** mulberry32: a small seeded PRNG, so a failing run can be repeated with its seed. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const VERSIONS: readonly m.Version[] = [3, 4, 5];

/** A random, valid CONNECT for `v`: sometimes with a will, credentials, v5 properties. */
export function validConnect(r: Random, v: m.Version, clientId: string): Buffer {
  const o: m.ConnectOptions = { clientId, keepalive: r.pick([0, 5, 60, 65535]), clean: v === 3 ? true : r.chance(0.7) };
  if (r.chance(0.3)) {
    o.will = { topic: `fz/will/${r.int(10)}`, payload: r.bytes(r.int(20)), qos: r.int(3), retain: r.chance(0.2) };
    if (v === 5 && r.chance(0.5)) o.will.props = m.props(m.propU32(0x18, r.int(3)), m.propByte(0x01, 1), m.propStr(0x03, 'text/plain'));
  }
  if (r.chance(0.2)) {
    o.username = 'fz';
    o.password = 'pw';
  }
  if (v === 5 && r.chance(0.5)) {
    o.props = m.props(
      m.propU32(0x11, r.pick([0, 10, 0xffffffff])),
      m.propU16(0x21, r.pick([1, 5, 65535])),
      m.propU16(0x22, r.pick([0, 3, 10])),
      m.propPair('k', 'v'),
    );
  }
  return m.connect(v, o);
}

/** Valid packets a connected client may send (in some order), for `v`. */
export function validPackets(r: Random, v: m.Version): Buffer[] {
  const topic = r.pick(['fz/a', 'fz/b/c', 'fz/+/x', '$SYS/x', 'fz/#', '']);
  const pubTopic = topic.includes('+') || topic.includes('#') ? 'fz/t' : topic;
  const mid = 1 + r.int(65535);
  const pubProps =
    v === 5
      ? m.props(
          ...[
            r.chance(0.3) ? m.propByte(0x01, r.int(2)) : Buffer.alloc(0),
            r.chance(0.3) ? m.propU32(0x02, r.int(100)) : Buffer.alloc(0),
            r.chance(0.3) ? m.propU16(0x23, 1 + r.int(12)) : Buffer.alloc(0),
            r.chance(0.3) ? m.propStr(0x08, 'fz/resp') : Buffer.alloc(0),
            r.chance(0.3) ? m.propStr(0x09, 'corr') : Buffer.alloc(0),
            r.chance(0.3) ? m.propPair('a', 'b') : Buffer.alloc(0),
          ],
        )
      : undefined;
  const subProps = v === 5 && r.chance(0.5) ? m.props(m.propVarint(0x0b, 1 + r.int(1000))) : undefined;
  const qos = r.int(3);
  const opts = v === 5 ? qos | (r.int(2) << 2) | (r.int(2) << 3) | (r.int(3) << 4) : qos;
  const packets = [
    m.publish(v, pubTopic, r.bytes(r.int(64)), { qos, retain: r.chance(0.2), mid, props: pubProps }),
    m.subscribe(v, mid, [[r.pick(['fz/#', 'fz/+/x', '$share/g/fz/a', '#', topic]), opts]], subProps),
    m.unsubscribe(v, mid, [r.pick(['fz/#', 'fz/a', topic])]),
    m.puback(v, mid, v === 5 ? r.pick([0, 0x10, 0x80]) : 0),
    m.pubrec(v, mid, v === 5 ? r.pick([0, 0x80]) : 0),
    m.pubrel(v, mid),
    m.pubcomp(v, mid),
    m.pingreq(),
    m.disconnect(v, v === 5 ? r.pick([0, 4, 0x80]) : 0),
  ];
  if (v === 5) packets.push(m.packet(0xf0, Buffer.from([0x18]), m.props(m.propStr(0x15, 'method'))));
  return packets;
}

/** One mutation of a valid packet. */
export function mutate(r: Random, p: Buffer): Buffer {
  switch (r.int(8)) {
    case 0: {
      // bit flips
      const b = Buffer.from(p);
      for (let i = 1 + r.int(8); i > 0; i--) {
        const at = r.int(b.length);
        b[at] = b[at]! ^ (1 << r.int(8));
      }
      return b;
    }
    case 1:
      // truncation (the peer then waits for the rest, or sees the next bytes as the rest)
      return p.subarray(0, r.int(p.length));
    case 2: {
      // a wrong remaining length: a random or over-long (5-byte) varint in place of the real one
      let i = 1;
      while (i < p.length && (p[i]! & 0x80) !== 0) i++;
      const body = p.subarray(i + 1);
      const len = r.chance(0.3) ? Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]) : m.varint(r.int(body.length * 2 + 8));
      return Buffer.concat([p.subarray(0, 1), len, body]);
    }
    case 3: {
      // a random first byte (type and flags), body kept
      const b = Buffer.from(p);
      b[0] = r.int(256);
      return b;
    }
    case 4: {
      // random bytes inserted in the middle
      const at = r.int(p.length);
      return Buffer.concat([p.subarray(0, at), r.bytes(1 + r.int(16)), p.subarray(at)]);
    }
    case 5: {
      // a body byte set to a boundary value (lengths, property ids, flags)
      const b = Buffer.from(p);
      if (b.length > 2) b[2 + r.int(b.length - 2)] = r.pick([0x00, 0x01, 0x7f, 0x80, 0xff, 0x26, 0x0b, 0x23]);
      return b;
    }
    case 6:
      // the packet twice, the second one damaged
      return Buffer.concat([p, mutate(r, p)]);
    default: {
      // a slice of the packet followed by random bytes
      return Buffer.concat([p.subarray(0, r.int(p.length)), r.bytes(r.int(32))]);
    }
  }
}

/** The bytes one attacker connection sends: a mix of the attack kinds. */
export function attackBytes(r: Random, n: number): { kind: string; version: m.Version; bytes: Buffer } {
  const v = r.pick(VERSIONS);
  const id = `fz-${n}`;
  const kind = r.pick(['random', 'mutated-connect', 'after-connect', 'after-connect', 'after-connect', 'valid-sequence'] as const);
  switch (kind) {
    case 'random':
      return { kind, version: v, bytes: r.bytes(1 + r.int(r.chance(0.1) ? 4096 : 256)) };
    case 'mutated-connect': {
      const c = mutate(r, validConnect(r, v, id));
      return { kind, version: v, bytes: Buffer.concat([c, ...validPackets(r, v).slice(0, r.int(4))]) };
    }
    case 'after-connect': {
      const parts = [validConnect(r, v, id)];
      const pool = validPackets(r, v);
      for (let i = 1 + r.int(4); i > 0; i--) parts.push(r.chance(0.6) ? mutate(r, r.pick(pool)) : r.pick(pool));
      if (r.chance(0.2)) parts.push(r.bytes(r.int(64)));
      return { kind, version: v, bytes: Buffer.concat(parts) };
    }
    default: {
      // valid packets in a random order (state-machine abuse: a second CONNECT, stray acks, ...)
      const parts = [validConnect(r, v, id)];
      const pool = [...validPackets(r, v), validConnect(r, r.pick(VERSIONS), id)];
      for (let i = 2 + r.int(8); i > 0; i--) parts.push(r.pick(pool));
      return { kind, version: v, bytes: Buffer.concat(parts) };
    }
  }
}

/** Sends one attack on its own socket, in random chunks; resolves when done (bounded). */
function runAttack(port: number, r: Random, bytes: Buffer, lingerMs: number): Promise<'closed-by-broker' | 'closed-by-us' | 'error'> {
  return new Promise((resolve) => {
    const socket = netConnect({ port, host: '127.0.0.1' });
    let settled = false;
    const finish = (how: 'closed-by-broker' | 'closed-by-us' | 'error'): void => {
      if (settled) return;
      settled = true;
      clearTimeout(hard);
      socket.destroy();
      resolve(how);
    };
    // A hard bound on the whole attack, whatever the broker does.
    const hard = setTimeout(() => finish('closed-by-us'), lingerMs + 2000);
    socket.on('data', () => undefined); // read and drop whatever the broker answers
    socket.on('error', () => finish('error'));
    socket.on('close', () => finish('closed-by-broker'));
    socket.once('connect', () => {
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; ) {
        const n = r.chance(0.5) ? bytes.length - at : 1 + r.int(Math.max(1, bytes.length - at));
        chunks.push(bytes.subarray(at, at + n));
        at += n;
      }
      const writeNext = (): void => {
        if (settled) return;
        const c = chunks.shift();
        if (!c) {
          setTimeout(() => finish('closed-by-us'), lingerMs);
          return;
        }
        socket.write(c);
        setTimeout(writeNext, r.chance(0.7) ? 0 : r.int(20));
      };
      writeNext();
    });
  });
}

/** A well-behaved v`version` client doing QoS 1 round trips to itself through the broker. */
export class RoundTripper {
  private client: RawClient | undefined;
  private mid = 0;
  readonly version: m.Version;
  readonly topic: string;
  readonly id: string;
  constructor(version: m.Version, id: string) {
    this.version = version;
    this.id = id;
    this.topic = `ok/${id}`;
  }

  async open(port: number, timeoutMs = 5000): Promise<void> {
    const v = this.version;
    this.client = await RawClient.open(port, '127.0.0.1', timeoutMs);
    this.client.send(m.connect(v, { clientId: this.id, keepalive: 0 }));
    await this.expect((p) => p[0] === 0x20 && p[3] === 0, 'CONNACK 0', timeoutMs);
    this.client.send(m.subscribe(v, 1, [[this.topic, 1]]));
    await this.expect((p) => p[0] === 0x90 && p[p.length - 1] === 1, 'SUBACK granting QoS 1', timeoutMs);
  }

  /** Publishes at QoS 1 to its own topic; resolves when both the PUBACK and the delivery came. */
  async roundTrip(timeoutMs = 5000): Promise<void> {
    const v = this.version;
    this.mid = (this.mid % 60000) + 1;
    const payload = `rt-${this.mid}`;
    this.client!.send(m.publish(v, this.topic, payload, { qos: 1, mid: this.mid }));
    let acked = false;
    let delivered = false;
    const deadline = Date.now() + timeoutMs;
    while (!acked || !delivered) {
      const p = await this.client!.next(Math.max(1, deadline - Date.now()));
      if (p === null) throw new Error(`${this.id}: connection closed by the broker`);
      const type = p[0]! >> 4;
      if (type === 4 && p.readUInt16BE(2) === this.mid) acked = true;
      else if (type === 3) {
        const tlen = p.readUInt16BE(p[1]! & 0x80 ? 3 : 2);
        // Find the payload text in the packet; the exact layout is checked by the protocol tests.
        if (p.includes(Buffer.from(payload))) delivered = true;
        const hdr = (p[1]! & 0x80 ? 3 : 2) + 2 + tlen;
        if ((p[0]! & 0x06) !== 0) this.client!.send(m.puback(v, p.readUInt16BE(hdr)));
      }
    }
  }

  private async expect(ok: (p: Buffer) => boolean, what: string, timeoutMs: number): Promise<void> {
    const p = await this.client!.next(timeoutMs);
    if (p === null || !ok(p)) throw new Error(`${this.id}: expected ${what}, got ${p === null ? 'CLOSED' : p.toString('hex')}`);
  }

  close(): void {
    this.client?.close();
  }
}

export interface FuzzOptions {
  port: number;
  seconds: number;
  seed: number;
  /** Attacker connections open at once. */
  concurrency?: number;
  /** How long an attacker keeps its socket open after its last byte. */
  lingerMs?: number;
  onProgress?: (report: FuzzReport) => void;
}

export interface FuzzReport {
  seed: number;
  attacks: number;
  bytes: number;
  byKind: Record<string, number>;
  closedByBroker: number;
  roundTrips: number;
  failures: string[];
}

/** Runs the attackers and the well-behaved clients until `seconds` have passed. */
export async function fuzzBroker(o: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = { seed: o.seed, attacks: 0, bytes: 0, byKind: {}, closedByBroker: 0, roundTrips: 0, failures: [] };
  const deadline = Date.now() + o.seconds * 1000;
  const concurrency = o.concurrency ?? 16;
  const linger = o.lingerMs ?? 150;

  // One well-behaved client per version, each on its own loop.
  const good = VERSIONS.map((v) => new RoundTripper(v, `good-v${v}`));
  const goodLoops = good.map(async (g) => {
    try {
      await g.open(o.port);
      while (Date.now() < deadline) {
        await g.roundTrip();
        report.roundTrips++;
      }
    } catch (e) {
      report.failures.push(`well-behaved client v${g.version}: ${(e as Error).message}`);
    } finally {
      g.close();
    }
  });

  let n = 0;
  const attackers = Array.from({ length: concurrency }, async (_, w) => {
    const r = new Random(o.seed ^ (w * 0x9e3779b9));
    while (Date.now() < deadline) {
      const a = attackBytes(r, n++);
      report.attacks++;
      report.bytes += a.bytes.length;
      report.byKind[a.kind] = (report.byKind[a.kind] ?? 0) + 1;
      const how = await runAttack(o.port, r, a.bytes, r.int(linger));
      if (how === 'closed-by-broker') report.closedByBroker++;
    }
  });
  const progress = o.onProgress ? setInterval(() => o.onProgress!(report), 5000) : undefined;
  await Promise.all([...attackers, ...goodLoops]);
  if (progress) clearInterval(progress);
  return report;
}

/** Sockets held by a process (Linux /proc), or undefined where /proc is not available. */
export function socketCount(pid: number): number | undefined {
  try {
    let n = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
      } catch {
        // closed meanwhile
      }
    }
    return n;
  } catch {
    return undefined;
  }
}

/** Lines of a broker's stderr that show a crash: a JS stack frame or an uncaught error. */
export function crashLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => /^\s+at .+(:\d+:\d+\)?|\(native\))$/.test(l) || /(^|\s)(\w*Error|Error):\s/.test(l) || /node:internal|Uncaught|FATAL/.test(l));
}

/** What one connection got back for some bytes: the bytes, and whether the broker closed. */
export interface WireOutcome {
  out: string;
  closed: boolean;
}

/**
 * Sends `bytes` at once on a fresh connection and collects the answer until the broker closes
 * or stays quiet for `idleMs` (exploration only; the tests prove "open" with a PINGREQ instead).
 */
export function wireOutcome(port: number, bytes: Buffer, idleMs = 200): Promise<WireOutcome> {
  return new Promise((resolve) => {
    const s = netConnect({ port, host: '127.0.0.1' });
    let out = Buffer.alloc(0);
    let t: NodeJS.Timeout | undefined;
    let settled = false;
    const done = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(t);
      s.destroy();
      resolve({ out: out.toString('hex'), closed });
    };
    const arm = (): void => {
      clearTimeout(t);
      t = setTimeout(() => done(false), idleMs);
    };
    s.on('data', (d: Buffer) => {
      out = Buffer.concat([out, d]);
      arm();
    });
    s.on('close', () => done(true));
    s.on('error', () => undefined);
    s.on('connect', () => {
      s.write(bytes);
      arm();
    });
  });
}

/**
 * Known, intended differences from the Debian 2.0.11 oracle, removed before comparing: 2.0.11
 * answers a v5 keepalive of 0 with Server Keep Alive 65535 (its max_keepalive default); 2.0.20
 * does not.
 */
export function normaliseOracle(hex: string): string {
  return hex.replace(/^200c00000922000a13ffff210014/, '200900000622000a210014');
}

export interface WireDifference {
  index: number;
  kind: string;
  version: m.Version;
  sent: string;
  ours: WireOutcome;
  oracle: WireOutcome;
}

/**
 * Differential run: the same attacks, one at a time, at our broker and at the oracle; every
 * difference in the bytes answered or in closing is reported, shrunk to the shortest prefix of
 * the input that still differs. Attacks whose first byte is not CONNECT are skipped (a known
 * difference: see the first wire case in test/broker/fuzz.test.ts).
 */
export async function differentialRun(o: {
  ourPort: number;
  oraclePort: number;
  count: number;
  seed: number;
  onDifference?: (d: WireDifference) => void;
}): Promise<{ compared: number; differences: WireDifference[] }> {
  const r = new Random(o.seed);
  const differences: WireDifference[] = [];
  let compared = 0;
  const differ = async (b: Buffer): Promise<[WireOutcome, WireOutcome] | undefined> => {
    const [x, y] = await Promise.all([wireOutcome(o.ourPort, b), wireOutcome(o.oraclePort, b)]);
    y.out = normaliseOracle(y.out);
    return x.closed !== y.closed || x.out !== y.out ? [x, y] : undefined;
  };
  for (let i = 0; i < o.count; i++) {
    const a = attackBytes(r, 1_000_000 + i);
    if (a.bytes[0]! >> 4 !== 1) continue;
    compared++;
    let d = await differ(a.bytes);
    if (!d) continue;
    let bytes = a.bytes;
    // Shrink from the end while the difference stays (bounded: stop after 40 misses in a row).
    for (let cut = bytes.length - 1, misses = 0; cut > 2 && misses < 40; cut--) {
      const d2 = await differ(bytes.subarray(0, cut));
      if (d2) {
        bytes = bytes.subarray(0, cut);
        d = d2;
        misses = 0;
      } else misses++;
    }
    const diff = { index: i, kind: a.kind, version: a.version, sent: bytes.toString('hex'), ours: d[0], oracle: d[1] };
    differences.push(diff);
    o.onDifference?.(diff);
  }
  return { compared, differences };
}
