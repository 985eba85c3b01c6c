/**
 * Persistence as Mosquitto does it: restore `mosquitto.db` at startup, save it every
 * `autosave_interval` seconds (or after that many changes with `autosave_on_changes`), on
 * SIGUSR1 and at shutdown. Saves go through `writeDbFile`: `<file>.new`, fsync, rename, with the
 * encoding sliced so the broker keeps serving while a large state is written.
 *
 * With `persistence_journal true` (docs/durable-journal.md) every change is also appended to
 * `<file>.journal.<base>` and acknowledged only once it is on disk. A save then captures the
 * snapshot in one tick, starts the next journal in the same tick, writes the snapshot, and only
 * then deletes the journals it replaces; start-up loads the snapshot, replays the journals that
 * follow it, and saves at once so the broker starts from one snapshot and an empty journal.
 */
import { readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  JournalHeaderError,
  JournalRecordError,
  JournalWriter,
  loadDbFile,
  PersistenceError,
  readJournalFile,
  replayJournals,
  writeDbFile,
  type DbRecord,
  type DbState,
  type JournalRecord,
} from '@skeeter/persistence';
import type { Broker } from '../broker.js';
import { advanceStoreIds, lastMessageStoreId } from '../message.js';
import { BrokerJournal } from './journal.js';
import { capturedSnapshotRecords, restoreState, snapshotRecords } from './snapshot.js';

export interface PersistenceOptions {
  path: string;
  /** Seconds, or a change count with onChanges; 0 = only at exit and on SIGUSR1. */
  autosaveInterval: number;
  autosaveOnChanges: boolean;
  /** persistence_journal (skeeter): append every change and acknowledge only what is on disk. */
  journal?: boolean;
  /** persistence_journal_sync_ms: group-commit window. */
  journalSyncMs?: number;
  /** persistence_on_corruption: stop (exit 3) or move the bad files aside and start empty. */
  onCorruption?: 'error' | 'quarantine';
  /**
   * A journal larger than this, and than twice the last snapshot, triggers a snapshot (default
   * 64 MiB): the snapshot's cost then stays proportional to what the journal grew by.
   */
  journalMaxBytes?: number;
}

/** A database or journal that cannot be trusted at start-up; `lines` are logged, then exit `exitCode`. */
export class PersistenceStartupError extends Error {
  readonly lines: readonly string[];
  readonly exitCode: number;
  constructor(lines: readonly string[], exitCode: number) {
    super(lines.join('\n'));
    this.lines = lines;
    this.exitCode = exitCode;
  }
}

const JOURNAL_INFIX = '.journal.';

/**
 * Store ids are numbers here; a file from Mosquitto's develop branch may carry clock-derived
 * ids near 2^64, which a number cannot count on from: those are left alone.
 */
function continueStoreIds(id: bigint): void {
  if (id < 2n ** 52n) advanceStoreIds(Number(id));
}

export class PersistenceManager {
  private readonly broker: Broker;
  private readonly options: PersistenceOptions;
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> | undefined;
  private changesAtSave = 0;
  private journal: BrokerJournal | undefined;
  /** Size of the last snapshot written, bytes. */
  private lastSnapshotBytes = 0;

  constructor(broker: Broker, options: PersistenceOptions) {
    this.broker = broker;
    this.options = options;
  }

  /**
   * Loads the file into the (not yet started) broker. Throws PersistenceError with Mosquitto's
   * words, or PersistenceStartupError in journal mode.
   */
  async restore(): Promise<void> {
    if (this.options.journal) {
      await this.restoreWithJournal();
      return;
    }
    const r = await this.loadSnapshot();
    if (r.state) {
      // As Mosquitto: store ids continue after the file's last db id, so they keep growing
      // across restarts and a journal enabled later never sees an older snapshot id again.
      continueStoreIds(r.state.lastDbId);
      restoreState(this.broker, r.state);
    }
    const stale = await this.journalFiles();
    if (stale.length > 0) {
      this.broker.log.warning(`Warning: ${stale.length} journal file(s) beside ${this.options.path} are ignored: persistence_journal is off.`);
    }
  }

  private async loadSnapshot(): Promise<{ state: DbState | null }> {
    const r = await loadDbFile(this.options.path);
    for (const w of r.warnings) this.broker.log.warning(w);
    return { state: r.state };
  }

