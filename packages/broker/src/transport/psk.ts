/**
 * TLS-PSK keys (`psk_file`: one `identity:hexkey` per line) and the identity each client used,
 * kept for use_identity_as_username.
 */
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';

const identities = new WeakMap<TLSSocket, string>();

export type PskFileResult =
  | { ok: true; keys: Map<string, Buffer> }
  | { ok: false; lines: string[]; exitCode: number };

/**
 * Reads a psk_file as Mosquitto 2.0 does: `identity:hexkey` lines; lines without a colon or
 * with an empty key are skipped; a key with a non-hex character fails the whole file (exit 3),
 * as does a file that cannot be opened (exit 13). Checked on Debian's 2.0.11.
 */
export function loadPskFile(path: string): PskFileResult {
  const keys = new Map<string, Buffer>();
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return { ok: false, lines: [`Error: Unable to open pwfile "${path}".`, `Error opening psk file "${path}".`], exitCode: 13 };
  }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.length === 0 || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const identity = line.slice(0, colon);
    const hex = line.slice(colon + 1).trim();
    if (hex.length === 0) continue;
    if (!/^[0-9a-fA-F]+$/.test(hex)) {
      return {
        ok: false,
        lines: [`Error: psk for identity "${identity}" contains non-hexadecimal characters.`, `Error opening psk file "${path}".`],
        exitCode: 3,
      };
    }
    // An odd number of digits gets a leading zero, as OpenSSL's hex-to-binary conversion does.
    keys.set(identity, Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, 'hex'));
  }
  return { ok: true, keys };
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
