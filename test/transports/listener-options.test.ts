/**
 * Listener options beyond the transport kind: bind_interface (against Debian's 2.0.11, which has
 * it), and three Mosquitto 2.1 options that Debian refuses as unknown, so they follow the
 * reference (§1.2, §2.8) and Mosquitto 2.1's own tests: accept_protocol_versions,
 * websockets_origin, and the X-Forwarded-For address on websockets listeners.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { freePort, hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { connect } from '../helpers/mqtt-bytes.js';
import { RawClient } from '../helpers/raw-client.js';
import { eventually, logLines, runBrokerToExit } from './helpers.js';

const skipNoDebian = !hasDebianMosquitto() && 'Debian mosquitto not installed';

/** True when this process can listen on host:port (the broker did not take that address). */
function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

// ---- accept_protocol_versions ----

async function connackFor(port: number, bytes: Buffer): Promise<{ connack: Buffer | null; closed: boolean }> {
  const c = await RawClient.open(port);
  c.send(bytes);
  const connack = await c.next(5000);
  const closed = await c.closedWithin(5000);
  c.close();
  return { connack, closed };
}

test('accept_protocol_versions: other versions get CONNACK 1 (3.1, 3.1.1) or 0x84 (5.0) and are closed', async () => {
  const port2 = await freePort();
  const broker = await startBroker({
    verbose: true,
    config: ['accept_protocol_versions 5', `listener ${port2} 127.0.0.1`, 'accept_protocol_versions 3, 4'],
  });
  try {
    // Only 5 on the first listener.
    let r = await connackFor(broker.port, connect(4, { clientId: 'v4' }));
    assert.deepEqual(r.connack, Buffer.from([0x20, 0x02, 0x00, 0x01]));
    assert.ok(r.closed);
    r = await connackFor(broker.port, connect(3, { clientId: 'v3' }));
    assert.deepEqual(r.connack, Buffer.from([0x20, 0x02, 0x00, 0x01]));
    assert.ok(r.closed);
    let c = await RawClient.open(broker.port);
    c.send(connect(5, { clientId: 'v5' }));
    let ack = await c.next(5000);
    assert.equal(ack![0], 0x20);
    assert.equal(ack![3], 0x00);
    c.close();
    // 3 and 4 on the second: 5.0 gets the v5 CONNACK with "unsupported protocol version".
    r = await connackFor(port2, connect(5, { clientId: 'v5b' }));
    assert.deepEqual(r.connack, Buffer.from([0x20, 0x03, 0x00, 0x84, 0x00]));
    assert.ok(r.closed);
    c = await RawClient.open(port2);
    c.send(connect(4, { clientId: 'v4b' }));
    ack = await c.next(5000);
    assert.deepEqual(ack, Buffer.from([0x20, 0x02, 0x00, 0x00]));
    c.close();
    assert.ok(!/New client connected from .* as v4 /.test(broker.stderr()));
    // MOSQ_ERR_NOT_SUPPORTED's line in Mosquitto's disconnect log (the client has no id yet).
    assert.ok(logLines(broker.stderr()).includes('Client <unknown> disconnected due to using not allowed feature (QoS too high, retain not supported, or bad AUTH method).'));
  } finally {
    await broker.stop();
  }
});

test('accept_protocol_versions outside a listener is an error; Debian 2.0.11 does not know the option', async () => {
  const r = await runBrokerToExit(false, ['accept_protocol_versions 5']);
  assert.notEqual(r.code, 0);
  assert.ok(logLines(r.stderr).includes("Error: The 'accept_protocol_versions' option requires a listener to be defined first."), r.stderr);
  if (hasDebianMosquitto()) {
    const d = await runBrokerToExit(true, [`listener ${await freePort()} 127.0.0.1`, 'accept_protocol_versions 5']);
    assert.equal(d.code, 3);
    assert.match(d.stderr, /Unknown configuration variable "accept_protocol_versions"/);
  }
});

// ---- bind_interface (Debian 2.0.11 has it) ----

