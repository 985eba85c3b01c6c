export { atoi } from './c-string.js';
export { decodeBase64Mosquitto, encodeBase64, encodeBase64NoPadding } from './base64.js';
export {
  ALL_HASH_KINDS,
  ARGON2ID_PARAMETERS,
  decodePasswordHash,
  encodePasswordHash,
  HASH_LENGTH,
  HashKind,
  hashPassword,
  looksHashed,
  MOSQUITTO_2_0_RULES,
  MOSQUITTO_2_1_RULES,
  PasswordHashError,
  passwordHashErrorText,
  PBKDF2_ITERATIONS_2_0,
  PBKDF2_ITERATIONS_2_1,
  SALT_LENGTH_2_0,
  SALT_LENGTH_2_1,
  verifyPassword,
  type DecodeResult,
  type DecodeRules,
  type HashOptions,
  type PasswordHash,
  type PasswordInput,
} from './password-hash.js';
export { AuthResult, MAX_FIELD_LENGTH, PasswordFile, type PasswordFileMessage, type PasswordFileOptions } from './password-file.js';
export {
  joinPasswordFileLines,
  LineKind,
  lineIsUser,
  linePasswordBytes,
  lineUsernameBytes,
  makeUserLine,
  splitPasswordFileLines,
  usernameError,
  withPasswordField,
  type PasswordFileLine,
} from './password-lines.js';
export { AtomicWriteError, AtomicWriteStep, writeFileAtomic, type AtomicWriteOptions } from './atomic-write.js';
