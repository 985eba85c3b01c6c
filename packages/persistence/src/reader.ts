/**
 * Readers of whole files: a synchronous one over a Buffer (tests, small files) and a
 * streaming one over a file handle that holds at most one chunk plus one read block in
 * memory, so a multi-gigabyte file streams through in bounded memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { decodeChunk, decodeHeader, NeedMoreData, scanChunk, type ChunkScan, type DecodeOptions } from './decoder.js';
import type { DbChunk, DbHeader } from './records.js';

/** What a reader yields, in file order. */
export type DbEvent =
  | { readonly event: 'header'; readonly header: DbHeader }
  | { readonly event: 'chunk'; readonly chunk: DbChunk }
  /** An unknown chunk type; Mosquitto warns `Unsupported chunk "N"` and skips `length` bytes. */
  | { readonly event: 'unknown'; readonly type: number; readonly length: number; readonly offset: number };

/**
 * Decodes a whole file held in memory. Throws PersistenceError exactly where the streaming
 * reader would (after yielding everything before the fault).
 */
export function* readDbBuffer(buf: Buffer, options: DecodeOptions = {}): Generator<DbEvent> {
  const { header, next } = decodeHeader(buf, true);
  yield { event: 'header', header };
  let pos = next;
  for (;;) {
    const r = decodeChunk(buf, pos, true, header.version, pos, options);
    if (r.kind === 'end') return;
    if (r.kind === 'unknown') {
      yield { event: 'unknown', type: r.type, length: r.length, offset: r.offset };
      pos = r.next + r.skip;
      if (pos >= buf.length) return;
      continue;
    }
    yield { event: 'chunk', chunk: r.chunk };
    pos = r.next;
  }
}

export interface StreamOptions extends DecodeOptions {
  /** Bytes per read (default 1 MiB). */
  readonly blockSize?: number;
  /** Called now and then with the file offset reached and the file size. */
  readonly onProgress?: (offset: number, size: number) => void;
}

/**
 * Streams the events of a file through a FileHandle, in batches: every chunk that is complete
 * in the current window is decoded synchronously, then the batch is yielded and the next block
 * read. Batching keeps the per-record cost free of promise machinery. The handle stays open;
 * the caller owns it. Memory: one read block plus the largest chunk (a chunk is decoded from
 * one contiguous window; with `copy: false` the records of a batch are views of that window,
 * which is never reused, so they stay valid).
 */
/**
 * A sliding window over a file: `buf[pos]` is the next byte to decode, at file offset
 * `base + pos`. Holds at most one read block plus the item that straddles it.
 */
class FileWindow {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  base = 0;
  eof = false;
  private readAt = 0;
  private readonly fh: FileHandle;
  readonly size: number;
  private readonly blockSize: number;
  private readonly onProgress: ((offset: number, size: number) => void) | undefined;

  constructor(fh: FileHandle, size: number, options: StreamOptions) {
    this.fh = fh;
    this.size = size;
    this.blockSize = options.blockSize ?? 1 << 20;
    this.onProgress = options.onProgress;
  }

  /** Makes at least `needed` bytes available from `pos`, or sets eof. */
  async fill(needed: number): Promise<void> {
    const have = this.buf.length - this.pos;
    // Never try to buffer past the end of the file: a corrupt length must not allocate gigabytes.
    const want = Math.min(Math.max(needed - have, this.blockSize), Math.max(0, this.size - this.readAt));
    const fresh = Buffer.allocUnsafe(have + want);
    this.buf.copy(fresh, 0, this.pos);
    let filled = have;
    let hitEnd = false;
    while (filled < fresh.length) {
      const { bytesRead } = await this.fh.read(fresh, filled, fresh.length - filled, this.readAt);
      if (bytesRead === 0) {
        hitEnd = true; // the file shrank since fstat
        break;
      }
      filled += bytesRead;
      this.readAt += bytesRead;
    }
    this.base += this.pos;
    this.pos = 0;
    this.buf = filled === fresh.length ? fresh : fresh.subarray(0, filled);
    this.eof = hitEnd || this.readAt >= this.size;
    this.onProgress?.(this.base, this.size);
  }

  /**
   * Steps over an unknown chunk's body (`skip` bytes from window index `from`). Returns false
   * when that reaches the end of the file.
   */
  skipBody(from: number, skip: number): boolean {
    const target = this.base + from + skip;
    if (target >= this.size) return false;
    if (from + skip <= this.buf.length) {
      this.pos = from + skip;
    } else {
      // Skip without reading: drop the window and continue from the target offset.
      this.buf = Buffer.alloc(0);
      this.pos = 0;
      this.base = target;
      this.readAt = target;
      this.eof = false;
    }
    return true;
  }

