/**
 * Mosquitto's client options (client_shared.c): one table (`OPTIONS`) that yargs parses argv
 * with (argv.ts), then each option applied left to right as Mosquitto does: an option that
 * takes a value takes the next argument whatever it looks like (`-t -m` publishes to topic
 * "-m"), nothing is combined (`-rq` is an unknown option), the first error stops, and every
 * error text is Mosquitto's own, byte for byte. The options file is read first, one option per
 * line, and argv is applied on top.
 *
 * Errors carry the exact text Mosquitto writes to stderr before its
 * "\nUse '<tool> --help' to see usage." line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PROPERTY_COMMANDS,
  propertyByName,
  isValidMqttUtf8,
  isValidPublishTopic,
  isValidSubscribeFilter,
  mosquittoStrerror,
  type PropertyCommand,
  type PropertyEntry,
  type ProtocolVersion,
  type QoS,
} from '@skeeter/client';
import { argTable, parseArgv, type ArgSpec, type ArgTable } from './argv.js';
import { atof, atoi, atol, strtol } from './cnum.js';
import type { ClientTool } from './version.js';

export const MsgMode = { NONE: 0, FILE: 1, STDIN_FILE: 2, CMD: 3, NULL: 4, STDIN_LINE: 5 } as const;
export type MsgModeValue = (typeof MsgMode)[keyof typeof MsgMode];

const UINT32_MAX = 4294967295;

export interface ClientConfig {
  tool: ClientTool;
  // connection
  host: string | undefined;
  /** undefined: 1883, or 8883 when --cafile/--capath/--psk is given. */
  port: number | undefined;
  bindAddress: string | undefined;
  unixSocket: boolean;
  protocolVersion: ProtocolVersion;
  transport: 'tcp' | 'websockets';
  id: string | undefined;
  idPrefix: string | undefined;
  keepalive: number;
  cleanSession: boolean;
  /** -1: not given. */
  sessionExpiryInterval: number;
  username: string | undefined;
  password: string | undefined;
  maxInflight: number;
  tcpNoDelay: boolean;
  debug: boolean;
  quiet: boolean;
  // will
  willTopic: string | undefined;
  willPayload: string | undefined;
  willQos: QoS;
  willRetain: boolean;
  // TLS
  cafile: string | undefined;
  capath: string | undefined;
  certfile: string | undefined;
  keyfile: string | undefined;
  ciphers: string | undefined;
  tlsVersion: string | undefined;
  tlsAlpn: string | undefined;
  tlsEngine: string | undefined;
  tlsEngineKpassSha1: string | undefined;
  keyform: string | undefined;
  insecure: boolean;
  tlsUseOsCerts: boolean;
  noTls: boolean;
  psk: string | undefined;
  pskIdentity: string | undefined;
  // proxy
  socks5Host: string | undefined;
  socks5Port: number;
  socks5Username: string | undefined;
  socks5Password: string | undefined;
  // properties, in command-line order per command
  props: Record<PropertyCommand, PropertyEntry[]>;
  // pub / rr
  topic: string | undefined;
  pubMode: MsgModeValue;
  message: string | undefined;
  fileInput: string | undefined;
  qos: QoS;
  retain: boolean;
  repeatCount: number;
  /** microseconds */
  repeatDelayUs: number;
  // sub / rr
  topics: string[];
  filterOuts: string[];
  unsubTopics: string[];
  responseTopic: string | undefined;
  msgCount: number;
  noRetain: boolean;
  retainedOnly: boolean;
  removeRetained: boolean;
  retainAsPublished: boolean;
  /** Retain handling bits of the subscription options. */
  subOpts: number;
  randomFilter: number;
  verbose: boolean;
  eol: boolean;
  format: string | undefined;
  pretty: boolean;
  exitAfterSub: boolean;
  timeout: number;
  watch: boolean;
  optionsFile: string | undefined;
}

export type ConfigOutcome =
  | { readonly kind: 'ok'; readonly config: ClientConfig }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  /** stderr text already complete; the caller adds the "Use ... --help" line. */
  | { readonly kind: 'error'; readonly text: string };

/** A bad option: `text` is Mosquitto's stderr text (without the "Use ... --help" line). */
export class ConfigError extends Error {
  readonly text: string;
  constructor(text: string) {
    super(text);
    this.text = text;
  }
}

/** --help / --version: option processing stops there. */
export class Stop extends Error {
  readonly what: 'help' | 'version';
  constructor(what: 'help' | 'version') {
    super(what);
    this.what = what;
  }
}

function fail(text: string): never {
  throw new ConfigError(text);
}

