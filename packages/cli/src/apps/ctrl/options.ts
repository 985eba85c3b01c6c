/**
 * mosquitto_ctrl's connection options (apps/mosquitto_ctrl/options.c): the options it shares with
 * mosquitto_pub/sub/rr are the client tools' own specs (`sharedOptions`, clients/config.ts: same
 * spellings, texts and effects), parsed with the same yargs table (clients/argv.ts); `-L`, `-o`
 * and `-v` are mosquitto_ctrl's own.
 *
 * What differs from the client tools is how the parse ends, and scripts see it:
 * - Options come first; the first argument that does not start with `-` is the module, and
 *   everything from there on is the module's. An unknown `-x` is "Unknown option".
 * - The outcome of the parse is ignored by mosquitto_ctrl's main(): after an error (or `--help`,
 *   `--version`, which only stop the parse) the message is printed and the tool goes on with
 *   its argument count reduced by what was consumed but its argument list not advanced, so the
 *   "module" is the first option (`mosquitto_ctrl -q 5 dynsec help` prints the QoS error, then
 *   "Error: Module '-q' not supported."), or, with fewer than two arguments left, the usage.
 * - The options file (`-o file`, else `$XDG_CONFIG_HOME/mosquitto_ctrl` or
 *   `~/.config/mosquitto_ctrl`) is read after argv, so its options win; each line gives at
 *   most two space-separated words. An error there, or in the TLS/PSK consistency checks, also
 *   skips the rest of the set-up: the host stays unset and the connection attempt then fails
 *   with "Invalid arguments provided."
 */
import { readFileSync } from 'node:fs';
import { parseArgv, argTable, type ArgTable } from '../../clients/argv.js';
import { atoi } from '../../clients/cnum.js';
import {
  ConfigError,
  Stop,
  defaultOptionsFile,
  flag,
  initConfig,
  missing,
  sharedOptions,
  valued,
  type ClientConfig,
  type OptionSpec,
} from '../../clients/config.js';
import { writeErr } from '../../clients/output.js';

function fail(text: string): never {
  throw new ConfigError(text);
}

/** `-L mqtt(s)://[username[:password]@]host[:port]/topic`: the topic must be there but is not used. */
function applyUrl(cfg: ClientConfig, urlArg: string): void {
  let url = urlArg;
  const lower = url.slice(0, 8).toLowerCase();
  if (lower.startsWith('mqtt://')) {
    url = url.slice(7);
    cfg.port = 1883;
  } else if (lower.startsWith('mqtts://')) {
    // Only the port: unlike mosquitto_pub/sub, mosquitto_ctrl's mqtts:// does not turn TLS on.
    url = url.slice(8);
    cfg.port = 8883;
  } else {
    fail('Error: unsupported URL scheme.\n\n');
  }
  const slash = url.indexOf('/');
  if (slash < 0) fail('Error: Invalid URL for -L argument specified - topic missing.\n');
  url = url.slice(0, slash);
  const at = url.indexOf('@');
  if (at >= 0) {
    let auth = url.slice(0, at);
    const colon = auth.indexOf(':');
    if (colon >= 0) {
      cfg.password = auth.slice(colon + 1);
      auth = auth.slice(0, colon);
    }
    cfg.username = auth;
    url = url.slice(at + 1);
  }
  const colon = url.indexOf(':');
  if (colon >= 0) {
    // No range check here: a bad port fails the connection (mosquitto_connect's EINVAL).
    cfg.port = atoi(url.slice(colon + 1));
    url = url.slice(0, colon);
  }
  cfg.host = url;
}

/** The options of options.c's client_config_line_proc(), in its order. */
const CTRL_OPTIONS: readonly OptionSpec[] = [
  ...sharedOptions(['-A', '--cafile', '--capath', '--cert', '--ciphers', '-d', '--help', '-h', '--insecure', '-i', '--key', '--keyform']),
  valued(['-L', '--url'], missing('-L argument given but no URL'), (cfg, v) => applyUrl(cfg, v)),
  valued(['-o'], missing('-o argument given but no options file'), (cfg, v) => (cfg.optionsFile = v)),
  ...sharedOptions(['-p', '-P', '--proxy', '--psk', '--psk-identity', '-q', '--quiet']),
  ...sharedOptions(['--tls-alpn', '--tls-engine', '--tls-engine-kpass-sha1', '--tls-version', '-u', '--unix', '-V']),
  flag(['-v', '--verbose'], (cfg) => (cfg.verbose = true)),
  ...sharedOptions(['--version']),
];

let table: ArgTable<OptionSpec> | undefined;

