/**
 * PROXY protocol v1 and v2 on listeners (`enable_proxy_protocol`, `proxy_protocol_v2_require_tls`).
 * Only Mosquitto 2.1 has them: Debian's 2.0.11 refuses the option as unknown (checked below), so
 * the expected behaviour and log lines follow the reference (§1.2, §2.8) and Mosquitto 2.1's own
 * broker tests for the feature (the corrupt v1 headers, the v2 TLS TLVs, the config errors).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { connect, pingreq, pingresp } from '../helpers/mqtt-bytes.js';
import { eventually, logLines, runBrokerToExit } from './helpers.js';

const SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** A v2 header: version 2, the command, the family byte, then the address block and TLVs. */
function v2(cmd: number, fam: number, block: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(block.length);
  return Buffer.concat([SIG, Buffer.from([0x20 | cmd, fam]), len, block]);
}
/** 192.0.2.5:6275 -> 198.51.100.7:6275, as Mosquitto's tests send it. */
const IPV4_BLOCK = Buffer.from([0xc0, 0x00, 0x02, 0x05, 0xc6, 0x33, 0x64, 0x07, 0x18, 0x83, 0x18, 0x83]);
const tlv = (type: number, value: Buffer): Buffer => Buffer.concat([Buffer.from([type, value.length >> 8, value.length & 0xff]), value]);
/** PP2_TYPE_SSL: client flags, verify result 0, then sub-TLVs. */
const sslTlv = (client: number, ...subs: Buffer[]): Buffer => tlv(0x20, Buffer.concat([Buffer.from([client, 0, 0, 0, 0]), ...subs]));

/** Connects, writes the bytes (in one write, or one byte at a time), and collects what comes back. */
class Peer {
  readonly socket: Socket;
  buf = Buffer.alloc(0);
  closed = false;
  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => (this.buf = Buffer.concat([this.buf, d])));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }
  static async open(port: number): Promise<Peer> {
    const socket = netConnect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new Peer(socket);
  }
  async send(data: Buffer, byteByByte = false): Promise<void> {
    if (!byteByByte) {
      this.socket.write(data);
      return;
    }
    for (const b of data) {
      this.socket.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
  }
  async expect(bytes: Buffer): Promise<void> {
    await eventually(() => this.buf.length >= bytes.length || this.closed, 5000, 'a reply');
    assert.deepEqual(this.buf.subarray(0, bytes.length), bytes);
    this.buf = this.buf.subarray(bytes.length);
  }
  /** A CONNACK with this reason code (properties, if any, are not compared). */
  async expectConnack(rc: number, framed = false): Promise<void> {
    const skip = framed ? 2 : 0;
    await eventually(() => this.buf.length >= skip + 2 && this.buf.length >= skip + 2 + this.buf[skip + 1]!, 5000, 'a CONNACK');
    assert.equal(this.buf[skip], 0x20);
    assert.equal(this.buf[skip + 3], rc);
    this.buf = this.buf.subarray(skip + 2 + this.buf[skip + 1]!);
  }
  async expectClosed(): Promise<void> {
    await eventually(() => this.closed, 5000, 'the broker to close the connection');
    assert.equal(this.buf.length, 0, 'nothing sent before closing');
  }
}

async function proxyBroker(version: 1 | 2, extra: string[] = []): Promise<RunningBroker> {
  const broker = await startBroker({ verbose: true, config: [`enable_proxy_protocol ${version}`, ...extra] });
  await eventually(() => / running$/m.test(broker.stderr()), 5000, 'the running line');
  return broker;
}

/** Sends a header then CONNECT v5 "proxy-test" (keepalive 42, as in Mosquitto's tests), expects CONNACK and a ping round trip. */
async function connectThrough(port: number, header: Buffer, o: { byteByByte?: boolean; username?: string; password?: string } = {}): Promise<void> {
  const p = await Peer.open(port);
  await p.send(Buffer.concat([header, connect(5, { clientId: 'proxy-test', keepalive: 42, clean: false, username: o.username, password: o.password })]), o.byteByByte);
  await p.expectConnack(0);
  await p.send(pingreq());
  await p.expect(pingresp());
  p.socket.destroy();
}

test('Debian 2.0.11 does not know enable_proxy_protocol (a 2.1 option)', { skip: !hasDebianMosquitto() && 'Debian mosquitto not installed' }, async () => {
  const r = await runBrokerToExit(true, [`listener ${await freePort()} 127.0.0.1`, 'enable_proxy_protocol 1']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /Error: Unknown configuration variable "enable_proxy_protocol"\./);
});

