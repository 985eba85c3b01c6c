/**
 * What the Debian 2.0.11 tools cannot be compared on: our version line, 2.1's `-o` options
 * file, the default options file, unix sockets and a SOCKS5 proxy — checked against the
 * reference and a Debian broker.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { hasOpenssl, makeTestCertificates } from '../transports/certs.js';
import { debian, debianToolsMissing, freePort, ours, runTool, startDebianBroker, type Broker } from './harness.js';

const missing = debianToolsMissing();

describe('client tools: skeeter extras', { concurrency: 1, timeout: 120_000 }, () => {
  if (missing) {
    it('skipped', { skip: missing }, () => {});
    return;
  }
  let broker: Broker;
  let dir: string;
  let observer: mqtt.MqttClient;
  const seen: string[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skeeter-extras-'));
    // max_queued_messages 0: the observer may fall behind a -l flood without losing messages.
    broker = await startDebianBroker([
      'allow_anonymous true',
      'max_queued_messages 0',
      `listener 0 ${join(tmpdir(), `skeeter-${process.pid}.sock`)}`,
    ]);
    observer = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.port, reconnectPeriod: 0 });
    await observer.subscribeAsync('x/#', { qos: 1 });
    observer.on('message', (t, p, packet) => seen.push(`${t} ${p.toString()} q${packet.qos}`));
  });
  after(async () => {
    await observer?.endAsync();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(tmpdir(), `skeeter-${process.pid}.sock`), { force: true });
  });

  const waitFor = async (line: string): Promise<void> => {
    for (let i = 0; i < 50 && !seen.includes(line); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(seen.includes(line), `expected ${line} in ${JSON.stringify(seen)}`);
  };

  it('--version names the Mosquitto release reproduced and skeeter, exit 1', async () => {
    const r = await runTool(ours('mosquitto_sub'), ['--version'], { cwd: dir, timeoutMs: 15_000 });
    assert.deepEqual([r.stdout, r.stderr, r.status], ['mosquitto_sub version 2.0.20 running on libmosquitto 2.0.20 (skeeter 0.1.0).\n', '', 1]);
  });

  it('-o reads options from the named file (2.1) instead of the default one', async () => {
    writeFileSync(join(dir, 'opts'), `# options\n-p ${broker.port}\n-t x/from-o\n-q 1\n`);
    mkdirSync(join(dir, '.config'), { recursive: true });
    writeFileSync(join(dir, '.config', 'mosquitto_pub'), '-t x/from-default\n');
    const r = await runTool(ours('mosquitto_pub'), ['-o', join(dir, 'opts'), '-m', 'hello'], { cwd: dir, timeoutMs: 15_000 });
    assert.deepEqual([r.stderr, r.status], ['', 0]);
    await waitFor('x/from-o hello q1');
  });

  it('$XDG_CONFIG_HOME/mosquitto_pub is read before argv; argv overrides', async () => {
    const xdg = join(dir, 'xdg');
    mkdirSync(xdg, { recursive: true });
    writeFileSync(join(xdg, 'mosquitto_pub'), `-p ${broker.port}\n-t x/xdg\n-q 2\n`);
    const r = await runTool(ours('mosquitto_pub'), ['-q', '1', '-m', 'over'], { cwd: dir, env: { XDG_CONFIG_HOME: xdg }, timeoutMs: 15_000 });
    assert.deepEqual([r.stderr, r.status], ['', 0]);
    await waitFor('x/xdg over q1');
  });

  // A producer faster than the socket: stdin must wait for the socket (no warning about
  // piled-up 'drain' listeners on stderr, nothing lost), at QoS 0 and within -M at QoS 1.
  for (const qos of ['0', '1']) {
    it(`-l with 30000 lines at QoS ${qos}: every line published, in order, nothing on stderr`, async () => {
      const count = 30_000;
      const lines = Array.from({ length: count }, (_, i) => `line ${i}`);
      const got: string[] = [];
      const topic = `x/lines${qos}`;
      const listener = (t: string, p: Buffer): void => {
        if (t === topic) got.push(p.toString());
      };
      observer.on('message', listener);
      try {
        const r = await runTool(ours('mosquitto_pub'), ['-p', String(broker.port), '-t', topic, '-l', '-q', qos], {
          cwd: dir,
          stdin: lines.join('\n') + '\n',
          timeoutMs: 120_000,
        });
        assert.deepEqual([r.stdout, r.stderr, r.status], ['', '', 0]);
        for (let i = 0; i < 300 && got.length < count; i++) await new Promise((res) => setTimeout(res, 100));
        assert.equal(got.length, count);
        assert.deepEqual(got, lines);
      } finally {
        observer.off('message', listener);
      }
    });
  }

  it('--unix connects over a unix domain socket', async () => {
    const r = await runTool(ours('mosquitto_pub'), ['--unix', join(tmpdir(), `skeeter-${process.pid}.sock`), '-t', 'x/unix', '-m', 'u', '-d'], {
      cwd: dir,
      timeoutMs: 15_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Client \(null\) sending CONNECT\n/);
    await waitFor('x/unix u q0');
  });

  it('--proxy socks5h:// goes through a SOCKS5 proxy with username/password auth', async () => {
    const requests: string[] = [];
    const proxy: Server = createServer((client: Socket) => {
      let stage = 0;
      let buf = Buffer.alloc(0);
      const onData = (d: Buffer): void => {
        buf = Buffer.concat([buf, d]);
        if (stage === 0 && buf.length >= 2 + (buf[1] ?? 0)) {
          requests.push(`methods ${[...buf.subarray(2, 2 + (buf[1] ?? 0))].join(',')}`);
          buf = buf.subarray(2 + (buf[1] ?? 0));
          client.write(Buffer.from([5, 2]));
          stage = 1;
        }
        if (stage === 1 && buf.length >= 2) {
          const ulen = buf[1] ?? 0;
          const plen = buf[2 + ulen];
          if (plen !== undefined && buf.length >= 3 + ulen + plen) {
            requests.push(`auth ${buf.subarray(2, 2 + ulen)}:${buf.subarray(3 + ulen, 3 + ulen + plen)}`);
            buf = buf.subarray(3 + ulen + plen);
            client.write(Buffer.from([1, 0]));
            stage = 2;
          }
        }
        if (stage === 2 && buf.length >= 5 && buf.length >= 7 + (buf[4] ?? 0)) {
          const host = buf.subarray(5, 5 + (buf[4] ?? 0)).toString();
          const port = buf.readUInt16BE(5 + (buf[4] ?? 0));
          requests.push(`connect ${host}:${port}`);
          const rest = buf.subarray(7 + (buf[4] ?? 0));
          client.off('data', onData);
          const upstream = connect(broker.port, '127.0.0.1', () => {
            client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
            if (rest.length) upstream.write(rest);
            client.pipe(upstream).pipe(client);
          });
          upstream.on('error', () => client.destroy());
          client.on('error', () => upstream.destroy());
          stage = 3;
        }
      };
      client.on('data', onData);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyPort = (proxy.address() as { port: number }).port;
    try {
      const r = await runTool(
        ours('mosquitto_pub'),
        ['--proxy', `socks5h://user:pa%3Ass@127.0.0.1:${proxyPort}`, '-h', 'broker.invalid', '-p', String(broker.port), '-t', 'x/proxy', '-m', 'p'],
        { cwd: dir, timeoutMs: 15_000 },
      );
      assert.deepEqual([r.stderr, r.status], ['', 0]);
      assert.deepEqual(requests, ['methods 0,2', 'auth user:pa:ss', `connect broker.invalid:${broker.port}`]);
      await waitFor('x/proxy p q0');
    } finally {
      proxy.close();
    }
  });
});

describe('client tools: signals', { timeout: 60_000 }, () => {
  if (missing) {
    it('skipped', { skip: missing }, () => {});
    return;
  }
  it('mosquitto_sub on SIGINT after CONNACK sends DISCONNECT and exits 0', async () => {
    const broker = await startDebianBroker();
    const dir = mkdtempSync(join(tmpdir(), 'skeeter-sig-'));
    try {
      const { spawn } = await import('node:child_process');
      const child = spawn(ours('mosquitto_sub'), ['-p', String(broker.port), '-t', 'sig', '-d'], { cwd: dir, env: { ...process.env, HOME: dir } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      for (let i = 0; i < 100 && !out.includes('Subscribed (mid: 1): 0'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /Subscribed \(mid: 1\): 0\n/);
      if (child.pid !== undefined) process.kill(child.pid, 'SIGINT');
      const killer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 10_000);
      const code = await closed;
      clearTimeout(killer);
      assert.equal(code, 0);
      assert.match(out, /Client \(null\) sending DISCONNECT\n$/);
    } finally {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A minimal websocket-to-TCP bridge in front of the Debian broker (whose websockets listener
 * cannot be bound to loopback only): it checks the upgrade request (path, subprotocol), answers
 * RFC 6455's handshake, unmasks client frames into the broker and frames the broker's bytes.
 */
