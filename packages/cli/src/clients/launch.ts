/**
 * Picks the code a bin runs: the esbuild bundle (scripts/bundle-clients.mjs), which starts
 * faster, when it exists and is newer than the last tsc builds of this package and of
 * @skeeter/client; otherwise the tsc output. Three stat() calls, no reads.
 */
import { statSync } from 'node:fs';

function mtime(url: URL): number {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return 0;
  }
}

/** URL of the tool's bundle if it is usable, else undefined. `binUrl` is the bin's import.meta.url. */
export function freshBundle(tool: string, binUrl: string): URL | undefined {
  const bundle = new URL(`../../bundle/${tool}.mjs`, binUrl);
  const built = mtime(bundle);
  if (built === 0) return undefined;
  const cliBuild = mtime(new URL('../../tsconfig.tsbuildinfo', binUrl));
  const clientBuild = mtime(new URL('../../../../client/dist/tsconfig.tsbuildinfo', binUrl));
  return built >= cliBuild && built >= clientBuild ? bundle : undefined;
}
