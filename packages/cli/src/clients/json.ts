/**
 * JSON as mosquitto_sub prints it with `%j` / `%J`: Mosquitto builds the object with cJSON, so
 * the parser accepts what cJSON accepts and the printer writes what cJSON writes (compact, or
 * `--pretty` with tab indentation and `"key":\tvalue`), numbers as `%1.15g` (`%1.17g` when
 * that does not round-trip), strings with cJSON's escapes and other bytes left raw.
 */

export type JsonValue =
  | { readonly t: 'null' }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'num'; readonly v: number }
  | { readonly t: 'str'; readonly v: Buffer }
  | { readonly t: 'arr'; readonly v: JsonValue[] }
  | { readonly t: 'obj'; readonly v: Array<readonly [Buffer, JsonValue]> };

const NESTING_LIMIT = 1000;

class JsonParser {
  private pos = 0;
  private readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }

  private skip(): void {
    while (this.pos < this.buf.length && (this.buf[this.pos] as number) <= 32) this.pos++;
  }

  parseDocument(): JsonValue | undefined {
    this.skip();
    const v = this.value(0);
    if (!v) return undefined;
    this.skip();
    return this.pos === this.buf.length ? v : undefined;
  }

  /** The first value after leading whitespace; what follows it is not looked at. */
  parsePrefix(): JsonValue | undefined {
    this.skip();
    return this.value(0);
  }

  private startsWith(s: string): boolean {
    return this.buf.toString('latin1', this.pos, this.pos + s.length) === s;
  }

  private value(depth: number): JsonValue | undefined {
    if (depth > NESTING_LIMIT) return undefined;
    const c = this.buf[this.pos];
    if (c === undefined) return undefined;
    if (this.startsWith('null')) {
      this.pos += 4;
      return { t: 'null' };
    }
    if (this.startsWith('false')) {
      this.pos += 5;
      return { t: 'bool', v: false };
    }
    if (this.startsWith('true')) {
      this.pos += 4;
      return { t: 'bool', v: true };
    }
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x5b) return this.array(depth + 1);
    if (c === 0x7b) return this.object(depth + 1);
    return undefined;
  }

  private number(): JsonValue | undefined {
    // cJSON hands the run of number characters to strtod and uses what strtod consumed.
    let end = this.pos;
    while (end < this.buf.length && /[0-9+\-.eE]/.test(String.fromCharCode(this.buf[end] as number))) end++;
    const text = this.buf.toString('latin1', this.pos, end);
    const m = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text);
    if (!m) return undefined;
    this.pos += m[0].length;
    return { t: 'num', v: Number(m[0]) };
  }

  private string(): JsonValue | undefined {
    this.pos++;
    const out: number[] = [];
    for (;;) {
      const c = this.buf[this.pos];
      if (c === undefined) return undefined;
      if (c === 0x22) {
        this.pos++;
        return { t: 'str', v: Buffer.from(out) };
      }
      if (c !== 0x5c) {
        out.push(c);
        this.pos++;
        continue;
      }
      const e = this.buf[this.pos + 1];
      this.pos += 2;
      switch (e) {
        case 0x62:
          out.push(8);
          break;
        case 0x66:
          out.push(12);
          break;
        case 0x6e:
          out.push(10);
          break;
        case 0x72:
          out.push(13);
          break;
        case 0x74:
          out.push(9);
          break;
        case 0x22:
        case 0x5c:
        case 0x2f:
          out.push(e);
          break;
        case 0x75: {
          let cp = this.hex4();
          if (cp === undefined) return undefined;
          if (cp >= 0xdc00 && cp <= 0xdfff) return undefined;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (this.buf[this.pos] !== 0x5c || this.buf[this.pos + 1] !== 0x75) return undefined;
            this.pos += 2;
            const lo = this.hex4();
            if (lo === undefined || lo < 0xdc00 || lo > 0xdfff) return undefined;
            cp = 0x10000 + (((cp & 0x3ff) << 10) | (lo & 0x3ff));
          }
          out.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
          break;
        }
        default:
          return undefined;
      }
    }
  }

  private hex4(): number | undefined {
    const s = this.buf.toString('latin1', this.pos, this.pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(s)) return undefined;
    this.pos += 4;
    return parseInt(s, 16);
  }

  private array(depth: number): JsonValue | undefined {
    this.pos++;
    const items: JsonValue[] = [];
    this.skip();
    if (this.buf[this.pos] === 0x5d) {
      this.pos++;
      return { t: 'arr', v: items };
    }
    for (;;) {
      this.skip();
      const v = this.value(depth);
      if (!v) return undefined;
      items.push(v);
      this.skip();
      const c = this.buf[this.pos];
      this.pos++;
      if (c === 0x2c) continue;
      if (c === 0x5d) return { t: 'arr', v: items };
      return undefined;
    }
  }

  private object(depth: number): JsonValue | undefined {
    this.pos++;
    const items: Array<readonly [Buffer, JsonValue]> = [];
    this.skip();
    if (this.buf[this.pos] === 0x7d) {
      this.pos++;
      return { t: 'obj', v: items };
    }
    for (;;) {
      this.skip();
      if (this.buf[this.pos] !== 0x22) return undefined;
      const key = this.string();
      if (!key || key.t !== 'str') return undefined;
      this.skip();
      if (this.buf[this.pos] !== 0x3a) return undefined;
      this.pos++;
      this.skip();
      const v = this.value(depth);
      if (!v) return undefined;
      items.push([key.v, v]);
      this.skip();
      const c = this.buf[this.pos];
      this.pos++;
      if (c === 0x2c) continue;
      if (c === 0x7d) return { t: 'obj', v: items };
      return undefined;
    }
  }
}

