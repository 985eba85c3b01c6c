/**
 * db_dump: `db_dump [--stats | --client-stats] <mosquitto db filename>`, with stdout, stderr
 * and exit status byte-identical to Mosquitto 2.0's tool (apps/db_dump/db_dump.c), plus
 * `--json` from 2.1. Quirks kept: 2.0's error lines have no trailing newline; a file that
 * cannot be opened exits 0; `--stats` still prints its counters after "Unrecognised file
 * format."; a RETAIN chunk's header lines are printed before its body is read, and a
 * truncated one fails without a message.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { ChunkType, DB_VERSION, isJournal, JOURNAL_MAGIC, PersistenceError, readDbHandleBatches, scanDbHandle, type DbEvent } from '@skeeter/persistence';
import { journalDump } from './journal.js';
import { baseMessageJson, clientJson, clientMessageJson, JSON_SECTIONS, retainedJson, subscriptionJson } from './json.js';
import { ByteOutput, cString, int32 } from './output.js';
import { Progress } from './progress.js';
import { cfgText, clientMsgText, clientText, lastDbIdText, msgStoreText, retainBodyText, retainHeadText, subText } from './text.js';

export const USAGE = 'Usage: db_dump [--stats | --client-stats] <mosquitto db filename>\n';

type Mode = 'dump' | 'stats' | 'client-stats' | 'json';

export interface DbDumpIo {
  readonly stdout: Writable;
  readonly stderr: Writable & { isTTY?: boolean };
}

/** strerror() texts for the errno codes a read of an opened file can produce. */
const STRERROR: Record<string, string> = {
  EISDIR: 'Is a directory',
  EIO: 'Input/output error',
  EACCES: 'Permission denied',
  ENXIO: 'No such device or address',
  EINVAL: 'Invalid argument',
  ENOMEM: 'Cannot allocate memory',
};

/** Per-client figures of `--client-stats` (struct client_data). */
interface ClientStats {
  readonly id: string;
  subscriptions: number;
  subscriptionSize: number;
  messages: number;
  messageSize: number;
}

class Counts {
  cfg = 0;
  msgStore = 0;
  clientMsg = 0;
  retain = 0;
  sub = 0;
  client = 0;
}

/** Outcome of one pass over the file. */
type ScanEnd = { readonly status: 'ok' } | { readonly status: 'failed'; readonly exit: number; readonly statsToo: boolean };

export async function dbDumpMain(args: readonly string[], io: DbDumpIo): Promise<number> {
  let mode: Mode;
  let file: string;
  if (args.length === 1) {
    mode = 'dump';
    file = args[0]!;
  } else if (args.length === 2 && args[0] === '--stats') {
    mode = 'stats';
    file = args[1]!;
  } else if (args.length === 2 && args[0] === '--client-stats') {
    mode = 'client-stats';
    file = args[1]!;
  } else if (args.length === 2 && args[0] === '--json') {
    mode = 'json';
    file = args[1]!;
  } else {
    io.stderr.write(USAGE);
    return 1;
  }

  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch {
    io.stderr.write(`Error: Unable to open ${file}\n`);
    return 0;
  }
  const out = new ByteOutput(io.stdout);
  const progress = new Progress(io.stderr);
  try {
    // A skeeter journal (docs/durable-journal.md) beside the database: its own dump.
    if ((mode === 'dump' || mode === 'stats') && (await startsWithJournalMagic(fh))) return await journalDump(fh, mode === 'stats', out, io);
    if (mode === 'json') return await jsonDump(fh, out, io, progress);
    if (mode === 'stats') return await statsDump(fh, out, io, progress);
    return await textDump(fh, mode, out, io, progress);
  } finally {
    progress.finish();
    await out.flush();
    await fh.close();
  }
}

async function startsWithJournalMagic(fh: FileHandle): Promise<boolean> {
  const b = Buffer.alloc(JOURNAL_MAGIC.length);
  try {
    const { bytesRead } = await fh.read(b, 0, b.length, 0);
    return bytesRead === b.length && isJournal(b);
  } catch {
    // A directory or an unreadable file: the normal path reports it as Mosquitto's tool does.
    return false;
  }
}

/**
 * Maps a failure of the reader to db_dump's output. Returns how the run ends. `print` is
 * whether header lines are printed (default mode only).
 */
