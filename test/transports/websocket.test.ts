/**
 * WebSockets listeners: MQTT.js over ws:// and wss:// next to TCP clients on the same broker, a
 * browser-style handshake done by hand (subprotocols, MQTT packets split across frames and
 * fragmented messages, text frames refused), http_dir static files without path traversal, and
 * websockets_headers_size. Debian's broker cannot open websockets listeners on this machine, so
 * these tests follow the reference and RFC 6455 rather than an oracle.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { freePort, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { packet, str, u16 } from '../helpers/mqtt-bytes.js';
import { DEBIAN_TOOLS, hasDebianTools, runTool, ToolProcess } from '../interop/tools.js';
import { hasOpenssl, makeTestCertificates, type TestCertificates } from './certs.js';
import { eventually, logLines } from './helpers.js';

let dir: string;
let certs: TestCertificates | undefined;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'skeeter-ws-'));
  mkdirSync(join(dir, 'www', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'www', 'index.html'), '<h1>skeeter</h1>\n');
  writeFileSync(join(dir, 'www', 'sub', 'app.js'), 'console.log(1);\n');
  writeFileSync(join(dir, 'secret.txt'), 'do not serve\n');
  symlinkSync(join(dir, 'secret.txt'), join(dir, 'www', 'link.txt'));
  if (hasOpenssl()) certs = makeTestCertificates();
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  certs?.remove();
});

async function startWsBroker(lines: string[] = []): Promise<{ broker: RunningBroker; wsPort: number }> {
  const wsPort = await freePort();
  const broker = await startBroker({ verbose: true, config: [`listener ${wsPort} 127.0.0.1`, 'protocol websockets', ...lines] });
  await eventually(() => / running$/m.test(broker.stderr()), 5000, 'the running line');
  return { broker, wsPort };
}

function mqttjs(url: string, options: Parameters<typeof mqttConnect>[1] = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqttConnect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
  });
}

test('MQTT.js over ws:// and TCP clients see each other\'s messages', { skip: !hasDebianTools() && 'Debian clients not installed' }, async () => {
  const { broker, wsPort } = await startWsBroker();
  const ws = await mqttjs(`ws://127.0.0.1:${wsPort}`, { clientId: 'ws-client', protocolVersion: 5 });
  const sub = new ToolProcess(DEBIAN_TOOLS.sub, ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'from/ws', '-v', '-C', '1']);
  try {
    const got: string[] = [];
    ws.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await new Promise<void>((resolve, reject) => ws.subscribe('from/tcp', { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    await eventually(() => (broker.stderr().match(/Sending SUBACK/g) ?? []).length >= 2, 5000, 'both SUBACKs');
    const p = await runTool(DEBIAN_TOOLS.pub, ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'from/tcp', '-m', 'hello-ws', '-q', '1']);
    assert.equal(p.code, 0, p.stderr);
    await eventually(() => got.length === 1, 5000, 'the message over websockets');
    assert.deepEqual(got, ['from/tcp hello-ws']);
    // A payload bigger than one TCP segment travels the other way.
    const big = 'x'.repeat(200_000);
    await new Promise<void>((resolve, reject) => ws.publish('from/ws', big, { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    const r = await sub.done(5000);
    assert.equal(r.stdout, `from/ws ${big}\n`);
  } finally {
    sub.kill();
    ws.end(true);
    await broker.stop();
  }
  const lines = logLines(broker.stderr());
  assert.ok(lines.includes(`Opening websockets listen socket on port ${wsPort}.`), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith('New client connected from 127.0.0.1:') && l.includes(' as ws-client (p5, c1, k60).')), lines.join('\n'));
});

/** A WebSocket peer by hand: the HTTP upgrade and RFC 6455 frames (masked, as a browser sends them). */
class RawWebSocket {
  private buf = Buffer.alloc(0);
  private closed = false;
  private waiter: (() => void) | undefined;
  readonly socket: Socket;
  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number, headers: Record<string, string>): Promise<{ ws: RawWebSocket; status: number; response: Record<string, string>; key: string }> {
    const socket = netConnect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const ws = new RawWebSocket(socket);
    const key = randomBytes(16).toString('base64');
    const lines = ['GET /mqtt HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13', 'Origin: http://example.test',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    socket.write(lines.join('\r\n') + '\r\n\r\n');
    const head = await ws.until(() => {
      const end = ws.buf.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const text = ws.buf.subarray(0, end).toString('latin1');
      ws.buf = ws.buf.subarray(end + 4);
      return text;
    });
    const [statusLine, ...rest] = head.split('\r\n');
    const response: Record<string, string> = {};
    for (const l of rest) {
      const i = l.indexOf(':');
      response[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    return { ws, status: Number(statusLine!.split(' ')[1]), response, key };
  }

  async until<T>(take: () => T | undefined, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = take();
      if (v !== undefined) return v;
      if (this.closed) throw new Error('closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** One frame: FIN bit, opcode (0 continuation, 1 text, 2 binary), masked payload. */
  frame(fin: boolean, opcode: number, payload: Buffer): void {
    const mask = randomBytes(4);
    const len = payload.length;
    const head = len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len]) : Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126]), u16(len)]);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
    this.socket.write(Buffer.concat([head, mask, masked]));
  }

  /** The next frame from the server (servers never mask): its opcode and payload. */
  next(timeoutMs = 5000): Promise<{ opcode: number; payload: Buffer }> {
    return this.until(() => {
      const b = this.buf;
      if (b.length < 2) return undefined;
      let len = b[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) return undefined;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) return undefined;
        len = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      if (b.length < at + len) return undefined;
      this.buf = b.subarray(at + len);
      return { opcode: b[0]! & 0x0f, payload: Buffer.from(b.subarray(at, at + len)) };
    }, timeoutMs);
  }

  async closedWithin(timeoutMs = 3000): Promise<boolean> {
    try {
      await this.until(() => undefined, timeoutMs);
    } catch (e) {
      return (e as Error).message === 'closed';
    }
    return false;
  }

  close(): void {
    this.socket.destroy();
  }
}

