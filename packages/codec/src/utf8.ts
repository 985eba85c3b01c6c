/**
 * MQTT's rules for UTF-8 strings [MQTT-1.5.4-1..3]: well-formed UTF-8 (no overlong forms, nothing
 * above U+10FFFF), no UTF-16 surrogate code points U+D800..U+DFFF, and no U+0000. A BOM is kept
 * as a character, never stripped.
 */

/**
 * Returns the index of the first byte that breaks MQTT's UTF-8 rules in bytes[start, end), or -1.
 * With `rejectControl`, control characters (U+0001..U+001F, U+007F..U+009F) are refused too, as
 * Mosquitto's mosquitto_validate_utf8 does (the spec only says SHOULD NOT [MQTT-1.5.4-2 note]).
 */
export function findInvalidMqttUtf8(bytes: Uint8Array, start: number, end: number, rejectControl = false): number {
  let i = start;
  while (i < end) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      if (b0 === 0) return i; // U+0000 [MQTT-1.5.4-2]
      if (rejectControl && (b0 < 0x20 || b0 === 0x7f)) return i;
      i++;
      continue;
    }
    let need: number;
    let cp: number;
    let min: number;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      need = 1;
      cp = b0 & 0x1f;
      min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      cp = b0 & 0x0f;
      min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      cp = b0 & 0x07;
      min = 0x10000;
    } else {
      return i; // continuation byte in lead position, 0xC0/0xC1 (always overlong), or > 0xF4
    }
    if (i + need >= end) return i; // sequence cut short by the end of the string
    for (let k = 1; k <= need; k++) {
      const b = bytes[i + k]!;
      if ((b & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff) return i; // overlong or out of range
    if (cp >= 0xd800 && cp <= 0xdfff) return i; // surrogate [MQTT-1.5.4-1]
    if (rejectControl && cp >= 0x80 && cp <= 0x9f) return i; // C1 control
    i += need + 1;
  }
  return -1;
}

/** True when the bytes are a string MQTT allows: valid UTF-8, no surrogates, no U+0000. */
export function isValidMqttUtf8(bytes: Uint8Array): boolean {
  return findInvalidMqttUtf8(bytes, 0, bytes.length) === -1;
}

/** True when a JS string holds no lone surrogate and no U+0000, so it encodes to valid MQTT UTF-8. */
export function isValidMqttString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}