export function initConfig(tool: ClientTool): ClientConfig {
  const props = {} as Record<PropertyCommand, PropertyEntry[]>;
  for (const c of PROPERTY_COMMANDS) props[c] = [];
  return {
    tool,
    host: undefined,
    port: undefined,
    bindAddress: undefined,
    unixSocket: false,
    // mosquitto_rr and mosquitto_ctrl speak MQTT 5 unless told otherwise.
    protocolVersion: tool === 'mosquitto_rr' || tool === 'mosquitto_ctrl' ? 5 : 4,
    transport: 'tcp',
    id: undefined,
    idPrefix: undefined,
    keepalive: 60,
    cleanSession: true,
    sessionExpiryInterval: -1,
    username: undefined,
    password: undefined,
    maxInflight: 20,
    tcpNoDelay: false,
    debug: false,
    quiet: false,
    willTopic: undefined,
    willPayload: undefined,
    willQos: 0,
    willRetain: false,
    cafile: undefined,
    capath: undefined,
    certfile: undefined,
    keyfile: undefined,
    ciphers: undefined,
    tlsVersion: undefined,
    tlsAlpn: undefined,
    tlsEngine: undefined,
    tlsEngineKpassSha1: undefined,
    keyform: undefined,
    insecure: false,
    tlsUseOsCerts: false,
    noTls: false,
    psk: undefined,
    pskIdentity: undefined,
    socks5Host: undefined,
    socks5Port: 1080,
    socks5Username: undefined,
    socks5Password: undefined,
    props,
    topic: undefined,
    pubMode: MsgMode.NONE,
    message: undefined,
    fileInput: undefined,
    // mosquitto_ctrl subscribes and publishes at QoS 1 by default.
    qos: tool === 'mosquitto_ctrl' ? 1 : 0,
    retain: false,
    repeatCount: 1,
    repeatDelayUs: 0,
    topics: [],
    filterOuts: [],
    unsubTopics: [],
    responseTopic: undefined,
    msgCount: tool === 'mosquitto_rr' ? 1 : 0,
    noRetain: false,
    retainedOnly: false,
    removeRetained: false,
    retainAsPublished: false,
    subOpts: 0,
    randomFilter: 10000,
    verbose: false,
    eol: true,
    format: undefined,
    pretty: false,
    exitAfterSub: false,
    timeout: 0,
    watch: false,
    optionsFile: undefined,
  };
}

/** check_format(): the -F string is validated once, up front. */
export function checkFormat(str: string): string | undefined {
  const len = str.length;
  const INCOMPLETE = 'Error: Incomplete format specifier.\n';
  for (let i = 0; i < len; i++) {
    const c = str[i];
    if (c === '%') {
      if (i === len - 1) return INCOMPLETE;
      if (str[i + 1] === '0' || str[i + 1] === '-') {
        i++;
        if (i === len - 1) return INCOMPLETE;
      }
      while (/[0-9]/.test(str[i + 1] ?? '')) {
        i++;
        if (i === len - 1) return INCOMPLETE;
      }
      if (str[i + 1] === '.') {
        i++;
        if (i === len - 1) return INCOMPLETE;
        while (/[0-9]/.test(str[i + 1] ?? '')) {
          i++;
          if (i === len - 1) return INCOMPLETE;
        }
      }
      const spec = str[i + 1] as string;
      if (!'%ACDEFIlmPpqRSrtjJUxX'.includes(spec)) return `Error: Invalid format specifier '${spec}'.\n`;
      i++;
    } else if (c === '@') {
      if (i === len - 1) return INCOMPLETE;
      i++;
    } else if (c === '\\') {
      if (i === len - 1) return 'Error: Incomplete escape specifier.\n';
      const e = str[i + 1] as string;
      if (!'\\0aenrtv'.includes(e)) return `Error: Invalid escape specifier '${e}'.\n`;
      i++;
    }
  }
  return undefined;
}

export type Kind = 'pub' | 'sub' | 'rr' | 'ctrl';
const KIND: Record<ClientTool, Kind> = { mosquitto_pub: 'pub', mosquitto_sub: 'sub', mosquitto_rr: 'rr', mosquitto_ctrl: 'ctrl' };

function addTopic(cfg: ClientConfig, type: Kind | 'response', topic: string, arg: string): void {
  if (!isValidMqttUtf8(topic)) fail(`Error: Malformed UTF-8 in ${arg} argument.\n\n`);
  if (type === 'pub' || type === 'rr') {
    if (!isValidPublishTopic(topic)) fail(`Error: Invalid publish topic '${topic}', does it contain '+' or '#'?\n`);
    cfg.topic = topic;
  } else if (type === 'response') {
    if (!isValidPublishTopic(topic)) fail(`Error: Invalid response topic '${topic}', does it contain '+' or '#'?\n`);
    cfg.responseTopic = topic;
  } else {
    if (!isValidSubscribeFilter(topic)) {
      fail(`Error: Invalid subscription topic '${topic}', are all '+' and '#' wildcards correct?\n`);
    }
    cfg.topics.push(topic);
  }
}

const INT_RANGES = { byte: 0xffn, uint16: 0xffffn, uint32: 0xffffffffn } as const;

