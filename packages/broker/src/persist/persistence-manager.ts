/**
 * Persistence as Mosquitto does it: restore `mosquitto.db` at startup, save it every
 * `autosave_interval` seconds (or after that many changes with `autosave_on_changes`), on
 * SIGUSR1 and at shutdown. Saves go through `writeDbFile`: `<file>.new`, fsync, rename, with the
 * encoding sliced so the broker keeps serving while a large state is written.
 */
import { loadDbFile, PersistenceError, writeDbFile } from '@skeeter/persistence';
import type { Broker } from '../broker.js';
import { restoreState, snapshotRecords } from './snapshot.js';

export interface PersistenceOptions {
  path: string;
  /** Seconds, or a change count with onChanges; 0 = only at exit and on SIGUSR1. */
  autosaveInterval: number;
  autosaveOnChanges: boolean;
}

export class PersistenceManager {
  private readonly broker: Broker;
  private readonly options: PersistenceOptions;
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> | undefined;
  private changesAtSave = 0;

  constructor(broker: Broker, options: PersistenceOptions) {
    this.broker = broker;
    this.options = options;
  }

  /** Loads the file into the (not yet started) broker. Throws PersistenceError with Mosquitto's words. */
  async restore(): Promise<void> {
    const r = await loadDbFile(this.options.path);
    for (const w of r.warnings) this.broker.log.warning(w);
    if (r.state) restoreState(this.broker, r.state);
  }

  start(): void {
    const { autosaveInterval, autosaveOnChanges } = this.options;
    if (autosaveInterval <= 0) return;
    // Interval mode checks once a second, as Mosquitto's main loop does; change mode too.
    let elapsed = 0;
    this.timer = setInterval(() => {
      elapsed++;
      const due = autosaveOnChanges
        ? this.broker.changes - this.changesAtSave >= autosaveInterval
        : elapsed > autosaveInterval;
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
    this.saving = writeDbFile(this.options.path, snapshotRecords(this.broker, shutdown ? 1 : 0))
      .then(() => undefined)
      .catch((e: unknown) => {
        const msg = e instanceof PersistenceError ? e.message : `Error saving in-memory database, unable to open ${this.options.path}.new for writing.`;
        this.broker.log.error(msg);
      })
      .finally(() => {
        this.saving = undefined;
      });
    return this.saving;
  }
}
