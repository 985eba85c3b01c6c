/**
 * mosquitto_passwd: create, edit and convert Mosquitto password files.
 *
 * Texts, exit statuses and the order of checks follow Mosquitto (2.0.11 as installed on Debian,
 * plus 2.1's `Adding/Updating password for user X` messages, `-c -` and argon2id default).
 * Where Mosquitto loses data we do not (see ARCHITECTURE.md): updates are atomic, comment and
 * blank lines are kept, a corrupt line stops every operation with the file untouched, `-U`
 * leaves already hashed lines alone.
 */
import { open, stat, access } from 'node:fs/promises';
import { constants, realpathSync, unlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Writable } from 'node:stream';
import {
  AtomicWriteError,
  encodePasswordHash,
  hashPassword,
  joinPasswordFileLines,
  lineIsUser,
  linePasswordBytes,
  looksHashed,
  makeUserLine,
  splitPasswordFileLines,
  usernameError,
  withPasswordField,
  writeFileAtomic,
  type HashKind,
  type PasswordFileLine,
} from '@skeeter/password-file';
import { parsePasswdArgv, type PasswdOptions } from './argv.js';
import { HashProgress, type ProgressOutput } from './progress.js';
import { promptPassword, type PromptInput } from './prompt.js';
import { errorCode, strerror } from './strerror.js';
import { PASSWD_USAGE } from './usage.js';

export interface PasswdIo {
  stdin: PromptInput;
  stdout: Writable;
  stderr: ProgressOutput;
}

/** Runs mosquitto_passwd with argv (without node and script); resolves to the exit status. */
export async function passwdMain(argv: readonly string[], io: PasswdIo): Promise<number> {
  const parsed = parsePasswdArgv(argv);
  if (parsed.kind === 'usage') {
    io.stdout.write(PASSWD_USAGE);
    return 1;
  }
  if (parsed.kind === 'error') {
    io.stderr.write(`${parsed.message}\n`);
    return 1;
  }
  const options = parsed.options;
  if (options.username !== undefined) {
    const problem = usernameError(options.username);
    if (problem !== undefined) {
      io.stderr.write(`${problem}\n`);
      return 1;
    }
  }
  if (options.password !== undefined && Buffer.byteLength(options.password) > 65535) {
    io.stderr.write('Error: Password must be less than 65536 characters long.\n');
    return 1;
  }
  let path = options.file;
  if (!options.toStdout) {
    // Messages name the resolved path, and a symlinked password file is edited at its target.
    try {
      path = realpathSync.native(options.file);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') {
        io.stderr.write(`Error reading password file: ${strerror(error)}\n`);
        return 1;
      }
    }
  }
  return options.mode === 'create' ? createFile(options, path, io) : editFile(options, path, io);
}

function hashOptions(options: PasswdOptions): { kind: HashKind; iterations?: number } {
  return options.iterations === undefined ? { kind: options.hashKind } : { kind: options.hashKind, iterations: options.iterations };
}

async function newUserLine(options: PasswdOptions, username: string, password: Uint8Array | string): Promise<PasswordFileLine> {
  return makeUserLine(username, encodePasswordHash(await hashPassword(password, hashOptions(options))));
}

/** `-c`: a file holding just this user (or the line on stdout for `-c -`). */
async function createFile(options: PasswdOptions, path: string, io: PasswdIo): Promise<number> {
  const username = options.username ?? '';
  let password: Uint8Array | string;
  if (options.password !== undefined) {
    password = options.password;
  } else {
    const answer = await promptPassword({ stdin: io.stdin, promptOut: options.toStdout ? io.stderr : io.stdout, stderr: io.stderr });
    if (!answer.ok) return answer.exitCode;
    password = answer.password;
  }
  if (options.toStdout) {
    io.stdout.write(joinPasswordFileLines([await newUserLine(options, username, password)]));
    return 0;
  }
  const cannotWrite = (error: unknown): number => {
    io.stderr.write(`Error: Unable to open file ${path} for writing. ${strerror(error)}.\n`);
    return 1;
  };
  // fopen(path, "w") would fail on a directory or a file we may not write; so do we, before hashing.
  try {
    const existing = await stat(path);
    if (existing.isDirectory()) return cannotWrite(Object.assign(new Error('EISDIR'), { code: 'EISDIR' }));
    await access(path, constants.W_OK);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') return cannotWrite(error);
  }
  const line = await newUserLine(options, username, password);
  try {
    await writeWithCleanup(path, joinPasswordFileLines([line]));
  } catch (error) {
    return cannotWrite(error instanceof AtomicWriteError ? error.cause : error);
  }
  io.stdout.write(`Adding password for user ${username}\n`);
  return 0;
}

