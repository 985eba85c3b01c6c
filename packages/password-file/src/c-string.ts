/**
 * The few C string routines whose exact behaviour Mosquitto's password handling depends on
 * (strtok, isspace, atoi), re-expressed over JavaScript strings. Password files are handled as
 * "binary" (latin1) strings so that every byte maps to one UTF-16 code unit and survives a
 * round trip unchanged.
 */

/** isspace() in the C locale: space, \t, \n, \v, \f, \r. */
export function isCSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/** iscntrl() in the C locale: 0x00-0x1f and 0x7f (bytes >= 0x80 are not control characters). */
export function isCControl(code: number): boolean {
  return code < 0x20 || code === 0x7f;
}

/** Mosquitto's misc__trimblanks(): strip isspace() characters from both ends. */
export function trimBlanks(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isCSpace(s.charCodeAt(start))) start++;
  while (end > start && isCSpace(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

/** One token as strtok() returns it, with its offset in the original string. */
export interface CToken {
  text: string;
  start: number;
}

/**
 * Every token strtok(s, delimiters) would return in successive calls: maximal runs of
 * characters that are not delimiters (so leading, trailing and repeated delimiters vanish).
 */
export function strtokAll(s: string, delimiters: string): CToken[] {
  const tokens: CToken[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && delimiters.includes(s.charAt(i))) i++;
    if (i >= s.length) break;
    const start = i;
    while (i < s.length && !delimiters.includes(s.charAt(i))) i++;
    tokens.push({ text: s.slice(start, i), start });
  }
  return tokens;
}

const INT32_MIN = -(2n ** 31n);
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * glibc atoi(): (int)strtol(s, NULL, 10). Leading isspace() characters, an optional sign, then
 * decimal digits up to the first non-digit; no digits gives 0. strtol clamps to the 64-bit
 * range and the cast to int keeps the low 32 bits.
 */
export function atoi(s: string): number {
  let i = 0;
  while (i < s.length && isCSpace(s.charCodeAt(i))) i++;
  let negative = false;
  if (s.charAt(i) === '+' || s.charAt(i) === '-') {
    negative = s.charAt(i) === '-';
    i++;
  }
  let value = 0n;
  let clamped = false;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    if (!clamped) {
      value = value * 10n + BigInt(c - 0x30);
      if (value > INT64_MAX + 1n) clamped = true;
    }
    i++;
  }
  let signed = negative ? -value : value;
  if (clamped || signed > INT64_MAX) signed = negative ? INT64_MIN : INT64_MAX;
  if (signed < INT64_MIN) signed = INT64_MIN;
  // Truncate to 32 bits, two's complement.
  const low = BigInt.asIntN(32, signed);
  return Number(low < INT32_MIN ? INT32_MIN : low);
}