/**
 * -D / --property: `command name value` or `command user-property key value`. `values` are the
 * arguments that followed -D, fewer than needed when argv ended early: Mosquitto checks the
 * command and the name before it notices a missing fourth value.
 */
function parseProperty(cfg: ClientConfig, values: readonly string[]): void {
  const NOT_ENOUGH = 'Error: --property argument given but not enough arguments specified.\n\n';
  if (values.length < 3) fail(NOT_ENOUGH);
  const cmdName = (values[0] as string).toLowerCase();
  const propName = values[1] as string;
  const cmd = PROPERTY_COMMANDS.find((c) => c === cmdName);
  if (!cmd) fail('Error: Invalid command given in --property argument.\n\n');
  const prop = propertyByName(propName);
  if (!prop) fail('Error: Invalid property name given in --property argument.\n\n');
  if (!prop.commands.includes(cmd)) fail(`Error: ${prop.name} property not allowed for ${cmd} in --property argument.\n\n`);
  if (cmd === 'connack') fail('');
  if (
    (cmd === 'publish' && prop.name === 'subscription-identifier') ||
    cmd === 'puback' ||
    cmd === 'pubrec' ||
    cmd === 'pubrel' ||
    cmd === 'pubcomp' ||
    cmd === 'auth'
  ) {
    fail(`Error: ${prop.name} property not supported for ${cmd} in --property argument.\n\n`);
  }
  const value = values[2] as string;
  let entry: PropertyEntry;
  switch (prop.type) {
    case 'byte':
    case 'uint16':
    case 'uint32': {
      const v = atol(value);
      if (v < 0n || v > INT_RANGES[prop.type]) {
        fail(`Error: Property value (${v}) out of range for property ${prop.name}.\n\n`);
      }
      entry = { property: prop, value: Number(v) };
      break;
    }
    case 'varint': {
      const v = atol(value);
      // libmosquitto refuses a variable byte integer above 268435455 (its errno-style rc 4 is
      // what the tool prints).
      const asU32 = BigInt.asUintN(32, v);
      if (asU32 > 268435455n) fail(`Error adding property ${prop.name} 4\n`);
      entry = { property: prop, value: Number(asU32) };
      break;
    }
    case 'string':
    case 'binary':
      entry = { property: prop, value: Buffer.from(value, 'utf8') };
      break;
    case 'pair': {
      if (values.length < 4) fail(NOT_ENOUGH);
      entry = { property: prop, value: [value, values[3] as string] };
      break;
    }
  }
  cfg.props[cmd].push(entry);
}

/** -D's arity: four values for a user property (`command user-property key value`), else three. */
function propertyArity(argv: readonly string[], i: number): number {
  return propertyByName(argv[i + 2] ?? '')?.name === 'user-property' ? 4 : 3;
}

/** --proxy socks5h://[username[:password]@]host[:port] */
function parseSocksUrl(cfg: ClientConfig, url: string): void {
  const PREFIX = 'socks5h://';
  if (!url.startsWith(PREFIX)) fail(`Error: Unsupported proxy protocol: ${url}\n`);
  const str = url.slice(PREFIX.length);
  let username: string | undefined;
  let password: string | undefined;
  let host: string | undefined;
  let port: string | undefined;
  let usernameOrHost: string | undefined;
  let haveAuth = false;
  let start = 0;
  let i = 0;
  for (; i < str.length; i++) {
    if (str[i] === ':') {
      if (i === start) fail('');
      if (haveAuth) {
        if (host !== undefined) fail('');
        host = str.slice(start, i);
        start = i + 1;
      } else if (usernameOrHost === undefined) {
        usernameOrHost = str.slice(start, i);
        start = i + 1;
      }
    } else if (str[i] === '@') {
      if (i === start) fail('');
      haveAuth = true;
      if (usernameOrHost !== undefined) {
        username = usernameOrHost;
        usernameOrHost = undefined;
        password = str.slice(start, i);
        start = i + 1;
      } else {
        if (username !== undefined) fail('');
        username = str.slice(start, i);
        start = i + 1;
      }
    }
  }
  if (i > start) {
    const rest = str.slice(start, i);
    if (host !== undefined) port = rest;
    else if (usernameOrHost !== undefined) {
      host = usernameOrHost;
      port = rest;
    } else host = rest;
  }
  if (host === undefined) fail('Error: Invalid proxy.\n');
  const decode = (s: string | undefined): string | undefined => {
    if (s === undefined || !s.includes('%')) return s;
    let out = '';
    for (let k = 0; k < s.length; k++) {
      if (s[k] !== '%') {
        out += s[k];
        continue;
      }
      if (k + 2 >= s.length) fail('');
      const code = s.slice(k + 1, k + 3);
      // Mosquitto decodes %40 to ':' (not '@'); kept for compatibility (reference §11.13).
      if (code === '25') out += '%';
      else if (code === '3A' || code === '3a' || code === '40') out += ':';
      else fail('');
      k += 2;
    }
    return out;
  };
  username = decode(username);
  password = decode(password);
  let portNum = 1080;
  if (port !== undefined) {
    portNum = atoi(port);
    if (portNum < 1 || portNum > 65535) fail(`Error: Invalid proxy port ${portNum}\n`);
  }
  cfg.socks5Host = host;
  cfg.socks5Port = portNum;
  cfg.socks5Username = username;
  cfg.socks5Password = password;
}

