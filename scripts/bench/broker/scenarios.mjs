// The broker benchmark's scenarios. Each takes a running broker ({ port, pid }) and the run's
// options, drives it from this process (pinned to its own core) with pre-encoded packets, and
// returns { values: { rowId: number }, notes: { ... } }. Throughput is counted at the receiving
// side, over a measured window that starts after a warm-up, with performance.now().
import { setTimeout as sleep } from 'node:timers/promises';
import { connectMany, MqttSocket } from './client.mjs';
import { BROKER_CORE, coreBusySeconds, cpuSeconds, rssBytes } from './brokers.mjs';
import { publishLayout, publishPacket, TYPE, writeAck } from './packets.mjs';

const PUBLISH = TYPE.PUBLISH;

/** 64-byte payload: [0..3] sequence number, [4..11] send time (performance.now(), ms), then filler. */
function payload(seq = 0) {
  const p = Buffer.alloc(64, 0x61);
  p.writeUInt32BE(seq, 0);
  p.writeDoubleBE(0, 4);
  return p;
}

/** Resolves with `promise`, or rejects with `message` after `ms` (the timer is cleared either way). */
function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Delivered/s over the measured window, plus the broker's and the load generator's CPU use. */
async function measure(ctx, broker, counter) {
  await sleep(ctx.warmMs);
  const c0 = counter();
  const t0 = performance.now();
  const b0 = cpuSeconds(broker.pid);
  const k0 = coreBusySeconds(BROKER_CORE);
  const g0 = process.cpuUsage();
  await sleep(ctx.measureMs);
  const c1 = counter();
  const secs = (performance.now() - t0) / 1000;
  const b1 = cpuSeconds(broker.pid);
  const k1 = coreBusySeconds(BROKER_CORE);
  const g1 = process.cpuUsage(g0);
  return {
    rate: (c1 - c0) / secs,
    brokerCpu: (b1 - b0) / secs,
    genCpu: (g1.user + g1.system) / 1e6 / secs,
    // Other processes on the broker's core (this machine is shared): time the broker lost.
    otherCpu: Math.max(0, (k1 - k0 - (b1 - b0)) / secs),
  };
}

/** Waits until `done()` or until `progress()` stops moving for `quietMs`, at most `maxMs`. */
async function settle(done, progress, quietMs = 300, maxMs = 10_000) {
  const end = performance.now() + maxMs;
  let last = progress();
  let lastChange = performance.now();
  while (!done() && performance.now() < end) {
    await sleep(10);
    const p = progress();
    if (p !== last) {
      last = p;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > quietMs) break;
  }
}

/**
 * Closed-loop QoS 0 load: publishers write pre-encoded batches while fewer than `window`
 * messages are on their way (sent x fanout - delivered). The window keeps every broker busy
 * without letting its buffers grow without bound (aedes buffers all it reads). If a broker
 * drops QoS 0 messages the window would stall, so 200 ms without progress forgives what is
 * outstanding; what is really lost is counted after the drain.
 */