  private journalPath(base: bigint): string {
    return `${this.options.path}${JOURNAL_INFIX}${base}`;
  }

  /** The journal files beside the database, oldest (lowest base) first. */
  private async journalFiles(): Promise<Array<{ path: string; base: bigint }>> {
    const dir = dirname(this.options.path);
    const prefix = basename(this.options.path) + JOURNAL_INFIX;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    const out: Array<{ path: string; base: bigint }> = [];
    for (const n of names) {
      if (!n.startsWith(prefix)) continue;
      const suffix = n.slice(prefix.length);
      if (!/^\d{1,20}$/.test(suffix)) continue;
      out.push({ path: join(dir, n), base: BigInt(suffix) });
    }
    return out.sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  }

  private async restoreWithJournal(): Promise<void> {
    const log = this.broker.log;
    let state: DbState | null;
    try {
      const loaded = await this.loadJournalled();
      state = loaded.state;
      // Continue counting after every id the database and journals used.
      continueStoreIds(loaded.lastId);
    } catch (e) {
      const problem = e instanceof PersistenceStartupError ? e : undefined;
      const snapshotError = e instanceof PersistenceError ? e : undefined;
      if (!problem && !snapshotError) throw e;
      if (this.options.onCorruption !== 'quarantine') {
        // Mosquitto's way: say why and stop. A bad snapshot keeps Mosquitto's exit status 1.
        if (snapshotError) throw snapshotError;
        throw problem;
      }
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      const moved: string[] = [];
      for (const f of [this.options.path, ...(await this.journalFiles()).map((j) => j.path)]) {
        try {
          await rename(f, `${f}.corrupt-${stamp}`);
          moved.push(`${f}.corrupt-${stamp}`);
        } catch {
          // Missing: nothing to move.
        }
      }
      for (const line of problem ? problem.lines : [snapshotError!.message]) log.error(line);
      log.error(`Error: PERSISTENCE CORRUPT: moved ${moved.length} file(s) aside (${moved.join(', ')}) and starting with an EMPTY database (persistence_on_corruption quarantine).`);
      state = null;
    }
    if (state) restoreState(this.broker, state);
    // Start from one snapshot and a fresh journal; the save deletes the journals replayed.
    this.startJournal();
    await this.save(false);
    // Attached before any listener opens: no change may go unjournaled.
    this.broker.journal = this.journal;
  }

  /** Snapshot plus the journals that follow it. Throws PersistenceError or PersistenceStartupError. */
  private async loadJournalled(): Promise<{ state: DbState | null; lastId: bigint }> {
    const log = this.broker.log;
    const { state } = await this.loadSnapshot();
    const base = state?.lastDbId ?? 0n;
    const files = await this.journalFiles();
    const chain = files.filter((f) => f.base >= base);
    const corrupt = (path: string, why: string): PersistenceStartupError =>
      new PersistenceStartupError([`Error: Corrupt journal ${path}: ${why}.`, "Error: Couldn't open database."], 3);
    if (chain.length > 0 && chain[0]!.base !== base) {
      throw corrupt(chain[0]!.path, state
        ? `it follows a snapshot with last db id ${chain[0]!.base}, but ${this.options.path} has ${base}`
        : `it follows a snapshot (last db id ${chain[0]!.base}) but ${this.options.path} is missing`);
    }
    const journals: JournalRecord[][] = [];
    let tornAt: string | undefined;
    for (const f of chain) {
      let r;
      try {
        r = await readJournalFile(f.path);
      } catch (e) {
        if (e instanceof JournalHeaderError || e instanceof JournalRecordError) throw corrupt(f.path, e.message);
        throw e;
      }
      if (r.header && r.header.base !== f.base) throw corrupt(f.path, `its header names base ${r.header.base}`);
      if (tornAt !== undefined && r.records.length > 0) {
        // Nothing after a bad record is trusted: a later journal with records means the torn
        // part had been acknowledged, which a torn write cannot be.
        throw corrupt(tornAt, 'it is cut short but a later journal has records');
      }
      if (r.tail) {
        log.warning(`Warning: Journal ${f.path} ends with ${r.tail.bytes} torn byte(s) at offset ${r.tail.offset} (${r.tail.reason}); cutting them off (never acknowledged).`);
        tornAt = f.path;
      }
      journals.push([...r.records]);
    }
    let lastId = base;
    for (const f of files) if (f.base > lastId) lastId = f.base;
    if (journals.length === 0 || journals.every((j) => j.length === 0)) return { state, lastId };
    const replayed = replayJournals(state, journals);
    const ops = journals.reduce((n, j) => n + j.length, 0);
    log.notice(`Replayed ${ops} journal operation(s) from ${chain.length} file(s) onto ${state ? this.options.path : 'an empty database'}.`);
    if (replayed.lastDbId > lastId) lastId = replayed.lastDbId;
    return { state: replayed, lastId };
  }

