#!/usr/bin/env node
// Codec benchmark: @skeeter/codec against mqtt-packet (the codec of MQTT.js and Aedes), in the
// same process, on the same inputs. Decode and encode of PUBLISH (16 B and 1 KiB payloads, MQTT
// 3.1.1 and 5.0 with a few properties), CONNECT and SUBSCRIBE; our fan-out path
// (encodePreparedPublish) as extra rows against mqtt-packet's generate. For each row: warm-up,
// then several timed rounds alternating the two implementations; the median ops/s of each and
// the ratio ours / mqtt-packet are printed as a table. This is not a test: numbers vary from
// machine to machine and run to run; the ratio is what to look at.
//
//   node scripts/bench/codec.mjs [--rounds N] [--round-ms MS] [--filter TEXT]
//
// Build first (pnpm build): it loads packages/codec/dist/src/index.js.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { isDeepStrictEqual } from 'node:util';

const root = new URL('../../', import.meta.url);
const codecUrl = new URL('packages/codec/dist/src/index.js', root);
const modelUrl = new URL('packages/codec/dist/test/gen/mqtt-packet-model.js', root);
if (!existsSync(codecUrl) || !existsSync(modelUrl)) {
  console.error('The codec is not built: run `pnpm build` (or `npx tsc -b packages/codec`) first.');
  process.exit(1);
}
const codec = await import(codecUrl.href);
const { toMqttPacket, fromMqttPacket } = await import(modelUrl.href);
// mqtt-packet is a dev dependency of packages/codec (CommonJS).
const mqttPacket = createRequire(new URL('packages/codec/package.json', root))('mqtt-packet');
const mqttPacketVersion = createRequire(new URL('packages/codec/package.json', root))('mqtt-packet/package.json').version;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    'round-ms': { type: 'string', default: '150' },
    'warmup-ms': { type: 'string', default: '300' },
    filter: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const ROUND_MS = Number(values['round-ms']);
const WARMUP_MS = Number(values['warmup-ms']);

const { PacketType } = codec;

// ---------------------------------------------------------------------------------------------
// Inputs

const payload16 = Buffer.from('{"t":21.5,"h":40'); // 16 bytes, a small sensor reading
const payload1k = Buffer.alloc(1024, 0x61);
const v5PublishProperties = () => ({
  contentType: 'application/json',
  correlationData: Buffer.from('9f1c2a77'),
  userProperties: [
    ['unit', 'celsius'],
    ['site', 'lab-2'],
  ],
});
const publish = (payloadBytes, version) => ({
  type: PacketType.Publish,
  topic: 'building/3/floor/2/room/17/temperature',
  payload: payloadBytes,
  qos: 1,
  retain: false,
  dup: false,
  packetId: 4711,
  ...(version === 5 ? { properties: v5PublishProperties() } : {}),
});
const connect = (version) => ({
  type: PacketType.Connect,
  protocolName: 'MQTT',
  protocolVersion: version,
  bridge: false,
  clean: true,
  keepalive: 60,
  clientId: 'sensor-gateway-0042',
  will: {
    topic: 'gateways/0042/status',
    payload: Buffer.from('offline'),
    qos: 1,
    retain: true,
    ...(version === 5 ? { properties: { willDelayInterval: 30 } } : {}),
  },
  username: 'gateway',
  password: Buffer.from('s3cr3t-passw0rd'),
  ...(version === 5 ? { properties: { sessionExpiryInterval: 3600, receiveMaximum: 100, topicAliasMaximum: 10 } } : {}),
});
const subscribe = (version) => ({
  type: PacketType.Subscribe,
  packetId: 12,
  subscriptions: [
    { topic: 'building/+/floor/+/room/+/temperature', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
    { topic: 'alerts/#', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 },
    { topic: 'gateways/0042/cmd', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
  ],
  ...(version === 5 ? { properties: { subscriptionIdentifiers: [7] } } : {}),
});

const CASES = [
  ['PUBLISH 16 B, 3.1.1', publish(payload16, 4), 4],
  ['PUBLISH 1 KiB, 3.1.1', publish(payload1k, 4), 4],
  ['PUBLISH 16 B, 5.0 + props', publish(payload16, 5), 5],
  ['PUBLISH 1 KiB, 5.0 + props', publish(payload1k, 5), 5],
  ['CONNECT, 3.1.1', connect(4), 4],
  ['CONNECT, 5.0', connect(5), 5],
  ['SUBSCRIBE 3 filters, 3.1.1', subscribe(4), 4],
  ['SUBSCRIBE 3 filters, 5.0', subscribe(5), 5],
];

// ---------------------------------------------------------------------------------------------
// Checks: both sides do the same work on the same bytes.

for (const [name, packet, version] of CASES) {
  const ours = codec.encodePacket(packet, version);
  const theirs = mqttPacket.generate(toMqttPacket(packet, version), { protocolVersion: version });
  if (!ours.equals(theirs)) throw new Error(`${name}: the encoders disagree:\n ours ${ours.toString('hex')}\n mqtt-packet ${theirs.toString('hex')}`);
  const decoded = codec.decodePacket(ours, { protocolVersion: version });
  if (!isDeepStrictEqual(decoded, packet)) throw new Error(`${name}: our decoder does not round-trip`);
  let parsed;
  const parser = mqttPacket.parser({ protocolVersion: version });
  parser.on('packet', (p) => (parsed = p));
  parser.parse(ours);
  if (!isDeepStrictEqual(fromMqttPacket(parsed, version), packet)) throw new Error(`${name}: mqtt-packet parses it differently`);
}

// ---------------------------------------------------------------------------------------------
// Timing

let sink = 0; // consumed results, so nothing is optimised away

/** Runs `op(batch)` (which performs `batch` operations) for about `ms`; returns ops/s. */
function timed(op, batch, ms) {
  const deadline = process.hrtime.bigint() + BigInt(Math.round(ms * 1e6));
  const start = process.hrtime.bigint();
  let ops = 0;
  let now = start;
  do {
    op(batch);
    ops += batch;
    now = process.hrtime.bigint();
  } while (now < deadline);
  return ops / (Number(now - start) / 1e9);
}

/** A batch size that takes roughly 2 ms, so the clock is read rarely. */
function calibrate(op) {
  let batch = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    op(batch);
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns > 2e6 || batch >= 1 << 20) return batch;
    batch *= 2;
  }
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Measures the implementations of one row, alternating them each round. */
function bench(impls) {
  const batches = impls.map((op) => {
    op(1000);
    const b = calibrate(op);
    timed(op, b, WARMUP_MS);
    return b;
  });
  const samples = impls.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    impls.forEach((op, i) => samples[i].push(timed(op, batches[i], ROUND_MS)));
  }
  return samples.map(median);
}

