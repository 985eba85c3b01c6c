/**
 * `acl_file`: Mosquitto 2.0's built-in ACL check (reference 7.3), with its parser's log lines
 * and its matching order. Checked against Debian's 2.0.11 (test/auth/acl.test.ts).
 *
 * Parsing (aclfile__parse): lines end at `\n`; trailing C whitespace is stripped; a line whose
 * first byte is `#` is a comment; the keyword is the first space-separated token (only spaces
 * separate, so a tab makes the line invalid, and an indented `#` is an invalid line).
 * `topic|pattern [access] <filter>`: when only one token follows, it is the filter and access
 * is readwrite (so `topic read` means the topic "read"); the filter is the rest of the line,
 * blank-trimmed. `user <name>`: the rest of the line, blank-trimmed. On an error the lines
 * before it stay loaded (what a reload leaves in force) and the broker refuses to start.
 *
 * Checking (mosquitto_acl_check_default): only READ and WRITE are checked; SUBSCRIBE and
 * UNSUBSCRIBE are always allowed in 2.0 (reference 11.18). First the client's block (its user's
 * entries, or the anonymous block for a client without a user name), deny entries first; then
 * the patterns, deny entries first; otherwise denied.
 */
import { isValidTopicFilter, topicMatches } from '@skeeter/codec';

/** Mosquitto's MOSQ_ACL_* bits; NONE is `deny`. */
const ACCESS_NONE = 0;
const ACCESS_READ = 1;
const ACCESS_WRITE = 2;

export interface AclEntry {
  readonly topic: string;
  /** Bit set of ACCESS_READ / ACCESS_WRITE; 0 = deny. */
  readonly access: number;
}

interface AclPattern extends AclEntry {
  readonly hasClientId: boolean;
  readonly hasUsername: boolean;
}

export interface AclMessage {
  level: 'warning' | 'notice' | 'error';
  text: string;
}

export interface AclClient {
  readonly clientId: string;
  readonly username: string | undefined;
}

/** Who is asking, as the hook sees it: read = delivery, write = publish. */
export type AclCheckAccess = 'read' | 'write' | 'subscribe' | 'unsubscribe';