async function startWsBridge(
  brokerPort: number,
  seen: string[],
  tlsOptions?: { key: Buffer; cert: Buffer },
): Promise<{ port: number; close(): void }> {
  const { createHash } = await import('node:crypto');
  const { createServer: createTlsServer } = await import('node:tls');
  const handler = (client: Socket): void => {
    let buf = Buffer.alloc(0);
    let upstream: Socket | undefined;
    client.on('error', () => upstream?.destroy());
    client.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upstream) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        const path = head.split(' ')[1] ?? '';
        const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? '';
        const proto = /sec-websocket-protocol: *([^\r\n]+)/i.exec(head)?.[1] ?? '';
        seen.push(`upgrade ${path} ${proto}`);
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        client.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`);
        upstream = connect(brokerPort, '127.0.0.1');
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => client.destroy());
        upstream.on('data', (payload: Buffer) => {
          const len = payload.length;
          const header = len < 126 ? Buffer.from([0x82, len]) : Buffer.from([0x82, 126, len >> 8, len & 0xff]);
          client.write(Buffer.concat([header, payload]));
        });
      }
      // Client frames: FIN+opcode, masked length, 4-byte mask, payload.
      for (;;) {
        if (buf.length < 2) return;
        const opcode = (buf[0] ?? 0) & 0x0f;
        let len = (buf[1] ?? 0) & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        }
        if (buf.length < off + 4 + len) return;
        const mask = buf.subarray(off, off + 4);
        const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len));
        for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
        buf = buf.subarray(off + 4 + len);
        if (opcode === 0x8) {
          upstream?.end();
          client.end();
          return;
        }
        if (opcode === 0x2 || opcode === 0x0) upstream?.write(payload);
      }
    });
  };
  const server = tlsOptions ? createTlsServer(tlsOptions, handler) : createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}

describe('client tools: websockets (2.1)', { timeout: 60_000 }, () => {
  if (missing) {
    it('skipped', { skip: missing }, () => {});
    return;
  }
  it('-L ws:// publishes through a websocket upgrade on /mqtt with subprotocol mqtt', async () => {
    const broker = await startDebianBroker();
    const seen: string[] = [];
    const bridge = await startWsBridge(broker.port, seen);
    const dir = mkdtempSync(join(tmpdir(), 'skeeter-ws-'));
    const observer = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.port, reconnectPeriod: 0 });
    const got: string[] = [];
    observer.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
    await observer.subscribeAsync('ws/#', { qos: 1 });
    try {
      const r = await runTool(ours('mosquitto_pub'), ['-L', `ws://127.0.0.1:${bridge.port}/ws/t`, '-m', 'over-ws', '-q', '1', '-d'], {
        cwd: dir,
        timeoutMs: 15_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(
        r.stdout,
        "Client (null) sending CONNECT\nClient (null) received CONNACK (0)\nClient (null) sending PUBLISH (d0, q1, r0, m1, 'ws/t', ... (7 bytes))\nClient (null) received PUBACK (Mid: 1, RC:0)\nClient (null) sending DISCONNECT\n",
      );
      assert.deepEqual(seen, ['upgrade /mqtt mqtt']);
      for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((res) => setTimeout(res, 100));
      assert.deepEqual(got, ['ws/t over-ws']);
    } finally {
      await observer.endAsync();
      bridge.close();
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('-L wss:// publishes through TLS then a websocket upgrade (--cafile)', { skip: hasOpenssl() ? false : 'openssl not installed' }, async () => {
    const certs = makeTestCertificates();
    const broker = await startDebianBroker();
    const seen: string[] = [];
    const bridge = await startWsBridge(broker.port, seen, { key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert) });
    const dir = mkdtempSync(join(tmpdir(), 'skeeter-wss-'));
    const observer = await mqtt.connectAsync({ host: '127.0.0.1', port: broker.port, reconnectPeriod: 0 });
    const got: string[] = [];
    observer.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
    await observer.subscribeAsync('wss/#', { qos: 1 });
    try {
      const r = await runTool(
        ours('mosquitto_pub'),
        ['-L', `wss://127.0.0.1:${bridge.port}/wss/t`, '--cafile', certs.caCert, '-m', 'over-wss', '-q', '1', '-V', '5', '-d'],
        { cwd: dir, timeoutMs: 15_000 },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /received PUBACK \(Mid: 1, RC:0\)\nClient auto-\S+ sending DISCONNECT\n$/);
      assert.deepEqual(seen, ['upgrade /mqtt mqtt']);
      for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((res) => setTimeout(res, 100));
      assert.deepEqual(got, ['wss/t over-wss']);
    } finally {
      await observer.endAsync();
      bridge.close();
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
      certs.remove();
    }
  });

  // libmosquitto makes the TCP connection before the websocket upgrade, so a refused
  // websocket connection reads as a refused TCP one; Debian's 2.0.11 tool (no websockets)
  // gives the TCP text to compare with.
  for (const [scheme, tool] of [
    ['ws', 'mosquitto_pub'],
    ['wss', 'mosquitto_pub'],
    ['ws', 'mosquitto_sub'],
  ] as const) {
    it(`${tool} -L ${scheme}:// to a closed port: the refused TCP connection's text and status`, async () => {
      const closed = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'skeeter-ws-'));
      try {
        const extra = tool === 'mosquitto_pub' ? ['-m', 'x'] : [];
        const mine = await runTool(ours(tool), ['-L', `${scheme}://127.0.0.1:${closed}/t`, ...extra], { cwd: dir, timeoutMs: 15_000 });
        const theirs = await runTool(debian(tool), ['-p', String(closed), '-t', 't', ...extra], { cwd: dir, timeoutMs: 15_000 });
        assert.equal(theirs.stderr, 'Error: Connection refused\n');
        assert.deepEqual(mine, theirs);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
