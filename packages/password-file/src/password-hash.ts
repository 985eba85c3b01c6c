/**
 * The three password hash formats of Mosquitto password files:
 *
 * - `$6$<salt>$<hash>` (sha512, Mosquitto <= 1.6): SHA-512 over the password bytes followed by
 *   the salt bytes, a single pass.
 * - `$7$<iterations>$<salt>$<hash>` (sha512-pbkdf2, the 2.0 default): PBKDF2-HMAC-SHA512,
 *   64-byte output.
 * - `$argon2id$v=19$m=..,t=..,p=..$<salt>$<hash>` (argon2id, the 2.1 default): the PHC string
 *   of libargon2, verified on the whole encoded string so any parameters are accepted.
 *
 * Salts are 12 bytes in 2.0 and 64 bytes in 2.1; the 2.1 reader accepts both, 2.0 only 12.
 * Every comparison of computed and stored hashes is constant-time.
 */
import { createHash, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { hash as argon2Hash, parseOptions as argon2ParseOptions, verify as argon2Verify } from '@node-rs/argon2';
import { decodeBase64Mosquitto, encodeBase64 } from './base64.js';
import { atoi, strtokAll } from './c-string.js';

const pbkdf2Async = promisify(pbkdf2);

/** Hash kinds by their `mosquitto_passwd -H` names. */
export const HashKind = {
  sha512: 'sha512',
  sha512Pbkdf2: 'sha512-pbkdf2',
  argon2id: 'argon2id',
} as const;
export type HashKind = (typeof HashKind)[keyof typeof HashKind];

export const ALL_HASH_KINDS: readonly HashKind[] = [HashKind.sha512, HashKind.sha512Pbkdf2, HashKind.argon2id];

/** Output length of the sha512 and sha512-pbkdf2 hashes, and of the argon2id hashes Mosquitto writes. */
export const HASH_LENGTH = 64;
/** Salt length Mosquitto 2.0 writes and the only one its broker reads. */
export const SALT_LENGTH_2_0 = 12;
/** Salt length Mosquitto 2.1 writes (for every kind). */
export const SALT_LENGTH_2_1 = 64;
/** PBKDF2 iterations written by Mosquitto 2.0 (`mosquitto_passwd` without `-I`). */
export const PBKDF2_ITERATIONS_2_0 = 101;
/** PBKDF2 iterations written by Mosquitto 2.1 (`mosquitto_passwd` without `-I`). */
export const PBKDF2_ITERATIONS_2_1 = 210000;
/** argon2id parameters Mosquitto 2.1 writes: 46 MiB, one pass, one lane, 64-byte hash. */
export const ARGON2ID_PARAMETERS = { memoryCost: 47104, timeCost: 1, parallelism: 1, outputLen: HASH_LENGTH } as const;

export type PasswordHash =
  | { kind: 'sha512'; salt: Buffer; hash: Buffer }
  | { kind: 'sha512-pbkdf2'; iterations: number; salt: Buffer; hash: Buffer }
  | { kind: 'argon2id'; encoded: string };

/** Password bytes: MQTT passwords are binary data, strings are taken as UTF-8. */
export type PasswordInput = string | Uint8Array;

function passwordBytes(password: PasswordInput): Buffer {
  return typeof password === 'string' ? Buffer.from(password, 'utf8') : Buffer.from(password.buffer, password.byteOffset, password.byteLength);
}

export interface HashOptions {
  kind: HashKind;
  /** sha512-pbkdf2 only; default PBKDF2_ITERATIONS_2_1. */
  iterations?: number;
  /**
   * Salt to use instead of random bytes (tests, reproducible examples). Default: 12 random
   * bytes for sha512 and sha512-pbkdf2 (so 2.0 brokers accept the result), 64 for argon2id.
   */
  salt?: Uint8Array;
}

/** Hash a password with a fresh salt. PBKDF2 and argon2 run off the event loop. */
export async function hashPassword(password: PasswordInput, options: HashOptions): Promise<PasswordHash> {
  const bytes = passwordBytes(password);
  switch (options.kind) {
    case 'sha512': {
      const salt = options.salt ? Buffer.from(options.salt) : randomBytes(SALT_LENGTH_2_0);
      return { kind: 'sha512', salt, hash: sha512Digest(bytes, salt) };
    }
    case 'sha512-pbkdf2': {
      const salt = options.salt ? Buffer.from(options.salt) : randomBytes(SALT_LENGTH_2_0);
      const iterations = options.iterations ?? PBKDF2_ITERATIONS_2_1;
      if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError('PBKDF2 iterations must be > 0');
      const hash = await pbkdf2Async(bytes, salt, iterations, HASH_LENGTH, 'sha512');
      return { kind: 'sha512-pbkdf2', iterations, salt, hash };
    }
    case 'argon2id': {
      const salt = options.salt ? Buffer.from(options.salt) : randomBytes(SALT_LENGTH_2_1);
      // Algorithm and version default to argon2id and 0x13 (v=19), as libargon2 writes them.
      const encoded = await argon2Hash(bytes, { ...ARGON2ID_PARAMETERS, salt });
      return { kind: 'argon2id', encoded };
    }
  }
}

function sha512Digest(password: Buffer, salt: Buffer): Buffer {
  return createHash('sha512').update(password).update(salt).digest();
}

/** Check a password against a stored hash (constant-time comparison). */
export async function verifyPassword(stored: PasswordHash, password: PasswordInput): Promise<boolean> {
  const bytes = passwordBytes(password);
  switch (stored.kind) {
    case 'sha512':
      return constantTimeEqual(sha512Digest(bytes, stored.salt), stored.hash);
    case 'sha512-pbkdf2': {
      const computed = await pbkdf2Async(bytes, stored.salt, stored.iterations, stored.hash.length, 'sha512');
      return constantTimeEqual(computed, stored.hash);
    }
    case 'argon2id':
      // The library recomputes with the parameters of the string and compares in constant time.
      try {
        return await argon2Verify(stored.encoded, bytes);
      } catch {
        return false;
      }
  }
}

function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The text after `username:` in a password file line. */
export function encodePasswordHash(stored: PasswordHash): string {
  switch (stored.kind) {
    case 'sha512':
      return `$6$${encodeBase64(stored.salt)}$${encodeBase64(stored.hash)}`;
    case 'sha512-pbkdf2':
      return `$7$${stored.iterations}$${encodeBase64(stored.salt)}$${encodeBase64(stored.hash)}`;
    case 'argon2id':
      return stored.encoded;
  }
}

/** Why a stored hash was refused; each maps to one broker log line (see passwordHashErrorText). */
export const PasswordHashError = {
  /** No `$` field at all, or a field missing (`$7$101$salt`). */
  invalidHash: 'invalid-hash',
  /** First field not a known (or accepted) type, e.g. a plain text password. */
  invalidType: 'invalid-type',
  /** `$7$` iterations < 1 after atoi(). */
  invalidIterations: 'invalid-iterations',
  /** Salt not base64 or not an accepted length. */
  badSalt: 'bad-salt',
  /** Hash not base64 or not 64 bytes; also a malformed argon2id string. */
  badHash: 'bad-hash',
} as const;
export type PasswordHashError = (typeof PasswordHashError)[keyof typeof PasswordHashError];

/** The broker's error line for a refused entry, exactly as Mosquitto 2.0 logs it. */
export function passwordHashErrorText(error: PasswordHashError, username: string): string {
  switch (error) {
    case 'invalid-hash':
      return `Error: Invalid password hash for user ${username}, removing entry.`;
    case 'invalid-type':
      return `Error: Invalid password hash type for user ${username}, removing entry.`;
    case 'invalid-iterations':
      return `Error: Invalid hash iterations for user ${username}, removing entry.`;
    case 'bad-salt':
      return `Error: Unable to decode password salt for user ${username}, removing entry.`;
    case 'bad-hash':
      return `Error: Unable to decode password for user ${username}, removing entry.`;
  }
}

export interface DecodeRules {
  /** Hash kinds the reader accepts. Mosquitto 2.0: sha512 and sha512-pbkdf2 only. */
  acceptHashes: readonly HashKind[];
  /** Salt lengths accepted for `$6$`/`$7$`. Mosquitto 2.0: [12]; 2.1: [12, 64]. */
  saltLengths: readonly number[];
}

/** What Mosquitto 2.0 (the Debian 2.0.11 oracle) accepts. */
export const MOSQUITTO_2_0_RULES: DecodeRules = { acceptHashes: [HashKind.sha512, HashKind.sha512Pbkdf2], saltLengths: [SALT_LENGTH_2_0] };
/** What Mosquitto 2.1 accepts; skeeter's default. */
export const MOSQUITTO_2_1_RULES: DecodeRules = { acceptHashes: ALL_HASH_KINDS, saltLengths: [SALT_LENGTH_2_0, SALT_LENGTH_2_1] };

export type DecodeResult = { ok: true; hash: PasswordHash } | { ok: false; error: PasswordHashError };

const ARGON2ID_PREFIX = '$argon2id$';

/**
 * Decode the (already blank-trimmed) hash field of a password file entry. The `$`-separated
 * fields are taken as strtok() returns them, as the 2.0 broker does: empty fields vanish, so
 * `7$101$…` and `$$7$$101$$…` decode too and anything after the hash field is ignored.
 */
export function decodePasswordHash(field: string, rules: DecodeRules = MOSQUITTO_2_1_RULES): DecodeResult {
  if (field.startsWith(ARGON2ID_PREFIX) && rules.acceptHashes.includes(HashKind.argon2id)) {
    try {
      const parsed = argon2ParseOptions(field);
      if (parsed.algorithm !== 2) return { ok: false, error: 'bad-hash' };
    } catch {
      return { ok: false, error: 'bad-hash' };
    }
    return { ok: true, hash: { kind: 'argon2id', encoded: field } };
  }
  const tokens = strtokAll(field, '$');
  const type = tokens[0]?.text;
  if (type === undefined) return { ok: false, error: 'invalid-hash' };
  let kind: 'sha512' | 'sha512-pbkdf2';
  if (type === '6' && rules.acceptHashes.includes(HashKind.sha512)) kind = 'sha512';
  else if (type === '7' && rules.acceptHashes.includes(HashKind.sha512Pbkdf2)) kind = 'sha512-pbkdf2';
  else return { ok: false, error: 'invalid-type' };
  let next = 1;
  let iterations = 0;
  if (kind === 'sha512-pbkdf2') {
    const iterationsToken = tokens[next++];
    if (iterationsToken === undefined) return { ok: false, error: 'invalid-hash' };
    iterations = atoi(iterationsToken.text);
    if (iterations < 1) return { ok: false, error: 'invalid-iterations' };
  }
  const saltToken = tokens[next++];
  if (saltToken === undefined) return { ok: false, error: 'invalid-hash' };
  const salt = decodeBase64Mosquitto(saltToken.text);
  if (salt === undefined || !rules.saltLengths.includes(salt.length)) return { ok: false, error: 'bad-salt' };
  const hashToken = tokens[next++];
  if (hashToken === undefined) return { ok: false, error: 'invalid-hash' };
  const hash = decodeBase64Mosquitto(hashToken.text);
  if (hash === undefined || hash.length !== HASH_LENGTH) return { ok: false, error: 'bad-hash' };
  return kind === 'sha512' ? { ok: true, hash: { kind, salt, hash } } : { ok: true, hash: { kind, iterations, salt, hash } };
}

/**
 * Whether `mosquitto_passwd -U` should leave a password field alone because it already holds
 * a hash that a 2.1 reader decodes (Mosquitto 2.0.11 hashes it again, which makes the hash
 * string itself the password).
 */
export function looksHashed(field: string): boolean {
  return decodePasswordHash(field, MOSQUITTO_2_1_RULES).ok;
}
