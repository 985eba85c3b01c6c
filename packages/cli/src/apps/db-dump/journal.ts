/**
 * db_dump on a skeeter journal (`mosquitto.db.journal.<base>`, docs/durable-journal.md): the
 * header, then each frame and its operations in db_dump's style, so an operator sees what a
 * broker would replay. Operations that carry a mosquitto.db chunk print it exactly as db_dump
 * prints that chunk in a database; the others print their fields the same way. A torn tail is
 * reported on stderr (a broker cuts it off); a corrupt journal fails with exit status 1.
 * `--stats` counts operations by kind.
 */
import type { FileHandle } from 'node:fs/promises';
import {
  chunkBodyLength,
  JournalHeaderError,
  JournalRecordError,
  readJournalBuffer,
  type JournalRecord,
} from '@skeeter/persistence';
import type { ByteOutput } from './output.js';
import { cString, uint64 } from './output.js';
import { clientMsgText, clientText, msgStoreText, retainBodyText, subText } from './text.js';

export interface JournalIo {
  readonly stderr: { write(s: string): unknown };
}

const OP_NAMES: Record<JournalRecord['op'], string> = {
  message: 'JOURNAL_MESSAGE',
  session: 'JOURNAL_SESSION',
  session_end: 'JOURNAL_SESSION_END',
  subscribe: 'JOURNAL_SUBSCRIBE',
  unsubscribe: 'JOURNAL_UNSUBSCRIBE',
  retain: 'JOURNAL_RETAIN',
  client_msg: 'JOURNAL_CLIENT_MSG',
  dequeue: 'JOURNAL_DEQUEUE',
  state: 'JOURNAL_STATE',
  complete: 'JOURNAL_COMPLETE',
  released: 'JOURNAL_RELEASED',
  queue_many: 'JOURNAL_QUEUE_MANY',
};

export function journalOpText(r: JournalRecord): string {
  const head = `${OP_NAMES[r.op]}:\n`;
  switch (r.op) {
    case 'message':
      return head + msgStoreText(r.record, chunkBodyLength(r.record));
    case 'session':
      return head + clientText(r.record, chunkBodyLength(r.record));
    case 'subscribe':
      return head + subText(r.record, chunkBodyLength(r.record));
    case 'client_msg':
      return head + clientMsgText(r.record, chunkBodyLength(r.record));
    case 'session_end':
      return head + `\tClient ID: ${cString(r.clientId)}\n`;
    case 'unsubscribe':
      return head + `\tClient ID: ${cString(r.clientId)}\n\tTopic: ${cString(r.topic)}\n`;
    case 'retain':
      return head + retainBodyText(r.storeId);
    case 'dequeue':
    case 'complete':
    case 'released':
      return head + `\tClient ID: ${cString(r.clientId)}\n\tMID: ${r.mid}\n`;
    case 'state':
      return head + `\tClient ID: ${cString(r.clientId)}\n\tMID: ${r.mid}\n\tState: ${r.state}\n`;
    case 'queue_many': {
      let s = head + `\tStore ID: ${uint64(r.storeId)}\n\tQoS: ${r.qos}\n\tRetain: ${r.retain}\n\tSessions: ${r.clientIds.length}\n`;
      for (const id of r.clientIds) s += `\tClient ID: ${cString(id)}\n`;
      return s;
    }
  }
}

/** Dumps the journal open as `fh`; returns the exit status. */
export async function journalDump(fh: FileHandle, stats: boolean, out: ByteOutput, io: JournalIo): Promise<number> {
  const bytes = await fh.readFile();
  let r;
  try {
    r = readJournalBuffer(bytes);
  } catch (e) {
    if (e instanceof JournalHeaderError || e instanceof JournalRecordError) {
      io.stderr.write(`Error: Corrupt journal: ${e.message}.`);
      return 1;
    }
    throw e;
  }
  if (stats) {
    const counts = new Map<string, number>();
    for (const name of Object.values(OP_NAMES)) counts.set(name, 0);
    for (const op of r.records) counts.set(OP_NAMES[op.op], counts.get(OP_NAMES[op.op])! + 1);
    out.put(`FRAMES: ${r.frames.length}\n`);
    for (const [name, n] of counts) out.put(`${`${name}:`.padEnd(22)}${n}\n`);
  } else {
    out.put('Skeeter journal dump\n');
    if (r.header) {
      out.put(`Journal version: ${r.header.version}\nBase DB ID: ${uint64(r.header.base)}\nCreated: ${uint64(r.header.created)}\n`);
    }
    for (const f of r.frames) {
      out.put(`FRAME:\n\tOffset: ${f.offset}\n\tLength: ${f.length}\n\tOperations: ${f.records.length}\n`);
      for (const op of f.records) out.put(journalOpText(op));
      await out.maybeFlush();
    }
  }
  if (r.tail) {
    io.stderr.write(`Warning: Journal ends with ${r.tail.bytes} torn byte(s) at offset ${r.tail.offset} (${r.tail.reason}); a broker cuts them off.\n`);
  }
  return 0;
}
