/**
 * Mosquitto's client option parser (client_shared.c), reproduced: options are walked left to
 * right exactly as Mosquitto does, an option that takes a value takes the next argument
 * whatever it looks like (`-t -m` publishes to topic "-m"), nothing is combined (`-rq` is an
 * unknown option), and every error text is Mosquitto's own, byte for byte. The options file is
 * read first, one option per line, and argv is applied on top.
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

class ConfigError extends Error {
  readonly text: string;
  constructor(text: string) {
    super(text);
    this.text = text;
  }
}

class Stop extends Error {
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
    protocolVersion: tool === 'mosquitto_rr' ? 5 : 4,
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
    qos: 0,
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

type Kind = 'pub' | 'sub' | 'rr';
const KIND: Record<ClientTool, Kind> = { mosquitto_pub: 'pub', mosquitto_sub: 'sub', mosquitto_rr: 'rr' };

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

/** -D / --property: `command name value` or `command user-property key value`. */
function parseProperty(cfg: ClientConfig, argv: readonly string[], start: number): number {
  const NOT_ENOUGH = 'Error: --property argument given but not enough arguments specified.\n\n';
  if (start + 2 >= argv.length) fail(NOT_ENOUGH);
  const cmdName = (argv[start] as string).toLowerCase();
  const propName = argv[start + 1] as string;
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
  let i = start + 2;
  const value = argv[i] as string;
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
      i++;
      if (i >= argv.length) fail(NOT_ENOUGH);
      entry = { property: prop, value: [value, argv[i] as string] };
      break;
    }
  }
  cfg.props[cmd].push(entry);
  return i;
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

