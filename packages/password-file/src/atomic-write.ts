/**
 * Replace a file without ever leaving it half written: write a temporary file in the same
 * directory (so the rename cannot cross file systems), fsync it, give it the old file's mode
 * and owner, rename it over the old name, then fsync the directory so the rename itself is
 * durable. New files are created mode 0600 (a password file holds secrets; Mosquitto 2.0.16+
 * does the same). A target that exists but is not a regular file (a FIFO, /dev/stdout) is
 * written in place instead: renaming over it would replace the device node.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Which step failed, so callers can print Mosquitto's message for it. */
export const AtomicWriteStep = {
  /** Creating the temporary file (or opening a non-regular target). */
  create: 'create',
  /** Writing, syncing or renaming. */
  write: 'write',
} as const;
export type AtomicWriteStep = (typeof AtomicWriteStep)[keyof typeof AtomicWriteStep];

export class AtomicWriteError extends Error {
  readonly step: AtomicWriteStep;
  readonly code: string | undefined;
  constructor(step: AtomicWriteStep, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'AtomicWriteError';
    this.step = step;
    this.code = errorCode(cause);
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

export interface AtomicWriteOptions {
  /** Mode of a newly created file; default 0o600. */
  newFileMode?: number;
  /** Called with the temporary path once it exists (to remove it on a signal). */
  onTemporaryFile?: (path: string | undefined) => void;
}

export async function writeFileAtomic(path: string, data: Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  let existing: Stats | undefined;
  try {
    existing = await stat(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw new AtomicWriteError('create', error);
  }
  if (existing && !existing.isFile()) {
    await writeInPlace(path, data);
    return;
  }
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle;
  try {
    handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    throw new AtomicWriteError('create', error);
  }
  options.onTemporaryFile?.(temporary);
  try {
    try {
      await handle.writeFile(data);
      await handle.chmod(existing ? existing.mode & 0o7777 : (options.newFileMode ?? 0o600));
      if (existing && (existing.uid !== process.getuid?.() || existing.gid !== process.getgid?.())) {
        // Keep the owner (e.g. mosquitto:mosquitto when root edits the file); only root may.
        await handle.chown(existing.uid, existing.gid).catch(() => undefined);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    options.onTemporaryFile?.(undefined);
    throw new AtomicWriteError('write', error);
  }
  options.onTemporaryFile?.(undefined);
  await syncDirectory(directory);
}

async function writeInPlace(path: string, data: Uint8Array): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'w');
  } catch (error) {
    throw new AtomicWriteError('create', error);
  }
  try {
    await handle.writeFile(data);
  } catch (error) {
    throw new AtomicWriteError('write', error);
  } finally {
    await handle.close();
  }
}

async function syncDirectory(directory: string): Promise<void> {
  // Not every file system lets a directory be opened or synced; the rename already happened.
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // ignore
  }
}
