// Low-level text rules of mosquitto.conf, reproduced from Mosquitto's C behaviour:
// lines are bytes (kept as latin1 strings so every byte maps to one char), tokens are split
// on spaces only (strtok " "), integers are read like C atoi, strings must be valid UTF-8
// without control characters.

/**
 * Walks one config line the way Mosquitto's strtok_r calls do. `next()` is strtok(" "):
 * skip spaces, take up to the next space. `rest()` is strtok(""): everything after the
 * separator that ended the previous token, untrimmed, or undefined when nothing is left.
 */
export class LineCursor {
  private pos = 0;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  next(): string | undefined {
    const s = this.text;
    let i = this.pos;
    while (i < s.length && s.charCodeAt(i) === 0x20) i++;
    if (i >= s.length) {
      this.pos = s.length;
      return undefined;
    }
    let end = s.indexOf(' ', i);
    if (end < 0) end = s.length;
    // strtok overwrites the delimiter and resumes after it.
    this.pos = end < s.length ? end + 1 : end;
    return s.slice(i, end);
  }

  rest(): string | undefined {
    if (this.pos >= this.text.length) return undefined;
    const r = this.text.slice(this.pos);
    this.pos = this.text.length;
    return r;
  }

  /** The text after the current position with leading spaces/tabs skipped (may be ''). */
  restSkippingBlanks(): string {
    let i = this.pos;
    const s = this.text;
    while (i < s.length && (s.charCodeAt(i) === 0x20 || s.charCodeAt(i) === 0x09)) i++;
    this.pos = s.length;
    return s.slice(i);
  }
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

function strtolPrefix(s: string): bigint {
  let i = 0;
  // isspace: space, \t, \n, \v, \f, \r
  while (i < s.length && (s.charCodeAt(i) === 0x20 || (s.charCodeAt(i) >= 0x09 && s.charCodeAt(i) <= 0x0d))) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') {
    negative = s[i] === '-';
    i++;
  }
  let start = i;
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  if (i === start) return 0n;
  let v = BigInt(s.slice(start, i));
  if (negative) v = -v;
  // strtol saturates at LONG_MIN/LONG_MAX (64-bit on Linux).
  if (v > INT64_MAX) v = INT64_MAX;
  if (v < INT64_MIN) v = INT64_MIN;
  return v;
}

/** C `atoi` on glibc/x86-64: `(int)strtol(s, NULL, 10)` — saturate to 64 bits, keep the low 32. */
export function atoi(s: string): number {
  return Number(BigInt.asIntN(32, strtolPrefix(s)));
}

/** C `atol` on x86-64 (64-bit long), as a JS number. */
export function atol(s: string): number {
  return Number(strtolPrefix(s));
}

/** Mosquitto's misc__trimblanks: strip leading and trailing isspace characters. */
export function trimBlanks(s: string): string {
  let a = 0;
  let b = s.length;
  const sp = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
  while (a < b && sp(s.charCodeAt(a))) a++;
  while (b > a && sp(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/**
 * mosquitto_validate_utf8 over a latin1-coded byte string: well-formed, shortest form, no
 * surrogates, no U+FFFE/U+FFFF, nothing above U+10FFFF, no U+0000, and no control characters
 * (U+0001–U+001F, U+007F–U+009F). Checked against Debian's mosquitto: a tab inside a
 * string value is rejected with "Malformed UTF-8".
 */
export function isValidMqttUtf8(bytes: string): boolean {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b0 = bytes.charCodeAt(i);
    let cp: number;
    let len: number;
    if (b0 < 0x80) {
      cp = b0;
      len = 1;
    } else if ((b0 & 0xe0) === 0xc0) {
      cp = b0 & 0x1f;
      len = 2;
    } else if ((b0 & 0xf0) === 0xe0) {
      cp = b0 & 0x0f;
      len = 3;
    } else if ((b0 & 0xf8) === 0xf0) {
      cp = b0 & 0x07;
      len = 4;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (let k = 1; k < len; k++) {
      const b = bytes.charCodeAt(i + k);
      if ((b & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (len === 2 && cp < 0x80) return false;
    if (len === 3 && cp < 0x800) return false;
    if (len === 4 && (cp < 0x10000 || cp > 0x10ffff)) return false;
    if (cp >= 0xd800 && cp <= 0xdfff) return false;
    if (cp === 0xfffe || cp === 0xffff) return false;
    if (cp === 0 || (cp >= 0x01 && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f)) return false;
    i += len;
  }
  return true;
}

/** Latin1 byte string -> JS string (UTF-8 decoded). */
export function decodeBytes(bytes: string): string {
  // Fast path: pure ASCII needs no decoding.
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(bytes)) return bytes;
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** JS string -> latin1 byte string (UTF-8 encoded). */
export function encodeBytes(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text;
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** mosquitto_pub_topic_check: no wildcards anywhere, at most 65535 bytes. */
export function isValidPublishTopic(topic: string): boolean {
  if (topic.includes('+') || topic.includes('#')) return false;
  return Buffer.byteLength(topic, 'utf8') <= 65535;
}

/** mosquitto_sub_topic_check: `+` fills a whole level, `#` is a whole last level. */
export function isValidSubscribeTopic(topic: string): boolean {
  if (Buffer.byteLength(topic, 'utf8') > 65535) return false;
  const levels = topic.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level.includes('+') && level !== '+') return false;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false;
  }
  return true;
}
