/**
 * mosquitto_passwd's command line, parsed by hand exactly as Mosquitto does it: flags are only
 * recognised before the first argument that is not one of them, each flag is a whole word
 * (no `-cb` bundling, no `--long` forms, no `=`), `-H`/`-I` take the next word whatever it is,
 * and the positional count decides between the modes in a fixed order. Extra positionals after
 * `-c`/`-D` are ignored, as in Mosquitto.
 */
import { atoi, HashKind } from '@skeeter/password-file';

export const PasswdMode = {
  /** `-c`: write a new file with one user. */
  create: 'create',
  /** `-D`: delete a user. */
  delete: 'delete',
  /** `-U`: hash every plain text password. */
  update: 'update',
  /** Add or change one user's password. */
  set: 'set',
} as const;
export type PasswdMode = (typeof PasswdMode)[keyof typeof PasswdMode];

export interface PasswdOptions {
  mode: PasswdMode;
  hashKind: HashKind;
  /** `-I`, for sha512-pbkdf2; undefined = the default. */
  iterations: number | undefined;
  /** The password file; '-' with `-c` means stdout. */
  file: string;
  /** `-c -`: write the new line to stdout instead of a file (2.1). */
  toStdout: boolean;
  username: string | undefined;
  /** `-b`: the password from the command line; undefined = prompt. */
  password: string | undefined;
}

export type PasswdArgv =
  | { kind: 'run'; options: PasswdOptions }
  | { kind: 'usage' }
  | { kind: 'error'; message: string };

const HASH_NAMES: Record<string, HashKind> = {
  sha512: HashKind.sha512,
  'sha512-pbkdf2': HashKind.sha512Pbkdf2,
  argon2id: HashKind.argon2id,
};

function error(message: string): PasswdArgv {
  return { kind: 'error', message };
}

export function parsePasswdArgv(argv: readonly string[]): PasswdArgv {
  if (argv.length === 0) return { kind: 'usage' };
  let hashKind: HashKind = HashKind.argon2id;
  let iterations: number | undefined;
  let batch = false;
  let create = false;
  let remove = false;
  let update = false;
  let idx = 0;
  for (; idx < argv.length; idx++) {
    const arg = argv[idx];
    if (arg === '-H') {
      const name = argv[idx + 1];
      if (name === undefined) return error('Error: -H argument given but not enough other arguments.');
      const kind = Object.hasOwn(HASH_NAMES, name) ? HASH_NAMES[name] : undefined;
      if (kind === undefined) return error(`Error: Unknown hash type '${name}'`);
      hashKind = kind;
      idx++;
    } else if (arg === '-b') {
      batch = true;
    } else if (arg === '-c') {
      create = true;
    } else if (arg === '-D') {
      remove = true;
    } else if (arg === '-I') {
      const value = argv[idx + 1];
      if (value === undefined) return error('Error: -I argument given but not enough other arguments.');
      iterations = atoi(value);
      idx++;
      if (iterations < 1) return error('Error: Number of iterations must be > 0.');
    } else if (arg === '-U') {
      update = true;
    } else {
      break;
    }
  }

  if (create && remove) return error('Error: -c and -D cannot be used together.');
  if (create && update) return error('Error: -c and -U cannot be used together.');
  if (remove && update) return error('Error: -D and -U cannot be used together.');
  if (remove && batch) return error('Error: -b and -D cannot be used together.');

  const positional = argv.slice(idx);
  const base = { hashKind, iterations, toStdout: false };
  if (create) {
    if (batch && positional.length < 3) return error('Error: -c argument given but password file, username, or password missing.');
    if (!batch && positional.length < 2) return error('Error: -c argument given but password file or username missing.');
    const file = positional[0] ?? '';
    return {
      kind: 'run',
      options: { ...base, mode: 'create', file, toStdout: file === '-', username: positional[1], password: batch ? positional[2] : undefined },
    };
  }
  if (remove) {
    if (positional.length < 2) return error('Error: -D argument given but password file or username missing.');
    return { kind: 'run', options: { ...base, mode: 'delete', file: positional[0] ?? '', username: positional[1], password: undefined } };
  }
  if (update) {
    if (positional.length !== 1) return error('Error: -U argument given but password file missing.');
    return { kind: 'run', options: { ...base, mode: 'update', file: positional[0] ?? '', username: undefined, password: undefined } };
  }
  if (batch && positional.length === 3) {
    return { kind: 'run', options: { ...base, mode: 'set', file: positional[0] ?? '', username: positional[1], password: positional[2] } };
  }
  if (!batch && positional.length === 2) {
    return { kind: 'run', options: { ...base, mode: 'set', file: positional[0] ?? '', username: positional[1], password: undefined } };
  }
  return { kind: 'usage' };
}
