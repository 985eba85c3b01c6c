/**
 * Progress on stderr for large files, only when stderr is a terminal (so redirected output
 * and tests are unaffected): one line rewritten in place, erased when done.
 */
import type { Writable } from 'node:stream';

/** Files smaller than this finish too fast for progress to be useful. */
const MIN_SIZE = 16 * 1024 * 1024;
const INTERVAL_MS = 200;

export class Progress {
  private readonly stream: Writable;
  private readonly enabled: boolean;
  private last = 0;
  private shown = false;

  constructor(stream: Writable & { isTTY?: boolean }) {
    this.stream = stream;
    this.enabled = stream.isTTY === true;
  }

  update(offset: number, size: number): void {
    if (!this.enabled || size < MIN_SIZE) return;
    const now = Date.now();
    if (now - this.last < INTERVAL_MS) return;
    this.last = now;
    const pct = Math.min(100, Math.floor((offset / size) * 100));
    this.stream.write(`\rdb_dump: ${pct}% (${(offset / 1048576).toFixed(0)} of ${(size / 1048576).toFixed(0)} MiB)\x1b[K`);
    this.shown = true;
  }

  finish(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