function failure(e: unknown, print: boolean, out: ByteOutput, io: DbDumpIo): ScanEnd {
  if (e instanceof PersistenceError) {
    switch (e.code) {
      case 'EMPTY_FILE':
      case 'TRUNCATED_HEADER':
        // The header is read with fread; a short read leaves errno untouched (0), so
        // Mosquitto prints strerror(0).
        if (print && e.details.magicRead) {
          out.put('Mosquitto DB dump\n');
          if (e.details.crc !== undefined) out.put(`CRC: ${int32(e.details.crc)}\n`);
        }
        io.stderr.write('Error: Success.');
        return { status: 'failed', exit: 1, statsToo: false };
      case 'BAD_MAGIC':
        io.stderr.write('Error: Unrecognised file format.');
        return { status: 'failed', exit: 1, statsToo: true };
      case 'CORRUPT':
        // The RETAIN reader fails without a message; every other chunk reader prints one.
        if (e.details.chunkType !== ChunkType.RETAIN) io.stderr.write('Error: Corrupt persistent database.');
        return { status: 'failed', exit: 1, statsToo: false };
      default:
        io.stderr.write(`${e.message}`);
        return { status: 'failed', exit: 1, statsToo: false };
    }
  }
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && STRERROR[code] !== undefined) {
    io.stderr.write(`Error: ${STRERROR[code]}.`);
    return { status: 'failed', exit: 1, statsToo: false };
  }
  throw e;
}

/** Batches of events; records are views of the read window (nothing here keeps them). */
function batches(fh: FileHandle, progress: Progress, countOnly = false): AsyncGenerator<DbEvent[]> {
  return readDbHandleBatches(fh, {
    copy: false,
    skipMessageBodies: countOnly,
    onProgress: (offset, size) => progress.update(offset, size),
  });
}

async function textDump(fh: FileHandle, mode: 'dump' | 'client-stats', out: ByteOutput, io: DbDumpIo, progress: Progress): Promise<number> {
  const print = mode === 'dump';
  const clientStats = mode === 'client-stats';
  const clients: ClientStats[] = [];
  // Duplicate ids: Mosquitto's hash lookup finds the most recently added entry.
  const clientsById = new Map<string, ClientStats>();
  const storeLengths = new Map<bigint, number>();

  let end: ScanEnd = { status: 'ok' };
  try {
    for await (const batch of batches(fh, progress, !print)) for (const ev of batch) {
      if (ev.event === 'header') {
        const { crc, version } = ev.header;
        if (print) {
          out.put(`Mosquitto DB dump\nCRC: ${int32(crc)}\nDB version: ${int32(version)}\n`);
          if (version > DB_VERSION) {
            out.put('Warning: mosquitto_db_dump does not support this DB version, continuing but expecting errors.\n');
          }
        }
        continue;
      }
      if (ev.event === 'unknown') {
        io.stderr.write(`Warning: Unsupported chunk "${int32(ev.type)}" in persistent database file. Ignoring.\n`);
        continue;
      }
      const { record, length } = ev.chunk;
      switch (record.kind) {
        case 'cfg':
          if (print) out.put(cfgText(length, record.shutdown, record.dbidSize));
          if (record.dbidSize !== 8) {
            io.stderr.write(`Error: Incompatible database configuration (dbid size is ${record.dbidSize} bytes, expected 8)`);
            return 1;
          }
          if (print) out.put(lastDbIdText(record.lastDbId));
          break;
        case 'msg_store':
          if (clientStats) storeLengths.set(record.storeId, length);
          if (print) out.put(msgStoreText(record, length));
          break;
        case 'client':
          if (clientStats) {
            const cs: ClientStats = { id: cString(record.clientId), subscriptions: 0, subscriptionSize: 0, messages: 0, messageSize: 0 };
            clients.push(cs);
            clientsById.set(cs.id, cs);
          }
          if (print) out.put(clientText(record, length));
          break;
        case 'client_msg':
          if (clientStats) {
            const cs = clientsById.get(cString(record.clientId));
            if (cs) {
              cs.messages++;
              cs.messageSize += length;
              cs.messageSize += storeLengths.get(record.storeId) ?? 0;
            }
          }
          if (print) out.put(clientMsgText(record, length));
          break;
        case 'retain':
          if (print) out.put(retainHeadText(length) + retainBodyText(record.storeId));
          break;
        case 'sub':
          if (clientStats) {
            const cs = clientsById.get(cString(record.clientId));
            if (cs) {
              cs.subscriptions++;
              cs.subscriptionSize = (cs.subscriptionSize + length) >>> 0;
            }
          }
          if (print) out.put(subText(record, length));
          break;
      }
      if (out.pending >= 1 << 20) await out.flush();
    }
  } catch (e) {
    if (e instanceof PersistenceError && e.code === 'CORRUPT' && e.details.chunkType === ChunkType.RETAIN) {
      // Its header lines were printed before the body failed to read.
      if (print) out.put(retainHeadText(await retainLength(fh, e.details.offset ?? 0)));
    }
    end = failure(e, print, out, io);
  }

  if (end.status === 'failed' && !end.statsToo) return end.exit;
  if (clientStats) {
    for (const c of clients) {
      out.put(`SC: ${c.subscriptions} SS: ${int32(c.subscriptionSize)} MC: ${c.messages} MS: ${c.messageSize}   ${c.id}\n`);
      await out.maybeFlush();
    }
  }
  return end.status === 'failed' ? end.exit : 0;
}