/**
 * One Mosquitto option: its spellings and arity (for yargs, argv.ts), the tools that have it
 * (elsewhere it is an unknown option), the error text for a missing value, the checks
 * Mosquitto makes before it reads the value, and what the value does.
 */
export interface OptionSpec extends ArgSpec {
  readonly tools?: readonly Kind[];
  readonly missing?: string;
  readonly precheck?: (cfg: ClientConfig) => void;
  readonly apply: (cfg: ClientConfig, value: string, values: readonly string[], kind: Kind) => void;
}

const PUB_RR: readonly Kind[] = ['pub', 'rr'];
const SUB_RR: readonly Kind[] = ['sub', 'rr'];
const PUB: readonly Kind[] = ['pub'];
const SUB: readonly Kind[] = ['sub'];
const RR: readonly Kind[] = ['rr'];

const onlyOneMessage = (cfg: ClientConfig): void => {
  if (cfg.pubMode !== MsgMode.NONE) fail('Error: Only one type of message can be sent at once.\n\n');
};

/** A flag. */
export function flag(names: readonly string[], apply: (cfg: ClientConfig) => void, more: Partial<OptionSpec> = {}): OptionSpec {
  return { key: yargsKey(names), names, nargs: 0, apply: (cfg) => apply(cfg), ...more };
}

/** An option taking one value; `missing` is Mosquitto's text when argv ends before it. */
export function valued(
  names: readonly string[],
  missing: string,
  apply: (cfg: ClientConfig, value: string, kind: Kind) => void,
  more: Partial<OptionSpec> = {},
): OptionSpec {
  return { key: yargsKey(names), names, nargs: 1, missing, apply: (cfg, v, _vs, kind) => apply(cfg, v, kind), ...more };
}

function yargsKey(names: readonly string[]): string {
  const long = names.find((n) => n.startsWith('--'));
  return (long ?? (names[0] as string)).replace(/^--?/, '');
}

export const missing = (what: string): string => `Error: ${what} specified.\n\n`;

