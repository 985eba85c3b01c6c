/**
 * Mosquitto's UTF-8 check (mosquitto_validate_utf8), which is stricter than well-formedness:
 * it also rejects NUL, the C0 and C1 control characters (so `\n` and `\t`), DEL, surrogates,
 * overlong forms and the Unicode non-characters [MQTT-1.5.4-1] [MQTT-1.5.4-2]. The loader
 * applies it to strings inside property blocks, and db_dump uses it to decide whether a
 * payload is printable.
 */
export function isMosquittoUtf8(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  if (end - start > 65536) return false;
  let i = start;
  while (i < end) {
    const lead = bytes[i]!;
    let length: number;
    let codepoint: number;
    if (lead === 0) return false;
    if (lead <= 0x7f) {
      length = 1;
      codepoint = lead;
    } else if ((lead & 0xe0) === 0xc0) {
      if (lead === 0xc0 || lead === 0xc1) return false;
      length = 2;
      codepoint = lead & 0x1f;
    } else if ((lead & 0xf0) === 0xe0) {
      length = 3;
      codepoint = lead & 0x0f;
    } else if ((lead & 0xf8) === 0xf0) {
      if (lead > 0xf4) return false;
      length = 4;
      codepoint = lead & 0x07;
    } else {
      return false;
    }
    if (i + length > end) return false;
    for (let k = 1; k < length; k++) {
      const b = bytes[i + k]!;
      if ((b & 0xc0) !== 0x80) return false;
      codepoint = (codepoint << 6) | (b & 0x3f);
    }
    if (codepoint >= 0xd800 && codepoint <= 0xdfff) return false;
    if (length === 3 && codepoint < 0x0800) return false;
    if (length === 4 && (codepoint < 0x10000 || codepoint > 0x10ffff)) return false;
    // Two-byte forms below 0x80 can't occur: C0/C1 lead bytes are rejected above.
    if (codepoint >= 0xfdd0 && codepoint <= 0xfdef) return false;
    if ((codepoint & 0xfffe) === 0xfffe) return false;
    if (codepoint <= 0x1f || (codepoint >= 0x7f && codepoint <= 0x9f)) return false;
    i += length;
  }
  return true;
}
