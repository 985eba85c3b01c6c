import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (this file compiles to test/dist/helpers/paths.js). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The launcher of one of the six tools, as a user would put it on PATH. */
export const launcher = (tool: string): string => join(repoRoot, 'scripts', 'bin', tool);
