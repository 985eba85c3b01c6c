/**
 * Building and reading the cJSON trees mosquitto_ctrl sends and receives, on clients/json.ts's
 * cJSON-compatible values (strings are bytes; printJson is cJSON_Print / cJSON_PrintUnformatted).
 */
import type { JsonValue } from '../../clients/json.js';

export type JsonEntry = readonly [string, JsonValue];

export const jstr = (s: string | Buffer): JsonValue => ({ t: 'str', v: typeof s === 'string' ? Buffer.from(s, 'utf8') : s });
export const jnum = (n: number): JsonValue => ({ t: 'num', v: n });
export const jbool = (b: boolean): JsonValue => ({ t: 'bool', v: b });
export const jarr = (items: JsonValue[]): JsonValue => ({ t: 'arr', v: items });
export const jobj = (entries: readonly JsonEntry[]): JsonValue => ({ t: 'obj', v: entries.map(([k, v]) => [Buffer.from(k, 'utf8'), v] as const) });

/** ASCII tolower, as cJSON's case_insensitive_strcmp compares (C locale). */
function lowerAscii(b: Buffer): string {
  let s = '';
  for (const c of b) s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
  return s;
}

/** cJSON_GetObjectItem: the first member whose name matches case-insensitively; objects only. */
export function getItem(v: JsonValue | undefined, name: string): JsonValue | undefined {
  if (v === undefined || v.t !== 'obj') return undefined;
  const want = name.toLowerCase();
  for (const [k, item] of v.v) if (lowerAscii(k) === want) return item;
  return undefined;
}

/** A cJSON string's valuestring as printf("%s") prints it: up to its first NUL. */
export function cString(v: JsonValue & { t: 'str' }): Buffer {
  const nul = v.v.indexOf(0);
  return nul < 0 ? v.v : v.v.subarray(0, nul);
}

export const isStr = (v: JsonValue | undefined): v is JsonValue & { t: 'str' } => v?.t === 'str';
export const isNum = (v: JsonValue | undefined): v is JsonValue & { t: 'num' } => v?.t === 'num';
export const isBool = (v: JsonValue | undefined): v is JsonValue & { t: 'bool' } => v?.t === 'bool';
export const isArr = (v: JsonValue | undefined): v is JsonValue & { t: 'arr' } => v?.t === 'arr';
export const isObj = (v: JsonValue | undefined): v is JsonValue & { t: 'obj' } => v?.t === 'obj';