  /** Creates the journal writer (its file comes with the first save) and attaches it. */
  private startJournal(): BrokerJournal {
    const log = this.broker.log;
    // A placeholder file until the first save rotates to the real one: created here so that
    // every later rotation has an open writer to continue from.
    const base = this.reserveSnapshotId();
    const writer = JournalWriter.create(this.journalPath(base), base, {
      syncMs: this.options.journalSyncMs ?? 2,
      onError: (e) => log.error(`Error: Journal write failed (${e.message}): acknowledgements are withheld from now on.`),
    });
    this.journal = new BrokerJournal(writer);
    return this.journal;
  }

  /** A fresh store id for the next snapshot's CFG: it names the snapshot and its journal. */
  private reserveSnapshotId(): bigint {
    advanceStoreIds(lastMessageStoreId() + 1);
    return BigInt(lastMessageStoreId());
  }

  start(): void {
    const { autosaveInterval, autosaveOnChanges } = this.options;
    const maxJournal = this.options.journalMaxBytes ?? 64 * 1024 * 1024;
    if (autosaveInterval <= 0 && !this.journal) return;
    // Interval mode checks once a second, as Mosquitto's main loop does; change mode too.
    let elapsed = 0;
    this.timer = setInterval(() => {
      elapsed++;
      let due = false;
      if (autosaveInterval > 0) {
        due = autosaveOnChanges
          ? this.broker.changes - this.changesAtSave >= autosaveInterval
          : elapsed > autosaveInterval;
      }
      // A long journal makes start-up slow: a snapshot starts the next one empty.
      if (this.journal && this.journal.writer.fileBytes > Math.max(maxJournal, 2 * this.lastSnapshotBytes)) due = true;
      if (due) {
        elapsed = 0;
        void this.save(false);
      }
    }, 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Writes the database; concurrent calls share one save. */
  save(shutdown: boolean): Promise<void> {
    if (this.saving) return this.saving;
    this.broker.log.notice(`Saving in-memory database to ${this.options.path}.`);
    this.changesAtSave = this.broker.changes;
    let records: Iterable<DbRecord>;
    let after: () => Promise<void> = async () => undefined;
    const journal = this.journal;
    if (journal) {
      // One tick: reserve the snapshot's id, collect its records, mark what it holds, and
      // switch to the journal that follows it. The journals before it go once it is on disk.
      const base = this.reserveSnapshotId();
      records = capturedSnapshotRecords(this.broker, shutdown ? 1 : 0);
      journal.snapshotTaken(this.broker);
      const next = this.journalPath(base);
      journal.writer.rotate(next, base);
      after = async () => {
        for (const f of await this.journalFiles()) if (f.base < base) await unlink(f.path).catch(() => undefined);
      };
    } else {
      records = snapshotRecords(this.broker, shutdown ? 1 : 0);
    }
    this.saving = writeDbFile(this.options.path, records)
      .then((r) => {
        this.lastSnapshotBytes = r.bytes;
        return after();
      })
      .catch((e: unknown) => {
        const msg = e instanceof PersistenceError ? e.message : `Error saving in-memory database, unable to open ${this.options.path}.new for writing.`;
        this.broker.log.error(msg);
      })
      .finally(() => {
        this.saving = undefined;
      });
    return this.saving;
  }

  /** Shutdown: the last save, then the journal is closed (everything in it is in the snapshot). */
  async close(): Promise<void> {
    await this.save(true);
    if (this.journal) {
      if (this.broker.journal === this.journal) this.broker.journal = undefined;
      await this.journal.writer.close();
    }
  }
}