test('v1: TCP4 and TCP6 headers name the client in the log; UNKNOWN keeps the socket address', async () => {
  const broker = await proxyBroker(1);
  try {
    await connectThrough(broker.port, Buffer.from('PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234\r\n'));
    await eventually(() => broker.stderr().includes('New client connected from 192.0.2.5:6275 as proxy-test (p5, c0, k42).'), 5000, 'the TCP4 client');
    assert.ok(broker.stderr().includes(`New connection from 192.0.2.5:6275 on port ${broker.port}.`));
    await connectThrough(broker.port, Buffer.from('PROXY TCP6 2001:db8:506:708:900::1 ::1 6275 1234\r\n'));
    await eventually(() => broker.stderr().includes('New client connected from 2001:db8:506:708:900::1:6275 as proxy-test (p5, c0, k42).'), 5000, 'the TCP6 client');
    await connectThrough(broker.port, Buffer.from('PROXY UNKNOWN \r\n'));
    await eventually(() => /New client connected from 127\.0\.0\.1:\d+ as proxy-test/.test(broker.stderr()), 5000, 'the UNKNOWN client');
    // The header may arrive in pieces, and the CONNECT right behind it in the same segments.
    await connectThrough(broker.port, Buffer.from('PROXY TCP4 203.0.113.9 127.0.0.1 4000 1234\r\n'), { byteByByte: true });
    await eventually(() => broker.stderr().includes('New client connected from 203.0.113.9:4000 as proxy-test'), 5000, 'the split header');
  } finally {
    await broker.stop();
  }
});

test('v1: every corrupt header of Mosquitto 2.1\'s test closes the connection with its log line', async () => {
  const bad = [
    'PROXY TCP3 192.0.2.5 127.0.0.1 6275 1234\r\n',
    `PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234${' '.repeat(67)}\r\n`,
    ...['TCP4', 'TCP6'].flatMap((t) => [
      `PROXY ${t} 192.0.2.5 127.0.0.1 6275\r\n`,
      `PROXY ${t} 192.0.2.5 127.0.0.1\r\n`,
      `PROXY ${t} 192.0.2.5\r\n`,
      `PROXY ${t} \r\n`,
      `PROXY ${t} 192.0.2.5 127.0.0.1 6275 0\r\n`,
      `PROXY ${t} 192.0.2.5 127.0.0.1 6275 65536\r\n`,
      `PROXY ${t} 192.0.2.5 127.0.0.1 0 1234\r\n`,
      `PROXY ${t} 192.0.2.5 127.0.0.1 65536 1234\r\n`,
      `PROXY ${t} 192.0.2.5 127.0.0.256 6275 1234\r\n`,
      `PROXY ${t} 192.0.2.256 127.0.0.1 6275 1234\r\n`,
    ]),
    // Not a PROXY line at all (a client that skipped the proxy): refused at once.
    connect(4, { clientId: 'direct' }).toString('latin1'),
    // No CRLF within 108 bytes.
    `PROXY TCP4 ${'1'.repeat(120)}`,
  ];
  const broker = await proxyBroker(1);
  try {
    for (const b of bad) {
      const p = await Peer.open(broker.port);
      await p.send(Buffer.from(b, 'latin1'));
      await p.expectClosed();
    }
    const lines = logLines(broker.stderr()).filter((l) => l === 'Connection rejected, corrupt PROXY header.');
    assert.equal(lines.length, bad.length);
    assert.ok(!broker.stderr().includes('New client connected'));
  } finally {
    await broker.stop();
  }
});

test('v2: IPv4, IPv6 and unix addresses; LOCAL closes; the split header still works', async () => {
  const broker = await proxyBroker(2);
  try {
    await connectThrough(broker.port, v2(1, 0x11, IPV4_BLOCK));
    await eventually(() => broker.stderr().includes('New client connected from 192.0.2.5:6275 as proxy-test (p5, c0, k42).'), 5000, 'the IPv4 client');
    const six = Buffer.alloc(36);
    Buffer.from('20010db8050607080900000000000001', 'hex').copy(six, 0);
    six[31] = 1;
    six.writeUInt16BE(6275, 32);
    six.writeUInt16BE(1883, 34);
    await connectThrough(broker.port, v2(1, 0x21, six), { byteByByte: true });
    await eventually(() => broker.stderr().includes('New client connected from 2001:db8:506:708:900::1:6275 as proxy-test'), 5000, 'the IPv6 client');
    const unix = Buffer.alloc(216);
    unix.write('/run/client.sock');
    await connectThrough(broker.port, v2(1, 0x31, unix));
    await eventually(() => broker.stderr().includes('New client connected from /run/client.sock:0 as proxy-test'), 5000, 'the unix client');
    // LOCAL (the proxy's own health check) is closed without a word.
    const p = await Peer.open(broker.port);
    await p.send(v2(0, 0x00, Buffer.alloc(0)));
    await p.expectClosed();
  } finally {
    await broker.stop();
  }
});