/** Every option of client_shared.c's client_config_line_proc(), in its order. */
const OPTIONS: readonly OptionSpec[] = [
  valued(['-A'], missing('-A argument given but no address'), (cfg, v) => (cfg.bindAddress = v)),
  valued(['--cafile'], missing('--cafile argument given but no file'), (cfg, v) => (cfg.cafile = v)),
  valued(['--capath'], missing('--capath argument given but no directory'), (cfg, v) => (cfg.capath = v)),
  valued(['--cert'], missing('--cert argument given but no file'), (cfg, v) => (cfg.certfile = v)),
  valued(['--ciphers'], missing('--ciphers argument given but no ciphers'), (cfg, v) => (cfg.ciphers = v)),
  valued(
    ['-C'],
    missing('-C argument given but no count'),
    (cfg, s) => {
      const v = atoi(s);
      if (v < 1) fail(`Error: Invalid message count "${v}".\n\n`);
      cfg.msgCount = v;
    },
    { tools: SUB },
  ),
  flag(['-c', '--disable-clean-session'], (cfg) => (cfg.cleanSession = false)),
  flag(['-d', '--debug'], (cfg) => (cfg.debug = true)),
  {
    key: 'property',
    names: ['-D', '--property'],
    nargs: 3,
    arity: propertyArity,
    apply: (cfg, _v, values) => {
      parseProperty(cfg, values);
      cfg.protocolVersion = 5;
    },
  },
  valued(['-e'], missing('-e argument given but no response topic'), (cfg, v) => addTopic(cfg, 'response', v, '-e'), { tools: RR }),
  flag(['-E'], (cfg) => (cfg.exitAfterSub = true), { tools: SUB }),
  valued(
    ['-f', '--file'],
    missing('-f argument given but no file'),
    (cfg, v) => {
      cfg.fileInput = v;
      cfg.pubMode = MsgMode.FILE;
    },
    { tools: PUB_RR, precheck: onlyOneMessage },
  ),
  valued(
    ['-F'],
    missing('-F argument given but no format'),
    (cfg, v) => {
      const err = checkFormat(v);
      if (err) fail(err);
      cfg.format = v;
    },
    { tools: SUB_RR },
  ),
  flag(['--help'], () => {
    throw new Stop('help');
  }),
  valued(['-h', '--host'], missing('-h argument given but no host'), (cfg, v) => (cfg.host = v)),
  flag(['--insecure'], (cfg) => (cfg.insecure = true)),
  valued(['-i', '--id'], missing('-i argument given but no id'), (cfg, v) => (cfg.id = v), {
    precheck: (cfg) => {
      if (cfg.idPrefix !== undefined) fail('Error: -i and -I argument cannot be used together.\n\n');
    },
  }),
  valued(['-I', '--id-prefix'], missing('-I argument given but no id prefix'), (cfg, v) => (cfg.idPrefix = v), {
    precheck: (cfg) => {
      if (cfg.id !== undefined) fail('Error: -i and -I argument cannot be used together.\n\n');
    },
  }),
  valued(['-k', '--keepalive'], missing('-k argument given but no keepalive'), (cfg, s) => {
    const v = atoi(s);
    if (v < 5 || v > 65535) fail('Error: Invalid keepalive given, it must be between 5 and 65535 inclusive.\n\n');
    cfg.keepalive = v;
  }),
  valued(['--key'], missing('--key argument given but no file'), (cfg, v) => (cfg.keyfile = v)),
  valued(['--keyform'], missing('--keyform argument given but no keyform'), (cfg, v) => (cfg.keyform = v)),
  valued(['-L', '--url'], missing('-L argument given but no URL'), (cfg, v, kind) => parseUrl(cfg, kind, v)),
  flag(['-l', '--stdin-line'], (cfg) => (cfg.pubMode = MsgMode.STDIN_LINE), { tools: PUB, precheck: onlyOneMessage }),
  valued(
    ['-m', '--message'],
    missing('-m argument given but no message'),
    (cfg, m) => {
      if (Buffer.byteLength(m) > 268435455) fail('Error: Message length must be less than 268435455 bytes.\n\n');
      cfg.message = m;
      cfg.pubMode = MsgMode.CMD;
    },
    { tools: PUB_RR, precheck: onlyOneMessage },
  ),
  valued(['-M'], 'Error: -M argument given but max_inflight not specified.\n\n', (cfg, s) => {
    const v = atoi(s);
    if (v < 1) fail('Error: Maximum inflight messages must be greater than 0.\n\n');
    cfg.maxInflight = v;
  }),
  flag(['--nodelay'], (cfg) => (cfg.tcpNoDelay = true)),
  flag(['--no-tls'], (cfg) => (cfg.noTls = true)),
  flag(['-n', '--null-message'], (cfg) => (cfg.pubMode = MsgMode.NULL), { tools: PUB_RR, precheck: onlyOneMessage }),
  flag(['-N'], (cfg) => (cfg.eol = false), { tools: SUB_RR }),
  // 2.1: the options file, already read before argv is applied (loadConfig).
  valued(['-o'], missing('-o argument given but no options file'), () => undefined),
  valued(['-p', '--port'], missing('-p argument given but no port'), (cfg, s) => {
    const v = atoi(s);
    if (v < 0 || v > 65535) fail(`Error: Invalid port given: ${v}\n`);
    cfg.port = v;
  }),
  flag(['--pretty'], (cfg) => (cfg.pretty = true), { tools: SUB_RR }),
  valued(['-P', '--pw'], missing('-P argument given but no password'), (cfg, v) => (cfg.password = v)),
  valued(['--proxy'], missing('--proxy argument given but no proxy url'), (cfg, v) => parseSocksUrl(cfg, v)),
  valued(['--psk'], missing('--psk argument given but no key'), (cfg, v) => (cfg.psk = v)),
  valued(['--psk-identity'], missing('--psk-identity argument given but no identity'), (cfg, v) => (cfg.pskIdentity = v)),
  valued(['-q', '--qos'], missing('-q argument given but no QoS'), (cfg, s) => {
    const v = atoi(s);
    if (v < 0 || v > 2) fail(`Error: Invalid QoS given: ${v}\n`);
    cfg.qos = v as QoS;
  }),
  flag(['--quiet'], (cfg) => (cfg.quiet = true)),
  flag(['-r', '--retain'], (cfg) => (cfg.retain = true), { tools: PUB }),
  flag(
    ['-R'],
    (cfg) => {
      cfg.noRetain = true;
      cfg.subOpts |= 0x20; // retain handling 2: never send [MQTT-3.8.3.1]
    },
    { tools: SUB_RR },
  ),
  valued(
    ['--random-filter'],
    missing('--random-filter argument given but no chance'),
    (cfg, s) => {
      const v = Math.trunc(10.0 * atof(s));
      if (!(v <= 10000 && v >= 1)) fail('Error: --random-filter chance must be between 0.1-100.0\n\n');
      cfg.randomFilter = v;
    },
    { tools: SUB },
  ),
  flag(['--remove-retained'], (cfg) => (cfg.removeRetained = true), { tools: SUB }),
  valued(
    ['--repeat'],
    missing('--repeat argument given but no count'),
    (cfg, s) => {
      const v = atoi(s);
      if (v < 1) fail('Error: --repeat argument must be >0.\n\n');
      cfg.repeatCount = v;
    },
    { tools: PUB },
  ),
  valued(
    ['--repeat-delay'],
    missing('--repeat-delay argument given but no time'),
    (cfg, s) => {
      // A C float: the product is rounded to single precision before the cast.
      const f = Math.fround(atof(s));
      if (f < 0) fail('Error: --repeat-delay argument must be >=0.0.\n\n');
      cfg.repeatDelayUs = Math.trunc(Math.fround(f * 1.0e6));
    },
    { tools: PUB },
  ),
  flag(['--retain-as-published'], (cfg) => (cfg.retainAsPublished = true), { tools: SUB_RR }),
  flag(['--retained-only'], (cfg) => (cfg.retainedOnly = true), { tools: SUB }),
  flag(['-s', '--stdin-file'], (cfg) => (cfg.pubMode = MsgMode.STDIN_FILE), { tools: PUB_RR, precheck: onlyOneMessage }),
  valued(['-t', '--topic'], missing('-t argument given but no topic'), (cfg, v, kind) => addTopic(cfg, kind, v, '-t')),
  valued(
    ['-T', '--filter-out'],
    missing('-T argument given but no topic filter'),
    (cfg, t) => {
      if (!isValidMqttUtf8(t)) fail('Error: Malformed UTF-8 in -T argument.\n\n');
      if (!isValidSubscribeFilter(t)) fail(`Error: Invalid filter topic '${t}', are all '+' and '#' wildcards correct?\n`);
      cfg.filterOuts.push(t);
    },
    { tools: SUB },
  ),
  valued(['--tls-alpn'], missing('--tls-alpn argument given but no protocol'), (cfg, v) => (cfg.tlsAlpn = v)),
  valued(['--tls-engine'], missing('--tls-engine argument given but no engine_id'), (cfg, v) => (cfg.tlsEngine = v)),
  valued(
    ['--tls-engine-kpass-sha1'],
    missing('--tls-engine-kpass-sha1 argument given but no kpass sha1'),
    (cfg, v) => (cfg.tlsEngineKpassSha1 = v),
  ),
  flag(['--tls-use-os-certs'], (cfg) => (cfg.tlsUseOsCerts = true)),
  valued(['--tls-version'], missing('--tls-version argument given but no version'), (cfg, v) => (cfg.tlsVersion = v)),
  valued(
    ['-U', '--unsubscribe'],
    missing('-U argument given but no unsubscribe topic'),
    (cfg, t) => {
      if (!isValidMqttUtf8(t)) fail('Error: Malformed UTF-8 in -U argument.\n\n');
      if (!isValidSubscribeFilter(t)) {
        fail(`Error: Invalid unsubscribe topic '${t}', are all '+' and '#' wildcards correct?\n`);
      }
      cfg.unsubTopics.push(t);
    },
    { tools: SUB },
  ),
  valued(['-u', '--username'], missing('-u argument given but no username'), (cfg, v) => (cfg.username = v)),
  valued(['--unix'], missing('--unix argument given but no socket path'), (cfg, v) => {
    cfg.host = v;
    cfg.port = 0;
    cfg.unixSocket = true;
  }),
  valued(['-V', '--protocol-version'], missing('--protocol-version argument given but no version'), (cfg, v) => {
    if (v === 'mqttv31' || v === '31') cfg.protocolVersion = 3;
    else if (v === 'mqttv311' || v === '311') cfg.protocolVersion = 4;
    else if (v === 'mqttv5' || v === '5') cfg.protocolVersion = 5;
    else fail('Error: Invalid protocol version argument given.\n\n');
  }),
  flag(['-v', '--verbose'], (cfg) => (cfg.verbose = true), { tools: SUB_RR }),
  flag(['--version'], () => {
    throw new Stop('version');
  }),
  valued(
    ['-W'],
    missing('-W argument given but no timeout'),
    (cfg, s) => {
      const v = atoi(s);
      if (v < 1) fail(`Error: Invalid timeout "${v}".\n\n`);
      cfg.timeout = v;
    },
    { tools: SUB_RR },
  ),
  valued(['--will-payload'], missing('--will-payload argument given but no will payload'), (cfg, v) => (cfg.willPayload = v)),
  valued(['--will-qos'], missing('--will-qos argument given but no will QoS'), (cfg, s) => {
    const v = atoi(s);
    if (v < 0 || v > 2) fail(`Error: Invalid will QoS ${v}.\n\n`);
    cfg.willQos = v as QoS;
  }),
  flag(['--will-retain'], (cfg) => (cfg.willRetain = true)),
  valued(['--will-topic'], missing('--will-topic argument given but no will topic'), (cfg, t) => {
    if (!isValidMqttUtf8(t)) fail('Error: Malformed UTF-8 in --will-topic argument.\n\n');
    if (!isValidPublishTopic(t)) fail(`Error: Invalid will topic '${t}', does it contain '+' or '#'?\n`);
    cfg.willTopic = t;
  }),
  // 2.1: websockets.
  flag(['--ws'], (cfg) => (cfg.transport = 'websockets')),
  valued(['-x'], missing('-x argument given but no session expiry interval'), (cfg, v) => {
    if (v === '∞') {
      cfg.sessionExpiryInterval = UINT32_MAX;
    } else {
      const { value, used } = strtol(v, 0);
      if (used === 0 || used !== v.length) fail('Error: session-expiry-interval not a number.\n\n');
      if (value > BigInt(UINT32_MAX) || value < -1n) fail('Error: session-expiry-interval out of range.\n\n');
      cfg.sessionExpiryInterval = value === -1n ? UINT32_MAX : Number(value);
    }
  }),
];

