/**
 * JSON as Mosquitto's dynamic-security plugin sees it through cJSON 1.7 (the version 2.0.20 is
 * built against), so commands and config files are read and written exactly as it does:
 *
 * - Text is handled as byte strings: JS strings with one char per byte (latin1). A JSON string is
 *   kept as the bytes it decodes to, cut at the first NUL (C reads it with strlen), so invalid
 *   UTF-8 survives until a command checks it ("... not valid UTF-8") and ordering is strcmp's.
 * - Members are looked up by name case-insensitively (ASCII only, C `tolower`), the first match
 *   winning: cJSON_GetObjectItem. `{"textName": ...}` is `textname`.
 * - The parser is cJSON's: leading UTF-8 BOM skipped, any byte <= 32 is white space, text after
 *   the first value is ignored, numbers read like strtod over [0-9+-eE.], `\u` escapes with bad
 *   hex digits read as 0, lone surrogates refused, nesting limited to 1000.
 * - Output is cJSON_PrintUnformatted (responses) or cJSON_Print (the saved file: tabs, `":\t"`,
 *   array items joined by ", ").
 */

/** A parsed value. Numbers keep the double; `intOf` gives cJSON's valueint. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

export class JsonObject {
  readonly members: ReadonlyArray<readonly [string, JsonValue]>;
  constructor(members: ReadonlyArray<readonly [string, JsonValue]>) {
    this.members = members;
  }
}

const NESTING_LIMIT = 1000;

class Parser {
  pos = 0;
  depth = 0;
  readonly s: string;
  constructor(s: string) {
    this.s = s;
  }

  skipWhitespace(): void {
    const s = this.s;
    while (this.pos < s.length && s.charCodeAt(this.pos) <= 32) this.pos++;
  }

  value(): JsonValue | undefined {
    const s = this.s;
    const p = this.pos;
    if (s.startsWith('null', p)) {
      this.pos += 4;
      return null;
    }
    if (s.startsWith('false', p)) {
      this.pos += 5;
      return false;
    }
    if (s.startsWith('true', p)) {
      this.pos += 4;
      return true;
    }
    if (p >= s.length) return undefined;
    const c = s.charCodeAt(p);
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x5b) return this.array();
    if (c === 0x7b) return this.object();
    return undefined;
  }

  number(): number | undefined {
    // cJSON copies at most 63 chars of [0-9+-eE.] and hands them to strtod.
    const s = this.s;
    let end = this.pos;
    while (end < s.length && end - this.pos < 63 && /[0-9+\-eE.]/.test(s[end]!)) end++;
    const m = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(s.slice(this.pos, end));
    if (m === null) return undefined;
    this.pos += m[0].length;
    return Number(m[0]);
  }

  string(): string | undefined {
    const s = this.s;
    // Find the closing quote, stepping over escaped characters.
    let end = this.pos + 1;
    while (end < s.length && s.charCodeAt(end) !== 0x22) {
      if (s.charCodeAt(end) === 0x5c) {
        if (end + 1 >= s.length) return undefined;
        end++;
      }
      end++;
    }
    if (end >= s.length) return undefined;
    let out = '';
    let i = this.pos + 1;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c !== 0x5c) {
        // Copy the run up to the next backslash in one go.
        let j = i + 1;
        while (j < end && s.charCodeAt(j) !== 0x5c) j++;
        out += s.slice(i, j);
        i = j;
        continue;
      }
      const e = s[i + 1];
      switch (e) {
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'u': {
          const r = utf16Escape(s, i, end);
          if (r === undefined) return undefined;
          out += r.bytes;
          i += r.length;
          continue;
        }
        default:
          return undefined;
      }
      i += 2;
    }
    this.pos = end + 1;
    const nul = out.indexOf('\0');
    return nul === -1 ? out : out.slice(0, nul);
  }

  array(): JsonValue[] | undefined {
    if (this.depth >= NESTING_LIMIT) return undefined;
    this.depth++;
    this.pos++;
    this.skipWhitespace();
    const items: JsonValue[] = [];
    if (this.s[this.pos] === ']') {
      this.pos++;
      this.depth--;
      return items;
    }
    if (this.pos >= this.s.length) return undefined;
    this.pos--;
    do {
      this.pos++;
      this.skipWhitespace();
      const v = this.value();
      if (v === undefined) return undefined;
      items.push(v);
      this.skipWhitespace();
    } while (this.s[this.pos] === ',');
    if (this.s[this.pos] !== ']') return undefined;
    this.pos++;
    this.depth--;
    return items;
  }

  object(): JsonObject | undefined {
    if (this.depth >= NESTING_LIMIT) return undefined;
    this.depth++;
    this.pos++;
    this.skipWhitespace();
    const members: Array<[string, JsonValue]> = [];
    if (this.s[this.pos] === '}') {
      this.pos++;
      this.depth--;
      return new JsonObject(members);
    }
    if (this.pos >= this.s.length) return undefined;
    this.pos--;
    do {
      this.pos++;
      this.skipWhitespace();
      if (this.s[this.pos] !== '"') return undefined;
      const key = this.string();
      if (key === undefined) return undefined;
      this.skipWhitespace();
      if (this.s[this.pos] !== ':') return undefined;
      this.pos++;
      this.skipWhitespace();
      const v = this.value();
      if (v === undefined) return undefined;
      members.push([key, v]);
      this.skipWhitespace();
    } while (this.s[this.pos] === ',');
    if (this.s[this.pos] !== '}') return undefined;
    this.pos++;
    this.depth--;
    return new JsonObject(members);
  }
}

/** cJSON's parse_hex4: four hex digits; any other character makes the whole value 0. */
function hex4(s: string, at: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = s.charCodeAt(at + k);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else return 0;
    v = (v << 4) | d;
  }
  return v;
}

