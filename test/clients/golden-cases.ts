/**
 * The golden table: each row is run with our tool and with Debian's (2.0.11) with the same
 * arguments against the same Debian broker; stdout, stderr and exit status must match after
 * masking (harness.ts). Placeholders: {port} broker, {deny} a broker refusing everyone,
 * {closed} a port nobody listens on, {t} a topic prefix unique to the row, {dir} the row's
 * temp dir.
 */
export interface Seed {
  topic: string;
  payload: string;
  qos?: 0 | 1 | 2;
  /** MQTT.js publish properties (v5). */
  properties?: Record<string, unknown>;
}

export interface GoldenCase {
  name: string;
  tool: 'mosquitto_pub' | 'mosquitto_sub' | 'mosquitto_rr';
  args: string[];
  stdin?: string;
  /** Retained messages stored before each run (and cleared after). */
  retained?: Seed[];
  /** Published every 150 ms while the tool runs (for -C / rr responses). */
  live?: Seed[];
  /** Compare the messages that arrive on {t}/# during the run. */
  observe?: boolean;
  /** Files created in {dir} before the runs. */
  files?: Record<string, string>;
  env?: Record<string, string>;
  timeoutMs?: number;
}

const P = ['-p', '{port}'];
const JSONISH = '{"a":[1,2.5,"x\\u00e9\\n",{"q":[]}],"b":{},"c":[],"d":null,"e":true,"f":1e300,"g":0.1,"h":-0,"j":1.5e-7}';
const V5PROPS = {
  contentType: 'ct',
  userProperties: { k: 'v', k2: 'v2' },
  responseTopic: 'rt',
  correlationData: Buffer.from('cd'),
  payloadFormatIndicator: true,
};