/**
 * The client options another tool shares with these three, by spelling (`['-p', '-h']`): the
 * same specs, texts and effects (mosquitto_ctrl's options.c repeats client_shared.c's).
 */
export function sharedOptions(names: readonly string[]): OptionSpec[] {
  return names.map((name) => {
    const spec = OPTIONS.find((o) => o.names.includes(name));
    if (spec === undefined) throw new Error(`config: no client option ${name}`);
    return spec;
  });
}

const TABLES = new Map<Kind, ArgTable<OptionSpec>>();

/** The options one tool has, as argv.ts's table (built once per run). */
function optionTable(kind: Kind): ArgTable<OptionSpec> {
  let table = TABLES.get(kind);
  if (table === undefined) {
    table = argTable(OPTIONS.filter((o) => o.tools === undefined || o.tools.includes(kind)));
    TABLES.set(kind, table);
  }
  return table;
}

/**
 * Processes one argv-like list (real argv, or one line of the options file): yargs parses it
 * (argv.ts), then each option is applied in argv order, stopping at the first error as
 * Mosquitto does.
 */
function lineProc(cfg: ClientConfig, argv: readonly string[]): void {
  const kind = KIND[cfg.tool];
  const { occurrences, unknown } = parseArgv(optionTable(kind), argv);
  for (const { spec, values, complete } of occurrences) {
    spec.precheck?.(cfg);
    // -D reports its own missing values, after checking the ones it has.
    if (!complete && spec.missing !== undefined) fail(spec.missing);
    spec.apply(cfg, values[0] as string, values, kind);
  }
  if (unknown !== undefined) fail(`Error: Unknown option '${unknown}'.\n`);
}