test('v2: malformed headers are refused and logged', async () => {
  const broker = await proxyBroker(2);
  try {
    const cases: Array<[Buffer, string]> = [
      [Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n\r\n')]), 'Connection rejected, corrupt PROXY header.'],
      [Buffer.concat([SIG, Buffer.from([0x31, 0x11, 0, 12]), IPV4_BLOCK]), 'Connection rejected, corrupt PROXY header.'], // version 3
      [Buffer.concat([SIG, Buffer.from([0x22, 0x11, 0, 12]), IPV4_BLOCK]), 'Connection rejected, corrupt PROXY header.'], // command 2
      [Buffer.concat([SIG, Buffer.from([0x21, 0x12, 0, 12]), IPV4_BLOCK]), 'Connection rejected, corrupt PROXY header.'], // UDP
      [Buffer.concat([SIG, Buffer.from([0x21, 0x11, 0, 8]), IPV4_BLOCK.subarray(0, 8)]), 'Connection rejected, corrupt PROXY header.'], // short IPv4 block
      [Buffer.concat([SIG, Buffer.from([0x21, 0x11, 0x01, 0xf5])]), 'Connection rejected, corrupt PROXY header.'], // 501 bytes: over the limit
      [v2(1, 0x11, Buffer.concat([IPV4_BLOCK, Buffer.from([0x20, 0x00, 0x09, 0x01])])), 'Connection from 192.0.2.5:6275 rejected, corrupt PROXY header.'], // TLV overruns
      [v2(1, 0x11, Buffer.concat([IPV4_BLOCK, tlv(0x20, Buffer.from([1, 0]))])), 'Connection from 192.0.2.5:6275 rejected, corrupt PROXY header.'], // SSL TLV too short
    ];
    for (const [bytes] of cases) {
      const p = await Peer.open(broker.port);
      await p.send(bytes);
      await p.expectClosed();
    }
    const log = logLines(broker.stderr());
    for (const [, line] of cases) assert.ok(log.includes(line), line);
    assert.equal(log.filter((l) => l.includes('corrupt PROXY header')).length, cases.length);
  } finally {
    await broker.stop();
  }
});

test('v2: the SSL TLV gives the TLS version, cipher and certificate CN as username', async () => {
  const broker = await proxyBroker(2, ['require_certificate true', 'use_identity_as_username true']);
  try {
    const ssl = sslTlv(0x05, tlv(0x21, Buffer.from('TLSv1.3')), tlv(0x23, Buffer.from('TLS_AES_256_GCM_SHA384')), tlv(0x22, Buffer.from('ppppppp')));
    // The CONNECT's own username and password are ignored.
    await connectThrough(broker.port, v2(1, 0x11, Buffer.concat([IPV4_BLOCK, ssl])), { username: 'none', password: 'pw' });
    await eventually(() => broker.stderr().includes("New client connected from 192.0.2.5:6275 as proxy-test (p5, c0, k42, u'ppppppp')."), 5000, 'the CN user');
    assert.ok(logLines(broker.stderr()).includes('Connection from 192.0.2.5:6275 negotiated TLSv1.3 cipher TLS_AES_256_GCM_SHA384'));
    // Without a verified certificate the client is refused before MQTT.
    for (const client of [0x01, 0x05]) {
      const p = await Peer.open(broker.port);
      const verify = client === 0x05 ? Buffer.from([client, 0, 0, 0, 1]) : Buffer.from([client, 0, 0, 0, 0]);
      await p.send(v2(1, 0x11, Buffer.concat([IPV4_BLOCK, tlv(0x20, verify)])));
      await p.expectClosed();
    }
    assert.equal(logLines(broker.stderr()).filter((l) => l === 'Connection from 192.0.2.5:6275 rejected, client did not provide a certificate.').length, 2);
  } finally {
    await broker.stop();
  }
});

test('v2: proxy_protocol_v2_require_tls refuses clients the proxy did not reach over TLS', async () => {
  const broker = await proxyBroker(2, ['proxy_protocol_v2_require_tls true']);
  try {
    const p = await Peer.open(broker.port);
    await p.send(v2(1, 0x11, IPV4_BLOCK));
    await p.expectClosed();
    assert.ok(logLines(broker.stderr()).includes('Connection from 192.0.2.5:6275 rejected, client did not connect using TLS.'));
    await connectThrough(broker.port, v2(1, 0x11, Buffer.concat([IPV4_BLOCK, sslTlv(0x01)])));
    await eventually(() => broker.stderr().includes('New client connected from 192.0.2.5:6275 as proxy-test'), 5000, 'the TLS client');
  } finally {
    await broker.stop();
  }
});

test('websockets behind PROXY v2: the header comes before the HTTP upgrade', async () => {
  const ws = await startBroker({ verbose: true, config: ['protocol websockets', 'enable_proxy_protocol 2'] });
  const port = ws.port;
  try {
    const p = await Peer.open(port);
    const key = randomBytes(16).toString('base64');
    const req = ['GET /mqtt HTTP/1.1', 'Host: localhost', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`,
      'Sec-WebSocket-Protocol: mqtt', 'Sec-WebSocket-Version: 13'].join('\r\n') + '\r\n\r\n';
    await p.send(Buffer.concat([v2(1, 0x11, IPV4_BLOCK), Buffer.from(req)]));
    await eventually(() => p.buf.includes('\r\n\r\n'), 5000, 'the handshake answer');
    const end = p.buf.indexOf('\r\n\r\n');
    const head = p.buf.subarray(0, end).toString('latin1');
    p.buf = p.buf.subarray(end + 4);
    assert.match(head, /^HTTP\/1\.1 101 /);
    const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    assert.ok(head.includes(`Sec-WebSocket-Accept: ${accept}`));
    const c = connect(5, { clientId: 'proxy-test', keepalive: 42, clean: false });
    const mask = randomBytes(4);
    await p.send(Buffer.concat([Buffer.from([0x82, 0x80 | c.length]), mask, Buffer.from(c.map((b, i) => b ^ mask[i % 4]!))]));
    assert.equal(await eventually(() => p.buf.length > 2, 5000, 'a frame').then(() => p.buf[0]), 0x82);
    await p.expectConnack(0, true);
    await eventually(() => ws.stderr().includes('New client connected from 192.0.2.5:6275 as proxy-test (p5, c0, k42).'), 5000, 'the proxied websocket client');
    p.socket.destroy();
  } finally {
    await ws.stop();
  }
});

test('unix socket listeners take the PROXY header too; UNKNOWN keeps the socket path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-proxy-unix-'));
  const path = join(dir, 'mqtt.sock');
  const broker = await startBroker({ verbose: true, config: [`listener 0 ${path}`, 'enable_proxy_protocol 1'] });
  try {
    await eventually(() => / running$/m.test(broker.stderr()), 5000, 'the running line');
    for (const [header, expected] of [
      ['PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234\r\n', 'New client connected from 192.0.2.5:6275 as unix-proxied (p2, c1, k60).'],
      ['PROXY UNKNOWN\r\n', `New client connected from ${path}:0 as unix-unknown (p2, c1, k60).`],
    ] as const) {
      const socket = netConnect({ path });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      let got = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
      socket.write(Buffer.concat([Buffer.from(header), connect(4, { clientId: expected.includes('unknown') ? 'unix-unknown' : 'unix-proxied' })]));
      await eventually(() => got.length >= 4, 5000, 'the CONNACK');
      assert.deepEqual(got.subarray(0, 4), Buffer.from([0x20, 0x02, 0x00, 0x00]));
      socket.destroy();
      await eventually(() => broker.stderr().includes(expected), 5000, expected);
    }
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config errors: version, use_subject_as_username, own TLS files, and outside a listener', async () => {
  for (const v of ['0', '3']) {
    const r = await runBrokerToExit(false, [`listener ${await freePort()} 127.0.0.1`, `enable_proxy_protocol ${v}`]);
    assert.notEqual(r.code, 0);
    assert.ok(logLines(r.stderr).includes('Error: enable_proxy_protocol must be 1 or 2.'), r.stderr);
  }
  const port = await freePort();
  let r = await runBrokerToExit(false, [`listener ${port} 127.0.0.1`, 'enable_proxy_protocol 2', 'use_subject_as_username true']);
  assert.equal(r.code, 1);
  assert.ok(logLines(r.stderr).includes('Error: use_subject_as_username cannot be used with `enable_proxy_protocol 2`.'), r.stderr);
  r = await runBrokerToExit(false, [`listener ${port} 127.0.0.1`, 'enable_proxy_protocol 2', 'certfile /x/server.crt', 'keyfile /x/server.key']);
  assert.equal(r.code, 1);
  assert.ok(logLines(r.stderr).includes('Error: certfile and keyfile cannot be used with `enable_proxy_protocol 2`.'), r.stderr);
  r = await runBrokerToExit(false, ['enable_proxy_protocol 1']);
  assert.notEqual(r.code, 0);
  assert.ok(logLines(r.stderr).includes("Error: The 'enable_proxy_protocol' option requires a listener to be defined first."), r.stderr);
});
