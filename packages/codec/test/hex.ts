/**
 * Helpers to write expected wire bytes by hand, one protocol field per line, so that fixtures
 * stay independent of the encoder they check.
 */

/** Joins hex fragments (whitespace allowed) into bytes; throws on anything but pairs of hex digits. */
export function hex(...fields: string[]): Buffer {
  const digits = fields.join('').replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new Error(`not an even run of hex digits: ${digits}`);
  return Buffer.from(digits, 'hex');
}

/** The hex of an ASCII text, for readable string fields: `'0004', ascii('MQTT')`. Only 7-bit
 * characters, so a fixture's multi-byte UTF-8 is always spelled out byte by byte. */
export function ascii(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) throw new Error(`ascii(): non-ASCII character in ${JSON.stringify(text)}`);
    out += c.toString(16).padStart(2, '0');
  }
  return out;
}

/** Bytes as spaced hex, for assertion messages. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}