/** Processes one argv-like list (real argv, or one line of the options file). */
function lineProc(cfg: ClientConfig, argv: readonly string[]): void {
  const kind = KIND[cfg.tool];
  const unknown = (arg: string): never => fail(`Error: Unknown option '${arg}'.\n`);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const last = i === argv.length - 1;
    const next = (): string => argv[i + 1] as string;
    const need = (text: string): string => {
      if (last) fail(text);
      return next();
    };
    switch (arg) {
      case '-A':
        cfg.bindAddress = need('Error: -A argument given but no address specified.\n\n');
        i++;
        break;
      case '--cafile':
        cfg.cafile = need('Error: --cafile argument given but no file specified.\n\n');
        i++;
        break;
      case '--capath':
        cfg.capath = need('Error: --capath argument given but no directory specified.\n\n');
        i++;
        break;
      case '--cert':
        cfg.certfile = need('Error: --cert argument given but no file specified.\n\n');
        i++;
        break;
      case '--ciphers':
        cfg.ciphers = need('Error: --ciphers argument given but no ciphers specified.\n\n');
        i++;
        break;
      case '-C': {
        if (kind !== 'sub') unknown(arg);
        const v = atoi(need('Error: -C argument given but no count specified.\n\n'));
        if (v < 1) fail(`Error: Invalid message count "${v}".\n\n`);
        cfg.msgCount = v;
        i++;
        break;
      }
      case '-c':
      case '--disable-clean-session':
        cfg.cleanSession = false;
        break;
      case '-d':
      case '--debug':
        cfg.debug = true;
        break;
      case '-D':
      case '--property':
        i = parseProperty(cfg, argv, i + 1);
        cfg.protocolVersion = 5;
        break;
      case '-e':
        if (kind !== 'rr') unknown(arg);
        addTopic(cfg, 'response', need('Error: -e argument given but no response topic specified.\n\n'), '-e');
        i++;
        break;
      case '-E':
        if (kind !== 'sub') unknown(arg);
        cfg.exitAfterSub = true;
        break;
      case '-f':
      case '--file':
        if (kind === 'sub') unknown(arg);
        if (cfg.pubMode !== MsgMode.NONE) fail('Error: Only one type of message can be sent at once.\n\n');
        cfg.fileInput = need('Error: -f argument given but no file specified.\n\n');
        cfg.pubMode = MsgMode.FILE;
        i++;
        break;
      case '-F': {
        if (kind === 'pub') unknown(arg);
        const format = need('Error: -F argument given but no format specified.\n\n');
        const err = checkFormat(format);
        if (err) fail(err);
        cfg.format = format;
        i++;
        break;
      }
      case '--help':
        throw new Stop('help');
      case '-h':
      case '--host':
        cfg.host = need('Error: -h argument given but no host specified.\n\n');
        i++;
        break;
      case '--insecure':
        cfg.insecure = true;
        break;
      case '-i':
      case '--id':
        if (cfg.idPrefix !== undefined) fail('Error: -i and -I argument cannot be used together.\n\n');
        cfg.id = need('Error: -i argument given but no id specified.\n\n');
        i++;
        break;
      case '-I':
      case '--id-prefix':
        if (cfg.id !== undefined) fail('Error: -i and -I argument cannot be used together.\n\n');
        cfg.idPrefix = need('Error: -I argument given but no id prefix specified.\n\n');
        i++;
        break;
      case '-k':
      case '--keepalive': {
        const v = atoi(need('Error: -k argument given but no keepalive specified.\n\n'));
        if (v < 5 || v > 65535) fail('Error: Invalid keepalive given, it must be between 5 and 65535 inclusive.\n\n');
        cfg.keepalive = v;
        i++;
        break;
      }
      case '--key':
        cfg.keyfile = need('Error: --key argument given but no file specified.\n\n');
        i++;
        break;
      case '--keyform':
        cfg.keyform = need('Error: --keyform argument given but no keyform specified.\n\n');
        i++;
        break;
      case '-L':
      case '--url':
        parseUrl(cfg, kind, need('Error: -L argument given but no URL specified.\n\n'));
        i++;
        break;
      case '-l':
      case '--stdin-line':
        if (kind !== 'pub') unknown(arg);
        if (cfg.pubMode !== MsgMode.NONE) fail('Error: Only one type of message can be sent at once.\n\n');
        cfg.pubMode = MsgMode.STDIN_LINE;
        break;
      case '-m':
      case '--message': {
        if (kind === 'sub') unknown(arg);
        if (cfg.pubMode !== MsgMode.NONE) fail('Error: Only one type of message can be sent at once.\n\n');
        const m = need('Error: -m argument given but no message specified.\n\n');
        if (Buffer.byteLength(m) > 268435455) fail('Error: Message length must be less than 268435455 bytes.\n\n');
        cfg.message = m;
        cfg.pubMode = MsgMode.CMD;
        i++;
        break;
      }
      case '-M': {
        const v = atoi(need('Error: -M argument given but max_inflight not specified.\n\n'));
        if (v < 1) fail('Error: Maximum inflight messages must be greater than 0.\n\n');
        cfg.maxInflight = v;
        i++;
        break;
      }
      case '--nodelay':
        cfg.tcpNoDelay = true;
        break;
      case '--no-tls':
        cfg.noTls = true;
        break;
      case '-n':
      case '--null-message':
        if (kind === 'sub') unknown(arg);
        if (cfg.pubMode !== MsgMode.NONE) fail('Error: Only one type of message can be sent at once.\n\n');
        cfg.pubMode = MsgMode.NULL;
        break;
      case '-N':
        if (kind === 'pub') unknown(arg);
        cfg.eol = false;
        break;
      case '-o':
        // 2.1: options file, already read before the argument walk.
        need('Error: -o argument given but no options file specified.\n\n');
        i++;
        break;
      case '-p':
      case '--port': {
        const v = atoi(need('Error: -p argument given but no port specified.\n\n'));
        if (v < 0 || v > 65535) fail(`Error: Invalid port given: ${v}\n`);
        cfg.port = v;
        i++;
        break;
      }
      case '--pretty':
        if (kind === 'pub') unknown(arg);
        cfg.pretty = true;
        break;
      case '-P':
      case '--pw':
        cfg.password = need('Error: -P argument given but no password specified.\n\n');
        i++;
        break;
      case '--proxy':
        parseSocksUrl(cfg, need('Error: --proxy argument given but no proxy url specified.\n\n'));
        i++;
        break;
      case '--psk':
        cfg.psk = need('Error: --psk argument given but no key specified.\n\n');
        i++;
        break;
      case '--psk-identity':
        cfg.pskIdentity = need('Error: --psk-identity argument given but no identity specified.\n\n');
        i++;
        break;
      case '-q':
      case '--qos': {
        const v = atoi(need('Error: -q argument given but no QoS specified.\n\n'));
        if (v < 0 || v > 2) fail(`Error: Invalid QoS given: ${v}\n`);
        cfg.qos = v as QoS;
        i++;
        break;
      }
      case '--quiet':
        cfg.quiet = true;
        break;
      case '-r':
      case '--retain':
        if (kind !== 'pub') unknown(arg);
        cfg.retain = true;
        break;
      case '-R':
        if (kind === 'pub') unknown(arg);
        cfg.noRetain = true;
        cfg.subOpts |= 0x20; // retain handling 2: never send [MQTT-3.8.3.1]
        break;
      case '--random-filter': {
        if (kind !== 'sub') unknown(arg);
        const v = Math.trunc(10.0 * atof(need('Error: --random-filter argument given but no chance specified.\n\n')));
        if (!(v <= 10000 && v >= 1)) fail('Error: --random-filter chance must be between 0.1-100.0\n\n');
        cfg.randomFilter = v;
        i++;
        break;
      }
      case '--remove-retained':
        if (kind !== 'sub') unknown(arg);
        cfg.removeRetained = true;
        break;
      case '--repeat': {
        if (kind !== 'pub') unknown(arg);
        const v = atoi(need('Error: --repeat argument given but no count specified.\n\n'));
        if (v < 1) fail('Error: --repeat argument must be >0.\n\n');
        cfg.repeatCount = v;
        i++;
        break;
      }
      case '--repeat-delay': {
        if (kind !== 'pub') unknown(arg);
        const f = Math.fround(atof(need('Error: --repeat-delay argument given but no time specified.\n\n')));
        if (f < 0) fail('Error: --repeat-delay argument must be >=0.0.\n\n');
        cfg.repeatDelayUs = Math.trunc(Math.fround(f * 1.0e6));
        i++;
        break;
      }
      case '--retain-as-published':
        if (kind === 'pub') unknown(arg);
        cfg.retainAsPublished = true;
        break;
      case '--retained-only':
        if (kind !== 'sub') unknown(arg);
        cfg.retainedOnly = true;
        break;
      case '-s':
      case '--stdin-file':
        if (kind === 'sub') unknown(arg);
        if (cfg.pubMode !== MsgMode.NONE) fail('Error: Only one type of message can be sent at once.\n\n');
        cfg.pubMode = MsgMode.STDIN_FILE;
        break;
      case '-t':
      case '--topic':
        addTopic(cfg, kind, need('Error: -t argument given but no topic specified.\n\n'), '-t');
        i++;
        break;
      case '-T':
      case '--filter-out': {
        if (kind !== 'sub') unknown(arg);
        const t = need('Error: -T argument given but no topic filter specified.\n\n');
        if (!isValidMqttUtf8(t)) fail('Error: Malformed UTF-8 in -T argument.\n\n');
        if (!isValidSubscribeFilter(t)) fail(`Error: Invalid filter topic '${t}', are all '+' and '#' wildcards correct?\n`);
        cfg.filterOuts.push(t);
        i++;
        break;
      }
      case '--tls-alpn':
        cfg.tlsAlpn = need('Error: --tls-alpn argument given but no protocol specified.\n\n');
        i++;
        break;
      case '--tls-engine':
        cfg.tlsEngine = need('Error: --tls-engine argument given but no engine_id specified.\n\n');
        i++;
        break;
      case '--tls-engine-kpass-sha1':
        cfg.tlsEngineKpassSha1 = need('Error: --tls-engine-kpass-sha1 argument given but no kpass sha1 specified.\n\n');
        i++;
        break;
      case '--tls-use-os-certs':
        cfg.tlsUseOsCerts = true;
        break;
      case '--tls-version':
        cfg.tlsVersion = need('Error: --tls-version argument given but no version specified.\n\n');
        i++;
        break;
      case '-U':
      case '--unsubscribe': {
        if (kind !== 'sub') unknown(arg);
        const t = need('Error: -U argument given but no unsubscribe topic specified.\n\n');
        if (!isValidMqttUtf8(t)) fail('Error: Malformed UTF-8 in -U argument.\n\n');
        if (!isValidSubscribeFilter(t)) {
          fail(`Error: Invalid unsubscribe topic '${t}', are all '+' and '#' wildcards correct?\n`);
        }
        cfg.unsubTopics.push(t);
        i++;
        break;
      }
      case '-u':
      case '--username':
        cfg.username = need('Error: -u argument given but no username specified.\n\n');
        i++;
        break;
      case '--unix':
        cfg.host = need('Error: --unix argument given but no socket path specified.\n\n');
        cfg.port = 0;
        cfg.unixSocket = true;
        i++;
        break;
      case '-V':
      case '--protocol-version': {
        const v = need('Error: --protocol-version argument given but no version specified.\n\n');
        if (v === 'mqttv31' || v === '31') cfg.protocolVersion = 3;
        else if (v === 'mqttv311' || v === '311') cfg.protocolVersion = 4;
        else if (v === 'mqttv5' || v === '5') cfg.protocolVersion = 5;
        else fail('Error: Invalid protocol version argument given.\n\n');
        i++;
        break;
      }
      case '-v':
      case '--verbose':
        if (kind === 'pub') unknown(arg);
        cfg.verbose = true;
        break;
      case '--version':
        throw new Stop('version');
      case '-W': {
        if (kind === 'pub') unknown(arg);
        const v = atoi(need('Error: -W argument given but no timeout specified.\n\n'));
        if (v < 1) fail(`Error: Invalid timeout "${v}".\n\n`);
        cfg.timeout = v;
        i++;
        break;
      }
      case '--will-payload':
        cfg.willPayload = need('Error: --will-payload argument given but no will payload specified.\n\n');
        i++;
        break;
      case '--will-qos': {
        const v = atoi(need('Error: --will-qos argument given but no will QoS specified.\n\n'));
        if (v < 0 || v > 2) fail(`Error: Invalid will QoS ${v}.\n\n`);
        cfg.willQos = v as QoS;
        i++;
        break;
      }
      case '--will-retain':
        cfg.willRetain = true;
        break;
      case '--will-topic': {
        const t = need('Error: --will-topic argument given but no will topic specified.\n\n');
        if (!isValidMqttUtf8(t)) fail('Error: Malformed UTF-8 in --will-topic argument.\n\n');
        if (!isValidPublishTopic(t)) fail(`Error: Invalid will topic '${t}', does it contain '+' or '#'?\n`);
        cfg.willTopic = t;
        i++;
        break;
      }
      case '--ws':
        cfg.transport = 'websockets';
        break;
      case '-x': {
        const v = need('Error: -x argument given but no session expiry interval specified.\n\n');
        if (v === '∞') {
          cfg.sessionExpiryInterval = UINT32_MAX;
        } else {
          const { value, used } = strtol(v, 0);
          if (used === 0 || used !== v.length) fail('Error: session-expiry-interval not a number.\n\n');
          if (value > BigInt(UINT32_MAX) || value < -1n) fail('Error: session-expiry-interval out of range.\n\n');
          cfg.sessionExpiryInterval = value === -1n ? UINT32_MAX : Number(value);
        }
        i++;
        break;
      }
      default:
        unknown(arg);
    }
  }
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