/** Starts a broker (ours or Debian's) with its only listener bound through an interface. */
async function interfaceBroker(oracle: boolean, lines: string[]): Promise<{ broker: RunningBroker; port: number }> {
  const port = await freePort();
  // startBroker always writes `listener <port> 127.0.0.1` first: give it a second port, and
  // put the listener under test on `port`.
  const broker = await startBroker({ oracle, verbose: true, config: [`listener ${port}`, ...lines] });
  await eventually(() => / running$/m.test(broker.stderr()), 5000, 'the running line');
  return { broker, port };
}

for (const oracle of [false, true]) {
  const who = oracle ? 'Debian' : 'skeeter';
  test(`bind_interface lo binds the loopback addresses only (${who})`, { skip: oracle && skipNoDebian }, async () => {
    const { broker, port } = await interfaceBroker(oracle, ['bind_interface lo', 'socket_domain ipv4']);
    try {
      // Bound to 127.0.0.1, not 0.0.0.0: another loopback address stays free on that port.
      assert.equal(await canListen(port, '127.0.0.2'), true);
      assert.equal(await canListen(port, '127.0.0.1'), false);
      const c = await RawClient.open(port);
      c.send(connect(4, { clientId: 'lo-client' }));
      assert.deepEqual(await c.next(5000), Buffer.from([0x20, 0x02, 0x00, 0x00]));
      c.close();
      const lines = logLines(broker.stderr());
      assert.ok(lines.includes(`Opening ipv4 listen socket on port ${port}.`));
      assert.ok(!lines.includes(`Opening ipv6 listen socket on port ${port}.`));
    } finally {
      await broker.stop();
    }
  });
}

test('bind_interface: same lines as Debian for lo on both families, and for an address that is not the interface\'s', { skip: skipNoDebian }, async () => {
  const logs: string[][] = [];
  for (const oracle of [false, true]) {
    const port = await freePort();
    const r = await runBrokerToExit(oracle, [`listener ${port} 127.0.0.2`, 'bind_interface lo']);
    assert.equal(r.code, 1);
    logs.push(logLines(r.stderr).filter((l) => !/version .* starting|Config loaded|should not be run as root/.test(l)).map((l) => l.replace(String(port), 'P')));
  }
  assert.deepEqual(logs[0], logs[1]);
  assert.deepEqual(logs[0], ['Opening ipv4 listen socket on port P.', 'Warning: Interface address for lo does not match specified listener address (127.0.0.2).']);
  const both: string[][] = [];
  for (const oracle of [false, true]) {
    const { broker, port } = await interfaceBroker(oracle, ['bind_interface LO']);
    try {
      assert.equal(await canListen(port, '127.0.0.2'), true);
      both.push(logLines(broker.stderr()).filter((l) => l.includes(`port ${port}`)).map((l) => l.replace(String(port), 'P')));
    } finally {
      await broker.stop();
    }
  }
  assert.deepEqual(both[0], both[1]);
});

test('bind_interface with an interface that does not exist: the listener fails, exit 1', async () => {
  const port = await freePort();
  const r = await runBrokerToExit(false, [`listener ${port}`, 'bind_interface nosuch0', 'socket_domain ipv4']);
  assert.equal(r.code, 1);
  // Mosquitto 2.0.20's line. Debian's 2.0.11 prints "Warning: Interface nosuch0 does not
  // support IPv4 configuration." here instead (a bug fixed later), and also exits 1.
  assert.deepEqual(logLines(r.stderr).slice(-2), [`Opening ipv4 listen socket on port ${port}.`, 'Error: Interface nosuch0 does not exist.']);
  if (hasDebianMosquitto()) {
    const d = await runBrokerToExit(true, [`listener ${port}`, 'bind_interface nosuch0', 'socket_domain ipv4']);
    assert.equal(d.code, 1);
  }
});

// ---- websockets_origin and X-Forwarded-For ----

