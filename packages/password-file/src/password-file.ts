/**
 * The broker side of a password file (`password_file`): parse it the way Mosquitto 2.0 does,
 * with the same log lines, and check a client's username and password against it.
 *
 * Parsing rules (Mosquitto 2.0, checked against Debian's 2.0.11):
 * - Lines end at `\n`. A line whose first byte is `#`, or that has no `:`, is skipped silently.
 * - Username = first strtok() token on `:`, password = the second, both blank-trimmed. So
 *   `user:hash:anything` keeps only `hash`, and leading `:`s are skipped.
 * - No second token (`:::name`, or `name:` at the very end of a file without newline) gives the
 *   notice `Warning: Invalid line in password file '<f>': <line up to the username's end>`.
 *   `name:` followed by a newline is an entry with an empty hash and gets the error
 *   `Invalid password hash` below.
 * - Fields longer than 65535 bytes: notice `Warning: Invalid line in password file '<f>',
 *   username too long.` / `…, password too long.`
 * - Then every entry is decoded in file order; a bad one is logged and removed (messages in
 *   password-hash.ts). Duplicate usernames are all kept by 2.0 and the lookup finds the last
 *   valid one, so the last valid line wins.
 */
import { readFile } from 'node:fs/promises';
import { isCSpace, strtokAll, trimBlanks } from './c-string.js';
import {
  decodePasswordHash,
  MOSQUITTO_2_1_RULES,
  passwordHashErrorText,
  verifyPassword,
  type DecodeRules,
  type PasswordHash,
  type PasswordInput,
} from './password-hash.js';

/** Usernames and passwords longer than this many bytes are refused. */
export const MAX_FIELD_LENGTH = 65535;

/** A broker log line produced while loading the file, with Mosquitto's log level. */
export interface PasswordFileMessage {
  level: 'notice' | 'error';
  text: string;
}

export interface PasswordFileOptions {
  /** The file name as configured, used in the log lines. */
  fileName?: string;
  /** Which hashes and salt lengths are accepted; default MOSQUITTO_2_1_RULES. */
  rules?: DecodeRules;
}

/** Outcome of a basic-auth check, as Mosquitto's plugin chain sees it. */
export const AuthResult = {
  /** Accepted. */
  allow: 'allow',
  /** Refused: CONNACK 5 (v3) / 0x87 (v5). */
  deny: 'deny',
  /** Not this check's business (no username): allowed iff allow_anonymous. */
  defer: 'defer',
} as const;
export type AuthResult = (typeof AuthResult)[keyof typeof AuthResult];

/** Binary (latin1) key of a username given as the client's UTF-8 string or as raw bytes. */
function usernameKey(username: string | Uint8Array): string {
  return typeof username === 'string' ? Buffer.from(username, 'utf8').toString('latin1') : Buffer.from(username).toString('latin1');
}

/** Printable form of a binary username for log lines (the bytes as UTF-8). */
function printable(binary: string): string {
  return Buffer.from(binary, 'latin1').toString('utf8');
}

export class PasswordFile {
  /** Log lines produced while parsing, in Mosquitto's order. */
  readonly messages: readonly PasswordFileMessage[];
  readonly #users: Map<string, PasswordHash>;

  private constructor(users: Map<string, PasswordHash>, messages: PasswordFileMessage[]) {
    this.#users = users;
    this.messages = messages;
  }

  /** Parse file contents (bytes, or a string taken as UTF-8). */
  static parse(content: Uint8Array | string, options: PasswordFileOptions = {}): PasswordFile {
    const fileName = options.fileName ?? '';
    const rules = options.rules ?? MOSQUITTO_2_1_RULES;
    const text = typeof content === 'string' ? Buffer.from(content, 'utf8').toString('latin1') : Buffer.from(content).toString('latin1');
    const messages: PasswordFileMessage[] = [];
    const entries: { username: string; field: string }[] = [];
    for (const line of splitKeepingNewlines(text)) {
      if (line.startsWith('#') || !line.includes(':')) continue;
      const tokens = strtokAll(line, ':');
      const first = tokens[0];
      if (first === undefined) continue;
      const username = trimBlanks(first.text);
      if (username.length > MAX_FIELD_LENGTH) {
        messages.push({ level: 'notice', text: `Warning: Invalid line in password file '${fileName}', username too long.` });
        continue;
      }
      const second = tokens[1];
      if (second === undefined) {
        // Mosquitto prints its line buffer, which strtok()/trimming cut after the username.
        const usernameEnd = first.start + trimmedEnd(first.text);
        messages.push({ level: 'notice', text: `Warning: Invalid line in password file '${fileName}': ${printable(line.slice(0, usernameEnd))}` });
        continue;
      }
      const field = trimBlanks(second.text);
      if (field.length > MAX_FIELD_LENGTH) {
        messages.push({ level: 'notice', text: `Warning: Invalid line in password file '${fileName}', password too long.` });
        continue;
      }
      entries.push({ username, field });
    }
    const users = new Map<string, PasswordHash>();
    for (const entry of entries) {
      const decoded = decodePasswordHash(entry.field, rules);
      if (decoded.ok) users.set(entry.username, decoded.hash);
      else messages.push({ level: 'error', text: passwordHashErrorText(decoded.error, printable(entry.username)) });
    }
    return new PasswordFile(users, messages);
  }

  /** Read and parse a file. Errors of the read are thrown (the broker logs `Error: Unable to open pwfile "<f>".`). */
  static async load(path: string, options: PasswordFileOptions = {}): Promise<PasswordFile> {
    const content = await readFile(path);
    return PasswordFile.parse(content, { fileName: path, ...options });
  }

  /** Number of usable entries. */
  get size(): number {
    return this.#users.size;
  }

  /** Usernames with a usable entry, decoded as UTF-8. */
  usernames(): string[] {
    return [...this.#users.keys()].map(printable);
  }

  has(username: string | Uint8Array): boolean {
    return this.#users.has(usernameKey(username));
  }

  /**
   * The basic-auth check of Mosquitto 2.0's password file: no username → defer; unknown
   * username → deny; no password → deny; else compare hashes (constant-time).
   *
   * Zero-length username or password count as absent: Debian's 2.0.11 broker never accepts a
   * user whose password is the empty string (an empty CONNECT password is read as none), and
   * refuses an empty username even when the file has an entry whose name trims to "".
   */
  async check(username: string | Uint8Array | null | undefined, password: PasswordInput | null | undefined): Promise<AuthResult> {
    if (username === null || username === undefined || username.length === 0) return AuthResult.defer;
    const stored = this.#users.get(usernameKey(username));
    if (stored === undefined) return AuthResult.deny;
    if (password === null || password === undefined || password.length === 0) return AuthResult.deny;
    return (await verifyPassword(stored, password)) ? AuthResult.allow : AuthResult.deny;
  }
}

/** Lines as fgets() returns them: each keeps its `\n`; a last line without one is kept too. */
function splitKeepingNewlines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl + 1;
    lines.push(text.slice(start, end));
    start = end;
  }
  return lines;
}

/**
 * Where Mosquitto's trimming of a username token writes its NUL: after the last non-blank
 * character, or nowhere (the token's own end) when the token is all blanks.
 */
function trimmedEnd(s: string): number {
  if (trimBlanks(s).length === 0) return s.length;
  let end = s.length;
  while (end > 0 && isCSpace(s.charCodeAt(end - 1))) end--;
  return end;
}