/** Add/update a user, delete a user, or hash a plain text file (`-U`). */
async function editFile(options: PasswdOptions, path: string, io: PasswdIo): Promise<number> {
  let content: Buffer;
  try {
    // Opened read-write like Mosquitto's fopen(path, "r+"), so the same files are refused.
    const handle = await open(path, 'r+');
    try {
      content = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    io.stderr.write(`Error: Unable to open password file ${path}. ${strerror(error)}.\n`);
    return 1;
  }

  let password: Uint8Array | string | undefined = options.password;
  if (options.mode === 'set' && password === undefined) {
    const answer = await promptPassword({ stdin: io.stdin, promptOut: io.stdout, stderr: io.stderr });
    if (!answer.ok) return answer.exitCode;
    password = answer.password;
  }

  const lines = splitPasswordFileLines(content);
  const corrupt = lines.find((line) => line.kind === 'corrupt');
  if (corrupt !== undefined) {
    io.stderr.write(`Error: Corrupt password file at line ${corrupt.number}.\n`);
    return 1;
  }

  const username = options.username ?? '';
  let result: PasswordFileLine[];
  let message: string | undefined;
  if (options.mode === 'delete') {
    result = lines.filter((line) => !lineIsUser(line, username));
    if (result.length === lines.length) {
      io.stderr.write(`Warning: User ${username} not found in password file.\n`);
      return 1;
    }
  } else if (options.mode === 'set') {
    const newPassword = password ?? '';
    let found = false;
    result = [];
    for (const line of lines) {
      // Every line of a duplicated user gets the new password (as 2.0 does): the 2.0 broker
      // uses the last one, 2.1 the first.
      if (lineIsUser(line, username)) {
        found = true;
        result.push(await newUserLine(options, username, newPassword));
      } else {
        result.push(line);
      }
    }
    if (!found) result.push(await newUserLine(options, username, newPassword));
    message = `${found ? 'Updating' : 'Adding'} password for user ${username}\n`;
  } else {
    result = await hashPlainLines(options, lines, io.stderr);
    if (result.every((line, i) => line === lines[i])) return 0;
  }

  try {
    await writeWithCleanup(path, joinPasswordFileLines(result));
  } catch (error) {
    if (error instanceof AtomicWriteError && error.step === 'create') {
      io.stderr.write(`Error: Unable to open temporary file. ${strerror(error.cause)}.\n`);
    } else {
      io.stderr.write(`Error occurred updating password file. ${strerror(error instanceof AtomicWriteError ? error.cause : error)}.\n`);
    }
    return 1;
  }
  if (message !== undefined) io.stdout.write(message);
  return 0;
}

/** `-U`: hash every user line whose password is not already a hash, a few at a time. */
async function hashPlainLines(options: PasswdOptions, lines: PasswordFileLine[], stderr: ProgressOutput): Promise<PasswordFileLine[]> {
  const result = [...lines];
  const todo = lines.flatMap((line, index) => (line.kind === 'user' && !looksHashed(line.password ?? '') ? [index] : []));
  const progress = new HashProgress(stderr, todo.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const index = todo[next++] ?? 0;
      const line = lines[index];
      if (line === undefined) continue;
      const hash = await hashPassword(linePasswordBytes(line), hashOptions(options));
      result[index] = withPasswordField(line, encodePasswordHash(hash));
      progress.step();
    }
  };
  // argon2id takes 46 MiB per hash: a handful in parallel is enough to fill the cores.
  const workers = Math.max(1, Math.min(4, availableParallelism(), todo.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (todo.length > 0) progress.finish();
  return result;
}

/** Write atomically; a SIGINT/SIGTERM meanwhile removes the temporary file before exiting. */
async function writeWithCleanup(path: string, data: Buffer): Promise<void> {
  let temporary: string | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (temporary !== undefined) {
      try {
        unlinkSync(temporary);
      } catch {
        // already renamed or removed
      }
    }
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await writeFileAtomic(path, data, { onTemporaryFile: (p) => (temporary = p) });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