/** 0: fine; 1: error (printed); 2: --help; 3: --version. `consumed`: arguments used before it. */
interface LineOutcome {
  readonly rc: 0 | 1 | 2 | 3;
  readonly consumed: number;
}

/** One argv-like list (argv, or one line of the options file), options.c's way. */
function lineProc(cfg: ClientConfig, argv: readonly string[]): LineOutcome {
  table ??= argTable(CTRL_OPTIONS);
  const { occurrences, unknown } = parseArgv(table, argv);
  let consumed = 0;
  for (const { spec, values, complete } of occurrences) {
    try {
      spec.precheck?.(cfg);
      if (!complete && spec.missing !== undefined) fail(spec.missing);
      spec.apply(cfg, values[0] as string, values, 'ctrl');
    } catch (err) {
      if (err instanceof ConfigError) {
        writeErr(err.text);
        return { rc: 1, consumed };
      }
      if (err instanceof Stop) return { rc: err.what === 'help' ? 2 : 3, consumed };
      throw err;
    }
    consumed += 1 + values.length;
  }
  // The options end at the first argument not starting with '-' (the module); an empty
  // argument ends them too.
  if (unknown !== undefined && unknown.startsWith('-')) {
    writeErr(`Error: Unknown option '${unknown}'.\n`);
    return { rc: 1, consumed };
  }
  return { rc: 0, consumed };
}

/**
 * The options file as options.c reads it: fgets() chunks of at most 1023 bytes, `#` at the
 * start of a chunk is a comment, trailing CR/LF removed, then strtok() on spaces (tabs are part
 * of a word) and only the first two words used.
 */
export function ctrlOptionsFileLines(content: Buffer): string[][] {
  const lines: string[][] = [];
  let pos = 0;
  while (pos < content.length) {
    let end = content.indexOf(0x0a, pos);
    end = end < 0 ? content.length : end + 1;
    if (end - pos > 1023) end = pos + 1023;
    let chunk = content.subarray(pos, end);
    pos = end;
    // A C string ends at its first NUL.
    const nul = chunk.indexOf(0);
    if (nul >= 0) chunk = chunk.subarray(0, nul);
    if (chunk[0] === 0x23) continue;
    const words = chunk
      .toString('utf8')
      .replace(/[\r\n]+$/, '')
      .split(' ')
      .filter((w) => w !== '');
    if (words.length > 0) lines.push(words.slice(0, 2));
  }
  return lines;
}

export interface CtrlParse {
  readonly cfg: ClientConfig;
  /** argc/argv as main() sees them afterwards: the module and its arguments, if all went well. */
  readonly rest: readonly string[];
}

/** ctrl_config_parse(): argv, then the options file, then the cross-option checks. */
export function parseCtrlOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CtrlParse {
  const cfg = initConfig('mosquitto_ctrl');
  const first = lineProc(cfg, argv);
  if (first.rc !== 0) {
    // argc was decremented for each consumed argument, argv was not advanced.
    return { cfg, rest: argv.slice(0, argv.length - first.consumed) };
  }
  const rest = argv.slice(first.consumed);
  const file = cfg.optionsFile ?? defaultOptionsFile('mosquitto_ctrl', env);
  if (file !== undefined) {
    let content: Buffer | undefined;
    try {
      content = readFileSync(file);
    } catch {
      content = undefined;
    }
    if (content !== undefined) {
      for (const line of ctrlOptionsFileLines(content)) {
        if (lineProc(cfg, line).rc !== 0) return { cfg, rest };
      }
    }
  }
  const checks: Array<[boolean, string]> = [
    [(cfg.certfile !== undefined) !== (cfg.keyfile !== undefined), 'Error: Both certfile and keyfile must be provided if one of them is set.\n'],
    [cfg.keyform !== undefined && cfg.keyfile === undefined, 'Error: If keyform is set, keyfile must be also specified.\n'],
    [
      cfg.tlsEngineKpassSha1 !== undefined && (cfg.keyform === undefined || cfg.tlsEngine === undefined),
      'Error: when using tls-engine-kpass-sha1, both tls-engine and keyform must also be provided.\n',
    ],
    [(cfg.cafile !== undefined || cfg.capath !== undefined) && cfg.psk !== undefined, 'Error: Only one of --psk or --cafile/--capath may be used at once.\n'],
    [cfg.psk !== undefined && cfg.pskIdentity === undefined, 'Error: --psk-identity required if --psk used.\n'],
  ];
  for (const [bad, text] of checks) {
    if (bad) {
      writeErr(text);
      return { cfg, rest };
    }
  }
  cfg.host ??= 'localhost';
  return { cfg, rest };
}