/** A `\uXXXX` (or surrogate pair) at `at`, as UTF-8 bytes; undefined when cJSON refuses it. */
function utf16Escape(s: string, at: number, end: number): { bytes: string; length: number } | undefined {
  if (end - at < 6) return undefined;
  const first = hex4(s, at + 2);
  if (first >= 0xdc00 && first <= 0xdfff) return undefined;
  let cp = first;
  let length = 6;
  if (first >= 0xd800 && first <= 0xdbff) {
    const second = at + 6;
    if (end - second < 6 || s[second] !== '\\' || s[second + 1] !== 'u') return undefined;
    const low = hex4(s, second + 2);
    if (low < 0xdc00 || low > 0xdfff) return undefined;
    cp = 0x10000 + (((first & 0x3ff) << 10) | (low & 0x3ff));
    length = 12;
  }
  let bytes: string;
  if (cp < 0x80) bytes = String.fromCharCode(cp);
  else if (cp < 0x800) bytes = String.fromCharCode(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  else if (cp < 0x10000) bytes = String.fromCharCode(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  else bytes = String.fromCharCode(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  return { bytes, length };
}

/**
 * cJSON_ParseWithLength over a byte string: the first value, or undefined when there is none
 * (empty input included). What follows the value is not looked at, as cJSON does without
 * `require_null_terminated`.
 */
export function parseJson(bytes: string): JsonValue | undefined {
  if (bytes.length === 0) return undefined;
  const p = new Parser(bytes);
  if (bytes.length > 4 && bytes.startsWith('\xef\xbb\xbf')) p.pos = 3;
  p.skipWhitespace();
  return p.value();
}

const asciiLower = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

/** cJSON_GetObjectItem: the first member whose name matches case-insensitively (ASCII). */
export function getItem(obj: JsonValue | undefined, name: string): JsonValue | undefined {
  if (!(obj instanceof JsonObject)) return undefined;
  const want = asciiLower(name);
  for (const [k, v] of obj.members) {
    if (k.length === want.length && asciiLower(k) === want) return v;
  }
  return undefined;
}

/** What json_get_string / json_get_bool / json_get_int answer. */
export type Got<T> = { ok: true; value: T | undefined } | { ok: false; value: undefined };

/**
 * json_get_string: ok with the string; ok with undefined when absent and optional; not ok when
 * absent and required, or present and not a string.
 */
export function getString(obj: JsonValue | undefined, name: string, optional: boolean): Got<string> {
  const v = getItem(obj, name);
  if (v === undefined) return optional ? { ok: true, value: undefined } : { ok: false, value: undefined };
  return typeof v === 'string' ? { ok: true, value: v } : { ok: false, value: undefined };
}

/** json_get_bool: the value; `fallback` when absent or not a boolean and optional. */
export function getBool(obj: JsonValue | undefined, name: string, optional: boolean, fallback: boolean): { ok: boolean; value: boolean } {
  const v = getItem(obj, name);
  if (v === undefined) return { ok: optional, value: fallback };
  if (typeof v !== 'boolean') return { ok: false, value: fallback };
  return { ok: true, value: v };
}

/** json_get_int: cJSON's valueint of a number member; `fallback` otherwise. */
export function getInt(obj: JsonValue | undefined, name: string, optional: boolean, fallback: number): { ok: boolean; value: number } {
  const v = getItem(obj, name);
  if (v === undefined) return { ok: optional, value: fallback };
  if (typeof v !== 'number') return { ok: false, value: fallback };
  return { ok: true, value: intOf(v) };
}

/** cJSON's valueint: saturated to the int range, truncated toward zero. */
export function intOf(n: number): number {
  if (n >= 2147483647) return 2147483647;
  if (n <= -2147483648) return -2147483648;
  return Math.trunc(n);
}

/** An output value: plain objects (member order = insertion order), arrays, byte strings, ints, booleans. */
export type JsonOut = string | number | boolean | null | JsonOut[] | { [key: string]: JsonOut | undefined };

/** cJSON's print_string_ptr: `"`, `\`, and control bytes escaped; everything else as is. */
function quote(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 32 && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(from, i);
    from = i + 1;
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x0c:
        out += '\\f';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      default:
        out += '\\u' + c.toString(16).padStart(4, '0');
    }
  }
  return out + s.slice(from) + '"';
}

function print(v: JsonOut, formatted: boolean, depth: number): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return quote(v);
  if (Array.isArray(v)) return '[' + v.map((x) => print(x, formatted, depth + 1)).join(formatted ? ', ' : ',') + ']';
  const entries = Object.entries(v).filter((e): e is [string, JsonOut] => e[1] !== undefined);
  if (!formatted) return '{' + entries.map(([k, x]) => quote(k) + ':' + print(x, false, depth + 1)).join(',') + '}';
  const tabs = '\t'.repeat(depth + 1);
  let out = '{\n';
  entries.forEach(([k, x], i) => {
    out += tabs + quote(k) + ':\t' + print(x, true, depth + 1) + (i < entries.length - 1 ? ',' : '') + '\n';
  });
  return out + '\t'.repeat(depth) + '}';
}

