// `mosquitto [-c config_file] [-d] [-h] [-p port] [-v]`: Mosquitto 2.0's argument rules,
// usage text and errors (conf.c config__parse_args). Every failure exits with status 3.

import { MOSQUITTO_VERSION, SKEETER_VERSION } from '../version.js';
import { atoi } from './text.js';
import type { ConfigMessage } from './types.js';

/** What the broker reports as its version: Mosquitto's, naming skeeter's. */
export const BROKER_VERSION_TEXT = `${MOSQUITTO_VERSION} (skeeter ${SKEETER_VERSION})`;

/** Mosquitto's CMD_PORT_LIMIT. */
export const COMMAND_LINE_PORT_LIMIT = 10;

/** The usage text, printed to stdout by -h and after an unknown option. */
export function usageText(version: string = BROKER_VERSION_TEXT): string {
  return (
    `mosquitto version ${version}\n\n` +
    'mosquitto is an MQTT v5.0/v3.1.1/v3.1 broker.\n\n' +
    'Usage: mosquitto [-c config_file] [-d] [-h] [-p port]\n\n' +
    ' -c : specify the broker config file.\n' +
    ' -d : put the broker into the background after starting.\n' +
    ' -h : display this help.\n' +
    ' -p : start the broker listening on the specified port.\n' +
    '      Not recommended in conjunction with the -c option.\n' +
    ' -v : verbose mode - enable all logging types. This overrides\n' +
    '      any logging options given in the config file.\n' +
    '\nSee https://mosquitto.org/ for more information.\n\n'
  );
}

export interface CommandLineOptions {
  /** -c files in the order given; each is read into the same config, as Mosquitto does. */
  configFiles: string[];
  daemon: boolean;
  verbose: boolean;
  ports: number[];
}

/**
 * A command line that stops the broker. `stdout` and `stderr` are written as they are;
 * `messages` go through the logger (Mosquitto prints them with its timestamp prefix).
 */
export interface CommandLineExit {
  readonly ok: false;
  readonly exitCode: 3;
  readonly stdout: string;
  readonly stderr: string;
  readonly messages: readonly ConfigMessage[];
}

export type CommandLineResult = { readonly ok: true; readonly options: CommandLineOptions } | CommandLineExit;

function exit(stdout: string, stderr: string, messages: ConfigMessage[]): CommandLineExit {
  return { ok: false, exitCode: 3, stdout, stderr, messages };
}

const logError = (text: string): ConfigMessage[] => [{ level: 'error', text }];

/**
 * Walks argv (without node and script), calling onConfigFile for each -c as it is met:
 * Mosquitto reads the file at that point, so a config error wins over a later bad option.
 * onConfigFile returns a stopping result to abort.
 */
export function walkCommandLine<F>(
  argv: readonly string[],
  onConfigFile: (path: string) => F | undefined,
): { ok: true; options: CommandLineOptions } | CommandLineExit | { ok: 'config'; failure: F } {
  const options: CommandLineOptions = { configFiles: [], daemon: false, verbose: false, ports: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-c' || arg === '--config-file') {
      const file = argv[i + 1];
      if (file === undefined) return exit('', '', logError('Error: -c argument given, but no config file specified.'));
      options.configFiles.push(file);
      const failure = onConfigFile(file);
      if (failure !== undefined) return { ok: 'config', failure };
      i++;
    } else if (arg === '-d' || arg === '--daemon') {
      options.daemon = true;
    } else if (arg === '-h' || arg === '--help') {
      return exit(usageText(), '', []);
    } else if (arg === '-p' || arg === '--port') {
      const value = argv[i + 1];
      if (value === undefined) return exit('', '', logError('Error: -p argument given, but no port specified.'));
      const port = atoi(value);
      if (port < 1 || port > 65535) return exit('', '', logError(`Error: Invalid port specified (${port}).`));
      if (options.ports.length === COMMAND_LINE_PORT_LIMIT) {
        return exit('', '', logError(`Error: Only ${COMMAND_LINE_PORT_LIMIT} ports can be specified on the command line.`));
      }
      options.ports.push(port);
      i++;
    } else if (arg === '-v' || arg === '--verbose') {
      options.verbose = true;
    } else {
      // This one is a plain fprintf to stderr (no timestamp), then the usage on stdout.
      return exit(usageText(), `Error: Unknown option '${arg}'.\n`, []);
    }
  }
  return { ok: true, options };
}

/** Parses the arguments alone (config files are listed, not read). */
export function parseCommandLine(argv: readonly string[]): CommandLineResult {
  const r = walkCommandLine(argv, () => undefined);
  if (r.ok === 'config') throw new Error('unreachable');
  return r;
}
