/**
 * A whole database as one value: what the broker saves and restores. `stateToRecords` lays
 * it out in Mosquitto 2.0's chunk order (persist__backup): CFG; every MSG_STORE; for each
 * session its CLIENT chunk immediately followed by its CLIENT_MSG chunks; every SUB; every
 * RETAIN. `recordsToState` / `loadDbFile` go the other way, grouping client messages under
 * their session by client id as Mosquitto's loader does.
 */
import { stat } from 'node:fs/promises';
import { DBID_SIZE, DB_OLDEST_READABLE_VERSION, DB_VERSION } from './constants.js';
import { PersistenceError, incompatibleDbidError, unsupportedVersionError } from './errors.js';
import { readDbFileBatches, type StreamOptions } from './reader.js';
import type { ClientMsgRecord, ClientRecord, DbRecord, MsgStoreRecord, SubRecord } from './records.js';

/** A persistent session and the messages queued for / in flight with it. */
export interface DbSession {
  readonly client: ClientRecord;
  /**
   * In the order Mosquitto writes them: incoming in-flight, incoming queued, outgoing
   * in-flight, outgoing queued.
   */
  readonly messages: readonly ClientMsgRecord[];
}

export interface DbState {
  readonly lastDbId: bigint;
  /** 1 when saved at shutdown. */
  readonly shutdown: number;
  readonly messages: readonly MsgStoreRecord[];
  readonly sessions: readonly DbSession[];
  readonly subscriptions: readonly SubRecord[];
  /** Store ids of the retained messages. */
  readonly retained: readonly bigint[];
}

/** The chunk sequence Mosquitto 2.0 writes for `state`. */
export function* stateToRecords(state: DbState): Generator<DbRecord> {
  yield { kind: 'cfg', lastDbId: state.lastDbId, shutdown: state.shutdown, dbidSize: DBID_SIZE };
  yield* state.messages;
  for (const session of state.sessions) {
    yield session.client;
    yield* session.messages;
  }
  yield* state.subscriptions;
  for (const storeId of state.retained) yield { kind: 'retain', storeId };
}

const key = (b: Buffer | null): string => (b === null ? '' : b.toString('latin1'));

/** What Mosquitto's loader creates for client messages of a client it has no CLIENT chunk for. */
function implicitClient(clientId: Buffer | null): ClientRecord {
  return { kind: 'client', clientId, username: null, sessionExpiryTime: 0n, sessionExpiryInterval: 0, lastMid: 0, listenerPort: 0 };
}

/** Collects records into a state. Throws INCOMPATIBLE_DBID like the loader. */
export class DbStateBuilder {
  private lastDbId = 0n;
  private shutdown = 0;
  private readonly messages: MsgStoreRecord[] = [];
  private readonly sessions = new Map<string, { client: ClientRecord; messages: ClientMsgRecord[] }>();
  private readonly subscriptions: SubRecord[] = [];
  private readonly retained: bigint[] = [];

  add(record: DbRecord): void {
    switch (record.kind) {
      case 'cfg':
        if (record.dbidSize !== DBID_SIZE) throw incompatibleDbidError(record.dbidSize);
        this.lastDbId = record.lastDbId;
        this.shutdown = record.shutdown;
        break;
      case 'msg_store':
        this.messages.push(record);
        break;
      case 'client': {
        const existing = this.sessions.get(key(record.clientId));
        if (existing) existing.client = record;
        else this.sessions.set(key(record.clientId), { client: record, messages: [] });
        break;
      }
      case 'client_msg': {
        let session = this.sessions.get(key(record.clientId));
        if (!session) {
          session = { client: implicitClient(record.clientId), messages: [] };
          this.sessions.set(key(record.clientId), session);
        }
        session.messages.push(record);
        break;
      }
      case 'sub':
        this.subscriptions.push(record);
        break;
      case 'retain':
        this.retained.push(record.storeId);
        break;
    }
  }

  build(): DbState {
    return {
      lastDbId: this.lastDbId,
      shutdown: this.shutdown,
      messages: this.messages,
      sessions: [...this.sessions.values()],
      subscriptions: this.subscriptions,
      retained: this.retained,
    };
  }
}

/** Builds a state from records (e.g. `readDbBuffer` output filtered to chunks). */
export function recordsToState(records: Iterable<DbRecord>): DbState {
  const b = new DbStateBuilder();
  for (const r of records) b.add(r);
  return b.build();
}

export interface LoadResult {
  /** Null when there is nothing to restore (missing or empty file). */
  readonly state: DbState | null;
  /** Mosquitto's warning lines for what was skipped, in order. */
  readonly warnings: readonly string[];
  readonly version: number | null;
}

function checkVersion(version: number): void {
  if (version < DB_OLDEST_READABLE_VERSION || version > DB_VERSION) throw unsupportedVersionError(version);
}

/**
 * Loads the file at `path` as the broker does at startup: a missing file is a fresh start,
 * an empty one a warning; versions outside 2..6 and a db id size other than 8 are errors;
 * unknown chunks are skipped with Mosquitto's warning. Other faults throw PersistenceError.
 */
export async function loadDbFile(path: string, options: StreamOptions = {}): Promise<LoadResult> {
  try {
    await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { state: null, warnings: [], version: null };
    throw e;
  }
  const warnings: string[] = [];
  const builder = new DbStateBuilder();
  let version: number | null = null;
  try {
    for await (const batch of readDbFileBatches(path, options)) {
      for (const ev of batch) {
        if (ev.event === 'header') {
          checkVersion(ev.header.version);
          version = ev.header.version;
        } else if (ev.event === 'chunk') {
          builder.add(ev.chunk.record);
        } else {
          warnings.push(`Warning: Unsupported chunk "${ev.type}" in persistent database file. Ignoring.`);
        }
      }
    }
  } catch (e) {
    if (e instanceof PersistenceError && e.code === 'EMPTY_FILE') return { state: null, warnings: [e.message], version: null };
    throw e;
  }
  return { state: builder.build(), warnings, version };
}
