/**
 * The `mosquitto_passwd` side of a password file: the file as a list of lines that can be
 * edited and written back with every untouched line byte for byte as it was.
 *
 * A line is split like Mosquitto's tool does it (strtok on `:`, both fields blank-trimmed).
 * Unlike Mosquitto, comment lines (first byte `#`, which the broker skips) and blank lines are
 * kept as they are instead of being "corrupt": Mosquitto 2.0.11 stops at such a line and, when
 * adding a user, rewrites the file with only the lines before it plus the new user.
 */
import { isCControl, strtokAll, trimBlanks } from './c-string.js';

export const LineKind = {
  /** `username:password…` */
  user: 'user',
  /** Starts with `#`. */
  comment: 'comment',
  /** Only blanks (including a lone `\r`). */
  blank: 'blank',
  /** Anything else: no `:`, or an empty username or password. */
  corrupt: 'corrupt',
} as const;
export type LineKind = (typeof LineKind)[keyof typeof LineKind];

export interface PasswordFileLine {
  /** 1-based line number. */
  number: number;
  /** The line's bytes as a binary (latin1) string, without its `\n`. */
  text: string;
  /** `\n`, or '' for a last line without one. */
  eol: '\n' | '';
  kind: LineKind;
  /** Trimmed username (binary string) of a user line. */
  username?: string;
  /** Trimmed password field (binary string) of a user line. */
  password?: string;
}

/** Split file contents into lines. */
export function splitPasswordFileLines(content: Uint8Array): PasswordFileLine[] {
  const text = Buffer.from(content).toString('latin1');
  const lines: PasswordFileLine[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl;
    lines.push(classifyLine(lines.length + 1, text.slice(start, end), nl === -1 ? '' : '\n'));
    start = end + 1;
  }
  return lines;
}

function classifyLine(number: number, text: string, eol: '\n' | ''): PasswordFileLine {
  if (text.startsWith('#')) return { number, text, eol, kind: 'comment' };
  if (trimBlanks(text).length === 0) return { number, text, eol, kind: 'blank' };
  const tokens = strtokAll(text, ':');
  const username = tokens[0] === undefined ? '' : trimBlanks(tokens[0].text);
  const password = tokens[1] === undefined ? '' : trimBlanks(tokens[1].text);
  if (username.length === 0 || password.length === 0) return { number, text, eol, kind: 'corrupt' };
  return { number, text, eol, kind: 'user', username, password };
}

/** The bytes of a list of lines; a line without `\n` gets one if anything follows it. */
export function joinPasswordFileLines(lines: readonly PasswordFileLine[]): Buffer {
  let text = '';
  lines.forEach((line, i) => {
    text += line.text + (line.eol === '' && i < lines.length - 1 ? '\n' : line.eol);
  });
  return Buffer.from(text, 'latin1');
}

/** A new `username:hash` line (username given as the UTF-8 string from the command line). */
export function makeUserLine(username: string, encodedHash: string): PasswordFileLine {
  const binaryUsername = Buffer.from(username, 'utf8').toString('latin1');
  return { number: 0, text: `${binaryUsername}:${encodedHash}`, eol: '\n', kind: 'user', username: binaryUsername, password: encodedHash };
}

/** Whether a user line belongs to `username` (the UTF-8 string from the command line). */
export function lineIsUser(line: PasswordFileLine, username: string): boolean {
  return line.kind === 'user' && line.username === Buffer.from(username, 'utf8').toString('latin1');
}

/** A user line's password field as bytes. */
export function linePasswordBytes(line: PasswordFileLine): Buffer {
  return Buffer.from(line.password ?? '', 'latin1');
}

/** A user line's username as bytes. */
export function lineUsernameBytes(line: PasswordFileLine): Buffer {
  return Buffer.from(line.username ?? '', 'latin1');
}

/** Why `mosquitto_passwd` refuses a username, with its exact error line; undefined if fine. */
export function usernameError(username: string): string | undefined {
  const bytes = Buffer.from(username, 'utf8');
  if (bytes.length > 65535) return 'Error: Username must be less than 65536 characters long.';
  for (const byte of bytes) {
    if (isCControl(byte)) return 'Error: Username must not contain control characters.';
  }
  if (username.includes(':')) return "Error: Username must not contain the ':' character.";
  return undefined;
}

/** A user line with a new password field, written as `username:hash\n` like Mosquitto does. */
export function withPasswordField(line: PasswordFileLine, encodedHash: string): PasswordFileLine {
  const username = line.username ?? '';
  return { ...line, text: `${username}:${encodedHash}`, eol: '\n', kind: 'user', username, password: encodedHash };
}
