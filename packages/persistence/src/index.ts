/**
 * @skeeter/persistence: Mosquitto's `mosquitto.db` format. A leaf package (node built-ins
 * only) shared by the broker and db_dump. See ARCHITECTURE.md for the layout of the format.
 */
export * from './constants.js';
export * from './errors.js';
export { isMosquittoUtf8 } from './utf8.js';
export {
  PropertyId,
  PropertyBlockError,
  parsePropertyBlock,
  propertyBlockLength,
  propertyKind,
  writePropertyBlock,
  type Property,
  type PropertyKind,
} from './properties.js';
export type * from './records.js';
export { decodeChunk, decodeHeader, NeedMoreData, scanChunk, type ChunkResult, type ChunkScan, type DecodeOptions, type HeaderResult } from './decoder.js';
export {
  readDbBuffer,
  readDbFile,
  readDbFileBatches,
  readDbHandle,
  readDbHandleBatches,
  scanDbHandle,
  type DbEvent,
  type ScanVisitor,
  type StreamOptions,
} from './reader.js';
export { chunkBodyLength, chunkTypeOf, encodeDb, encodeHeader, writeChunk } from './encoder.js';
export { writeDbFile, type WriteOptions, type WriteResult } from './writer.js';
export {
  DbStateBuilder,
  loadDbFile,
  recordsToState,
  stateToRecords,
  type DbSession,
  type DbState,
  type LoadResult,
} from './state.js';
export {
  clientMsgOpLength,
  crc32c,
  decodeJournalHeader,
  decodeJournalOps,
  encodeJournalFrame,
  encodeJournalHeader,
  FRAME_HEADER_LENGTH,
  isJournal,
  JOURNAL_HEADER_LENGTH,
  JOURNAL_MAGIC,
  JOURNAL_VERSION,
  JournalHeaderError,
  JournalOpCode,
  JournalRecordError,
  journalRecordLength,
  messageOpLength,
  writeMessageOp,
  OP_HEADER_LENGTH,
  patchOpLength,
  QUEUE_MANY_FIXED,
  queueManyOpLength,
  sealFrame,
  shortOpLength,
  writeClientMsgOp,
  writeJournalRecord,
  writeQueueManyMore,
  writeQueueManyOp,
  writeShortOp,
  type JournalHeader,
  type JournalRecord,
} from './journal-format.js';
export { readJournalBuffer, readJournalFile, type JournalFrame, type JournalReadResult, type JournalTail, type JournalTailReason } from './journal-reader.js';
export { createJournalFile, JournalWriter, type JournalWriterOptions } from './journal-writer.js';
export { JournalReplay, replayJournals, type ReplayStats } from './journal-replay.js';