/** Sends a websocket upgrade request (after `prefix`, e.g. a PROXY header); resolves with the status, or 0 when closed unanswered. */
async function handshake(port: number, headers: string[], prefix = Buffer.alloc(0)): Promise<{ status: number; socket: Socket }> {
  const socket = netConnect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buf = Buffer.alloc(0);
  let closed = false;
  socket.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
  socket.on('close', () => (closed = true));
  const req = ['GET /mqtt HTTP/1.1', 'Host: localhost', 'Upgrade: websocket', 'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Protocol: mqtt', 'Sec-WebSocket-Version: 13', ...headers];
  socket.write(Buffer.concat([prefix, Buffer.from(req.join('\r\n') + '\r\n\r\n')]));
  await eventually(() => closed || buf.includes('\r\n\r\n'), 5000, 'an answer or a close');
  if (!buf.includes('\r\n\r\n')) return { status: 0, socket };
  return { status: Number(buf.toString('latin1').split(' ')[1]), socket };
}

/** Sends CONNECT v4 "<id>" in one masked binary frame. */
function sendConnect(socket: Socket, id: string): void {
  const c = connect(4, { clientId: id });
  const mask = randomBytes(4);
  socket.write(Buffer.concat([Buffer.from([0x82, 0x80 | c.length]), mask, Buffer.from(c.map((b, i) => b ^ mask[i % 4]!))]));
}

test('websockets_origin: only listed Origin values may upgrade; handshakes without Origin pass', async () => {
  const broker = await startBroker({
    verbose: true,
    config: ['protocol websockets', 'websockets_origin http://good.example', 'websockets_origin https://also.example:8443'],
  });
  try {
    for (const origin of ['http://good.example', 'https://also.example:8443']) {
      const r = await handshake(broker.port, [`Origin: ${origin}`]);
      assert.equal(r.status, 101, origin);
      r.socket.destroy();
    }
    // Mosquitto 2.1 drops a bad origin without an answer (its test expects no bytes back).
    for (const origin of ['http://evil.example', 'http://good.example.evil', 'http://good.exampl', '']) {
      const r = await handshake(broker.port, [`Origin: ${origin}`]);
      assert.equal(r.status, 0, origin);
    }
    const r = await handshake(broker.port, []);
    assert.equal(r.status, 101);
    r.socket.destroy();
    assert.equal(logLines(broker.stderr()).filter((l) => l === 'Bad socket read/write on client <unknown>: Bad http origin').length, 4);
  } finally {
    await broker.stop();
  }
});

test('X-Forwarded-For: the address a loopback proxy appended is the client\'s; untrusted or invalid headers are ignored', async () => {
  const broker = await startBroker({ verbose: true, config: ['protocol websockets'] });
  const proxied = await freePort();
  // A websockets listener behind PROXY v1: its clients are the header's 192.0.2.5, not loopback.
  const behind = await startBroker({ verbose: true, config: [`listener ${proxied} 127.0.0.1`, 'protocol websockets', 'enable_proxy_protocol 1'] });
  try {
    let r = await handshake(broker.port, ['X-Forwarded-For: 198.51.100.1, 203.0.113.7']);
    assert.equal(r.status, 101);
    sendConnect(r.socket, 'xff-trusted');
    await eventually(() => /New client connected from 203\.0\.113\.7:\d+ as xff-trusted /.test(broker.stderr()), 5000, 'the forwarded address');
    r.socket.destroy();
    r = await handshake(broker.port, ['X-Forwarded-For: not-an-address']);
    sendConnect(r.socket, 'xff-invalid');
    await eventually(() => /New client connected from 127\.0\.0\.1:\d+ as xff-invalid /.test(broker.stderr()), 5000, 'the socket address');
    r.socket.destroy();
    r = await handshake(proxied, ['X-Forwarded-For: 203.0.113.7'], Buffer.from('PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234\r\n'));
    assert.equal(r.status, 101);
    sendConnect(r.socket, 'xff-untrusted');
    await eventually(() => behind.stderr().includes('New client connected from 192.0.2.5:6275 as xff-untrusted '), 5000, 'the untrusted client');
    r.socket.destroy();
  } finally {
    await broker.stop();
    await behind.stop();
  }
});