function parseUrl(cfg: ClientConfig, kind: Kind, urlArg: string): void {
  let url = urlArg;
  const lower = url.toLowerCase();
  if (lower.startsWith('mqtt://')) {
    url = url.slice(7);
    cfg.port = 1883;
  } else if (lower.startsWith('mqtts://')) {
    url = url.slice(8);
    cfg.port = 8883;
    cfg.tlsUseOsCerts = true;
  } else if (lower.startsWith('ws://')) {
    // 2.1: websockets URLs.
    url = url.slice(5);
    cfg.port = 1883;
    cfg.transport = 'websockets';
  } else if (lower.startsWith('wss://')) {
    url = url.slice(6);
    cfg.port = 8883;
    cfg.tlsUseOsCerts = true;
    cfg.transport = 'websockets';
  } else {
    fail('Error: unsupported URL scheme.\n\n');
  }
  const slash = url.indexOf('/');
  if (slash < 0) fail('Error: Invalid URL for -L argument specified - topic missing.\n');
  const topic = url.slice(slash + 1);
  url = url.slice(0, slash);
  addTopic(cfg, kind, topic, '-L topic');
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
    cfg.port = atoi(url.slice(colon + 1));
    url = url.slice(0, colon);
  }
  cfg.host = url;
}

/** Where Mosquitto looks for the default options file. */
export function defaultOptionsFile(tool: ClientTool, env: NodeJS.ProcessEnv): string | undefined {
  if (env.XDG_CONFIG_HOME !== undefined) return join(env.XDG_CONFIG_HOME, tool);
  if (env.HOME !== undefined) return join(env.HOME, '.config', tool);
  return undefined;
}

/**
 * Splits the options file like Mosquitto: fgets() lines of up to 1023 bytes, `#` comments,
 * trailing CR/LF removed, the option up to the first space and the rest of the line as its value.
 */
export function optionsFileArgs(content: Buffer): string[][] {
  const lines: string[][] = [];
  let pos = 0;
  while (pos < content.length) {
    let end = content.indexOf(0x0a, pos);
    end = end < 0 ? content.length : end + 1;
    if (end - pos > 1023) end = pos + 1023;
    let line = content.subarray(pos, end).toString('utf8');
    pos = end;
    if (line.startsWith('#')) continue;
    line = line.replace(/[\r\n]+$/, '');
    const m = /^ *([^ ]+)(?: (.*))?$/s.exec(line);
    if (!m) continue;
    const value = m[2];
    lines.push(value !== undefined && value !== '' ? [m[1] as string, value] : [m[1] as string]);
  }
  return lines;
}

