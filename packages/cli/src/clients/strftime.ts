/**
 * strftime() in the C/POSIX locale, for the `@X` time codes and `%I` of `-F`. Local time is
 * the process's time zone (TZ), as with the C library.
 */

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const pad = (n: number, width: number, ch = '0'): string => String(n).padStart(width, ch);

/** +hhmm of local time at `d`. */
export function tzOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${sign}${pad(Math.floor(a / 60), 2)}${pad(a % 60, 2)}`;
}

function tzName(d: Date): string {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d);
    const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? '';
    return name === 'GMT' && d.getTimezoneOffset() === 0 && (process.env.TZ ?? '').toUpperCase().startsWith('UTC') ? 'UTC' : name;
  } catch {
    return '';
  }
}

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  return Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - start.getTime()) / 86400000) + 1;
}

/** ISO 8601 week number and year. */
function isoWeek(d: Date): { week: number; year: number } {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(t.getUTCFullYear(), 0, 1));
  return { week: Math.ceil(((t.getTime() - yearStart.getTime()) / 86400000 + 1) / 7), year: t.getUTCFullYear() };
}

/** One conversion; undefined when the character is not a conversion (printed as is). */
export function strftimeOne(c: string, d: Date): string | undefined {
  const h = d.getHours();
  switch (c) {
    case 'a':
      return (DAYS[d.getDay()] as string).slice(0, 3);
    case 'A':
      return DAYS[d.getDay()];
    case 'b':
    case 'h':
      return (MONTHS[d.getMonth()] as string).slice(0, 3);
    case 'B':
      return MONTHS[d.getMonth()];
    case 'c':
      return `${strftimeOne('a', d)} ${strftimeOne('b', d)} ${pad(d.getDate(), 2, ' ')} ${strftimeOne('T', d)} ${d.getFullYear()}`;
    case 'C':
      return pad(Math.floor(d.getFullYear() / 100), 2);
    case 'd':
      return pad(d.getDate(), 2);
    case 'D':
      return `${pad(d.getMonth() + 1, 2)}/${pad(d.getDate(), 2)}/${pad(d.getFullYear() % 100, 2)}`;
    case 'e':
      return pad(d.getDate(), 2, ' ');
    case 'F':
      return `${d.getFullYear()}-${pad(d.getMonth() + 1, 2)}-${pad(d.getDate(), 2)}`;
    case 'g':
      return pad(isoWeek(d).year % 100, 2);
    case 'G':
      return String(isoWeek(d).year);
    case 'H':
      return pad(h, 2);
    case 'I':
      return pad(h % 12 === 0 ? 12 : h % 12, 2);
    case 'j':
      return pad(dayOfYear(d), 3);
    case 'k':
      return pad(h, 2, ' ');
    case 'l':
      return pad(h % 12 === 0 ? 12 : h % 12, 2, ' ');
    case 'm':
      return pad(d.getMonth() + 1, 2);
    case 'M':
      return pad(d.getMinutes(), 2);
    case 'n':
      return '\n';
    case 'p':
      return h < 12 ? 'AM' : 'PM';
    case 'P':
      return h < 12 ? 'am' : 'pm';
    case 'r':
      return `${strftimeOne('I', d)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)} ${strftimeOne('p', d)}`;
    case 'R':
      return `${pad(h, 2)}:${pad(d.getMinutes(), 2)}`;
    case 's':
      return String(Math.floor(d.getTime() / 1000));
    case 'S':
      return pad(d.getSeconds(), 2);
    case 't':
      return '\t';
    case 'T':
      return `${pad(h, 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}`;
    case 'u':
      return String(d.getDay() || 7);
    case 'U': {
      const yday = dayOfYear(d) - 1;
      return pad(Math.floor((yday + 7 - d.getDay()) / 7), 2);
    }
    case 'V':
      return pad(isoWeek(d).week, 2);
    case 'w':
      return String(d.getDay());
    case 'W': {
      const yday = dayOfYear(d) - 1;
      return pad(Math.floor((yday + 7 - ((d.getDay() + 6) % 7)) / 7), 2);
    }
    case 'x':
      return strftimeOne('D', d);
    case 'X':
      return strftimeOne('T', d);
    case 'y':
      return pad(d.getFullYear() % 100, 2);
    case 'Y':
      return String(d.getFullYear());
    case 'z':
      return tzOffset(d);
    case 'Z':
      return tzName(d);
    case '%':
      return '%';
    default:
      return undefined;
  }
}

/** strftime() over a whole format string. */
export function strftime(format: string, d: Date): string {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i] as string;
    if (c !== '%' || i === format.length - 1) {
      out += c;
      continue;
    }
    const conv = format[++i] as string;
    out += strftimeOne(conv, d) ?? `%${conv}`;
  }
  return out;
}
