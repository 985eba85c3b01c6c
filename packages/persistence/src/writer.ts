/**
 * Crash-safe writing of a version 6 file, the way Mosquitto's persist__backup does it: write
 * everything to `<file>.new`, fsync it, then rename it over `<file>`. A crash at any point
 * leaves either the old file or the new one whole, never a mix. (We also fsync the directory
 * so the rename itself survives a power loss; Mosquitto does not.)
 *
 * Records are encoded into batches of `batchSize` bytes and each batch is handed to an async
 * write, so the event loop gets control back between batches: saving a large state never
 * blocks the broker for longer than it takes to encode one batch.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { chunkBodyLength, encodeHeader, writeChunk } from './encoder.js';
import type { DbRecord } from './records.js';

export interface WriteOptions {
  /** Bytes encoded between two writes (default 64 KiB). */
  readonly batchSize?: number;
  /**
   * Longest stretch of synchronous encoding, in ms, before the batch is written early and the
   * event loop gets a turn (default 8).
   */
  readonly sliceMs?: number;
  /** File mode of the new file (default 0o600: Mosquitto restricts the file to its owner). */
  readonly mode?: number;
  /** Skip the fsyncs (tests and benchmarks on tmpfs only; loses crash safety). */
  readonly noSync?: boolean;
}

export interface WriteResult {
  /** Bytes written. */
  readonly bytes: number;
  readonly chunks: number;
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * Writes `records` (in the order given: see `stateToRecords` for Mosquitto's order) as a
 * version 6 file at `path`, via `<path>.new` + fsync + rename.
 */
export async function writeDbFile(
  path: string,
  records: Iterable<DbRecord> | AsyncIterable<DbRecord>,
  options: WriteOptions = {},
): Promise<WriteResult> {
  const batchSize = options.batchSize ?? 64 * 1024;
  const sliceMs = options.sliceMs ?? 8;
  const temp = `${path}.new`;
  // A stale `.new` may be a hard link to something else: remove it rather than write through it.
  await unlinkIfPresent(temp);
  const fh = await open(temp, 'wx', options.mode ?? 0o600);
  let bytes = 0;
  let chunks = 0;
  try {
    let batch = Buffer.alloc(batchSize);
    const header = encodeHeader();
    header.copy(batch, 0);
    let used = header.length;
    let sliceStart = performance.now();
    const flush = async (): Promise<void> => {
      sliceStart = performance.now();
      if (used === 0) return;
      let off = 0;
      while (off < used) {
        const { bytesWritten } = await fh.write(batch, off, used - off);
        off += bytesWritten;
      }
      bytes += used;
      // A fresh zeroed batch: padding bytes must be zero and the old one may still be in flight.
      batch = Buffer.alloc(batchSize);
      used = 0;
    };
    const add = async (record: DbRecord): Promise<void> => {
      const body = chunkBodyLength(record);
      const size = 8 + body;
      if (size > batchSize) {
        await flush();
        const big = Buffer.alloc(size);
        writeChunk(big, 0, record, body);
        let off = 0;
        while (off < size) off += (await fh.write(big, off, size - off)).bytesWritten;
        bytes += size;
      } else {
        if (used + size > batchSize) await flush();
        writeChunk(batch, used, record, body);
        used += size;
      }
      chunks++;
    };
    if (Symbol.iterator in records) {
      // Synchronous sources are encoded without a promise per record; only flushes await.
      for (const record of records) {
        const size = 8 + chunkBodyLength(record);
        // Every 256 records, check the clock: a slow source must not hold the loop either.
        if ((chunks & 255) === 0 && performance.now() - sliceStart > sliceMs) await flush();
        if (size > batchSize || used + size > batchSize) await add(record);
        else {
          writeChunk(batch, used, record, size - 8);
          used += size;
          chunks++;
        }
      }
    } else {
      for await (const record of records) await add(record);
    }
    await flush();
    if (!options.noSync) await fh.sync();
    await fh.close();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlinkIfPresent(temp).catch(() => undefined);
    throw e;
  }
  await rename(temp, path);
  if (!options.noSync) await syncDirectory(dirname(path));
  return { bytes, chunks };
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some file systems refuse fsync on a directory; the file itself is already synced.
  }
}