/** Parses a whole payload as JSON (cJSON rules); undefined when it is not valid JSON. */
export function parseJson(buf: Buffer): JsonValue | undefined {
  return new JsonParser(buf).parseDocument();
}

/**
 * cJSON_ParseWithLength() (mosquitto_ctrl reads responses with it): a UTF-8 byte order mark
 * and whitespace are skipped, the first value is parsed, and anything after it is ignored.
 */
export function parseJsonPrefix(buf: Buffer): JsonValue | undefined {
  const bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
  return new JsonParser(bom ? buf.subarray(3) : buf).parsePrefix();
}

/** C's `%1.<prec>g`. */
export function formatG(d: number, prec: number): string {
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(d)));
  let s = d.toExponential(prec - 1);
  let [mant, e] = s.split('e') as [string, string];
  let x = Number(e);
  // toExponential may round up into the next decade; recompute from its result.
  void exp;
  if (x < -4 || x >= prec) {
    if (mant.includes('.')) mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    const sign = x < 0 ? '-' : '+';
    x = Math.abs(x);
    return `${mant}e${sign}${x < 10 ? '0' : ''}${x}`;
  }
  s = d.toFixed(Math.max(0, prec - 1 - x));
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

/** cJSON's number printer. */
export function formatNumber(d: number): string {
  if (!Number.isFinite(d)) return 'null';
  const s = formatG(d, 15);
  if (Number(s) === d) return s;
  return formatG(d, 17);
}

/** cJSON's string printer: `"`, `\`, \b \f \n \r \t escaped, other controls as \u00xx. */
export function escapeString(b: Buffer): Buffer {
  const out: number[] = [0x22];
  for (const c of b) {
    switch (c) {
      case 0x22:
        out.push(0x5c, 0x22);
        break;
      case 0x5c:
        out.push(0x5c, 0x5c);
        break;
      case 8:
        out.push(0x5c, 0x62);
        break;
      case 12:
        out.push(0x5c, 0x66);
        break;
      case 10:
        out.push(0x5c, 0x6e);
        break;
      case 13:
        out.push(0x5c, 0x72);
        break;
      case 9:
        out.push(0x5c, 0x74);
        break;
      default:
        if (c < 32) out.push(...Buffer.from(`\\u${c.toString(16).padStart(4, '0')}`, 'latin1'));
        else out.push(c);
    }
  }
  out.push(0x22);
  return Buffer.from(out);
}

/** cJSON_Print (pretty) / cJSON_PrintUnformatted (compact). */
export function printJson(value: JsonValue, pretty: boolean): Buffer {
  const parts: Buffer[] = [];
  const emit = (s: string): void => {
    parts.push(Buffer.from(s, 'utf8'));
  };
  const walk = (v: JsonValue, depth: number): void => {
    switch (v.t) {
      case 'null':
        emit('null');
        return;
      case 'bool':
        emit(v.v ? 'true' : 'false');
        return;
      case 'num':
        emit(formatNumber(v.v));
        return;
      case 'str':
        parts.push(escapeString(v.v));
        return;
      case 'arr': {
        emit('[');
        v.v.forEach((item, i) => {
          walk(item, depth + 1);
          if (i < v.v.length - 1) emit(pretty ? ', ' : ',');
        });
        emit(']');
        return;
      }
      case 'obj': {
        const inner = depth + 1;
        emit(pretty ? '{\n' : '{');
        v.v.forEach(([k, item], i) => {
          if (pretty) emit('\t'.repeat(inner));
          parts.push(escapeString(k));
          emit(pretty ? ':\t' : ':');
          walk(item, inner);
          if (i < v.v.length - 1) emit(',');
          if (pretty) emit('\n');
        });
        if (pretty) emit('\t'.repeat(inner - 1));
        emit('}');
        return;
      }
    }
  };
  walk(value, 0);
  return Buffer.concat(parts);
}
