/**
 * Buffered byte-exact output. Everything db_dump prints is built as latin1 strings (one
 * char per byte), so topics, payloads and client ids go out exactly as stored, whatever their
 * encoding, like C's printf("%s").
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export class ByteOutput {
  private parts: string[] = [];
  private size = 0;
  private readonly stream: Writable;
  private readonly threshold: number;

  constructor(stream: Writable, threshold = 64 * 1024) {
    this.stream = stream;
    this.threshold = threshold;
  }

  /** Appends latin1 text; call `maybeFlush` now and then to bound memory. */
  put(s: string): void {
    this.parts.push(s);
    this.size += s.length;
  }

  get pending(): number {
    return this.size;
  }

  async maybeFlush(): Promise<void> {
    if (this.size >= this.threshold) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(Buffer.from(text, 'latin1'))) await once(this.stream, 'drain');
  }
}

/** C's `%s` on a NUL-terminated copy: bytes up to the first NUL; a NULL pointer prints "(null)" (glibc). */
export function cString(b: Buffer | null): string {
  if (b === null) return '(null)';
  const nul = b.indexOf(0);
  return (nul < 0 ? b : b.subarray(0, nul)).toString('latin1');
}

/** `%d` of a 32-bit unsigned field: values above 2^31-1 print negative. */
export function int32(n: number): string {
  return String(n | 0);
}

/** `%" PRIu64 "` of a 64-bit field (signed fields print as their unsigned bit pattern). */
export function uint64(n: bigint): string {
  return BigInt.asUintN(64, n).toString();
}
