import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** packages/persistence/test/fixtures (this file compiles to dist/test/helpers/). */
export const fixturesDir = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

/** The .db files written by Mosquitto 2.0.11 (see fixtures/README.md). */
export const FIXTURES = ['a-empty', 'b-retained', 'c-persistent-v311', 'c2-stale-username-v311', 'e-large'] as const;

export function fixture(name: string, ext = '.db'): Buffer {
  return readFileSync(`${fixturesDir}${name}${ext}`);
}
