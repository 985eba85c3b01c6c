/**
 * Base64 as Mosquitto uses it for salts and hashes: standard alphabet, `=` padding on output.
 * The decoder follows what OpenSSL's base64 BIO (used by the 2.0 broker) accepts, as observed
 * against Debian's Mosquitto 2.0.11: complete 4-character groups decode, a final incomplete
 * group without enough `=` padding is dropped (so an 88-character hash with its `==` removed
 * decodes to 63 bytes and is rejected by the length check), extra `=` after a complete group
 * are ignored, and any character outside the alphabet, or data after padding, fails.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Base64 without `=` padding, as the PHC string format (argon2) requires. */
export function encodeBase64NoPadding(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/=+$/, '');
}

/** Decode like the 2.0 broker does; undefined where it fails. */
export function decodeBase64Mosquitto(text: string): Buffer | undefined {
  const firstPad = text.indexOf('=');
  const body = firstPad === -1 ? text : text.slice(0, firstPad);
  const padding = firstPad === -1 ? 0 : text.length - firstPad;
  for (let i = firstPad === -1 ? text.length : firstPad; i < text.length; i++) {
    if (text.charAt(i) !== '=') return undefined;
  }
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c >= 128 || VALUE[c] === -1) return undefined;
  }
  const tail = body.length % 4;
  let usable = body.length - tail;
  // A trailing group of 2 or 3 characters counts when `=` completes it to 4.
  if (tail >= 2 && tail + padding >= 4) usable = body.length;
  if (usable === 0) return undefined;
  return Buffer.from(body.slice(0, usable), 'base64');
}