/** client_config_load(): options file, then argv, then the cross-option checks. */
export function loadConfig(tool: ClientTool, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ConfigOutcome {
  const cfg = initConfig(tool);
  try {
    // 2.1's -o: an explicit options file replaces the default one.
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === '-o') {
        if (cfg.optionsFile !== undefined) fail('Error: Duplicate -o argument given.\n\n');
        if (i === argv.length - 1) fail('Error: -o argument given but no options file specified.\n\n');
        cfg.optionsFile = argv[i + 1];
      }
    }
    const file = cfg.optionsFile ?? defaultOptionsFile(tool, env);
    if (file !== undefined) {
      let content: Buffer | undefined;
      try {
        content = readFileSync(file);
      } catch {
        content = undefined;
      }
      if (content) for (const line of optionsFileArgs(content)) lineProc(cfg, line);
    }
    lineProc(cfg, argv);
    finishConfig(cfg);
  } catch (err) {
    if (err instanceof ConfigError) return { kind: 'error', text: err.text };
    if (err instanceof Stop) return { kind: err.what };
    throw err;
  }
  return { kind: 'ok', config: cfg };
}

function checkProperties(cmd: PropertyCommand, label: string, entries: readonly PropertyEntry[], quiet: boolean): void {
  const seen = new Set<number>();
  let rc = 0;
  for (const { property, value } of entries) {
    if (property.name !== 'user-property') {
      if (seen.has(property.id)) {
        rc = 22;
        break;
      }
      seen.add(property.id);
    }
    // mosquitto_property_check_all's value rules [MQTT-3.1.2.11].
    if (
      ((property.name === 'request-problem-information' || property.name === 'request-response-information') &&
        (value as number) > 1) ||
      ((property.name === 'receive-maximum' || property.name === 'maximum-packet-size' || property.name === 'topic-alias') &&
        value === 0) ||
      (property.name === 'payload-format-indicator' && cmd === 'will' && (value as number) > 1)
    ) {
      rc = 2;
      break;
    }
  }
  if (rc !== 0) fail(quiet ? '' : `Error in ${label} properties: ${mosquittoStrerror(rc)}\n`);
}

function finishConfig(cfg: ClientConfig): void {
  if (cfg.willPayload !== undefined && cfg.willTopic === undefined) fail('Error: Will payload given, but no will topic given.\n');
  if (cfg.willRetain && cfg.willTopic === undefined) fail('Error: Will retain given, but no will topic given.\n');
  if ((cfg.certfile !== undefined) !== (cfg.keyfile !== undefined)) {
    fail('Error: Both certfile and keyfile must be provided if one of them is set.\n');
  }
  if (cfg.keyform !== undefined && cfg.keyfile === undefined) fail('Error: If keyform is set, keyfile must be also specified.\n');
  if (cfg.tlsEngineKpassSha1 !== undefined && (cfg.keyform === undefined || cfg.tlsEngine === undefined)) {
    fail('Error: when using tls-engine-kpass-sha1, both tls-engine and keyform must also be provided.\n');
  }
  if ((cfg.cafile !== undefined || cfg.capath !== undefined) && cfg.psk !== undefined) {
    fail('Error: Only one of --psk or --cafile/--capath may be used at once.\n');
  }
  if (cfg.psk !== undefined && cfg.pskIdentity === undefined) fail('Error: --psk-identity required if --psk used.\n');

  if (cfg.protocolVersion === 5) {
    if (!cfg.cleanSession && cfg.sessionExpiryInterval === -1) cfg.sessionExpiryInterval = UINT32_MAX;
    if (cfg.sessionExpiryInterval > 0) {
      if (cfg.sessionExpiryInterval === UINT32_MAX && (cfg.idPrefix !== undefined || cfg.id === undefined)) {
        fail('Error: You must provide a client id if you are using an infinite session expiry interval.\n');
      }
      cfg.props.connect.push({ property: propertyByName('session-expiry-interval')!, value: cfg.sessionExpiryInterval });
    }
  } else if (!cfg.cleanSession && (cfg.idPrefix !== undefined || cfg.id === undefined)) {
    fail('Error: You must provide a client id if you are using the -c option.\n');
  }

  if (cfg.tool === 'mosquitto_sub' && cfg.topics.length === 0) fail('Error: You must specify a topic to subscribe to.\n');
  if (cfg.host === undefined) cfg.host = 'localhost';

  checkProperties('connect', 'CONNECT', cfg.props.connect, cfg.quiet);
  checkProperties('publish', 'PUBLISH', cfg.props.publish, cfg.quiet);
  checkProperties('subscribe', 'SUBSCRIBE', cfg.props.subscribe, cfg.quiet);
  checkProperties('unsubscribe', 'UNSUBSCRIBE', cfg.props.unsubscribe, cfg.quiet);
  checkProperties('disconnect', 'DISCONNECT', cfg.props.disconnect, cfg.quiet);
  checkProperties('will', 'Will', cfg.props.will, cfg.quiet);
}
