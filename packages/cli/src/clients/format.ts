/**
 * mosquitto_sub's message printer: the `-F` format language (`%` fields with flags, width and
 * precision, `@` strftime codes, `\` escapes), `%j`/`%J` JSON, and the default and `-v`
 * layouts. Pure: the arrival time comes in with the message, output goes out as bytes.
 */
import { parseJson, printJson, type JsonValue } from './json.js';
import { strftime, strftimeOne, tzOffset } from './strftime.js';

export interface PrintableMessage {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  mid: number;
  /** MQTT.js property object, keys in arrival order. */
  properties?: Record<string, unknown> | undefined;
}

/** The arrival time, taken once per message. */
export interface ArrivalTime {
  /** Local wall clock (seconds resolution matters for strftime). */
  date: Date;
  /** Whole seconds since the epoch. */
  seconds: number;
  /** Nanoseconds within the second. */
  nanoseconds: number;
}

export function arrivalTime(now = process.hrtime.bigint(), wall = Date.now()): ArrivalTime {
  // Wall-clock seconds from Date, sub-second part from the high resolution clock's ns digits.
  const ms = wall % 1000;
  const ns = ms * 1_000_000 + Number(now % 1_000_000n);
  return { date: new Date(wall), seconds: Math.floor(wall / 1000), nanoseconds: ns };
}

export interface PrintResult {
  out: Buffer;
  /** stderr text (invalid JSON payload). */
  error?: string;
}

/** Up to the first NUL, as C string handling sees a buffer. */
function cString(b: Buffer): Buffer {
  const z = b.indexOf(0);
  return z < 0 ? b : b.subarray(0, z);
}

function str(s: string): JsonValue {
  return { t: 'str', v: cString(Buffer.from(s, 'utf8')) };
}
function num(n: number): JsonValue {
  return { t: 'num', v: n };
}

const JSON_PROPS: Record<string, string> = {
  payloadFormatIndicator: 'payload-format-indicator',
  messageExpiryInterval: 'message-expiry-interval',
  contentType: 'content-type',
  responseTopic: 'response-topic',
  correlationData: 'correlation-data',
  subscriptionIdentifier: 'subscription-identifier',
  topicAlias: 'topic-alias',
  userProperties: 'user-properties',
};

function jsonProperties(props: Record<string, unknown> | undefined): JsonValue | undefined {
  if (!props) return undefined;
  const items: Array<readonly [Buffer, JsonValue]> = [];
  for (const [key, value] of Object.entries(props)) {
    const name = JSON_PROPS[key];
    if (!name) continue;
    const k = Buffer.from(name);
    if (key === 'userProperties') {
      const users: Array<readonly [Buffer, JsonValue]> = [];
      for (const [uk, uv] of Object.entries(value as Record<string, string | string[]>)) {
        for (const one of Array.isArray(uv) ? uv : [uv]) users.push([cString(Buffer.from(uk)), str(one)]);
      }
      items.push([k, { t: 'obj', v: users }]);
    } else if (key === 'subscriptionIdentifier') {
      for (const one of Array.isArray(value) ? value : [value]) items.push([k, num(one as number)]);
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      items.push([k, num(Number(value))]);
    } else if (Buffer.isBuffer(value)) {
      items.push([k, { t: 'str', v: cString(value) }]);
    } else if (typeof value === 'string') {
      items.push([k, str(value)]);
    }
  }
  return items.length > 0 ? { t: 'obj', v: items } : undefined;
}

/** `tst`: local time with microseconds and UTC offset. */
function jsonTimestamp(t: ArrivalTime): string {
  const us = String(Math.floor(t.nanoseconds / 1000)).padStart(6, '0');
  return `${strftime('%Y-%m-%dT%H:%M:%S', t.date)}.${us}${tzOffset(t.date)}`;
}

/** The `%j` / `%J` object; undefined when `%J` finds the payload is not JSON. */
export function jsonMessage(msg: PrintableMessage, t: ArrivalTime, parsePayload: boolean, pretty: boolean): Buffer | undefined {
  const items: Array<readonly [Buffer, JsonValue]> = [
    [Buffer.from('tst'), str(jsonTimestamp(t))],
    [Buffer.from('topic'), str(msg.topic)],
    [Buffer.from('qos'), num(msg.qos)],
    [Buffer.from('retain'), num(msg.retain ? 1 : 0)],
    [Buffer.from('payloadlen'), num(msg.payload.length)],
  ];
  if (msg.qos > 0) items.push([Buffer.from('mid'), num(msg.mid)]);
  const props = jsonProperties(msg.properties);
  if (props) items.push([Buffer.from('properties'), props]);
  let payload: JsonValue;
  if (msg.payload.length === 0) payload = { t: 'null' };
  else if (parsePayload) {
    const parsed = parseJson(msg.payload);
    if (!parsed) return undefined;
    payload = parsed;
  } else payload = { t: 'str', v: cString(msg.payload) };
  items.push([Buffer.from('payload'), payload]);
  return printJson({ t: 'obj', v: items }, pretty);
}

