/**
 * Errors of the persistence format. `code` is stable; `message` is the line Mosquitto's broker
 * logs for the same condition, so the broker can log it unchanged.
 */
export const PersistenceErrorCode = {
  /** The file exists but has no bytes; Mosquitto warns and starts fresh. */
  EMPTY_FILE: 'EMPTY_FILE',
  /** The file ends inside the 23-byte header. */
  TRUNCATED_HEADER: 'TRUNCATED_HEADER',
  /** The first 15 bytes are not the magic. */
  BAD_MAGIC: 'BAD_MAGIC',
  /** A version the loader does not accept (outside 2..6). */
  UNSUPPORTED_VERSION: 'UNSUPPORTED_VERSION',
  /** A chunk body is truncated or malformed. */
  CORRUPT: 'CORRUPT',
  /** The CFG chunk declares a db id size other than 8. */
  INCOMPATIBLE_DBID: 'INCOMPATIBLE_DBID',
} as const;
export type PersistenceErrorCode = (typeof PersistenceErrorCode)[keyof typeof PersistenceErrorCode];

/** Why a chunk was judged corrupt; db_dump's output depends on it. */
export type CorruptReason =
  /** The file ended inside the chunk body. */
  | 'truncated'
  /** A CLIENT chunk (v5/v6) with a zero-length client id. */
  | 'no-client-id'
  /** MSG_STORE payload length above 268435455. */
  | 'payload-too-large'
  /** The property block does not parse or fails PUBLISH property rules. */
  | 'properties';

export interface PersistenceErrorDetails {
  /** For TRUNCATED_HEADER: whether the magic was read (and matched) before the file ended. */
  readonly magicRead?: boolean;
  /** For TRUNCATED_HEADER: the CRC field when it was read before the file ended. */
  readonly crc?: number;
  /** For CORRUPT: chunk type, offset of its header, and why. */
  readonly chunkType?: number;
  readonly offset?: number;
  readonly reason?: CorruptReason;
  /** For UNSUPPORTED_VERSION. */
  readonly version?: number;
  /** For INCOMPATIBLE_DBID. */
  readonly dbidSize?: number;
}

/**
 * What Mosquitto 2.0.11 logs after any restore failure, before exiting with status 1
 * (observed with the Debian broker). The failure's own line (this error's `message`) comes
 * first, except for truncated or corrupt chunks, where Mosquitto logs at most a strerror()
 * line with a stale errno (e.g. "Error: Not a directory.") or nothing.
 */
export const RESTORE_FAILED_LOG_LINE = "Error: Couldn't open database.";

export class PersistenceError extends Error {
  override readonly name = 'PersistenceError';
  readonly code: PersistenceErrorCode;
  readonly details: PersistenceErrorDetails;

  constructor(code: PersistenceErrorCode, message: string, details: PersistenceErrorDetails = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export function emptyFileError(): PersistenceError {
  return new PersistenceError('EMPTY_FILE', 'Warning: Persistence file is empty.');
}

export function badMagicError(): PersistenceError {
  return new PersistenceError('BAD_MAGIC', 'Error: Unable to restore persistent database. Unrecognised file format.');
}

export function unsupportedVersionError(version: number): PersistenceError {
  return new PersistenceError(
    'UNSUPPORTED_VERSION',
    `Error: Unsupported persistent database format version ${version} (need version 6).`,
    { version },
  );
}

export function incompatibleDbidError(dbidSize: number): PersistenceError {
  return new PersistenceError(
    'INCOMPATIBLE_DBID',
    `Error: Incompatible database configuration (dbid size is ${dbidSize} bytes, expected 8)`,
    { dbidSize },
  );
}