export const CASES: GoldenCase[] = [
  // ---- usage, --help, --version, argument errors (no broker contact) ----
  { name: 'pub --help', tool: 'mosquitto_pub', args: ['--help'] },
  { name: 'sub --help', tool: 'mosquitto_sub', args: ['--help'] },
  { name: 'rr --help', tool: 'mosquitto_rr', args: ['--help'] },
  { name: 'pub --version', tool: 'mosquitto_pub', args: ['--version'] },
  { name: 'sub --version', tool: 'mosquitto_sub', args: ['--version'] },
  { name: 'pub no args: usage', tool: 'mosquitto_pub', args: [] },
  { name: 'pub topic without message', tool: 'mosquitto_pub', args: ['-t', 'a'] },
  { name: 'pub -t missing value', tool: 'mosquitto_pub', args: ['-t'] },
  { name: 'pub -p missing value', tool: 'mosquitto_pub', args: ['-p'] },
  { name: 'pub invalid port', tool: 'mosquitto_pub', args: ['-p', '70000', '-t', 'a', '-m', 'b'] },
  { name: 'pub invalid QoS', tool: 'mosquitto_pub', args: ['-q', '3', '-t', 'a', '-m', 'b'] },
  { name: 'pub combined short flags are unknown', tool: 'mosquitto_pub', args: ['-rq', '1'] },
  { name: 'pub positional is an unknown option', tool: 'mosquitto_pub', args: ['foo'] },
  { name: 'pub -C is sub only', tool: 'mosquitto_pub', args: ['-t', 'a', '-m', 'b', '-C', '3'] },
  { name: 'pub wildcard topic', tool: 'mosquitto_pub', args: ['-t', 'a/#', '-m', 'x'] },
  { name: 'pub two message modes', tool: 'mosquitto_pub', args: ['-t', 'a', '-m', 'x', '-n'] },
  { name: 'pub keepalive out of range', tool: 'mosquitto_pub', args: ['-k', '2', '-t', 'a', '-m', 'b'] },
  { name: 'pub bad protocol version', tool: 'mosquitto_pub', args: ['-V', '6', '-t', 'a', '-m', 'b'] },
  { name: 'pub -x without value', tool: 'mosquitto_pub', args: ['-x'] },
  { name: 'pub -x not a number (--help is its value)', tool: 'mosquitto_pub', args: ['-x', '--help'] },
  { name: 'pub -x out of range', tool: 'mosquitto_pub', args: ['-x', '4294967296', '-t', 'a', '-m', 'b'] },
  { name: 'pub --help stops parsing', tool: 'mosquitto_pub', args: ['--help', '-x'] },
  { name: 'pub -D not enough arguments', tool: 'mosquitto_pub', args: ['-D', 'connect'] },
  { name: 'pub -D invalid command', tool: 'mosquitto_pub', args: ['-D', 'foo', 'bar', 'baz'] },
  { name: 'pub -D invalid property', tool: 'mosquitto_pub', args: ['-D', 'connect', 'foo', '1'] },
  { name: 'pub -D property not allowed', tool: 'mosquitto_pub', args: ['-D', 'connect', 'topic-alias', '1'] },
  { name: 'pub -D property not supported', tool: 'mosquitto_pub', args: ['-D', 'publish', 'subscription-identifier', '1'] },
  { name: 'pub -D ack command not supported', tool: 'mosquitto_pub', args: ['-D', 'pubrel', 'user-property', 'a', 'b'] },
  { name: 'pub -D connack is silent', tool: 'mosquitto_pub', args: ['-D', 'connack', 'reason-string', 'x'] },
  { name: 'pub -D suback is not a command', tool: 'mosquitto_pub', args: ['-D', 'suback', 'reason-string', 'x'] },
  { name: 'pub -D value out of range', tool: 'mosquitto_pub', args: ['-D', 'connect', 'receive-maximum', '70000', '-t', 'a', '-m', 'b'] },
  { name: 'pub -D negative value', tool: 'mosquitto_pub', args: ['-D', 'connect', 'session-expiry-interval', '-1'] },
  { name: 'pub -D protocol error in CONNECT properties', tool: 'mosquitto_pub', args: ['-D', 'connect', 'receive-maximum', '0', '-t', 'a', '-m', 'b'] },
  { name: 'pub -D duplicate property', tool: 'mosquitto_pub', args: ['-D', 'will', 'will-delay-interval', '3', '-D', 'will', 'will-delay-interval', '4', '-t', 'a', '-m', 'x'] },
  { name: 'pub -D user-property needs two values', tool: 'mosquitto_pub', args: ['-D', 'connect', 'user-property', 'a'] },
  { name: 'pub -D case-insensitive names, then bad -D', tool: 'mosquitto_pub', args: ['-D', 'Publish', 'Content-Type', 'x', '-D', 'pingreq', 'x', 'y'] },
  // Mosquitto's argv syntax exactly (argv.ts): only the listed spellings, values taken whatever
  // they look like, options applied left to right with the first error winning.
  { name: 'pub --option=value is unknown', tool: 'mosquitto_pub', args: ['--topic=a', '-m', 'x'] },
  { name: 'pub -tvalue is unknown', tool: 'mosquitto_pub', args: ['-ta', '-m', 'x'] },
  { name: 'pub single-dash long option is unknown', tool: 'mosquitto_pub', args: ['-topic', 'a', '-m', 'x'] },
  { name: 'pub --no- negation is unknown', tool: 'mosquitto_pub', args: ['--no-retain', '-t', 'a', '-m', 'x'] },
  { name: 'pub a flag takes no value', tool: 'mosquitto_pub', args: ['-t', 'a', '-m', 'x', '-r', 'true'] },
  { name: 'pub -- is an unknown option', tool: 'mosquitto_pub', args: ['--', '-t', 'a', '-m', 'x'] },
  { name: 'pub - and -5 are unknown options', tool: 'mosquitto_pub', args: ['-', '-5'] },
  { name: 'pub first error wins', tool: 'mosquitto_pub', args: ['-k', '1', '-q', '5'] },
  { name: 'pub error before an unknown option', tool: 'mosquitto_pub', args: ['-q', '5', '--bogus'] },
  { name: 'pub unknown option before an error', tool: 'mosquitto_pub', args: ['--bogus', '-q', '5'] },
  { name: 'pub error before --help', tool: 'mosquitto_pub', args: ['-q', '5', '--help'] },
  { name: 'pub -i and -I checked before the missing value', tool: 'mosquitto_pub', args: ['-i', 'x', '-I'] },
  { name: 'pub message mode checked before the missing value', tool: 'mosquitto_pub', args: ['-n', '-m'] },
  { name: 'pub -D command checked before the missing fourth value', tool: 'mosquitto_pub', args: ['-D', 'bogus', 'user-property', 'a'] },
  { name: 'pub values that look like options', tool: 'mosquitto_pub', args: [...P, '-i', '-d', '-t', '{t}', '-m', '-q', '-d'], observe: true },
  { name: 'pub -D user-property values that look like options', tool: 'mosquitto_pub', args: [...P, '-D', 'publish', 'USER-PROPERTY', '-t', '-m', '-t', '{t}', '-m', 'x', '-d'], observe: true },
  // MQTT 5 lets a password go without a user name (mqtt-packet alone would refuse it).
  { name: 'pub MQTT 5 password without user name', tool: 'mosquitto_pub', args: [...P, '-V', '5', '-P', 'pw', '-t', '{t}', '-m', 'x', '-d'], observe: true },
  { name: 'pub repeated flags', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'x', '-d', '-d', '--nodelay', '--nodelay'], observe: true },
  { name: 'pub -L then -p: -p wins', tool: 'mosquitto_pub', args: ['-L', 'mqtt://127.0.0.1:{closed}/{t}', '-p', '{port}', '-m', 'x', '-d'], observe: true },
  { name: 'pub -p then -L: the URL port wins', tool: 'mosquitto_pub', args: ['-p', '{port}', '-L', 'mqtt://127.0.0.1:{closed}/a', '-m', 'x'] },
  { name: 'sub -t and -L subscribe in argv order', tool: 'mosquitto_sub', args: ['-t', '{t}/b', '-L', 'mqtt://127.0.0.1:{port}/{t}/a', '-t', '{t}/c', '-E', '-d'] },
  { name: 'pub -c needs an id (v3)', tool: 'mosquitto_pub', args: ['-c', '-t', 'a', '-m', 'b'] },
  { name: 'pub -c needs an id (v5)', tool: 'mosquitto_pub', args: ['-c', '-V', '5', '-t', 'a', '-m', 'b'] },
  { name: 'pub -i and -I together', tool: 'mosquitto_pub', args: ['-I', 'p', '-i', 'x'] },
  { name: 'sub -i empty: invalid id, exit 1', tool: 'mosquitto_sub', args: [...P, '-i', '', '-t', '{t}'] },
  { name: 'pub -i empty: invalid id, exit 1', tool: 'mosquitto_pub', args: [...P, '-i', '', '-t', '{t}', '-m', 'x'] },
  { name: 'rr -i empty: invalid id, exit 1', tool: 'mosquitto_rr', args: [...P, '-i', '', '-t', '{t}', '-e', '{t}/r', '-m', 'x'] },
  { name: 'sub -i empty --quiet: silent, exit 1', tool: 'mosquitto_sub', args: [...P, '-i', '', '-t', '{t}', '--quiet'] },
  { name: 'pub will payload without topic', tool: 'mosquitto_pub', args: ['--will-payload', 'x', '-t', 'a', '-m', 'b'] },
  { name: 'pub will retain without topic', tool: 'mosquitto_pub', args: ['--will-retain', '-t', 'a', '-m', 'b'] },
  { name: 'pub invalid will QoS', tool: 'mosquitto_pub', args: ['--will-qos', '3'] },
  { name: 'pub wildcard will topic', tool: 'mosquitto_pub', args: ['--will-topic', 'a/+'] },
  { name: 'pub cert without key', tool: 'mosquitto_pub', args: ['--cert', 'x', '-t', 'a', '-m', 'b'] },
  { name: 'pub psk without identity', tool: 'mosquitto_pub', args: ['--psk', '00', '-t', 'a', '-m', 'b'] },
  { name: 'pub -L unsupported scheme', tool: 'mosquitto_pub', args: ['-L', 'foo://x/t', '-m', 'a'] },
  { name: 'pub -L topic missing', tool: 'mosquitto_pub', args: ['-L', 'mqtt://x', '-m', 'a'] },
  { name: 'pub --proxy unsupported', tool: 'mosquitto_pub', args: ['--proxy', 'http://x', '-t', 'a', '-m', 'b'] },
  { name: 'pub --proxy invalid', tool: 'mosquitto_pub', args: ['--proxy', 'socks5h://', '-t', 'a', '-m', 'b'] },
  { name: 'pub -M 0', tool: 'mosquitto_pub', args: ['-M', '0', '-t', 'a', '-m', 'b'] },
  { name: 'pub --repeat 0', tool: 'mosquitto_pub', args: ['--repeat', '0'] },
  { name: 'pub --repeat-delay negative', tool: 'mosquitto_pub', args: ['--repeat-delay', '-1'] },
  { name: 'pub control character in topic', tool: 'mosquitto_pub', args: ['-t', 'a\tb', '-m', 'x'] },
  { name: 'pub -s with empty stdin', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-s'], stdin: '' },
  { name: 'pub -f missing file', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-f', '{dir}/nonexistent'] },
  { name: 'pub -P without -u (v3)', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'x', '-P', 'pw'] },
  { name: 'pub --cafile missing', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'x', '--cafile', '{dir}/none.pem'] },
  { name: 'sub without topic', tool: 'mosquitto_sub', args: ['-p', '1'] },
  { name: 'sub invalid filter', tool: 'mosquitto_sub', args: ['-t', 'a/#/b'] },
  { name: 'sub invalid -T filter', tool: 'mosquitto_sub', args: ['-T', 'a/#/b', '-t', 'a'] },
  { name: 'sub invalid -U filter', tool: 'mosquitto_sub', args: ['-U', 'a/#/'] },
  { name: 'sub -U without value', tool: 'mosquitto_sub', args: ['-t', 'a', '-U'] },
  { name: 'sub -C 0', tool: 'mosquitto_sub', args: ['-t', 'a', '-C', '0'] },
  { name: 'sub -W 0', tool: 'mosquitto_sub', args: ['-t', 'a', '-W', '0'] },
  { name: 'sub --random-filter 0', tool: 'mosquitto_sub', args: ['-t', 'a', '--random-filter', '0'] },
  { name: 'sub -R with --retained-only', tool: 'mosquitto_sub', args: ['-t', 'a', '-R', '--retained-only'] },
  { name: 'sub -F incomplete', tool: 'mosquitto_sub', args: ['-F', '%', '-t', 'a'] },
  { name: 'sub -F invalid specifier', tool: 'mosquitto_sub', args: ['-F', '%z', '-t', 'a'] },
  { name: 'sub -F invalid escape', tool: 'mosquitto_sub', args: ['-F', '\\q', '-t', 'a'] },
  { name: 'sub -F trailing @', tool: 'mosquitto_sub', args: ['-F', 'x@', '-t', 'a'] },
  { name: 'sub -m is pub only', tool: 'mosquitto_sub', args: ['-t', 'a', '-m', 'x'] },
  { name: 'rr missing response topic', tool: 'mosquitto_rr', args: ['-t', 'a', '-m', 'b'] },
  { name: 'rr wildcard response topic', tool: 'mosquitto_rr', args: ['-t', 'a', '-e', 'b/+', '-m', 'x'] },
  { name: 'rr rejects -r', tool: 'mosquitto_rr', args: ['-t', 'a', '-e', 'b', '-m', 'x', '-r'] },
  { name: 'rr duplicate response topic', tool: 'mosquitto_rr', args: [...P, '-t', '{t}', '-e', '{t}/r', '-m', 'x', '-D', 'publish', 'response-topic', 'foo'] },

  // ---- connection failures and refusals ----
  { name: 'pub connection refused', tool: 'mosquitto_pub', args: ['-p', '{closed}', '-t', 'a', '-m', 'x'] },
  { name: 'pub connection refused --quiet', tool: 'mosquitto_pub', args: ['-p', '{closed}', '-t', 'a', '-m', 'x', '--quiet'] },
  { name: 'sub connection refused', tool: 'mosquitto_sub', args: ['-p', '{closed}', '-t', 'a'] },
  { name: 'pub CONNACK refused v3.1.1', tool: 'mosquitto_pub', args: ['-p', '{deny}', '-t', 'a', '-m', 'x', '-d'] },
  { name: 'pub CONNACK refused v5', tool: 'mosquitto_pub', args: ['-p', '{deny}', '-t', 'a', '-m', 'x', '-V', '5'] },
  { name: 'pub CONNACK refused v3.1', tool: 'mosquitto_pub', args: ['-p', '{deny}', '-t', 'a', '-m', 'x', '-V', 'mqttv31', '-i', 'c31'] },
  { name: 'sub CONNACK refused v5', tool: 'mosquitto_sub', args: ['-p', '{deny}', '-t', 'a', '-V', 'mqttv5', '-d'] },
  { name: 'rr CONNACK refused', tool: 'mosquitto_rr', args: ['-p', '{deny}', '-t', 'a', '-e', 'b', '-m', 'x'] },

  // ---- mosquitto_pub against the broker ----
  { name: 'pub -d QoS 0', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'x', '-d'], observe: true },
  { name: 'pub -d QoS 1 retained', tool: 'mosquitto_pub', args: [...P, '-t', '{t}/r', '-m', 'hello', '-q', '1', '-r', '-d'], observe: true },
  { name: 'pub -d QoS 2 v5', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'x', '-q', '2', '-V', '5', '-d'], observe: true },
  { name: 'pub -d v3.1 with id', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'x', '-q', '1', '-V', '31', '-i', 'gold31', '-d'], observe: true },
  { name: 'pub -d v3.1 without id', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'x', '-V', '31', '-d'] },
  { name: 'pub -n', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-n', '-d'], observe: true },
  { name: 'pub empty -m', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', '', '-d'], observe: true },
  { name: 'pub -f file', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-f', '{dir}/msg.txt', '-d'], files: { 'msg.txt': 'line one\nline two\n' }, observe: true },
  { name: 'pub -s stdin', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-s', '-q', '1', '-d'], stdin: 'all\nof\nit', observe: true },
  { name: 'pub -l lines QoS 1', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-l', '-q', '1'], stdin: 'a\n\nb\r\nlast', observe: true },
  { name: 'pub -l lines QoS 0', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-l'], stdin: 'one\ntwo\nthree\n', observe: true },
  { name: 'pub -l empty stdin', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-l', '-d'], stdin: '' },
  { name: 'pub --repeat 3 QoS 1', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'r', '--repeat', '3', '-q', '1', '-d'], observe: true },
  { name: 'pub --repeat with delay', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'r', '--repeat', '2', '--repeat-delay', '0.1'], observe: true },
  { name: 'pub v5 publish properties', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'p', '-q', '1', '-D', 'publish', 'content-type', 'text/plain', '-D', 'publish', 'user-property', 'k', 'v', '-D', 'publish', 'message-expiry-interval', '60', '-D', 'publish', 'correlation-data', 'cd', '-D', 'publish', 'response-topic', 'rt', '-D', 'publish', 'payload-format-indicator', '1', '-d'], observe: true },
  { name: 'pub v5 topic alias with --repeat', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'x', '--repeat', '3', '-q', '1', '-D', 'publish', 'topic-alias', '1', '-d'], observe: true },
  { name: 'pub -D disconnect and will properties', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'x', '--will-topic', '{t}/w', '-D', 'will', 'will-delay-interval', '5', '-D', 'will', 'user-property', 'a', 'b', '-D', 'disconnect', 'reason-string', 'bye', '-D', 'connect', 'user-property', 'c', 'd', '-d'], observe: true },
  { name: 'pub -x forces nothing on v3', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'x', '-x', '30', '-d'], observe: true },
  { name: 'pub -c with -i v5', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'x', '-c', '-i', 'gold-c5', '-V', '5', '-x', '0x10', '-d'] },
  { name: 'pub -I prefix', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'x', '-I', 'pre-'], observe: true },
  { name: 'pub -u -P', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-m', 'x', '-u', 'user', '-P', 'pw', '-d'], observe: true },
  { name: 'pub -L URL', tool: 'mosquitto_pub', args: ['-L', 'mqtt://user:pw@127.0.0.1:{port}/{t}/url', '-m', 'x', '-d'], observe: true },
  { name: 'pub will, -k, --nodelay, -A', tool: 'mosquitto_pub', args: [...P, '-h', '127.0.0.1', '-A', '127.0.0.1', '--nodelay', '-k', '30', '-t', '{t}', '-m', 'x', '--will-topic', '{t}/will', '--will-payload', 'gone', '--will-qos', '1', '-d'], observe: true },
  { name: 'pub empty topic is a publish error', tool: 'mosquitto_pub', args: [...P, '-t', '', '-m', 'x'] },
  { name: 'pub -t twice: last wins', tool: 'mosquitto_pub', args: [...P, '-t', '{t}/first', '-m', 'x', '-t', '{t}/second'], observe: true },
  { name: 'pub -M with -l QoS 2', tool: 'mosquitto_pub', args: [...P, '-t', '{t}', '-l', '-q', '2', '-M', '2'], stdin: '1\n2\n3\n4\n5\n', observe: true },
  { name: 'pub options file', tool: 'mosquitto_pub', args: [...P, '-m', 'from-argv', '-d'], files: { '.config/mosquitto_pub': '# comment\n-t {t}/opt\n-q 1\n' }, observe: true },

  // ---- mosquitto_sub ----
  { name: 'sub retained -C 1', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-C', '1'], retained: [{ topic: '{t}/a', payload: 'hello' }] },
  { name: 'sub -v two messages', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/a', '-t', '{t}/b', '-C', '2', '-v'], retained: [{ topic: '{t}/a', payload: 'A' }, { topic: '{t}/b', payload: 'B' }] },
  { name: 'sub -N', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-C', '2', '-N'], retained: [{ topic: '{t}/a', payload: 'A' }, { topic: '{t}/b', payload: 'B' }] },
  { name: 'sub -d QoS 1', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-C', '1', '-q', '1', '-d'], retained: [{ topic: '{t}/a', payload: 'A', qos: 1 }] },
  { name: 'sub -d QoS 2 v5 -i', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-C', '1', '-q', '2', '-V', '5', '-i', 'gold-s5', '-d'], retained: [{ topic: '{t}/a', payload: 'A', qos: 2 }] },
  { name: 'sub -E', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/x', '-t', '{t}/y', '-q', '1', '-E', '-d'] },
  { name: 'sub -U after subscribe', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/x', '-U', '{t}/y', '-U', '{t}/z', '-E', '-d'] },
  { name: 'sub -W timeout', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/none', '-W', '1'] },
  { name: 'sub -R skips retained', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-R', '-W', '1', '-v'], retained: [{ topic: '{t}/a', payload: 'A' }] },
  { name: 'sub --retained-only', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '--retained-only', '-v'], retained: [{ topic: '{t}/a', payload: 'A' }], live: [{ topic: '{t}/live', payload: 'L' }] },
  { name: 'sub -T filters out', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-T', '{t}/a', '-C', '1', '-v'], retained: [{ topic: '{t}/a', payload: 'A' }, { topic: '{t}/b', payload: 'B' }] },
  // (With -C the Debian 2.0.11 tool never exits after --remove-retained; -W ends both runs.)
  { name: 'sub --remove-retained', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '--remove-retained', '-W', '1', '-v', '-d'], retained: [{ topic: '{t}/a', payload: 'A' }], observe: true },
  { name: 'sub live message -C 1', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/live', '-C', '1', '-v'], live: [{ topic: '{t}/live', payload: 'L' }] },
  { name: 'sub empty payload, -v empty payload', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-C', '2', '-v'], retained: [{ topic: '{t}/a', payload: 'A' }], live: [{ topic: '{t}/e', payload: '' }] },
  { name: 'sub -F fields', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-C', '2', '-F', '[%t|%p|%l|%q|%r|%m|%x|%X|%%]'], retained: [{ topic: '{t}/a', payload: 'hello' }, { topic: '{t}/b', payload: 'bin\u0001ary' }] },
  { name: 'sub -F widths', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-C', '1', '-F', '[%5A|%-5E|%05F|%10C|%R|%D|%P|%20.6t|%-8p|%18x|%05l|%-3q|%3m]'], retained: [{ topic: '{t}/a', payload: '  [1, 2] ' }] },
  { name: 'sub -F v5 properties', tool: 'mosquitto_sub', args: [...P, '-V', '5', '-t', '{t}/#', '-C', '1', '-F', '%C|%R|%D|%P|%F|%10E'], retained: [{ topic: '{t}/a', payload: 'x', properties: V5PROPS }] },
  { name: 'sub -F escapes', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-C', '1', '-F', 'a\\tb\\\\c\\e\\a\\v\\r\\0end@@'], retained: [{ topic: '{t}/a', payload: 'x' }] },
  { name: 'sub -F time codes (masked)', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-C', '1', '-F', '%I|%U|@Y-@m-@d'], retained: [{ topic: '{t}/a', payload: 'x' }] },
  { name: 'sub %j', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-C', '2', '-F', '%j', '-q', '1'], retained: [{ topic: '{t}/a', payload: 'not json "q" \\ tab\t' }, { topic: '{t}/b', payload: JSONISH, qos: 1 }] },
  { name: 'sub %J --pretty', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-C', '2', '-F', '%J', '--pretty'], retained: [{ topic: '{t}/a', payload: '  [1, 2] ' }, { topic: '{t}/b', payload: JSONISH }] },
  { name: 'sub %J invalid JSON', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-C', '1', '-F', '%J'], retained: [{ topic: '{t}/a', payload: 'not json' }] },
  { name: 'sub %j v5 properties --pretty', tool: 'mosquitto_sub', args: [...P, '-V', '5', '-t', '{t}/#', '-C', '1', '-F', '%j', '--pretty'], retained: [{ topic: '{t}/a', payload: 'x', properties: V5PROPS }] },
  { name: 'sub -F with -N', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-C', '2', '-F', '%t=%p;', '-N'], retained: [{ topic: '{t}/a', payload: 'A' }, { topic: '{t}/b', payload: 'B' }] },
  { name: 'sub -L URL adds a subscription', tool: 'mosquitto_sub', args: ['-L', 'mqtt://127.0.0.1:{port}/{t}/a', '-t', '{t}/b', '-C', '2', '-v'], retained: [{ topic: '{t}/a', payload: 'A' }, { topic: '{t}/b', payload: 'B' }] },
  { name: 'sub -c -i persistent v3', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-c', '-i', 'gold-persist', '-E', '-d'] },
  { name: 'sub --retain-as-published -R v5 -d', tool: 'mosquitto_sub', args: [...P, '-V', '5', '-t', '{t}/#', '--retain-as-published', '-R', '-E', '-d'] },
  { name: 'sub -D subscribe subscription-identifier', tool: 'mosquitto_sub', args: [...P, '-t', '{t}/#', '-D', 'subscribe', 'subscription-identifier', '7', '-C', '1', '-F', '%S|%t'], retained: [{ topic: '{t}/a', payload: 'A' }] },

  // ---- mosquitto_rr ----
  { name: 'rr request and response -v', tool: 'mosquitto_rr', args: [...P, '-t', '{t}/req', '-e', '{t}/resp', '-m', 'question', '-v'], live: [{ topic: '{t}/resp', payload: 'answer' }] },
  { name: 'rr -d QoS 1', tool: 'mosquitto_rr', args: [...P, '-t', '{t}/req', '-e', '{t}/resp', '-m', 'q', '-q', '1', '-d'], live: [{ topic: '{t}/resp', payload: 'answer', qos: 1 }] },
  { name: 'rr -W timeout', tool: 'mosquitto_rr', args: [...P, '-t', '{t}/req', '-e', '{t}/resp', '-m', 'q', '-W', '1'] },
  { name: 'rr v3.1.1 -W timeout -d', tool: 'mosquitto_rr', args: [...P, '-t', '{t}/req', '-e', '{t}/resp', '-m', 'q', '-V', '311', '-W', '1', '-d'] },
  { name: 'rr -F %J', tool: 'mosquitto_rr', args: [...P, '-t', '{t}/req', '-e', '{t}/resp', '-n', '-F', '%J'], live: [{ topic: '{t}/resp', payload: '{"ok":true}' }] },
  { name: 'rr request observed', tool: 'mosquitto_rr', args: [...P, '-t', '{t}/req', '-e', '{t}/resp', '-m', 'q', '-D', 'publish', 'correlation-data', 'id-1', '-W', '1'], observe: true },
];
