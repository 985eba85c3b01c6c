/**
 * TLS-PSK keys (`psk_file`: one `identity:hexkey` per line) and the identity each client used,
 * kept for use_identity_as_username.
 */
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log.js';

const identities = new WeakMap<TLSSocket, string>();

/** Reads a psk_file; lines with a non-hex key are logged and left out, as Mosquitto does. */
export function readPskFile(path: string, log: Logger): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    log.error(`Error: Unable to open psk_file "${path}".`);
    return keys;
  }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.length === 0 || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const identity = line.slice(0, colon);
    const hex = line.slice(colon + 1).trim();
    if (!/^[0-9a-fA-F]+$/.test(hex)) {
      log.error(`Error: psk for identity "${identity}" contains non-hexadecimal characters.`);
      continue;
    }
    // An odd number of digits gets a leading zero, as OpenSSL's hex-to-binary conversion does.
    keys.set(identity, Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, 'hex'));
  }
  return keys;
}

/** Node's pskCallback: the key for an identity (null refuses the handshake). */
export function pskKeyFor(keys: ReadonlyMap<string, Buffer>, identity: string, socket?: TLSSocket): Buffer | null {
  const key = keys.get(identity);
  if (key !== undefined && socket !== undefined) identities.set(socket, identity);
  return key ?? null;
}

/** The PSK identity a connected client used, if any. */
export function pskIdentityOf(socket: TLSSocket): string | undefined {
  return identities.get(socket);
}
