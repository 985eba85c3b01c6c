/**
 * Appending to a journal with group commit. Operations are encoded straight into one growing
 * buffer; a commit turns everything appended since the last one into a frame (length + CRC32C),
 * writes it with one `fs.write` and makes it durable with one `fs.fdatasync`, both async, then
 * runs the callbacks that waited for it (the broker's PUBACK/PUBREC/SUBACK/...). At most one
 * commit is in flight; what arrives meanwhile goes into the next one, which starts as soon as
 * the previous one ends. When idle, a commit starts `syncMs` after the first append, so a
 * burst shares one fsync.
 *
 * Callbacks run strictly in the order they were registered, across commits and rotations, so
 * acknowledgements leave in the order their packets arrived [MQTT-4.6.0-2].
 */
import { closeSync, constants, fdatasync, fdatasyncSync, fsyncSync, openSync, close, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeJournalHeader, FRAME_HEADER_LENGTH, journalRecordLength, patchOpLength, sealFrame, writeJournalRecord, type JournalRecord } from './journal-format.js';

export interface JournalWriterOptions {
  /** Group-commit window in ms when idle (default 2). */
  readonly syncMs?: number;
  /** Called once when a write or fsync fails; the writer stops and never runs later callbacks. */
  readonly onError?: (e: Error) => void;
  /** A frame is closed once it holds this many bytes (default 4 MiB). */
  readonly maxFrameBytes?: number;
  /** Skip fsyncs (benchmarks of the encoding only; loses durability). */
  readonly noSync?: boolean;
}

/**
 * A deferred call: `fn(a, b, c)` once durable. Kept flat (function and arguments side by side in
 * one array per commit) so that the broker's per-message acknowledgements allocate no closure.
 */
export type DurableCall<A> = (a: A, b: number, c: number) => void;

const runThunk: DurableCall<() => void> = (cb) => cb();

/** A sealed batch, written and synced in order. */
interface Segment {
  readonly fd: number;
  /** `fd` was opened with O_DSYNC: a finished write is durable, no fdatasync needed. */
  readonly dsync: boolean;
  readonly bytes: Buffer | null;
  /** The whole buffer `bytes` is a view of, reused once written. */
  readonly buffer: Buffer | null;
  /** Deferred calls, four slots each: function, a, b, c. */
  readonly calls: unknown[];
  /** Close `fd` after this segment (the journal was rotated away from it). */
  readonly closeAfter: boolean;
}

/**
 * Creates the file at `path` (truncating it) with a header for `base` and makes it durable,
 * directory entry included. Synchronous on purpose: it runs once per snapshot, and the
 * rotation that calls it must happen in one tick with the snapshot it follows.
 *
 * Unless `noSync`, the file is opened with O_DSYNC: each write returns once its data (and the
 * size change) is on disk, exactly what write + fdatasync gives, in one thread-pool job per
 * group commit instead of two.
 */
