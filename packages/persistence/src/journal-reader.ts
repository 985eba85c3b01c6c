/**
 * Reading a journal: the header, then frame after frame until the end of the file or the first
 * frame that is cut short or fails its checksum. That frame and everything after it are the
 * torn tail: a crash in the middle of a group commit leaves one, and nothing in it was ever
 * acknowledged (acknowledgements wait for the fsync that covers them). The reader reports the
 * tail instead of failing; the caller decides whether a tail is acceptable (last journal) or not.
 *
 * A frame whose checksum holds but whose operations do not decode is not a torn write: that is
 * corruption (or a newer format), reported as JournalRecordError.
 */
import { readFile } from 'node:fs/promises';
import {
  crc32c,
  decodeJournalHeader,
  decodeJournalOps,
  FRAME_HEADER_LENGTH,
  JOURNAL_HEADER_LENGTH,
  type JournalDecodeState,
  type JournalHeader,
  type JournalRecord,
} from './journal-format.js';

export type JournalTailReason =
  /** The file ends inside the header (a crash right after the file was created). */
  | 'truncated-header'
  /** The file ends inside a frame header or a frame. */
  | 'truncated'
  /** A complete frame whose checksum does not match. */
  | 'checksum';

export interface JournalTail {
  /** File offset where the trusted part ends. */
  readonly offset: number;
  /** Bytes from there to the end of the file, all of them dropped. */
  readonly bytes: number;
  readonly reason: JournalTailReason;
}

export interface JournalFrame {
  /** Offset of the frame header. */
  readonly offset: number;
  /** Bytes of operations. */
  readonly length: number;
  readonly records: readonly JournalRecord[];
}

export interface JournalReadResult {
  /** Null only when the file ends inside its header (then `tail` says so). */
  readonly header: JournalHeader | null;
  readonly frames: readonly JournalFrame[];
  /** Every operation of every good frame, in order. */
  readonly records: readonly JournalRecord[];
  /** Offset just after the last good frame. */
  readonly end: number;
  readonly size: number;
  readonly tail: JournalTail | null;
}

/** Reads a journal held in memory. Throws JournalHeaderError or JournalRecordError. */
export function readJournalBuffer(buf: Buffer): JournalReadResult {
  const size = buf.length;
  if (size < JOURNAL_HEADER_LENGTH) {
    // A partial header can only be a crash while the file was being created; but it must at
    // least start like a journal, or it is some other file.
    decodeJournalHeaderPrefix(buf);
    return { header: null, frames: [], records: [], end: 0, size, tail: size === 0 ? null : { offset: 0, bytes: size, reason: 'truncated-header' } };
  }
  const header = decodeJournalHeader(buf.subarray(0, JOURNAL_HEADER_LENGTH));
  const frames: JournalFrame[] = [];
  const records: JournalRecord[] = [];
  let p = JOURNAL_HEADER_LENGTH;
  let tail: JournalTail | null = null;
  // QUEUE_SAME refers back across frames, never across files (each file starts afresh).
  const state: JournalDecodeState = { lastFanout: null };
  while (p < size) {
    if (p + FRAME_HEADER_LENGTH > size) {
      tail = { offset: p, bytes: size - p, reason: 'truncated' };
      break;
    }
    const length = buf.readUInt32BE(p);
    const end = p + FRAME_HEADER_LENGTH + length;
    if (end > size) {
      tail = { offset: p, bytes: size - p, reason: 'truncated' };
      break;
    }
    const crc = crc32c(buf, p + FRAME_HEADER_LENGTH, end, crc32c(buf, p, p + 4));
    if (crc !== buf.readUInt32BE(p + 4)) {
      tail = { offset: p, bytes: size - p, reason: 'checksum' };
      break;
    }
    const ops: JournalRecord[] = [];
    decodeJournalOps(buf, p + FRAME_HEADER_LENGTH, end, p + FRAME_HEADER_LENGTH, ops, state);
    frames.push({ offset: p, length, records: ops });
    for (const op of ops) records.push(op);
    p = end;
  }
  return { header, frames, records, end: tail ? tail.offset : p, size, tail };
}

function decodeJournalHeaderPrefix(buf: Buffer): void {
  // Pad with what a valid header would have, so only the bytes present are judged.
  const probe = Buffer.alloc(JOURNAL_HEADER_LENGTH);
  buf.copy(probe, 0);
  const magicBytes = Math.min(buf.length, 18);
  if (magicBytes > 0) {
    const want = Buffer.from('\u0000\u00b5\u0000skeeter journal', 'latin1');
    if (!buf.subarray(0, magicBytes).equals(want.subarray(0, magicBytes))) decodeJournalHeader(probe);
  }
}

/** Reads the journal file at `path` whole (journals are bounded by the snapshot rotation). */
export async function readJournalFile(path: string): Promise<JournalReadResult> {
  return readJournalBuffer(await readFile(path));
}