/** Bytes of C's isspace(). */
function isCSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** misc__trimblanks: leading and trailing C whitespace. */
function trimBlanks(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isCSpace(s.charCodeAt(a))) a++;
  while (b > a && isCSpace(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/** strtok_r(s, " "): the next token and the rest after its terminating space, or undefined. */
function nextToken(s: string): { token: string; rest: string | undefined } | undefined {
  let a = 0;
  while (a < s.length && s.charCodeAt(a) === 0x20) a++;
  if (a === s.length) return undefined;
  const end = s.indexOf(' ', a);
  if (end === -1) return { token: s.slice(a), rest: undefined };
  return { token: s.slice(a, end), rest: s.slice(end + 1) };
}

/** Counts occurrences of `%c` / `%u` as Mosquitto's strstr loop does. */
function contains(s: string, what: string): boolean {
  return s.includes(what);
}

export class AclFile {
  /** Per user name; the anonymous block under `undefined`. Deny entries are at the front. */
  readonly #blocks = new Map<string | undefined, AclEntry[]>();
  readonly #patterns: AclPattern[] = [];
  readonly fileName: string;

  private constructor(fileName: string) {
    this.fileName = fileName;
  }

  /**
   * Parse file contents. `ok: false` carries the error lines; `acl` then holds the entries
   * before the failing line, as Mosquitto keeps them.
   */
  static parse(content: Uint8Array | string, fileName: string): { ok: boolean; acl: AclFile; messages: AclMessage[] } {
    const acl = new AclFile(fileName);
    const messages: AclMessage[] = [];
    const text = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
    const fail = (line: string): { ok: boolean; acl: AclFile; messages: AclMessage[] } => {
      messages.push({ level: 'error', text: line });
      return { ok: false, acl, messages };
    };
    let user: string | undefined;
    const lines = text.split('\n');
    // A file ending in "\n" has no further line.
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    for (const raw of lines) {
      let end = raw.length;
      while (end > 0 && isCSpace(raw.charCodeAt(end - 1))) end--;
      const buf = raw.slice(0, end);
      if (buf.startsWith('#')) continue;
      const first = nextToken(buf);
      if (first === undefined) continue;
      const keyword = first.token;
      if (keyword === 'topic' || keyword === 'pattern') {
        const second = first.rest === undefined ? undefined : nextToken(first.rest);
        if (second === undefined) return fail(`Error: Empty topic in acl_file "${fileName}".`);
        let accessText: string | undefined = second.token;
        let topic: string;
        if (second.rest !== undefined && second.rest.length > 0) {
          topic = trimBlanks(second.rest);
        } else {
          topic = accessText;
          accessText = undefined;
        }
        let access: number;
        switch (accessText) {
          case undefined:
          case 'readwrite':
            access = ACCESS_READ | ACCESS_WRITE;
            break;
          case 'read':
            access = ACCESS_READ;
            break;
          case 'write':
            access = ACCESS_WRITE;
            break;
          case 'deny':
            access = ACCESS_NONE;
            break;
          default:
            return fail(`Error: Invalid topic access type "${accessText}" in acl_file "${fileName}".`);
        }
        if (!isValidTopicFilter(topic)) return fail(`Error: Invalid ACL topic "${topic}" in acl_file "${fileName}".`);
        if (keyword === 'topic') {
          acl.#add(user, { topic, access });
        } else {
          const hasClientId = contains(topic, '%c');
          const hasUsername = contains(topic, '%u');
          if (!hasClientId && !hasUsername) {
            messages.push({ level: 'warning', text: `Warning: ACL pattern '${topic}' does not contain '%c' or '%u'.` });
          }
          const p: AclPattern = { topic, access, hasClientId, hasUsername };
          // Deny patterns go to the front, as add__acl_pattern does.
          if (access === ACCESS_NONE) acl.#patterns.unshift(p);
          else acl.#patterns.push(p);
        }
      } else if (keyword === 'user') {
        const name = first.rest === undefined ? '' : trimBlanks(first.rest);
        if (name.length === 0) return fail(`Error: Missing username in acl_file "${fileName}".`);
        user = name;
      } else {
        // strtok() has cut the line after its first word: that is what Mosquitto prints.
        const shown = buf.slice(0, buf.length - (first.rest === undefined ? 0 : first.rest.length + 1));
        return fail(`Error: Invalid line in acl_file "${fileName}": ${shown}.`);
      }
    }
    return { ok: true, acl, messages };
  }

  /** Entries of one block; repeated `user` blocks for the same name are merged (add__acl). */
  #add(user: string | undefined, entry: AclEntry): void {
    let block = this.#blocks.get(user);
    if (block === undefined) this.#blocks.set(user, (block = []));
    // Deny entries are put at the front of the list, so they are seen first.
    if (entry.access === ACCESS_NONE) block.unshift(entry);
    else block.push(entry);
  }

  get patternCount(): number {
    return this.#patterns.length;
  }

  /**
   * Mosquitto's answer for one check. `log` receives the notices Mosquitto logs (dangerous
   * user names or client ids when patterns exist).
   */
  check(client: AclClient, access: AclCheckAccess, topic: string, log?: (m: AclMessage) => void): boolean {
    // 2.0: "FIXME - implement ACL subscription strings": SUBSCRIBE/UNSUBSCRIBE always pass.
    if (access === 'subscribe' || access === 'unsubscribe') return true;
    const want = access === 'read' ? ACCESS_READ : ACCESS_WRITE;
    // An empty user name is no user name for Mosquitto (a zero-length CONNECT string reads as NULL).
    const username = client.username === '' ? undefined : client.username;
    const block = this.#blocks.get(username);
    const patterns = this.#patterns;
    if (block === undefined && patterns.length === 0) return false;
    const dollar = topic.charCodeAt(0) === 0x24;
    if (block !== undefined) {
      for (const e of block) {
        // A `$` topic only matches entries that themselves start with `$`.
        if (dollar && e.topic.charCodeAt(0) !== 0x24) continue;
        if (topicMatches(e.topic, topic)) {
          if (e.access === ACCESS_NONE) return false;
          if ((e.access & want) !== 0) return true;
        }
      }
    }
    if (patterns.length === 0) return false;
    // Without this, a client could use a wildcard in its name to match other clients' topics.
    if (username !== undefined && (username.includes('+') || username.includes('#'))) {
      log?.({ level: 'notice', text: `ACL denying access to client with dangerous username "${username}"` });
      return false;
    }
    const clientId = client.clientId;
    if (clientId.includes('+') || clientId.includes('#')) {
      log?.({ level: 'notice', text: `ACL denying access to client with dangerous client id "${clientId}"` });
      return false;
    }
    for (const p of patterns) {
      if (p.hasUsername && username === undefined) continue;
      const filter = substitute(p.topic, clientId, username);
      if (dollar && p.topic.charCodeAt(0) !== 0x24) continue;
      if (topicMatches(filter, topic)) {
        if (p.access === ACCESS_NONE) return false;
        if ((p.access & want) !== 0) return true;
      }
    }
    return false;
  }
}

/** Plain text replacement of `%c` and `%u`, left to right, not limited to whole levels. */
function substitute(pattern: string, clientId: string, username: string | undefined): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '%' && i < pattern.length - 1) {
      const n = pattern[i + 1];
      if (n === 'c') {
        out += clientId;
        i++;
        continue;
      }
      if (n === 'u' && username !== undefined) {
        out += username;
        i++;
        continue;
      }
    }
    out += c;
  }
  return out;
}
