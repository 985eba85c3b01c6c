// A raw MQTT 3.1.1 client for the load generator: one TCP socket, hand-built packets, framing by
// fixed header. It only knows what the scenarios need: CONNECT/CONNACK, SUBSCRIBE/SUBACK,
// PINGREQ/PINGRESP; every PUBLISH and acknowledgement goes to the scenario's `onPacket`.
import { connect as netConnect } from 'node:net';
import { connectPacket, FrameReader, PINGREQ, subscribePacket, TYPE } from './packets.mjs';

const HOST = '127.0.0.1';

export class MqttSocket {
  constructor(port, clientId) {
    this.port = port;
    this.clientId = clientId;
    this.socket = null;
    /** Scenario hook for PUBLISH and acknowledgements: (firstByte, buf, bodyStart, bodyEnd). */
    this.onPacket = null;
    /** Called after each received chunk has been framed (to flush batched acks, to pump). */
    this.afterChunk = null;
    this.waiters = [];
    this.nextSubscribeId = 1;
    this.reader = new FrameReader((h, buf, s, e) => this.dispatch(h, buf, s, e));
  }

  dispatch(h, buf, s, e) {
    const type = h >> 4;
    if (type === TYPE.CONNACK || type === TYPE.SUBACK || type === TYPE.PINGRESP) {
      const i = this.waiters.findIndex((w) => w.type === type);
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        w.resolve(Buffer.from(buf.subarray(s, e)));
      }
      return;
    }
    if (this.onPacket !== null) this.onPacket(h, buf, s, e);
  }

  waitFor(type, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const w = { type, resolve: (v) => (clearTimeout(timer), resolve(v)) };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`${this.clientId}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Opens the socket and completes CONNECT; rejects on refusal, error or timeout. */
  async connect(timeoutMs = 10_000) {
    const socket = netConnect({ host: HOST, port: this.port, noDelay: true });
    this.socket = socket;
    const failed = new Promise((_, reject) => {
      socket.once('error', reject);
      socket.once('close', () => reject(new Error(`${this.clientId}: closed before CONNACK`)));
    });
    socket.on('data', (chunk) => {
      this.reader.push(chunk);
      if (this.afterChunk !== null) this.afterChunk();
    });
    const connack = this.waitFor(TYPE.CONNACK, timeoutMs, 'CONNACK');
    socket.write(connectPacket(this.clientId));
    const body = await Promise.race([connack, failed]);
    failed.catch(() => {});
    socket.removeAllListeners('error');
    socket.removeAllListeners('close');
    socket.on('error', () => {});
    if (body[1] !== 0) throw new Error(`${this.clientId}: CONNACK return code ${body[1]}`);
  }

  /** Subscribes to all filters (100 per SUBSCRIBE packet); rejects if any is refused (0x80). */
  async subscribe(filters, qos, timeoutMs = 20_000) {
    const pending = [];
    for (let i = 0; i < filters.length; i += 100) {
      const id = this.nextSubscribeId++;
      pending.push(this.waitFor(TYPE.SUBACK, timeoutMs, 'SUBACK'));
      this.socket.write(subscribePacket(id, filters.slice(i, i + 100), qos));
    }
    for (const body of await Promise.all(pending)) {
      for (let i = 2; i < body.length; i++) {
        if (body[i] === 0x80) throw new Error(`${this.clientId}: subscription refused`);
      }
    }
  }

  /** PINGREQ/PINGRESP: once it returns, the broker has processed everything sent before. */
  async ping(timeoutMs = 60_000) {
    const p = this.waitFor(TYPE.PINGRESP, timeoutMs, 'PINGRESP');
    this.socket.write(PINGREQ);
    await p;
  }

  write(buf) {
    return this.socket.write(buf);
  }

  get backedUp() {
    return this.socket.writableLength > 256 * 1024;
  }

  close() {
    this.socket?.destroy();
  }
}

/** Connects many clients, `parallel` at a time; returns them in order. */
export async function connectMany(port, prefix, count, parallel = 200) {
  const clients = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      const c = new MqttSocket(port, `${prefix}${i}`);
      await c.connect();
      clients[i] = c;
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  } catch (e) {
    for (const c of clients) c?.close();
    throw e;
  }
  return clients;
}