export function createJournalFile(path: string, base: bigint, noSync = false): number {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (noSync ? 0 : constants.O_DSYNC);
  const fd = openSync(path, flags, 0o600);
  try {
    const header = encodeJournalHeader(base);
    let off = 0;
    while (off < header.length) off += writeSync(fd, header, off, header.length - off);
    if (!noSync) {
      fdatasyncSync(fd);
      syncDirectorySync(dirname(path));
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

function syncDirectorySync(dir: string): void {
  let d: number | undefined;
  try {
    d = openSync(dir, 'r');
    fsyncSync(d);
  } catch {
    // Some file systems refuse fsync on a directory; the file itself is synced.
  } finally {
    if (d !== undefined) closeSync(d);
  }
}

export class JournalWriter {
  private fd: number;
  private readonly syncMs: number;
  private readonly maxFrameBytes: number;
  private readonly noSync: boolean;
  private readonly onError: ((e: Error) => void) | undefined;
  /** The current file was opened by createJournalFile with O_DSYNC (writes are synchronous). */
  private dsync = false;
  /** Encoding buffer of the open batch; `used` bytes are taken, a frame starts at `frameStart`. */
  private buf: Buffer = Buffer.allocUnsafe(64 * 1024);
  /**
   * The buffer of the last written batch, reused for the next one: a fresh large buffer per
   * commit would be external memory the garbage collector answers with full collections.
   */
  private spare: Buffer | undefined;
  private used = 0;
  private frameStart = -1;
  /** Deferred calls of the open batch, four slots each (see DurableCall). */
  private callbacks: unknown[] = [];
  /** The calls array of the last finished commit, emptied, reused by the next seal. */
  private spareCalls: unknown[] | undefined;
  private readonly sealed: Segment[] = [];
  private busy = false;
  private timer: NodeJS.Timeout | undefined;
  private failed: Error | undefined;
  private idleWaiters: Array<() => void> = [];
  /** Bytes in the current file (header included), written or not. */
  fileBytes: number;
  /** Commits (fsyncs) done, for tests and statistics. */
  commits = 0;
  /** Start of the operation that may still grow at the end of the open frame, or -1. */
  private growing = -1;
  private tokens = 0;
  /** Names the operation that may still grow (see beginGrowable); 0 when there is none. */
  growToken = 0;
  /**
   * Called when the growable operation ends (anything else reserved, frame closed), before its
   * length is fixed: it may still write bytes at its end with `extend` + `skip`, or rewrite it.
   */
  onGrowableEnd: ((start: number) => void) | undefined;

  constructor(fd: number, fileBytes: number, options: JournalWriterOptions = {}) {
    this.fd = fd;
    this.fileBytes = fileBytes;
    this.syncMs = options.syncMs ?? 2;
    this.maxFrameBytes = options.maxFrameBytes ?? 4 * 1024 * 1024;
    this.noSync = options.noSync === true;
    this.onError = options.onError;
  }

  /** Opens a new journal file at `path` for `base` and returns its writer. */
  static create(path: string, base: bigint, options: JournalWriterOptions = {}): JournalWriter {
    const fd = createJournalFile(path, base, options.noSync);
    const w = new JournalWriter(fd, encodeJournalHeader(0n).length, options);
    w.dsync = options.noSync !== true;
    return w;
  }

  /**
   * Room for `n` bytes of operations in the open frame: returns the buffer and the position to
   * write at; the caller writes exactly `n` bytes there and calls `advance(n)`.
   */
  reserve(n: number): Buffer {
    if (this.growing >= 0) this.endGrowable();
    if (this.frameStart < 0) {
      this.ensure(FRAME_HEADER_LENGTH + n);
      this.frameStart = this.used;
      this.used += FRAME_HEADER_LENGTH;
    } else {
      this.ensure(n);
    }
    return this.buf;
  }

  /**
   * Marks the operation just reserved at `start` as one that may grow: while `growToken` is the
   * returned token, `extend` adds bytes to it; its length is fixed when anything else is
   * reserved or the frame closes.
   */
  beginGrowable(start: number): number {
    this.growing = start;
    return (this.growToken = ++this.tokens);
  }

  private endGrowable(): void {
    this.onGrowableEnd?.(this.growing);
    // The hook may have grown (and so replaced) the buffer.
    patchOpLength(this.buf, this.growing, this.used);
    this.growing = -1;
    this.growToken = 0;
  }

  /**
   * Room for `n` more bytes at the end of the growable operation (the caller checked
   * `growToken`); the caller writes at `position`, then calls `advance(n)`.
   */
  extend(n: number): Buffer {
    this.ensure(n);
    return this.buf;
  }

  /** Fixes the growable operation now, if there is one (e.g. before the file changes). */
  endOp(): void {
    if (this.growing >= 0) this.endGrowable();
  }

  /** Takes `n` bytes written after `extend(n)` without ending the frame (for onGrowableEnd). */
  skip(n: number): void {
    this.used += n;
  }

  /** Where the next reserved bytes go. */
  get position(): number {
    return this.used;
  }

  advance(n: number): void {
    this.used += n;
    if (this.used - this.frameStart >= this.maxFrameBytes) this.closeFrame();
    if (this.timer === undefined && !this.busy) this.arm();
  }

  /** Appends one operation. */
  append(record: JournalRecord): void {
    const n = journalRecordLength(record);
    const buf = this.reserve(n);
    // Encoded db chunks rely on zeroed padding; the buffer is reused memory.
    buf.fill(0, this.used, this.used + n);
    writeJournalRecord(buf, this.used, record);
    this.advance(n);
  }

  /** Whether anything is appended or waiting and not yet durable. */
  get pending(): boolean {
    return this.used > 0 || this.callbacks.length > 0 || this.sealed.length > 0 || this.busy;
  }

  /**
   * Runs `cb` once everything appended so far is durable. With nothing pending it runs at once
   * (still in order: nothing is ahead of it).
   */
  afterDurable(cb: () => void): void {
    this.afterDurableCall(runThunk, cb, 0, 0);
  }

  /** As afterDurable, for `fn(a, b, c)`: no closure per call (acknowledgements use it). */
  afterDurableCall<A>(fn: DurableCall<A>, a: A, b: number, c: number): void {
    if (this.failed) return;
    if (!this.pending) {
      fn(a, b, c);
      return;
    }
    this.callbacks.push(fn, a, b, c);
    if (this.timer === undefined && !this.busy) this.arm();
  }

  /** Resolves once everything appended so far is durable (or rejects if the journal failed). */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failed) {
        reject(this.failed);
        return;
      }
      this.afterDurable(resolve);
      this.commitNow();
    });
  }

  /** Starts a commit without waiting for the window. */
  commitNow(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.busy) {
      this.seal(false);
      this.pump();
    }
  }

  /**
   * Continues in a new file (created and synced here, synchronously) with header `base`: what
   * was appended before still goes to the old file, which is closed once it is durable.
   */
  rotate(path: string, base: bigint): void {
    const fd = createJournalFile(path, base, this.noSync);
    this.seal(true);
    this.fd = fd;
    this.dsync = !this.noSync;
    this.fileBytes = encodeJournalHeader(0n).length;
    if (!this.busy) this.pump();
  }

  /** Commits what is pending and closes the file. */
  async close(): Promise<void> {
    if (this.failed) return;
    await this.flush().catch(() => undefined);
    await new Promise<void>((resolve) => {
      if (!this.busy && this.sealed.length === 0) resolve();
      else this.idleWaiters.push(resolve);
    });
    await new Promise<void>((resolve) => close(this.fd, () => resolve()));
  }

  private ensure(n: number): void {
    if (this.used + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.used + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.used);
    this.buf = next;
  }

  private closeFrame(): void {
    if (this.frameStart < 0) return;
    if (this.growing >= 0) this.endGrowable();
    sealFrame(this.buf, this.frameStart, this.used);
    this.frameStart = -1;
  }

  private arm(): void {
    this.timer = setTimeout(this.onTimer, this.syncMs);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.busy) return; // the running commit starts the next one when it ends
    this.seal(false);
    this.pump();
  };

  /** Turns the open batch into a segment (also an empty one when it closes the file). */
  private seal(closeAfter: boolean): void {
    if (this.used === 0 && this.callbacks.length === 0 && !closeAfter) return;
    this.closeFrame();
    let bytes: Buffer | null = null;
    let buffer: Buffer | null = null;
    if (this.used > 0) {
      buffer = this.buf;
      bytes = this.buf.subarray(0, this.used);
      this.fileBytes += this.used;
      // Another buffer: this one is being written.
      const spare = this.spare;
      this.spare = undefined;
      this.buf = spare !== undefined && spare.length >= this.buf.length ? spare : Buffer.allocUnsafe(this.buf.length);
      this.used = 0;
    }
    this.sealed.push({ fd: this.fd, dsync: this.dsync, bytes, buffer, calls: this.callbacks, closeAfter });
    this.callbacks = this.spareCalls ?? [];
    this.spareCalls = undefined;
  }

  private pump(): void {
    if (this.busy || this.failed) return;
    const seg = this.sealed.shift();
    if (!seg) {
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of idle) w();
      return;
    }
    this.busy = true;
    const done = (err: Error | null): void => {
      if (err) {
        this.fail(err);
        return;
      }
      this.commits++;
      if (seg.buffer !== null && (this.spare === undefined || this.spare.length < seg.buffer.length)) this.spare = seg.buffer;
      const finish = (): void => {
        this.busy = false;
        const calls = seg.calls;
        for (let i = 0; i < calls.length; i += 4) (calls[i] as DurableCall<unknown>)(calls[i + 1], calls[i + 2] as number, calls[i + 3] as number);
        calls.length = 0;
        this.spareCalls = calls;
        if (this.sealed.length > 0) this.pump();
        else if (this.used > 0 || this.callbacks.length > 0) {
          // Group commit: everything that arrived during this commit goes out together now.
          this.seal(false);
          this.pump();
        } else {
          this.pump();
        }
      };
      if (seg.closeAfter) close(seg.fd, () => finish());
      else finish();
    };
    if (seg.bytes === null) {
      // Nothing to write: the callbacks only had to wait for the segments before them.
      done(null);
      return;
    }
    const bytes = seg.bytes;
    const writeFrom = (off: number): void => {
      write(seg.fd, bytes, off, bytes.length - off, null, (err, n) => {
        if (err) return done(err);
        if (off + n < bytes.length) return writeFrom(off + n);
        if (this.noSync || seg.dsync) return done(null);
        fdatasync(seg.fd, (e) => done(e));
      });
    };
    writeFrom(0);
  }

  private fail(err: Error): void {
    this.failed = err;
    this.busy = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.sealed.length = 0;
    this.callbacks = [];
    const idle = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of idle) w();
    this.onError?.(err);
  }
}
