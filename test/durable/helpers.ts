/**
 * Helpers of the durable-mode tests: a broker process restarted in place on one data directory
 * (killed with SIGKILL or stopped with SIGTERM, always by PID), a pipelining publisher that
 * records which messages were acknowledged, and a subscriber that drains its session up to a
 * marker message. Every wait has a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../helpers/broker-process.js';
import { launcher } from '../helpers/paths.js';
import * as m from '../helpers/mqtt-bytes.js';

export interface DurableBroker {
  readonly port: number;
  readonly pid: number;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  kill(): Promise<void>;
  stop(): Promise<number | null>;
  /** Sends `sig` (e.g. SIGUSR1: save now) if the broker still runs. */
  signal(sig: NodeJS.Signals): void;
}

/** Config lines for a journalled broker storing in `dir`. */
export function durableConfig(dir: string, port: number, extra: string[] = []): string[] {
  return [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence true',
    `persistence_location ${dir}/`,
    'persistence_journal true',
    // Room for every message of a run in each offline session.
    'max_queued_messages 0',
    ...extra,
  ];
}

/**
 * Starts our broker with `lines` as its config in `dir`. Resolves once it accepts connections,
 * or with the exit code when it exits first (`ready: false`).
 */
export async function startDurable(dir: string, lines: string[], port?: number): Promise<DurableBroker & { ready: boolean }> {
  const p = port ?? (await freePort());
  const conf = join(dir, 'durable.conf');
  writeFileSync(conf, lines.map((l) => l.replace('%PORT%', String(p))).join('\n') + '\n');
  const proc: ChildProcess = spawn(launcher('mosquitto'), ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let ready = false;
  // Ready when it says so (or a TCP connection succeeds): at most 30 s on a slow machine.
  for (let i = 0; i < 300 && proc.exitCode === null && proc.signalCode === null; i++) {
    if (err.includes(' running')) {
      ready = await canConnect(p);
      if (ready) break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!ready && proc.exitCode === null) {
    process.kill(proc.pid!, 'SIGKILL');
    await exited;
    throw new Error(`broker did not start: ${err}`);
  }
  return {
    port: p,
    pid: proc.pid!,
    ready,
    stderr: () => err,
    exited,
    signal(sig) {
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, sig);
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, 'SIGKILL');
      await exited;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, 'SIGTERM');
      const t = setTimeout(() => {
        if (proc.exitCode === null) process.kill(proc.pid!, 'SIGKILL');
      }, 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A parsed incoming packet. */
export interface Incoming {
  readonly type: number;
  readonly flags: number;
  readonly body: Buffer;
}

/** A socket that frames MQTT packets and hands each to `onPacket`. */
export class Peer {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  private buf: Buffer = Buffer.alloc(0);
  /** Packets nobody waited for yet (e.g. a PUBLISH in the same read as CONNACK), for `next`. */
  private readonly unclaimed: Incoming[] = [];
  onPacket: (p: Incoming) => void = (p) => {
    this.unclaimed.push(p);
  };

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      for (;;) {
        const b = this.buf;
        if (b.length < 2) return;
        let rl = 0;
        let mul = 1;
        let i = 1;
        for (;;) {
          if (i >= b.length) return;
          const x = b[i]!;
          rl += (x & 0x7f) * mul;
          i++;
          if ((x & 0x80) === 0) break;
          mul *= 128;
        }
        if (b.length < i + rl) return;
        const p = { type: b[0]! >> 4, flags: b[0]! & 0x0f, body: b.subarray(i, i + rl) };
        this.buf = b.subarray(i + rl);
        this.onPacket(p);
      }
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const s = netConnect({ port, host: '127.0.0.1' });
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error('connect timed out'));
      }, 10_000);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(new Peer(s));
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  send(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  /** Waits for the next packet of `type` (others go to `onPacket`'s previous handler unseen). */
  next(type: number, timeoutMs = 15_000): Promise<Incoming> {
    const i = this.unclaimed.findIndex((p) => p.type === type);
    if (i >= 0) return Promise.resolve(this.unclaimed.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const prev = this.onPacket;
      const t = setTimeout(() => {
        this.onPacket = prev;
        reject(new Error(`no packet of type ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.onPacket = (p) => {
        if (p.type !== type) return prev(p);
        clearTimeout(t);
        this.onPacket = prev;
        resolve(p);
      };
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export const sessionProps = (v: m.Version): Partial<m.ConnectOptions> => (v === 5 ? { props: m.props(m.propU32(0x11, 0xffffffff)) } : {});

/** Connects; resolves with the CONNACK's session-present flag. */
export async function connectPeer(port: number, v: m.Version, o: m.ConnectOptions): Promise<{ peer: Peer; present: boolean }> {
  const peer = await Peer.open(port);
  const ack = peer.next(2);
  peer.send(m.connect(v, o));
  const p = await ack;
  if (p.body[1] !== 0) throw new Error(`CONNACK refused: ${p.body.toString('hex')}`);
  return { peer, present: (p.body[0]! & 1) === 1 };
}

/** Creates (or keeps) a persistent session subscribed to `filter` at QoS 2, then disconnects. */
export async function persistentSubscriber(port: number, v: m.Version, clientId: string, filter: string): Promise<void> {
  const { peer } = await connectPeer(port, v, { clientId, clean: false, ...sessionProps(v) });
  const ack = peer.next(9);
  peer.send(m.subscribe(v, 1, [[filter, 2]]));
  await ack;
  peer.send(m.disconnect(v));
  await waitClosed(peer);
}

async function waitClosed(peer: Peer, timeoutMs = 10_000): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([peer.closed, new Promise<void>((r) => (t = setTimeout(r, timeoutMs)))]);
  clearTimeout(t);
  peer.close();
}

/** What a publisher got acknowledged: payloads whose PUBACK (QoS 1) or PUBCOMP (QoS 2) arrived. */
export interface PublishRun {
  readonly acked: string[];
  readonly sent: number;
}

/**
 * Publishes `prefix-<n>` payloads on `topic` at `qos` with up to `window` messages outstanding,
 * until the connection drops or `max` messages are acknowledged.
 */
export async function runPublisher(port: number, v: m.Version, clientId: string, topic: string, qos: 1 | 2, prefix: string, max: number, window = 10): Promise<PublishRun> {
  const { peer } = await connectPeer(port, v, { clientId, clean: true });
  const acked: string[] = [];
  const outstanding = new Map<number, string>();
  let n = 0;
  let mid = 0;
  const pump = (): void => {
    while (outstanding.size < window && n < max) {
      mid = mid === 65535 ? 1 : mid + 1;
      const payload = `${prefix}-${n++}`;
      outstanding.set(mid, payload);
      peer.send(m.publish(v, topic, payload, { qos, mid }));
    }
  };
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  peer.onPacket = (p) => {
    const id = p.body.readUInt16BE(0);
    if (p.type === 4 || p.type === 7) {
      // PUBACK or PUBCOMP: acknowledged for good.
      const payload = outstanding.get(id);
      if (payload !== undefined) {
        outstanding.delete(id);
        acked.push(payload);
      }
      if (acked.length >= max) finish();
      else pump();
    } else if (p.type === 5) {
      peer.send(m.pubrel(v, id));
    }
  };
  void peer.closed.then(() => finish());
  pump();
  await done;
  peer.close();
  return { acked, sent: n };
}

/** What a subscriber received from its session: payload -> how many times, by QoS. */
export interface Drained {
  readonly counts: Map<string, number>;
  readonly qos: Map<string, number>;
  readonly present: boolean;
}

/**
 * Reconnects a persistent subscriber and takes everything its session holds, acknowledging as a
 * client does. It ends when the marker (published on `markerTopic` after the connect) arrives:
 * the session's queue is in order, so everything queued before arrives before it.
 */
export async function drainSubscriber(port: number, v: m.Version, clientId: string, markerTopic: string, timeoutMs = 30_000): Promise<Drained> {
  const counts = new Map<string, number>();
  const qosOf = new Map<string, number>();
  const marker = `marker-${Date.now()}-${Math.random()}`;
  const peer = await Peer.open(port);
  let present = false;
  let finish: (e?: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => (finish = (e) => (e ? reject(e) : resolve())));
  const timer = setTimeout(() => finish(new Error(`subscriber ${clientId}: marker not received within ${timeoutMs} ms (${counts.size} payloads)`)), timeoutMs);
  /** QoS 2 messages received, by packet id, until PUBREL: a resent PUBLISH is the same message. */
  const pending2 = new Set<number>();
  let connacked: () => void = () => undefined;
  const connackSeen = new Promise<void>((r) => (connacked = r));
  peer.onPacket = (p) => {
    if (p.type === 2) {
      present = (p.body[0]! & 1) === 1;
      connacked();
      return;
    }
    if (p.type === 6) {
      const id = p.body.readUInt16BE(0);
      pending2.delete(id);
      peer.send(m.pubcomp(v, id));
      return;
    }
    if (p.type !== 3) return;
    const qos = (p.flags >> 1) & 3;
    const tl = p.body.readUInt16BE(0);
    const topic = p.body.subarray(2, 2 + tl).toString();
    let pos = 2 + tl;
    let id = 0;
    if (qos > 0) {
      id = p.body.readUInt16BE(pos);
      pos += 2;
    }
    if (v === 5) {
      let len = 0;
      let mul = 1;
      for (;;) {
        const x = p.body[pos++]!;
        len += (x & 0x7f) * mul;
        if ((x & 0x80) === 0) break;
        mul *= 128;
      }
      pos += len;
    }
    const payload = p.body.subarray(pos).toString();
    const counted = !(qos === 2 && pending2.has(id));
    if (qos === 2) pending2.add(id);
    if (counted) {
      counts.set(payload, (counts.get(payload) ?? 0) + 1);
      qosOf.set(payload, qos);
    }
    if (qos === 1) peer.send(m.puback(v, id));
    else if (qos === 2) peer.send(m.pubrec(v, id));
    if (topic === markerTopic && payload === marker) finish();
  };
  void peer.closed.then(() => finish(new Error(`subscriber ${clientId}: connection closed`)));
  peer.send(m.connect(v, { clientId, clean: false, ...sessionProps(v) }));
  try {
    await Promise.race([connackSeen, done]);
    // Subscribed to the marker's own topic (the session may have no subscription, or lost it),
    // the marker goes to this session's queue after everything it already holds.
    const subacked = peer.next(9);
    peer.send(m.subscribe(v, 65535, [[markerTopic, 1]]));
    await subacked;
    const { peer: mp } = await connectPeer(port, 4, { clientId: `mk-${clientId}`.slice(0, 23), clean: true });
    const ack = mp.next(4);
    mp.send(m.publish(4, markerTopic, marker, { qos: 1, mid: 1 }));
    await ack;
    mp.close();
    await done;
    // Let the QoS 2 flows still open finish (their PUBREL comes after the broker's commit), so
    // no message is left half-delivered in the session: at most 10 s.
    for (let i = 0; i < 200 && pending2.size > 0; i++) await new Promise((r) => setTimeout(r, 50));
  } finally {
    clearTimeout(timer);
    peer.send(m.disconnect(v));
    peer.close();
  }
  return { counts, qos: qosOf, present };
}

/** A small seeded generator (mulberry32), so a failing run can be repeated with its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A QoS 2 publisher with a persistent session that survives broker restarts as a client
 * should: on every (re)connect it resends unacknowledged PUBLISHes with DUP and PUBRELs for
 * what was PUBREC'd [MQTT-4.4.0-1], then publishes new messages. Every payload it ever sent
 * must in the end be delivered exactly once.
 */
export class ResumablePublisher {
  readonly sent: string[] = [];
  readonly completed = new Set<string>();
  private readonly unreleased = new Map<number, string>();
  private readonly released = new Map<number, string>();
  private nextMid = 1;
  private n = 0;
  private readonly v: m.Version;
  private readonly clientId: string;
  private readonly topic: string;
  private readonly prefix: string;

  constructor(v: m.Version, clientId: string, topic: string, prefix: string) {
    this.v = v;
    this.clientId = clientId;
    this.topic = topic;
    this.prefix = prefix;
  }

  get outstanding(): number {
    return this.unreleased.size + this.released.size;
  }

  /**
   * Connects and resumes; then, with `fresh` > 0, keeps up to 10 new messages in flight until
   * `fresh` were sent or the connection drops. Resolves when the connection drops, or (with
   * `fresh` 0) when every flow is complete.
   */
  async run(port: number, fresh: number, timeoutMs = 30_000): Promise<void> {
    const v = this.v;
    const { peer } = await connectPeer(port, v, { clientId: this.clientId, clean: false, ...sessionProps(v) });
    let budget = fresh;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((r) => (finish = r));
    const timer = setTimeout(() => {
      peer.close();
      finish();
    }, timeoutMs);
    const pump = (): void => {
      while (budget > 0 && this.outstanding < 10) {
        let mid = this.nextMid;
        while (this.unreleased.has(mid) || this.released.has(mid)) mid = mid === 65535 ? 1 : mid + 1;
        this.nextMid = mid === 65535 ? 1 : mid + 1;
        const payload = `${this.prefix}-${this.n++}`;
        budget--;
        this.sent.push(payload);
        this.unreleased.set(mid, payload);
        peer.send(m.publish(v, this.topic, payload, { qos: 2, mid }));
      }
      if (budget === 0 && this.outstanding === 0) finish();
    };
    peer.onPacket = (p) => {
      const id = p.body.readUInt16BE(0);
      if (p.type === 5) {
        const payload = this.unreleased.get(id);
        if (payload !== undefined) {
          this.unreleased.delete(id);
          this.released.set(id, payload);
        }
        peer.send(m.pubrel(v, id));
      } else if (p.type === 7) {
        const payload = this.released.get(id);
        if (payload !== undefined) {
          this.released.delete(id);
          this.completed.add(payload);
        }
        pump();
      }
    };
    void peer.closed.then(() => finish());
    // Resume: the PUBLISHes without PUBREC again (DUP), then the PUBRELs.
    for (const [mid, payload] of this.unreleased) peer.send(m.publish(v, this.topic, payload, { qos: 2, mid, dup: true }));
    for (const mid of this.released.keys()) peer.send(m.pubrel(v, mid));
    pump();
    await done;
    clearTimeout(timer);
    peer.close();
  }
}