interface Spec {
  align: '' | '-' | '0';
  width: number;
  precision: number;
}

function padTo(body: Buffer, spec: Spec, padChar = ' '): Buffer {
  if (body.length >= spec.width) return body;
  const pad = Buffer.from(padChar.repeat(spec.width - body.length), 'latin1');
  return spec.align === '-' ? Buffer.concat([body, pad]) : Buffer.concat([pad, body]);
}

/** printf("%d") with the parsed flag and width. */
function fmtInt(n: number, spec: Spec): Buffer {
  let s = String(n);
  if (spec.align === '0' && s.length < spec.width) {
    const neg = s.startsWith('-');
    const digits = neg ? s.slice(1) : s;
    s = (neg ? '-' : '') + digits.padStart(spec.width - (neg ? 1 : 0), '0');
    return Buffer.from(s, 'latin1');
  }
  return padTo(Buffer.from(s, 'latin1'), { ...spec, align: spec.align === '-' ? '-' : '' });
}

/** Padding printed in place of an absent integer property. */
function absentInt(spec: Spec): Buffer {
  return Buffer.from((spec.align === '0' ? '0' : ' ').repeat(spec.width), 'latin1');
}

/** printf("%*.*s"). */
function fmtStr(b: Buffer, spec: Spec): Buffer {
  const body = spec.precision >= 0 && b.length > spec.precision ? b.subarray(0, spec.precision) : b;
  return padTo(body, { ...spec, align: spec.align === '-' ? '-' : '' });
}

function prop<T>(msg: PrintableMessage, key: string): T | undefined {
  return msg.properties?.[key] as T | undefined;
}

/** `%x` / `%X`, including 2.0's truncation when a width is given (reference §4.6). */
function fmtHex(payload: Buffer, spec: Spec, upper: boolean): Buffer {
  let len = payload.length;
  let pad = 0;
  if (spec.width > 0) {
    len = Math.min(len, spec.width);
    len = Math.floor(len / 2);
    pad = spec.width - 2 * len;
  }
  let hex = payload.subarray(0, len).toString('hex');
  if (upper) hex = hex.toUpperCase();
  const padding = (spec.align === '0' ? '0' : ' ').repeat(Math.max(0, pad));
  return Buffer.from(spec.align === '-' ? hex + padding : padding + hex, 'latin1');
}