/** cJSON_PrintUnformatted, as a byte string. */
export function printCompact(v: JsonOut): string {
  return print(v, false, 0);
}

/** cJSON_Print (the layout of the saved config file), as a byte string. */
export function printFormatted(v: JsonOut): string {
  return print(v, true, 0);
}

/**
 * mosquitto_validate_utf8 over a byte string: well-formed UTF-8 without surrogates, overlong
 * forms, non-characters (U+FDD0..U+FDEF, U+xFFFE/U+xFFFF) or control characters
 * (U+0000..U+001F, U+007F..U+009F), at most 65536 bytes.
 */
export function isValidUtf8(s: string): boolean {
  const len = s.length;
  if (len > 65536) return false;
  for (let i = 0; i < len; i++) {
    const b = s.charCodeAt(i);
    let need: number;
    let cp: number;
    if (b === 0) return false;
    if (b <= 0x7f) {
      need = 0;
      cp = b;
    } else if ((b & 0xe0) === 0xc0) {
      if (b === 0xc0 || b === 0xc1) return false;
      need = 1;
      cp = b & 0x1f;
    } else if ((b & 0xf0) === 0xe0) {
      need = 2;
      cp = b & 0x0f;
    } else if ((b & 0xf8) === 0xf0) {
      if (b > 0xf4) return false;
      need = 3;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + need >= len && need > 0) return false;
    for (let k = 0; k < need; k++) {
      const c = s.charCodeAt(++i);
      if ((c & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp >= 0xd800 && cp <= 0xdfff) return false;
    if (need === 2 && cp < 0x800) return false;
    if (need === 3 && (cp < 0x10000 || cp > 0x10ffff)) return false;
    if (cp >= 0xfdd0 && cp <= 0xfdef) return false;
    if ((cp & 0xffff) === 0xfffe || (cp & 0xffff) === 0xffff) return false;
    if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) return false;
  }
  return true;
}

/** A JS string (as the broker holds user names, client ids, topics) as its UTF-8 byte string. */
export function toBytes(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

/** A byte string as text for log lines (invalid UTF-8 shown as U+FFFD). */
export function fromBytes(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'latin1').toString('utf8');
  }
  return s;
}