const CONNECT_311 = (id: string): Buffer => packet(0x10, str('MQTT'), Buffer.from([4, 0x02]), u16(60), str(id));

test('browser-style handshake: subprotocol mqtt, packets split across frames and fragmented messages', async () => {
  const { broker, wsPort } = await startWsBroker();
  try {
    const { ws, status, response, key } = await RawWebSocket.open(wsPort, { 'Sec-WebSocket-Protocol': 'mqtt' });
    try {
      assert.equal(status, 101);
      assert.equal(response['sec-websocket-protocol'], 'mqtt');
      assert.equal(response['sec-websocket-accept'], createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64'));
      // CONNECT in two binary messages: the MQTT stream does not follow frame boundaries.
      const connect = CONNECT_311('raw-ws');
      ws.frame(true, 2, connect.subarray(0, 5));
      ws.frame(true, 2, connect.subarray(5));
      const connack = await ws.next();
      assert.equal(connack.opcode, 2);
      assert.deepEqual([...connack.payload], [0x20, 0x02, 0x00, 0x00]);
      // SUBSCRIBE and PINGREQ in one message fragmented into three frames.
      const both = Buffer.concat([packet(0x82, u16(7), str('a/b'), Buffer.from([0])), Buffer.from([0xc0, 0x00])]);
      ws.frame(false, 2, both.subarray(0, 3));
      ws.frame(false, 0, both.subarray(3, 9));
      ws.frame(true, 0, both.subarray(9));
      const replies: number[] = [];
      while (replies.length < 7) replies.push(...(await ws.next()).payload);
      assert.deepEqual(replies, [0x90, 0x03, 0x00, 0x07, 0x00, 0xd0, 0x00]);
    } finally {
      ws.close();
    }
  } finally {
    await broker.stop();
  }
});

test('subprotocol mqttv3.1 is accepted, an unknown one refused, and a text frame closes the connection', async () => {
  const { broker, wsPort } = await startWsBroker();
  try {
    const v31 = await RawWebSocket.open(wsPort, { 'Sec-WebSocket-Protocol': 'mqttv3.1' });
    assert.equal(v31.status, 101);
    assert.equal(v31.response['sec-websocket-protocol'], 'mqttv3.1');
    v31.ws.frame(true, 2, packet(0x10, str('MQIsdp'), Buffer.from([3, 0x02]), u16(60), str('v31-ws')));
    assert.deepEqual([...(await v31.ws.next()).payload], [0x20, 0x02, 0x00, 0x00]);
    v31.ws.close();

    const foo = await RawWebSocket.open(wsPort, { 'Sec-WebSocket-Protocol': 'foo' });
    assert.equal(foo.status, 400);
    foo.ws.close();

    // [MQTT-6.0.0-1]: data in a text frame closes the network connection.
    const text = await RawWebSocket.open(wsPort, { 'Sec-WebSocket-Protocol': 'mqtt' });
    assert.equal(text.status, 101);
    text.ws.frame(true, 1, CONNECT_311('text-ws'));
    assert.equal(await text.ws.closedWithin(3000), true);
  } finally {
    await broker.stop();
  }
  assert.ok(!broker.stderr().includes('as text-ws'), 'the text-frame client never connected');
});

function httpGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

test('http_dir serves its files and nothing outside it', async () => {
  const { broker, wsPort } = await startWsBroker([`http_dir ${join(dir, 'www')}`]);
  try {
    assert.deepEqual(await httpGet(wsPort, '/'), { status: 200, body: '<h1>skeeter</h1>\n' });
    assert.deepEqual(await httpGet(wsPort, '/index.html'), { status: 200, body: '<h1>skeeter</h1>\n' });
    assert.deepEqual(await httpGet(wsPort, '/sub/app.js'), { status: 200, body: 'console.log(1);\n' });
    assert.equal((await httpGet(wsPort, '/missing.html')).status, 404);
    for (const evil of ['/../secret.txt', '/%2e%2e/secret.txt', '/sub/..%2f..%2fsecret.txt', '/link.txt', '/..%5csecret.txt', '/%00']) {
      const r = await httpGet(wsPort, evil);
      assert.notEqual(r.status, 200, evil);
      assert.ok(!r.body.includes('do not serve'), evil);
    }
  } finally {
    await broker.stop();
  }
});

test('without http_dir plain HTTP gets 404', async () => {
  const { broker, wsPort } = await startWsBroker();
  try {
    assert.equal((await httpGet(wsPort, '/index.html')).status, 404);
  } finally {
    await broker.stop();
  }
});

test('websockets_headers_size bounds the handshake headers (1024 by default)', async () => {
  const big = { 'X-Padding': 'p'.repeat(2000), 'Sec-WebSocket-Protocol': 'mqtt' };
  const small = await startWsBroker();
  try {
    const r = await RawWebSocket.open(small.wsPort, big);
    assert.equal(r.status, 431);
    r.ws.close();
  } finally {
    await small.broker.stop();
  }
  const large = await startWsBroker(['websockets_headers_size 8192']);
  try {
    const r = await RawWebSocket.open(large.wsPort, big);
    assert.equal(r.status, 101);
    r.ws.close();
  } finally {
    await large.broker.stop();
  }
});

test('MQTT.js over wss:// (websockets over TLS)', { skip: !hasOpenssl() && 'openssl not installed' }, async () => {
  const c = certs!;
  const { broker, wsPort } = await startWsBroker([`certfile ${c.serverCert}`, `keyfile ${c.serverKey}`]);
  try {
    const ws = await mqttjs(`wss://localhost:${wsPort}`, { clientId: 'wss-client', ca: readFileSync(c.caCert) });
    const got: string[] = [];
    ws.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await new Promise<void>((resolve, reject) => ws.subscribe('secure/#', (e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve, reject) => ws.publish('secure/x', 'over-wss', { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    await eventually(() => got.length === 1, 5000, 'the message over wss');
    assert.deepEqual(got, ['secure/x over-wss']);
    ws.end(true);
  } finally {
    await broker.stop();
  }
  assert.ok(broker.stderr().includes(' as wss-client ('), broker.stderr());
});