  async header(): Promise<DbHeader> {
    for (;;) {
      try {
        const r = decodeHeader(this.buf.subarray(this.pos), this.eof);
        this.pos += r.next;
        return r.header;
      } catch (e) {
        if (!(e instanceof NeedMoreData)) throw e;
        await this.fill(e.needed);
      }
    }
  }
}

/**
 * Streams the events of a file through a FileHandle, in batches: every chunk that is complete
 * in the current window is decoded synchronously, then the batch is yielded and the next block
 * read. Batching keeps the per-record cost free of promise machinery. The handle stays open;
 * the caller owns it. Memory: one read block plus the largest chunk (a chunk is decoded from
 * one contiguous window; with `copy: false` the records of a batch are views of that window,
 * which is never reused, so they stay valid).
 */
export async function* readDbHandleBatches(fh: FileHandle, options: StreamOptions = {}): AsyncGenerator<DbEvent[]> {
  const w = new FileWindow(fh, (await fh.stat()).size, options);
  const header = await w.header();
  let batch: DbEvent[] = [{ event: 'header', header }];

  for (;;) {
    let r;
    try {
      r = decodeChunk(w.buf, w.pos, w.eof, header.version, w.base + w.pos, options);
    } catch (e) {
      if (!(e instanceof NeedMoreData)) {
        // Hand out what decoded cleanly before the fault, then fail.
        if (batch.length > 0) yield batch;
        throw e;
      }
      if (batch.length > 0) yield batch;
      batch = [];
      await w.fill(e.needed);
      continue;
    }
    if (r.kind === 'end') break;
    if (r.kind === 'unknown') {
      batch.push({ event: 'unknown', type: r.type, length: r.length, offset: r.offset });
      if (!w.skipBody(r.next, r.skip)) break;
      continue;
    }
    batch.push({ event: 'chunk', chunk: r.chunk });
    w.pos = r.next;
  }
  if (batch.length > 0) yield batch;
}

/** What `scanDbHandle` reports, in file order. */
export interface ScanVisitor {
  header(header: DbHeader): void;
  /**
   * A known chunk, validated as the decoder would. `dbidSize` is set for CFG chunks. Return
   * false to stop scanning.
   */
  chunk(type: number, length: number, offset: number, dbidSize: number): boolean | void;
  /** An unknown chunk type, skipped by its length. */
  unknown(type: number, length: number, offset: number): void;
}

/**
 * Walks a file chunk by chunk with the decoder's checks and errors but without building
 * records: for consumers that only count (`db_dump --stats`), at the speed of the disk
 * rather than of the garbage collector. Throws PersistenceError where the streaming reader
 * would, after visiting everything before the fault.
 */
export async function scanDbHandle(fh: FileHandle, visitor: ScanVisitor, options: StreamOptions = {}): Promise<void> {
  const w = new FileWindow(fh, (await fh.stat()).size, options);
  const header = await w.header();
  visitor.header(header);
  for (;;) {
    let r: ChunkScan;
    try {
      r = scanChunk(w.buf, w.pos, w.eof, header.version, w.base + w.pos);
    } catch (e) {
      if (!(e instanceof NeedMoreData)) throw e;
      await w.fill(e.needed);
      continue;
    }
    if (r.type === -1) return;
    const offset = w.base + w.pos;
    if (!r.known) {
      visitor.unknown(r.type, r.length, offset);
      if (!w.skipBody(r.next, r.skip)) return;
      continue;
    }
    w.pos = r.next;
    if (visitor.chunk(r.type, r.length, offset, r.dbidSize) === false) return;
  }
}

/** Like readDbHandleBatches, one event at a time (simpler, slower per record). */
export async function* readDbHandle(fh: FileHandle, options: StreamOptions = {}): AsyncGenerator<DbEvent> {
  for await (const batch of readDbHandleBatches(fh, options)) yield* batch;
}

/** Streams batches of events of the file at `path` (opened read-only, closed when done). */
export async function* readDbFileBatches(path: string, options: StreamOptions = {}): AsyncGenerator<DbEvent[]> {
  const fh = await open(path, 'r');
  try {
    yield* readDbHandleBatches(fh, options);
  } finally {
    await fh.close();
  }
}

/** Streams the events of the file at `path` (opened read-only, closed when done). */
export async function* readDbFile(path: string, options: StreamOptions = {}): AsyncGenerator<DbEvent> {
  const fh = await open(path, 'r');
  try {
    yield* readDbHandle(fh, options);
  } finally {
    await fh.close();
  }
}
