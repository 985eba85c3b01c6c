/**
 * Readers of whole files: a synchronous one over a Buffer (tests, small files) and a
 * streaming one over a file handle that holds at most one chunk plus one read block in
 * memory, so a multi-gigabyte file streams through in bounded memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { decodeChunk, decodeHeader, NeedMoreData, type DecodeOptions } from './decoder.js';
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
export async function* readDbHandleBatches(fh: FileHandle, options: StreamOptions = {}): AsyncGenerator<DbEvent[]> {
  const blockSize = options.blockSize ?? 1 << 20;
  const size = (await fh.stat()).size;
  let window: Buffer = Buffer.alloc(0);
  let pos = 0; // index into window of the next item
  let base = 0; // file offset of window[0]
  let readAt = 0; // file offset of the next read
  let eof = false;

  // Makes at least `needed` bytes available from `pos`, or sets eof.
  const fill = async (needed: number): Promise<void> => {
    const have = window.length - pos;
    // Never try to buffer past the end of the file: a corrupt length must not allocate gigabytes.
    const want = Math.min(Math.max(needed - have, blockSize), Math.max(0, size - readAt));
    const fresh = Buffer.allocUnsafe(have + want);
    window.copy(fresh, 0, pos);
    let filled = have;
    let hitEnd = false;
    while (filled < fresh.length) {
      const { bytesRead } = await fh.read(fresh, filled, fresh.length - filled, readAt);
      if (bytesRead === 0) {
        hitEnd = true; // the file shrank since fstat
        break;
      }
      filled += bytesRead;
      readAt += bytesRead;
    }
    base += pos;
    pos = 0;
    window = filled === fresh.length ? fresh : fresh.subarray(0, filled);
    eof = hitEnd || readAt >= size;
    options.onProgress?.(base, size);
  };

  let header: DbHeader;
  for (;;) {
    try {
      const r = decodeHeader(window.subarray(pos), eof);
      header = r.header;
      pos += r.next;
      break;
    } catch (e) {
      if (!(e instanceof NeedMoreData)) throw e;
      await fill(e.needed);
    }
  }
  let batch: DbEvent[] = [{ event: 'header', header }];

  for (;;) {
    let r;
    try {
      r = decodeChunk(window, pos, eof, header.version, base + pos, options);
    } catch (e) {
      if (!(e instanceof NeedMoreData)) {
        // Hand out what decoded cleanly before the fault, then fail.
        if (batch.length > 0) yield batch;
        throw e;
      }
      if (batch.length > 0) yield batch;
      batch = [];
      await fill(e.needed);
      continue;
    }
    if (r.kind === 'end') break;
    if (r.kind === 'unknown') {
      batch.push({ event: 'unknown', type: r.type, length: r.length, offset: r.offset });
      const target = base + r.next + r.skip;
      if (target >= size) break;
      if (r.next + r.skip <= window.length) {
        pos = r.next + r.skip;
      } else {
        // Skip without reading: drop the window and continue from the target offset.
        window = Buffer.alloc(0);
        pos = 0;
        base = target;
        readAt = target;
        eof = false;
      }
      continue;
    }
    batch.push({ event: 'chunk', chunk: r.chunk });
    pos = r.next;
  }
  if (batch.length > 0) yield batch;
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