/**
 * One pass over the file that builds no records (`--stats`, and `--json`'s check pass):
 * counts chunk types, warns about unknown ones and checks the dbid size, with the same
 * errors as a full decode. Returns how the pass ended, or the exit status of a dbid error.
 */
async function countChunks(fh: FileHandle, counts: Counts, io: DbDumpIo, out: ByteOutput, progress: Progress): Promise<ScanEnd | number> {
  let dbidError = 0;
  try {
    await scanDbHandle(
      fh,
      {
        header() {},
        chunk(type, _length, _offset, dbidSize) {
          switch (type) {
            case ChunkType.CFG:
              counts.cfg++;
              if (dbidSize !== 8) {
                io.stderr.write(`Error: Incompatible database configuration (dbid size is ${dbidSize} bytes, expected 8)`);
                dbidError = 1;
                return false;
              }
              break;
            case ChunkType.MSG_STORE: counts.msgStore++; break;
            case ChunkType.CLIENT_MSG: counts.clientMsg++; break;
            case ChunkType.RETAIN: counts.retain++; break;
            case ChunkType.SUB: counts.sub++; break;
            case ChunkType.CLIENT: counts.client++; break;
          }
          return true;
        },
        unknown(type) {
          io.stderr.write(`Warning: Unsupported chunk "${int32(type)}" in persistent database file. Ignoring.\n`);
        },
      },
      { onProgress: (offset, size) => progress.update(offset, size) },
    );
  } catch (e) {
    // A RETAIN chunk is counted before its body is read (db_dump.c counts on the header).
    if (e instanceof PersistenceError && e.code === 'CORRUPT' && e.details.chunkType === ChunkType.RETAIN) counts.retain++;
    return failure(e, false, out, io);
  }
  return dbidError !== 0 ? dbidError : { status: 'ok' };
}

/** `--stats`: the chunk counters, also after "Unrecognised file format." as Mosquitto does. */
async function statsDump(fh: FileHandle, out: ByteOutput, io: DbDumpIo, progress: Progress): Promise<number> {
  const counts = new Counts();
  const end = await countChunks(fh, counts, io, out, progress);
  if (typeof end === 'number') return end;
  if (end.status === 'failed' && !end.statsToo) return end.exit;
  out.put(
    `DB_CHUNK_CFG:        ${counts.cfg}\nDB_CHUNK_MSG_STORE:  ${counts.msgStore}\nDB_CHUNK_CLIENT_MSG: ${counts.clientMsg}\n` +
      `DB_CHUNK_RETAIN:     ${counts.retain}\nDB_CHUNK_SUB:        ${counts.sub}\nDB_CHUNK_CLIENT:     ${counts.client}\n`,
  );
  return end.status === 'failed' ? end.exit : 0;
}

/** The stored length of the (truncated) RETAIN chunk whose header is at `offset`. */
async function retainLength(fh: FileHandle, offset: number): Promise<number> {
  const b = Buffer.alloc(4);
  const { bytesRead } = await fh.read(b, 0, 4, offset + 4);
  return bytesRead === 4 ? b.readUInt32BE(0) : 0;
}

/**
 * `--json`: a first pass checks the whole file (so nothing is printed for a file that fails),
 * then one pass per array keeps memory bounded however large the file is.
 */
async function jsonDump(fh: FileHandle, out: ByteOutput, io: DbDumpIo, progress: Progress): Promise<number> {
  const checked = await countChunks(fh, new Counts(), io, out, progress);
  if (typeof checked === 'number') return checked;
  if (checked.status === 'failed') return checked.exit;
  out.put('{\n');
  for (let s = 0; s < JSON_SECTIONS.length; s++) {
    const [name, kind] = JSON_SECTIONS[s]!;
    out.put(`\t"${name}":\t[`);
    let first = true;
    for await (const batch of batches(fh, progress)) for (const ev of batch) {
      if (ev.event !== 'chunk' || ev.chunk.record.kind !== kind) continue;
      const r = ev.chunk.record;
      let item: string;
      switch (r.kind) {
        case 'msg_store': item = baseMessageJson(r); break;
        case 'client': item = clientJson(r); break;
        case 'client_msg': item = clientMessageJson(r); break;
        case 'retain': item = retainedJson(r.storeId); break;
        case 'sub': item = subscriptionJson(r); break;
        default: continue;
      }
      out.put(first ? item : `, ${item}`);
      first = false;
      await out.maybeFlush();
    }
    out.put(s < JSON_SECTIONS.length - 1 ? '],\n' : ']\n');
  }
  out.put('}\n');
  return 0;
}
