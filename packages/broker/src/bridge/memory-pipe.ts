/**
 * Two connected in-memory Duplex streams: what one writes, the other reads. A bridge's local
 * side talks MQTT to this broker through one, so the broker serves it like any client
 * (sessions, queues, QoS flows) without a socket.
 */
import { Duplex } from 'node:stream';

class End extends Duplex {
  other!: End;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.other.push(chunk);
    done();
  }
  override _read(): void {
    // Data is pushed by the other end's writes.
  }
  override _final(done: (e?: Error | null) => void): void {
    this.other.push(null);
    done();
  }
  override _destroy(err: Error | null, done: (e?: Error | null) => void): void {
    if (!this.other.destroyed) this.other.destroy();
    done(err);
  }
}

export function memoryPipe(): [Duplex, Duplex] {
  const a = new End();
  const b = new End();
  a.other = b;
  b.other = a;
  return [a, b];
}
