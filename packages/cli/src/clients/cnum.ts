/**
 * The C library number parsers Mosquitto's option parser uses (atoi, atol, atof, strtol with
 * base 0). Their quirks are behaviour: `-p abc` is port 0, `-k 10s` is 10, `-x 0x10` is 16.
 */

function toInt32(n: bigint): number {
  return Number(BigInt.asIntN(32, n));
}

const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

/** strtol(s, &end, base) on a 64-bit long: value (clamped) and how many characters were used. */
export function strtol(s: string, base: 0 | 10): { value: bigint; used: number } {
  let i = 0;
  while (i < s.length && ' \t\n\v\f\r'.includes(s[i] as string)) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  let radix = 10;
  if (base === 0) {
    if (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
      radix = 16;
      i += 2;
    } else if (s[i] === '0') {
      radix = 8;
    }
  }
  const start = i;
  let value = 0n;
  for (; i < s.length; i++) {
    const d = parseInt(s[i] as string, 36);
    if (Number.isNaN(d) || d >= radix) break;
    value = value * BigInt(radix) + BigInt(d);
  }
  if (i === start) return { value: 0n, used: 0 };
  if (neg) value = -value;
  if (value > LONG_MAX) value = LONG_MAX;
  if (value < LONG_MIN) value = LONG_MIN;
  return { value, used: i };
}

/** atoi(): strtol truncated to int. */
export function atoi(s: string): number {
  return toInt32(strtol(s, 10).value);
}

/** atol(): a 64-bit long, as a bigint so that range checks see the real value. */
export function atol(s: string): bigint {
  return strtol(s, 10).value;
}

/** atof(): the longest leading decimal floating point number, 0 when there is none. */
export function atof(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf(?:inity)?|[+-]?nan)/i.exec(s);
  if (!m) return 0;
  const t = (m[1] as string).toLowerCase();
  if (t.includes('inf')) return t.startsWith('-') ? -Infinity : Infinity;
  if (t.includes('nan')) return NaN;
  return Number(t);
}