// Decoders: ours a Decoder, mqtt-packet one parser instance, both fed whole packets.
function ourDecode(bytes, version) {
  const decoder = new codec.Decoder({ protocolVersion: version, role: 'any' });
  const onPacket = (p) => {
    sink += p.type;
  };
  return (n) => {
    for (let i = 0; i < n; i++) decoder.push(bytes, onPacket);
  };
}
function theirDecode(bytes, version) {
  const parser = mqttPacket.parser({ protocolVersion: version });
  parser.on('packet', (p) => {
    sink += p.length;
  });
  parser.on('error', (e) => {
    throw e;
  });
  return (n) => {
    for (let i = 0; i < n; i++) parser.parse(bytes);
  };
}
function ourEncode(packet, version) {
  return (n) => {
    for (let i = 0; i < n; i++) sink += codec.encodePacket(packet, version).length;
  };
}
function theirEncode(packet, version) {
  const obj = toMqttPacket(packet, version);
  const opts = { protocolVersion: version };
  return (n) => {
    for (let i = 0; i < n; i++) sink += mqttPacket.generate(obj, opts).length;
  };
}
function ourPrepared(packet, version) {
  const { properties, ...rest } = packet;
  const prepared = codec.preparePublish({ topic: rest.topic, payload: rest.payload, properties }, version);
  const delivery = { qos: packet.qos, retain: packet.retain, dup: packet.dup, packetId: packet.packetId };
  const check = codec.encodePreparedPublish(prepared, delivery);
  if (!check.equals(codec.encodePacket(packet, version))) throw new Error('encodePreparedPublish differs from encodePacket');
  return (n) => {
    for (let i = 0; i < n; i++) sink += codec.encodePreparedPublish(prepared, delivery).length;
  };
}

const rows = [];
const want = (name) => values.filter === undefined || name.toLowerCase().includes(values.filter.toLowerCase());
const started = Date.now();
for (const [name, packet, version] of CASES) {
  const bytes = codec.encodePacket(packet, version);
  const row = `decode ${name}`;
  if (want(row)) {
    const [ours, theirs] = bench([ourDecode(bytes, version), theirDecode(bytes, version)]);
    rows.push([row, ours, theirs]);
    process.stderr.write('.');
  }
}
for (const [name, packet, version] of CASES) {
  const row = `encode ${name}`;
  if (want(row)) {
    const [ours, theirs] = bench([ourEncode(packet, version), theirEncode(packet, version)]);
    rows.push([row, ours, theirs]);
    process.stderr.write('.');
  }
  const prow = `encodePreparedPublish ${name}`;
  if (packet.type === PacketType.Publish && want(prow)) {
    const [ours, theirs] = bench([ourPrepared(packet, version), theirEncode(packet, version)]);
    rows.push([prow, ours, theirs]);
    process.stderr.write('.');
  }
}
process.stderr.write('\n');

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const header = ['case', 'ours ops/s', 'mqtt-packet ops/s', 'ours / mqtt-packet'];
const table = rows.map(([name, ours, theirs]) => [name, fmt(ours), fmt(theirs), `${(ours / theirs).toFixed(2)}x`]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
console.log(
  `\n@skeeter/codec vs mqtt-packet ${mqttPacketVersion} — node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}; ` +
    `median of ${ROUNDS} rounds of ${ROUND_MS} ms after ${WARMUP_MS} ms warm-up (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
);
console.log(line(header));
console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
for (const r of table) console.log(line(r));
console.log('\nencodePreparedPublish rows: our fan-out path (topic and properties encoded once) against mqtt-packet generate.');
if (sink === 0.5) console.log(''); // keeps `sink` observable
