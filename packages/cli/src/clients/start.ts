/**
 * What every client tool does first: read the options (file and argv), and answer --help,
 * --version and argument errors in Mosquitto's words. Returns the config, or the outcome when the
 * tool stops here.
 */
import { loadConfig, type ClientConfig } from './config.js';
import type { Outcome } from './outcome.js';
import { prepareStderr, writeErr, writeOut } from './output.js';
import { versionLine, type ClientTool } from './version.js';

export async function startTool(tool: Exclude<ClientTool, 'mosquitto_ctrl'>, argv: readonly string[]): Promise<ClientConfig | Outcome> {
  await prepareStderr();
  const loaded = loadConfig(tool, argv);
  switch (loaded.kind) {
    case 'ok':
      return loaded.config;
    case 'help':
      // The usage text is loaded only when asked for (start-up speed).
      writeOut((await import('./usage.js')).usageText(tool));
      return { kind: 'usage' };
    case 'version':
      writeOut(versionLine(tool));
      return { kind: 'usage' };
    case 'error':
      writeErr(`${loaded.text}\nUse '${tool} --help' to see usage.\n`);
      return { kind: 'usage' };
  }
}

/** Narrows startTool's result. */
export const isOutcome = (x: ClientConfig | Outcome): x is Outcome => 'kind' in x;