/** Applies a `-F` format to one message (the trailing newline is the caller's, per -N). */
export function formatMessage(format: string, msg: PrintableMessage, t: ArrivalTime, pretty: boolean): PrintResult {
  const out: Buffer[] = [];
  const text = (s: string): void => {
    out.push(Buffer.from(s, 'utf8'));
  };
  let error: string | undefined;
  const len = format.length;
  for (let i = 0; i < len; i++) {
    const c = format[i] as string;
    if (c === '%') {
      if (i === len - 1) break;
      const spec: Spec = { align: '', width: 0, precision: -1 };
      if (format[i + 1] === '-' || format[i + 1] === '0') {
        spec.align = format[i + 1] as '-' | '0';
        i++;
        // "%-0..." parses; the 0 is ignored.
        if (spec.align === '-' && format[i + 1] === '0') i++;
      }
      while (/[0-9]/.test(format[i + 1] ?? '')) {
        spec.width = spec.width * 10 + Number(format[i + 1]);
        i++;
      }
      if (format[i + 1] === '.') {
        i++;
        spec.precision = 0;
        while (/[0-9]/.test(format[i + 1] ?? '')) {
          spec.precision = spec.precision * 10 + Number(format[i + 1]);
          i++;
        }
      }
      i++;
      const code = format[i];
      switch (code) {
        case '%':
          text('%');
          break;
        case 'A': {
          const v = prop<number>(msg, 'topicAlias');
          out.push(v === undefined ? absentInt(spec) : fmtInt(v, spec));
          break;
        }
        case 'C': {
          const v = prop<string>(msg, 'contentType');
          out.push(v === undefined ? Buffer.from(' '.repeat(spec.width)) : fmtStr(cString(Buffer.from(v)), spec));
          break;
        }
        case 'D': {
          const v = prop<Buffer>(msg, 'correlationData');
          if (v !== undefined) out.push(Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
          break;
        }
        case 'E': {
          const v = prop<number>(msg, 'messageExpiryInterval');
          out.push(v === undefined ? absentInt(spec) : fmtInt(v, spec));
          break;
        }
        case 'F': {
          const v = prop<number>(msg, 'payloadFormatIndicator');
          out.push(v === undefined ? absentInt(spec) : fmtInt(Number(v), spec));
          break;
        }
        case 'I':
          text(strftime('%FT%T%z', t.date));
          break;
        case 'j':
        case 'J': {
          const json = jsonMessage(msg, t, code === 'J', pretty);
          if (json) out.push(json);
          else error = `Error: Message payload is not valid JSON on topic ${msg.topic}.\n`;
          break;
        }
        case 'l':
          out.push(fmtInt(msg.payload.length, spec));
          break;
        case 'm':
          out.push(fmtInt(msg.mid, spec));
          break;
        case 'P': {
          const users = prop<Record<string, string | string[]>>(msg, 'userProperties');
          if (users) {
            const pairs: string[] = [];
            for (const [k, v] of Object.entries(users)) for (const one of Array.isArray(v) ? v : [v]) pairs.push(`${k}:${one}`);
            text(pairs.join(' '));
          }
          break;
        }
        case 'p': {
          if (spec.width > 0) {
            const body = msg.payload.length > spec.width ? msg.payload.subarray(0, spec.width) : msg.payload;
            out.push(padTo(body, { ...spec, align: spec.align === '-' ? '-' : '' }));
          } else out.push(msg.payload);
          break;
        }
        case 'q':
          text(String(msg.qos));
          break;
        case 'R': {
          const v = prop<string>(msg, 'responseTopic');
          if (v !== undefined) out.push(fmtStr(cString(Buffer.from(v)), spec));
          break;
        }
        case 'r':
          text(msg.retain ? '1' : '0');
          break;
        case 'S': {
          const raw = prop<number | number[]>(msg, 'subscriptionIdentifier');
          const v = Array.isArray(raw) ? raw[0] : raw;
          out.push(v === undefined ? absentInt(spec) : fmtInt(v, spec));
          break;
        }
        case 't':
          out.push(fmtStr(cString(Buffer.from(msg.topic, 'utf8')), spec));
          break;
        case 'U':
          text(`${t.seconds}.${String(t.nanoseconds).padStart(9, '0')}`);
          break;
        case 'x':
        case 'X':
          out.push(fmtHex(msg.payload, spec, code === 'X'));
          break;
        default:
          break;
      }
    } else if (c === '@') {
      if (i === len - 1) break;
      const code = format[++i] as string;
      if (code === '@') text('@');
      else if (code === 'N') text(String(t.nanoseconds).padStart(9, '0'));
      else text(strftimeOne(code, t.date) ?? `%${code}`);
    } else if (c === '\\') {
      if (i === len - 1) break;
      const code = format[++i] as string;
      const ESC: Record<string, string> = { '\\': '\\', '0': '\0', a: '\x07', e: '\x1b', n: '\n', r: '\r', t: '\t', v: '\v' };
      text(ESC[code] ?? '');
    } else {
      // Copy a run of ordinary characters at once.
      let j = i;
      while (j < len && format[j] !== '%' && format[j] !== '@' && format[j] !== '\\') j++;
      text(format.slice(i, j));
      i = j - 1;
    }
  }
  return error === undefined ? { out: Buffer.concat(out) } : { out: Buffer.concat(out), error };
}

export interface PrintOptions {
  format: string | undefined;
  verbose: boolean;
  eol: boolean;
  pretty: boolean;
}

/** print_message(): -F, or `-v` (topic payload), or the bare payload; empty payloads print nothing. */
export function printMessage(msg: PrintableMessage, opts: PrintOptions, t: ArrivalTime): PrintResult {
  const nl = opts.eol ? Buffer.from('\n') : Buffer.alloc(0);
  if (opts.format !== undefined) {
    const r = formatMessage(opts.format, msg, t, opts.pretty);
    return { ...r, out: Buffer.concat([r.out, nl]) };
  }
  if (opts.verbose) {
    if (msg.payload.length > 0) {
      return { out: Buffer.concat([cString(Buffer.from(msg.topic, 'utf8')), Buffer.from(' '), msg.payload, nl]) };
    }
    return { out: opts.eol ? Buffer.from(`${msg.topic} (null)\n`, 'utf8') : Buffer.alloc(0) };
  }
  if (msg.payload.length > 0) return { out: Buffer.concat([msg.payload, nl]) };
  return { out: Buffer.alloc(0) };
}
