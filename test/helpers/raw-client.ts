/**
 * A raw MQTT peer for black-box tests: it writes bytes and reads whole packets by framing them
 * itself (fixed header + remaining length), with a timeout on every wait.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

export class RawClient {
  private readonly socket: Socket;
  private buf = Buffer.alloc(0);
  private closed = false;
  private waiter: (() => void) | undefined;
  /** The socket error that ended the connection (ECONNRESET when the peer reset it), if any. */
  error: string | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.error = e.code ?? e.message;
    });
  }

  /** A client on a socket accepted by a test's own server (a scripted bridge remote). */
  static wrap(socket: Socket): RawClient {
    return new RawClient(socket);
  }

  static open(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawClient(socket));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  /** The same over TLS: resolves once the handshake is done (rejects on a TLS error or timeout). */
  static openTls(port: number, options: ConnectionOptions, timeoutMs = 5000): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...options });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`TLS connect to port ${port} timed out`));
      }, timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(new RawClient(socket));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  send(...bufs: Buffer[]): void {
    this.socket.write(Buffer.concat(bufs));
  }

  /** Resolves with the next whole packet, or null when the connection closed first. */
  async next(timeoutMs = 3000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.frame();
      if (frame) return frame;
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no packet within ${timeoutMs} ms (buffered: ${this.buf.toString('hex')})`);
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

  /** Resolves true when the peer closes within the time, having sent nothing more. */
  async closedWithin(timeoutMs = 3000): Promise<boolean> {
    const p = await this.next(timeoutMs).catch(() => undefined);
    return p === null;
  }

  private frame(): Buffer | null {
    const b = this.buf;
    if (b.length < 2) return null;
    let rl = 0;
    let mul = 1;
    let i = 1;
    for (;;) {
      if (i >= b.length) return null;
      const x = b[i]!;
      rl += (x & 0x7f) * mul;
      i++;
      if ((x & 0x80) === 0) break;
      mul *= 128;
      if (i > 4) throw new Error('bad remaining length from peer');
    }
    if (b.length < i + rl) return null;
    const out = b.subarray(0, i + rl);
    this.buf = b.subarray(i + rl);
    return Buffer.from(out);
  }

  close(): void {
    this.socket.destroy();
  }
}
