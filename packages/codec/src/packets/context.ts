import type { ProtocolVersion } from '../constants.js';
import type { Role } from '../types.js';

/** What a packet decoder needs to know besides the bytes. */
export interface DecodeContext {
  version: ProtocolVersion;
  role: Role;
}