function qos0Pump({ publishers, batches, perBatch, fanout, window, delivered }) {
  let sent = 0;
  let forgiven = 0;
  let k = 0;
  let b = 0;
  let stopped = false;
  const limit = window * fanout;
  const pump = () => {
    if (stopped) return;
    for (let guard = 0; guard < 256 && sent * fanout - delivered() - forgiven < limit; guard++) {
      const p = publishers[k];
      k = (k + 1) % publishers.length;
      if (p.backedUp) continue;
      p.write(batches[b]);
      b = (b + 1) % batches.length;
      sent += perBatch;
    }
  };
  let last = -1;
  let lastChange = performance.now();
  const timer = setInterval(() => {
    const d = delivered();
    if (d !== last) {
      last = d;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > 200) {
      forgiven = sent * fanout - d;
      lastChange = performance.now();
    }
    pump();
  }, 5);
  return {
    pump,
    sent: () => sent,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

function batchesOf(packets, perBatch) {
  const out = [];
  for (let i = 0; i + perBatch <= packets.length; i += perBatch) out.push(Buffer.concat(packets.slice(i, i + perBatch)));
  return out;
}

function closeAll(clients) {
  for (const c of clients) c.close();
}

/** Fan-in: 10 publishers -> 1 subscriber on one topic, QoS 0, 64-byte payloads. */
export async function fanIn(broker, ctx) {
  const topic = 'bench/fanin';
  const sub = new MqttSocket(broker.port, 'fanin-sub');
  const clients = [sub];
  try {
    await sub.connect();
    await sub.subscribe([topic], 0);
    let delivered = 0;
    sub.onPacket = (h) => {
      if (h >> 4 === PUBLISH) delivered++;
    };
    const pubs = await connectMany(broker.port, 'fanin-pub', 10);
    clients.push(...pubs);
    const batches = batchesOf(Array.from({ length: 32 }, (_, i) => publishPacket(topic, payload(i))), 32);
    const flow = qos0Pump({ publishers: pubs, batches, perBatch: 32, fanout: 1, window: 4000, delivered: () => delivered });
    sub.afterChunk = flow.pump;
    flow.pump();
    const m = await measure(ctx, broker, () => delivered);
    flow.stop();
    await settle(() => delivered >= flow.sent(), () => delivered);
    return { values: { fanin: m.rate }, cpu: m, notes: { lost: flow.sent() - delivered } };
  } finally {
    closeAll(clients);
  }
}

/** Fan-out QoS 0: 1 publisher -> 100 subscribers on one topic; deliveries/s. */
export async function fanOut0(broker, ctx) {
  const topic = 'bench/fanout';
  const clients = [];
  try {
    const subs = await connectMany(broker.port, 'fo0-sub', 100);
    clients.push(...subs);
    for (const s of subs) await s.subscribe([topic], 0);
    const pub = new MqttSocket(broker.port, 'fo0-pub');
    clients.push(pub);
    await pub.connect();
    let delivered = 0;
    const onPacket = (h) => {
      if (h >> 4 === PUBLISH) delivered++;
    };
    const batches = batchesOf(Array.from({ length: 16 }, (_, i) => publishPacket(topic, payload(i))), 16);
    const flow = qos0Pump({ publishers: [pub], batches, perBatch: 16, fanout: 100, window: 2000, delivered: () => delivered });
    for (const s of subs) {
      s.onPacket = onPacket;
      s.afterChunk = flow.pump;
    }
    flow.pump();
    const m = await measure(ctx, broker, () => delivered);
    flow.stop();
    await settle(() => delivered >= flow.sent() * 100, () => delivered);
    return { values: { fanout0: m.rate }, cpu: m, notes: { lost: flow.sent() * 100 - delivered } };
  } finally {
    closeAll(clients);
  }
}

/** Which sequence numbers one subscriber has seen (to count lost and duplicate deliveries). */
class SeenSet {
  constructor() {
    this.bits = new Uint32Array(1 << 12);
  }
  /** Marks `seq`; returns false if it was already marked. */
  add(seq) {
    const word = seq >>> 5;
    if (word >= this.bits.length) {
      const grown = new Uint32Array(Math.max(this.bits.length * 2, word + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (seq & 31);
    if (this.bits[word] & mask) return false;
    this.bits[word] |= mask;
    return true;
  }
}

/**
 * Fan-out at QoS 1 or 2: 1 publisher keeping `ctx.inflight` (32) PUBLISH in flight -> 100 subscribers that
 * acknowledge every delivery (PUBACK, or PUBREC then PUBCOMP on PUBREL), acks of one received
 * chunk written together. Each payload carries a sequence number; after the run every subscriber
 * must have seen every sequence number once: what is missing is counted as lost.
 */
export async function fanOutAcked(broker, ctx, qos) {
  const SUBSCRIBERS = 100;
  const INFLIGHT = ctx.inflight;
  // No subscriber may fall more than this many messages behind the publisher: that keeps the
  // backlog a broker holds per subscriber well below Mosquitto's default max_queued_messages
  // (1000), beyond which it drops QoS 1/2 deliveries by design, not by fault.
  const WINDOW = 200;
  const topic = `bench/fanout${qos}`;
  const clients = [];
  try {
    const subs = await connectMany(broker.port, `fo${qos}-sub`, SUBSCRIBERS);
    clients.push(...subs);
    for (const s of subs) await s.subscribe([topic], qos);
    const pub = new MqttSocket(broker.port, `fo${qos}-pub`);
    clients.push(pub);
    await pub.connect();

    let delivered = 0;
    let duplicates = 0;
    // Per subscriber, so that no single subscriber falls more than WINDOW messages behind.
    const deliveredBy = new Float64Array(SUBSCRIBERS);
    let slowest = 0;
    const roomFor = () => {
      if (sent - slowest < WINDOW) return true;
      slowest = Infinity;
      for (const d of deliveredBy) if (d < slowest) slowest = d;
      return sent - slowest < WINDOW;
    };
    // Acknowledgements are gathered per subscriber and written once per event-loop turn (one
    // setImmediate for all subscribers): a broker that sends one PUBLISH per TCP segment
    // (Mosquitto) would otherwise cost this process one write per delivery.
    const flushes = [];
    let flushScheduled = false;
    const flushAll = () => {
      flushScheduled = false;
      for (const f of flushes) f();
      pump();
    };
    for (const [index, s] of subs.entries()) {
      const seen = new SeenSet();
      const acks = Buffer.allocUnsafe(64 * 1024);
      let ackLen = 0;
      const flush = () => {
        if (ackLen === 0) return;
        s.write(Buffer.from(acks.subarray(0, ackLen)));
        ackLen = 0;
      };
      flushes.push(flush);
      const ack = (type, id) => {
        if (ackLen + 4 > acks.length) flush();
        writeAck(acks, ackLen, type, id);
        ackLen += 4;
      };
      s.onPacket = (h, buf, start) => {
        const type = h >> 4;
        if (type === PUBLISH) {
          const topicLen = buf.readUInt16BE(start);
          const id = buf.readUInt16BE(start + 2 + topicLen);
          const seq = buf.readUInt32BE(start + 4 + topicLen);
          if (seen.add(seq)) {
            delivered++;
            deliveredBy[index]++;
          } else duplicates++;
          ack(((h >> 1) & 3) === 2 ? TYPE.PUBREC : TYPE.PUBACK, id);
        } else if (type === TYPE.PUBREL) {
          ack(TYPE.PUBCOMP, buf.readUInt16BE(start));
        }
      };
      s.afterChunk = () => {
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flushAll);
        }
      };
    }

    // Publisher: packet-id slots; 1 = waiting for PUBACK/PUBREC, 2 = waiting for PUBCOMP.
    const template = publishPacket(topic, payload(0), qos, 1);
    const { packetIdOffset, payloadOffset } = publishLayout(template);
    const state = new Uint8Array(65536);
    let inflight = 0;
    let nextId = 1;
    let sent = 0;
    let stopped = false;
    let pubrels = [];
    const pump = () => {
      if (stopped) return;
      const out = [];
      while (inflight < INFLIGHT && roomFor()) {
        while (state[nextId] !== 0) nextId = nextId === 65535 ? 1 : nextId + 1;
        const id = nextId;
        nextId = nextId === 65535 ? 1 : nextId + 1;
        const p = Buffer.allocUnsafe(template.length);
        template.copy(p);
        p.writeUInt16BE(id, packetIdOffset);
        p.writeUInt32BE(sent, payloadOffset);
        state[id] = 1;
        inflight++;
        sent++;
        out.push(p);
      }
      if (out.length > 0) pub.write(out.length === 1 ? out[0] : Buffer.concat(out));
    };
    pub.onPacket = (h, buf, start) => {
      const type = h >> 4;
      const id = buf.readUInt16BE(start);
      if (type === TYPE.PUBACK || type === TYPE.PUBCOMP) {
        if (state[id] !== 0) {
          state[id] = 0;
          inflight--;
        }
      } else if (type === TYPE.PUBREC) {
        state[id] = 2;
        const rel = Buffer.allocUnsafe(4);
        writeAck(rel, 0, TYPE.PUBREL, id);
        pubrels.push(rel);
      }
    };
    pub.afterChunk = () => {
      if (pubrels.length > 0) {
        pub.write(Buffer.concat(pubrels));
        pubrels = [];
      }
      pump();
    };
    // Safety net: a pump per 5 ms, should acknowledgements ever stop arriving.
    const timer = setInterval(pump, 5);
    pump();
    const m = await measure(ctx, broker, () => delivered);
    stopped = true;
    clearInterval(timer);
    await settle(() => delivered >= sent * SUBSCRIBERS && inflight === 0, () => delivered + inflight * 1e9, 2000, 15_000);
    const row = qos === 1 ? 'fanout1' : 'fanout2';
    const lost = sent * SUBSCRIBERS - delivered;
    const values = { [row]: m.rate };
    if (qos === 2) values.fanout2lost = lost;
    let waitingRec = 0;
    let waitingComp = 0;
    for (const s of state) {
      if (s === 1) waitingRec++;
      else if (s === 2) waitingComp++;
    }
    const notes = { lost, duplicates, sent };
    // Publisher flows still open after the drain (the broker never answered them).
    if (waitingRec + waitingComp > 0) Object.assign(notes, { waitingRec, waitingComp });
    return { values, cpu: m, notes };
  } finally {
    closeAll(clients);
  }
}

/**
 * Latency: 1 publisher paced at `rate` msg/s (QoS 0), 1 subscriber. The send time
 * (performance.now()) travels in the payload; the subscriber takes the difference on receipt.
 * A setImmediate loop paces, so this process answers I/O promptly (it has its core to itself).
 */
export async function latency(broker, ctx) {
  const RATE = 1000;
  const topic = 'bench/latency';
  const sub = new MqttSocket(broker.port, 'lat-sub');
  const pub = new MqttSocket(broker.port, 'lat-pub');
  try {
    await sub.connect();
    await sub.subscribe([topic], 0);
    await pub.connect();
    const template = publishPacket(topic, payload(0), 0);
    const { payloadOffset } = publishLayout(template);
    const start = performance.now();
    const measureFrom = start + ctx.warmMs;
    const end = measureFrom + ctx.measureMs;
    const samples = [];
    let received = 0;
    sub.onPacket = (h, buf, s) => {
      if (h >> 4 !== PUBLISH) return;
      const now = performance.now();
      received++;
      const topicLen = buf.readUInt16BE(s);
      const sentAt = buf.readDoubleBE(s + 2 + topicLen + 4);
      if (sentAt >= measureFrom) samples.push(now - sentAt);
    };
    let sent = 0;
    const g0 = process.cpuUsage();
    const b0 = cpuSeconds(broker.pid);
    const k0 = coreBusySeconds(BROKER_CORE);
    await new Promise((resolve) => {
      const tick = () => {
        const now = performance.now();
        if (now >= end) return resolve();
        const due = Math.floor(((now - start) * RATE) / 1000);
        while (sent < due) {
          const p = Buffer.allocUnsafe(template.length);
          template.copy(p);
          p.writeUInt32BE(sent, payloadOffset);
          p.writeDoubleBE(performance.now(), payloadOffset + 4);
          pub.write(p);
          sent++;
        }
        setImmediate(tick);
      };
      tick();
    });
    const secs = (performance.now() - start) / 1000;
    const brokerSecs = cpuSeconds(broker.pid) - b0;
    const g = process.cpuUsage(g0);
    const cpu = {
      brokerCpu: brokerSecs / secs,
      genCpu: (g.user + g.system) / 1e6 / secs,
      otherCpu: Math.max(0, (coreBusySeconds(BROKER_CORE) - k0 - brokerSecs) / secs),
    };
    await settle(() => received >= sent, () => received, 300, 3000);
    samples.sort((a, b) => a - b);
    const pct = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] * 1000;
    return { values: { latency50: pct(0.5), latency99: pct(0.99) }, cpu, notes: { samples: samples.length, lost: sent - received } };
  } finally {
    sub.close();
    pub.close();
  }
}

/**
 * The 10k distinct filters of the wildcard scenario and topics matching exactly one each.
 * Filter i (g = i >> 2) is one of four shapes, whose literal levels keep them disjoint:
 *   w/g<g>/k0/+   w/g<g>/k1/#   w/+/g<g>/k2   +/h<g>/k3
 * Topic j targets filter (j * 7919) % count with a varying level n, so there are several
 * distinct topics per filter (more topics than a per-topic cache of 10k would hold).
 */
export function wildcardFilters(count) {
  const filters = [];
  for (let i = 0; i < count; i++) {
    const g = i >> 2;
    filters.push([`w/g${g}/k0/+`, `w/g${g}/k1/#`, `w/+/g${g}/k2`, `+/h${g}/k3`][i & 3]);
  }
  return filters;
}

export function wildcardTopic(count, j) {
  const i = (j * 7919) % count;
  const n = Math.floor(j / count);
  const g = i >> 2;
  return [`w/g${g}/k0/t${n}`, `w/g${g}/k1/t${n}/x`, `w/q${n}/g${g}/k2`, `v${n}/h${g}/k3`][i & 3];
}

/** Wildcard routing: 10k filters over 10 subscribers, 4 publishers, each topic matching one filter. */
export async function wildcard(broker, ctx) {
  const FILTERS = 10_000;
  const TOPICS = 40_000;
  const clients = [];
  try {
    const filters = wildcardFilters(FILTERS);
    const subs = await connectMany(broker.port, 'wc-sub', 10);
    clients.push(...subs);
    await Promise.all(subs.map((s, c) => s.subscribe(filters.filter((_, i) => i % 10 === c), 0)));
    const pubs = await connectMany(broker.port, 'wc-pub', 4);
    clients.push(...pubs);
    const packets = [];
    for (let j = 0; j < TOPICS; j++) packets.push(publishPacket(wildcardTopic(FILTERS, j), payload(j)));
    const batches = batchesOf(packets, 32);
    let delivered = 0;
    const onPacket = (h) => {
      if (h >> 4 === PUBLISH) delivered++;
    };
    const flow = qos0Pump({ publishers: pubs, batches, perBatch: 32, fanout: 1, window: 4000, delivered: () => delivered });
    for (const s of subs) {
      s.onPacket = onPacket;
      s.afterChunk = flow.pump;
    }
    flow.pump();
    const m = await measure(ctx, broker, () => delivered);
    flow.stop();
    await settle(() => delivered >= flow.sent(), () => delivered);
    return { values: { wildcard: m.rate }, cpu: m, notes: { lost: flow.sent() - delivered } };
  } finally {
    closeAll(clients);
  }
}

/**
 * Idle connections: RSS growth of the broker per connection for `ctx.idleConnections` clients
 * that completed CONNECT (keepalive 0) and then send nothing. Run on a fresh broker.
 */
export async function idle(broker, ctx) {
  await sleep(500);
  const before = rssBytes(broker.pid);
  const started = performance.now();
  const clients = await connectMany(broker.port, 'idle-', ctx.idleConnections, 100);
  const connectSecs = (performance.now() - started) / 1000;
  try {
    // Let the broker settle (a Node broker's young garbage from the CONNECT burst).
    await sleep(1500);
    const after = rssBytes(broker.pid);
    return {
      values: { idle: (after - before) / ctx.idleConnections / 1024 },
      notes: { connections: ctx.idleConnections, connectPerSec: Math.round(ctx.idleConnections / connectSecs) },
    };
  } finally {
    closeAll(clients);
  }
}

/**
 * Retained: `ctx.retainedCount` retained messages on distinct topics (stored with QoS 1 and 1000
 * in flight, so each is known stored when acknowledged), then one subscriber to `#`: the time
 * from sending SUBSCRIBE until the last retained message arrived. Run on a fresh broker.
 */
export async function retained(broker, ctx) {
  const N = ctx.retainedCount;
  const loader = new MqttSocket(broker.port, 'ret-loader');
  const sub = new MqttSocket(broker.port, 'ret-sub');
  try {
    await loader.connect();
    const packets = [];
    for (let i = 0; i < N; i++) packets.push(publishPacket(`ret/${i % 100}/${Math.floor(i / 100)}`, payload(i), 1, 1, true));
    let acked = 0;
    let sent = 0;
    const loadStart = performance.now();
    const pump = () => {
      const out = [];
      while (sent < N && sent - acked < 1000) {
        const p = packets[sent];
        // Ids 1..65535 by position; with 1000 in flight no two in flight share one.
        p.writeUInt16BE((sent % 65535) + 1, publishLayout(p).packetIdOffset);
        out.push(p);
        sent++;
      }
      if (out.length > 0) loader.write(Buffer.concat(out));
    };
    let loaded;
    const allAcked = new Promise((resolve) => (loaded = resolve));
    loader.onPacket = (h) => {
      if (h >> 4 === TYPE.PUBACK && ++acked === N) loaded();
    };
    loader.afterChunk = pump;
    pump();
    await withTimeout(allAcked, 180_000, () => `retained load: ${acked}/${N} acknowledged after 180 s`);
    const loadSecs = (performance.now() - loadStart) / 1000;

    await sub.connect();
    let received = 0;
    let finish;
    const all = new Promise((resolve) => (finish = resolve));
    let t0 = 0;
    sub.onPacket = (h) => {
      if (h >> 4 === PUBLISH && ++received === N) finish(performance.now());
    };
    t0 = performance.now();
    await sub.subscribe(['#'], 0);
    const t1 = await withTimeout(all, 120_000, () => `retained: ${received}/${N} received after 120 s`);
    return {
      values: { retained: t1 - t0 },
      notes: { received, loadPerSec: Math.round(N / loadSecs) },
    };
  } finally {
    loader.close();
    sub.close();
  }
}
