// The mosquitto.conf parser: table-driven valid and invalid configs, include_dir with real
// files, the command line, SIGHUP reload and the unsupported-feature list.

import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  compareIncludePaths,
  defaultConfig,
  loadBrokerConfig,
  loadConfigFile,
  parseCommandLine,
  parseConfig,
  reloadableOptions,
  reloadConfig,
  toBrokerSettings,
  unsupportedOptionMessage,
  unsupportedOptions,
  usageText,
  IMPLEMENTED_FEATURES,
  type BrokerConfig,
  type ConfigResult,
} from '../src/index.js';
import { INCLUDE_CASES } from './fixtures/config/include-cases.js';

/** The port a bridge address without one gets (reference 2.7). */
const MQTT_DEFAULT_PORT = 1883;
import { INVALID_CASES } from './fixtures/config/invalid-cases.js';

const FIXTURES = new URL('../../test/fixtures/config/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'skeeter-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const HOST = 'testhost';

function parse(conf: string): ConfigResult {
  // Table texts are byte strings (latin1) so invalid UTF-8 can be written as \xNN.
  return parseConfig(Buffer.from(conf, 'latin1'), { fileName: 'test.conf', hostname: HOST });
}

function ok(conf: string): BrokerConfig {
  const r = parse(conf);
  if (!r.ok) assert.fail(`expected success, got:\n${r.messages.map((m) => m.text).join('\n')}`);
  return r.config;
}

describe('invalid configs: exact messages, line and exit status 3', () => {
  for (const k of INVALID_CASES) {
    test(k.name, () => {
      const r = parse(k.conf);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.exitCode, 3);
      assert.deepEqual(
        r.messages.map((m) => m.text),
        k.lines.map((l) => l.replaceAll('FILE', 'test.conf')),
      );
      assert.equal(r.line, k.line);
      assert.equal(r.messages.at(-1)?.level, 'error');
    });
  }
});

interface ValidCase {
  name: string;
  conf: string;
  check: (c: BrokerConfig) => void;
}

const VALID: ValidCase[] = [
  {
    name: 'empty file: local-only defaults',
    conf: '',
    check: (c) => {
      assert.equal(c.localOnly, true);
      assert.deepEqual(
        c.listeners.map((l) => [l.origin, l.host, l.port, l.security.allowAnonymous]),
        [['local-only', '127.0.0.1', 1883, true], ['local-only', '::1', 1883, true]],
      );
      assert.equal(c.security.allowAnonymous, true);
      assert.equal(c.security.autoIdPrefix, 'auto-');
      assert.equal(c.maxKeepalive, 0);
      assert.equal(c.maxInflightMessages, 20);
      assert.equal(c.maxQueuedMessages, 1000);
      assert.equal(c.sysInterval, 10);
      assert.equal(c.allowDuplicateMessages, false);
      assert.equal(c.checkRetainSource, false);
      assert.equal(c.user, 'mosquitto');
      assert.deepEqual(c.logTypes, ['error', 'warning', 'notice', 'information']);
      assert.deepEqual(c.logDest, { stdout: false, stderr: true, syslog: false, topic: false, dlt: false, file: false });
    },
  },
  {
    name: 'comments, blank lines, CRLF and leading spaces',
    conf: '# comment\r\n\r\n   \n  sys_interval 5\r\n#listener 1\nmax_queued_messages 7 trailing words\n',
    check: (c) => {
      assert.equal(c.sysInterval, 5);
      assert.equal(c.maxQueuedMessages, 7);
      assert.equal(c.localOnly, true);
    },
  },
  {
    name: 'a NUL byte ends the file (Mosquitto drops that line and the rest)',
    conf: 'sys_interval 4\nbogus\0x\nbogus2\n',
    check: (c) => assert.equal(c.sysInterval, 4),
  },
  {
    name: 'last line without newline',
    conf: 'sys_interval 3',
    check: (c) => assert.equal(c.sysInterval, 3),
  },
  {
    name: 'booleans accept true/false/1/0',
    conf: 'connection_messages 0\nlog_timestamp false\nqueue_qos0_messages 1\nretain_available false\nset_tcp_nodelay true\nupgrade_outgoing_qos 1\n',
    check: (c) => {
      assert.equal(c.connectionMessages, false);
      assert.equal(c.logTimestamp, false);
      assert.equal(c.queueQos0Messages, true);
      assert.equal(c.retainAvailable, false);
      assert.equal(c.setTcpNodelay, true);
      assert.equal(c.upgradeOutgoingQos, true);
    },
  },
  {
    name: 'integers read like atoi',
    conf: 'sys_interval abc\nmax_queued_bytes 12kb\nautosave_interval -5\nmax_inflight_bytes -1\nmax_queued_messages -3\n',
    check: (c) => {
      assert.equal(c.sysInterval, 0);
      assert.equal(c.maxQueuedBytes, 12);
      assert.equal(c.autosaveInterval, 0);
      assert.equal(c.maxInflightBytes, 0);
      assert.equal(c.maxQueuedMessages, 0);
    },
  },
  {
    name: 'atoi keeps the low 32 bits',
    conf: 'sys_interval 4294967306\n',
    check: (c) => assert.equal(c.sysInterval, 10),
  },
  {
    name: 'max_inflight_messages 65535 and negative mean unlimited (0)',
    conf: 'max_inflight_messages 65535\n',
    check: (c) => assert.equal(c.maxInflightMessages, 0),
  },
  {
    name: 'max_keepalive 0 is allowed in 2.0.20',
    conf: 'max_keepalive 0\n',
    check: (c) => assert.equal(c.maxKeepalive, 0),
  },
  {
    name: 'string values: rest of line, trimmed, spaces kept inside',
    conf: 'pid_file    /tmp/my pid file.pid  \t\nlog_timestamp_format %Y-%m-%dT%H:%M:%S\n',
    check: (c) => {
      assert.equal(c.pidFile, '/tmp/my pid file.pid');
      assert.equal(c.logTimestampFormat, '%Y-%m-%dT%H:%M:%S');
    },
  },
  {
    name: 'UTF-8 string values',
    conf: 'auto_id_prefix \xc3\xa9t\xc3\xa9-\n',
    check: (c) => assert.equal(c.security.autoIdPrefix, 'été-'),
  },
  {
    name: 'persistence path joined with /',
    conf: 'persistence true\npersistence_location /var/lib/mosquitto/\n',
    check: (c) => {
      assert.equal(c.persistence, true);
      assert.equal(c.persistenceFile, 'mosquitto.db');
      assert.equal(c.persistenceFilePath, '/var/lib/mosquitto//mosquitto.db');
    },
  },
  {
    name: 'retained_persistence alias',
    conf: 'retained_persistence true\npersistence_file x.db\n',
    check: (c) => assert.equal(c.persistenceFilePath, 'x.db'),
  },
  {
    name: 'persistent_client_expiration units',
    conf: 'persistent_client_expiration 2m\n',
    check: (c) => assert.equal(c.persistentClientExpiration, 2 * 30 * 86400),
  },
  {
    name: 'log_dest: first line replaces the default, lines accumulate, file path untrimmed at end',
    conf: 'log_dest stdout\nlog_dest file /tmp/log file.log\nlog_dest topic\n',
    check: (c) => {
      assert.deepEqual(c.logDest, { stdout: true, stderr: false, syslog: false, topic: true, dlt: false, file: true });
      assert.equal(c.logFile, '/tmp/log file.log');
    },
  },
  {
    name: 'log_dest none resets what came before',
    conf: 'log_dest stdout\nlog_dest none\nlog_dest syslog\n',
    check: (c) => assert.deepEqual(c.logDest, { stdout: false, stderr: false, syslog: true, topic: false, dlt: false, file: false }),
  },
  {
    name: 'log_type accumulates, all and none',
    conf: 'log_type debug\nlog_type subscribe\n',
    check: (c) => assert.deepEqual(c.logTypes, ['debug', 'subscribe']),
  },
  {
    name: 'log_type all',
    conf: 'log_type none\nlog_type all\n',
    check: (c) => assert.equal(c.logTypes.length, 9),
  },
  {
    name: 'empty log_type is reported but not fatal',
    conf: 'log_type\n',
    check: (c) => assert.deepEqual(c.messages, [{ level: 'error', text: 'Error: Empty log_type value in configuration.' }]),
  },
  {
    name: 'log_facility N is localN',
    conf: 'log_facility 3\n',
    check: (c) => assert.equal(c.logFacility, 3),
  },
  {
    name: 'a listener ends local-only mode and makes anonymous default to false',
    conf: 'listener 1884\n',
    check: (c) => {
      assert.equal(c.localOnly, false);
      assert.equal(c.security.allowAnonymous, false);
      assert.deepEqual(c.listeners.map((l) => [l.origin, l.port, l.host, l.file, l.line]), [['listener', 1884, undefined, 'test.conf', 1]]);
    },
  },
  {
    name: 'listener with bind address; comment and extra tokens ignored',
    conf: 'listener 1884 127.0.0.1 extra\nlistener 1885 # comment\nallow_anonymous true\n',
    check: (c) => {
      assert.deepEqual(c.listeners.map((l) => [l.port, l.host]), [[1884, '127.0.0.1'], [1885, undefined]]);
      assert.equal(c.security.allowAnonymous, true);
    },
  },
  {
    name: 'unix socket listener',
    conf: 'listener 0 /tmp/mosq.sock\n',
    check: (c) => {
      assert.equal(c.listeners[0]?.unixSocketPath, '/tmp/mosq.sock');
      assert.equal(c.listeners[0]?.host, undefined);
    },
  },
  {
    name: 'listener options apply to the most recent listener',
    conf: 'listener 1884\nmax_connections 5\nmax_qos 1\nlistener 1885\nmount_point m/\nmax_topic_alias 0\nprotocol websockets\nsocket_domain ipv4\nuse_username_as_clientid true\n',
    check: (c) => {
      const [a, b] = c.listeners;
      assert.equal(a?.maxConnections, 5);
      assert.equal(a?.maxQos, 1);
      assert.equal(a?.mountPoint, undefined);
      assert.equal(b?.maxConnections, -1);
      assert.equal(b?.mountPoint, 'm/');
      assert.equal(b?.maxTopicAlias, 0);
      assert.equal(b?.protocol, 'websockets');
      assert.equal(b?.socketDomain, 'ipv4');
      assert.equal(b?.useUsernameAsClientId, true);
    },
  },
  {
    name: 'port alone: implicit default listener, deprecation notice',
    conf: 'port 1884\n',
    check: (c) => {
      assert.equal(c.localOnly, false);
      assert.deepEqual(c.listeners.map((l) => [l.origin, l.port, l.host]), [['default', 1884, undefined]]);
      assert.equal(c.messages[0]?.level, 'notice');
      assert.equal(c.security.allowAnonymous, false);
    },
  },
  {
    name: 'bind_address alone: default listener on 1883',
    conf: 'bind_address 127.0.0.1\n',
    check: (c) => assert.deepEqual(c.listeners.map((l) => [l.origin, l.port, l.host]), [['default', 1883, '127.0.0.1']]),
  },
  {
    name: 'default listener comes after explicit listeners',
    conf: 'max_connections 3\nlistener 1884\n',
    check: (c) => assert.deepEqual(c.listeners.map((l) => [l.origin, l.port, l.maxConnections]), [['listener', 1884, -1], ['default', 1883, 3]]),
  },
  {
    name: 'listener options without a listener stay local-only (2.0.12+)',
    conf: 'max_connections 3\nsocket_domain ipv4\n',
    check: (c) => {
      assert.equal(c.localOnly, true);
      assert.deepEqual(c.listeners.map((l) => l.origin), ['local-only', 'local-only']);
      assert.equal(c.listeners[0]?.maxConnections, -1);
    },
  },
  {
    name: 'per_listener_settings: security options per listener, anonymous default false each',
    conf: 'per_listener_settings true\nlistener 1884\nallow_anonymous true\npassword_file /p1\nlistener 1885\nacl_file /a2\nauto_id_prefix x-\n',
    check: (c) => {
      const [a, b] = c.listeners;
      assert.equal(a?.security.allowAnonymous, true);
      assert.equal(a?.security.passwordFile, '/p1');
      assert.equal(a?.security.autoIdPrefix, 'auto-');
      assert.equal(b?.security.allowAnonymous, false);
      assert.equal(b?.security.aclFile, '/a2');
      assert.equal(b?.security.autoIdPrefix, 'x-');
      assert.equal(c.security.passwordFile, undefined);
    },
  },
  {
    name: 'per_listener_settings false: same option on two listeners is global',
    conf: 'listener 1884\nallow_zero_length_clientid false\nlistener 1885\nallow_anonymous true\n',
    check: (c) => {
      assert.equal(c.security.allowZeroLengthClientId, false);
      assert.equal(c.security.allowAnonymous, true);
      assert.equal(c.listeners[0]?.security.allowZeroLengthClientId, true);
    },
  },
  {
    name: 'per_listener_settings false after security options is fine',
    conf: 'acl_file x\nper_listener_settings false\n',
    check: (c) => assert.equal(c.security.aclFile, 'x'),
  },
  {
    name: 'local-only mode forces allow_anonymous true',
    conf: 'allow_anonymous false\npassword_file /pw\n',
    check: (c) => {
      assert.equal(c.security.allowAnonymous, true);
      assert.equal(c.security.passwordFile, '/pw');
    },
  },
  {
    name: 'plugins with options, aliases, deny_special_chars',
    conf: 'plugin /a.so\nplugin_opt_config_file /x.json  \nauth_opt_abc \t v v \nauth_plugin /b.so\nauth_plugin_deny_special_chars false\n',
    check: (c) => {
      assert.deepEqual(c.security.plugins, [
        { path: '/a.so', options: [{ key: 'config_file', value: '/x.json  ' }, { key: 'abc', value: 'v v ' }], denySpecialChars: true },
        { path: '/b.so', options: [], denySpecialChars: false },
      ]);
    },
  },
  {
    name: 'TLS listener options',
    conf: 'listener 8883\ncafile /ca\ncertfile /c\nkeyfile /k\nrequire_certificate true\ntls_version tlsv1.2\nciphers_tls1.3 TLS_AES_128_GCM_SHA256\nuse_identity_as_username true\ntls_keyform engine\ntls_engine_kpass_sha1 0123456789ABCDEF0123456789abcdef01234567\n',
    check: (c) => {
      const t = c.listeners[0]?.tls;
      assert.equal(t?.cafile, '/ca');
      assert.equal(t?.certfile, '/c');
      assert.equal(t?.keyfile, '/k');
      assert.equal(t?.requireCertificate, true);
      assert.equal(t?.tlsVersion, 'tlsv1.2');
      assert.equal(t?.ciphersTls13, 'TLS_AES_128_GCM_SHA256');
      assert.equal(t?.useIdentityAsUsername, true);
      assert.equal(t?.tlsKeyform, 'engine');
      assert.equal(t?.tlsEngineKpassSha1, '0123456789abcdef0123456789abcdef01234567');
    },
  },
  {
    name: 'bridge: every option into the structure',
    conf: [
      'connection b1',
      'address broker.example:1884 10.0.0.1',
      'topic sensors/# both 1 local/ remote/',
      'topic "" in 2 a/b c/d',
      'topic cmd/+ IN',
      'topic x out 0 # a comment',
      'cleansession true',
      'local_cleansession false',
      'remote_clientid rc',
      'local_clientid lc',
      'remote_username ru',
      'password rp',
      'local_username lu',
      'local_password lp',
      'keepalive_interval 30',
      'idle_timeout 10',
      'restart_timeout 2 60',
      'threshold 5',
      'start_type lazy',
      'notifications false',
      'notifications_local_only true',
      'notification_topic n/t',
      'try_private false',
      'bridge_attempt_unsubscribe false',
      'bridge_protocol_version mqttv50',
      'bridge_outgoing_retain false',
      'bridge_max_packet_size 1000',
      'round_robin true',
      'bridge_bind_address 10.0.0.2',
      'bridge_cafile /ca',
      'bridge_insecure true',
      'bridge_alpn h2',
      'bridge_tls_version tlsv1.3',
      'bridge_require_ocsp true',
      '',
    ].join('\n'),
    check: (c) => {
      const b = c.bridges[0];
      assert.ok(b);
      // An address without a port gets MQTT's default; nothing listens here, this is parsing only.
      assert.deepEqual(b.addresses, [{ host: 'broker.example', port: 1884 }, { host: '10.0.0.1', port: MQTT_DEFAULT_PORT }]);
      assert.deepEqual(
        b.topics.map((t) => [t.pattern, t.direction, t.qos, t.localPrefix, t.remotePrefix, t.localTopic, t.remoteTopic]),
        [
          ['sensors/#', 'both', 1, 'local/', 'remote/', 'local/sensors/#', 'remote/sensors/#'],
          [undefined, 'in', 2, 'a/b', 'c/d', 'a/b', 'c/d'],
          ['cmd/+', 'in', 0, undefined, undefined, 'cmd/+', 'cmd/+'],
          ['x', 'out', 0, undefined, undefined, 'x', 'x'],
        ],
      );
      assert.equal(b.cleanSession, true);
      assert.equal(b.localCleanSession, false);
      assert.equal(b.remoteClientId, 'rc');
      assert.equal(b.localClientId, 'lc');
      assert.equal(b.remoteUsername, 'ru');
      assert.equal(b.remotePassword, 'rp');
      assert.equal(b.localUsername, 'lu');
      assert.equal(b.localPassword, 'lp');
      assert.equal(b.keepaliveInterval, 30);
      assert.equal(b.idleTimeout, 10);
      assert.deepEqual([b.restartTimeout, b.backoffBase, b.backoffCap], [2, 2, 60]);
      assert.equal(b.threshold, 5);
      assert.equal(b.startType, 'lazy');
      assert.equal(b.notifications, false);
      assert.equal(b.notificationsLocalOnly, true);
      assert.equal(b.notificationTopic, 'n/t');
      assert.equal(b.tryPrivate, false);
      assert.equal(b.attemptUnsubscribe, false);
      assert.equal(b.protocolVersion, 'mqttv50');
      assert.equal(b.outgoingRetain, false);
      assert.equal(b.maxPacketSize, 1000);
      assert.equal(b.roundRobin, true);
      assert.equal(b.bindAddress, '10.0.0.2');
      assert.deepEqual(b.tls, {
        cafile: '/ca', capath: undefined, certfile: undefined, keyfile: undefined, insecure: true, requireOcsp: true,
        version: 'tlsv1.3', alpn: 'h2', pskIdentity: undefined, psk: undefined,
      });
      assert.deepEqual(c.messages.map((m) => m.text), ['Warning: Bridge b1 using insecure mode.']);
    },
  },
  {
    name: 'bridge defaults and generated client ids',
    conf: 'connection br\naddress h\ntopic t\n',
    check: (c) => {
      const b = c.bridges[0];
      assert.equal(b?.remoteClientId, `${HOST}.br`);
      assert.equal(b?.localClientId, `local.${HOST}.br`);
      assert.equal(b?.keepaliveInterval, 60);
      assert.equal(b?.protocolVersion, 'mqttv311');
      assert.equal(b?.startType, 'automatic');
      assert.deepEqual([b?.restartTimeout, b?.backoffBase, b?.backoffCap], [0, 5, 30]);
      assert.equal(b?.localCleanSession, undefined);
    },
  },
  {
    name: 'bridge topic qos is a uint8 (256 reads as 0)',
    conf: 'connection br\naddress h\ntopic t in 256\n',
    check: (c) => assert.equal(c.bridges[0]?.topics[0]?.qos, 0),
  },
  {
    name: 'duplicate bridge topic skipped (2.0.20)',
    conf: 'connection br\naddress h\ntopic a/# out 0 x/ y/\ntopic a/# out 0 x/ y/\n',
    check: (c) => {
      assert.equal(c.bridges[0]?.topics.length, 1);
      assert.deepEqual(c.messages.map((m) => m.text), ["Duplicate bridge topic 'a/#', skipping"]);
    },
  },
  {
    name: 'bridge psk with identity',
    conf: 'connection br\naddress h\ntopic t\nbridge_identity id\nbridge_psk 0a0b\n',
    check: (c) => assert.deepEqual([c.bridges[0]?.tls.pskIdentity, c.bridges[0]?.tls.psk], ['id', '0a0b']),
  },
  {
    name: 'websockets options',
    conf: 'listener 8080\nprotocol websockets\nhttp_dir /www\nwebsockets_log_level 7\nwebsockets_headers_size 0\n',
    check: (c) => {
      assert.equal(c.listeners[0]?.httpDir, '/www');
      assert.equal(c.websocketsLogLevel, 7);
      assert.equal(c.websocketsHeadersSize, 1024);
    },
  },
  {
    name: 'memory_limit reads 64 bits',
    conf: 'memory_limit 8589934592\n',
    check: (c) => assert.equal(c.memoryLimit, 8589934592),
  },
  {
    name: 'message_size_limit with notice',
    conf: 'message_size_limit 1000\n',
    check: (c) => {
      assert.equal(c.messageSizeLimit, 1000);
      assert.equal(c.messages[0]?.text, 'Note: It is recommended to replace `message_size_limit` with `max_packet_size`.');
    },
  },
];

describe('valid configs: parsed structure', () => {
  for (const v of VALID) test(v.name, () => v.check(ok(v.conf)));
});

describe('include_dir', () => {
  const dir = join(tmp, 'conf.d');
  mkdirSync(dir);
  writeFileSync(join(dir, 'b.conf'), 'log_type subscribe\n');
  writeFileSync(join(dir, 'A.conf'), 'log_type debug\n');
  writeFileSync(join(dir, 'a.conf'), 'log_type error\nlistener 1884\nmax_connections 9\n');
  writeFileSync(join(dir, '_z.conf'), 'sys_interval 2\n');
  writeFileSync(join(dir, 'ignored.txt'), 'bogus\n');
  writeFileSync(join(dir, '.conf'), 'bogus\n');
  writeFileSync(join(dir, 'nested.conf'), `include_dir ${join(tmp, 'nowhere')}\n`);

  test('loads *.conf in Mosquitto order, logs each, nested include_dir ignored', () => {
    const main = join(tmp, 'main.conf');
    writeFileSync(main, `include_dir ${dir}\nmax_connections 1\n`);
    const r = loadConfigFile(main, { hostname: HOST });
    assert.ok(r.ok, r.ok ? '' : r.messages.map((m) => m.text).join('\n'));
    const c = r.config;
    assert.deepEqual(
      c.messages.map((m) => m.text),
      ['A.conf', 'a.conf', 'b.conf', 'nested.conf', '_z.conf'].map((f) => `Loading config file ${dir}/${f}`),
    );
    assert.deepEqual(c.logTypes, ['debug', 'error', 'subscribe']);
    assert.equal(c.sysInterval, 2);
    // The included file's listener scope ends with the file: max_connections 1 in the main
    // file goes to the default listener, not to listener 1884.
    assert.deepEqual(c.listeners.map((l) => [l.origin, l.port, l.maxConnections]), [['listener', 1884, 9], ['default', 1883, 1]]);
  });

  test('an error in an included file names both files', () => {
    const bad = join(tmp, 'bad.d');
    mkdirSync(bad);
    writeFileSync(join(bad, 'x.conf'), '\nbogus1\n');
    const main = join(tmp, 'main-bad.conf');
    writeFileSync(main, `# c\ninclude_dir ${bad}\n`);
    const r = loadConfigFile(main);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(r.messages.map((m) => m.text), [
      `Loading config file ${bad}/x.conf`,
      'Error: Unknown configuration variable "bogus1".',
      `Error found at ${bad}/x.conf:2.`,
      `Error found at ${main}:2.`,
    ]);
    assert.deepEqual([r.file, r.line], [`${bad}/x.conf`, 2]);
  });

  test('plugin options do not carry into an included file', () => {
    const d = join(tmp, 'plug.d');
    mkdirSync(d);
    writeFileSync(join(d, 'p.conf'), 'plugin_opt_abc x\n');
    const main = join(tmp, 'plug.conf');
    writeFileSync(main, `plugin /p.so\ninclude_dir ${d}\n`);
    const r = loadConfigFile(main);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.messages[1]?.text, 'Error: An auth_opt_ option exists in the config file without an auth_plugin.');
  });

  test('a directory named *.conf, and a missing include_dir', () => {
    const d = join(tmp, 'dirconf.d');
    mkdirSync(join(d, 'x.conf'), { recursive: true });
    const r1 = parse(`include_dir ${d}\n`);
    assert.equal(r1.ok, false);
    if (!r1.ok) {
      assert.deepEqual(r1.messages.map((m) => m.text), [
        `Loading config file ${d}/x.conf`,
        `Error: Config file ${d}/x.conf is a directory.`,
        'Error found at test.conf:1.',
      ]);
    }
    const r2 = parse(`include_dir  ${d}\n`);
    assert.equal(r2.ok, false);
    // The value is not trimmed: the extra space is part of the directory name.
    if (!r2.ok) assert.equal(r2.messages[0]?.text, `Error: Unable to open include_dir ' ${d}'.`);
  });

  for (const [i, k] of INCLUDE_CASES.entries()) {
    test(k.name, () => {
      const root = join(tmp, `include-case-${i}`);
      for (const [rel, text] of Object.entries(k.files)) {
        mkdirSync(join(root, rel, '..'), { recursive: true });
        writeFileSync(join(root, rel), text.replaceAll('ROOT', root));
      }
      const r = loadConfigFile(join(root, 'main.conf'));
      assert.equal(r.ok, false);
      if (!r.ok) assert.deepEqual(r.messages.map((m) => m.text), k.lines.map((l) => l.replaceAll('ROOT', root)));
    });
  }

  test('sort order: case-insensitive first, then uppercase before lowercase, bytewise', () => {
    const names = ['b.conf', 'B.conf', 'a.conf', 'A.conf', '_.conf', 'Z.conf', 'aa.conf', '0.conf'];
    assert.deepEqual([...names].sort(compareIncludePaths), ['0.conf', 'A.conf', 'a.conf', 'aa.conf', 'B.conf', 'b.conf', 'Z.conf', '_.conf']);
  });
});

describe('config files', () => {
  test('missing file', () => {
    const r = loadConfigFile(join(tmp, 'missing.conf'));
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.messages, [{ level: 'error', text: `Error: Unable to open config file ${join(tmp, 'missing.conf')}.` }]);
  });

  test('directory given as config file', () => {
    const r = loadConfigFile(tmp);
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.messages.map((m) => m.text), [`Error: Config file ${tmp} is a directory.`]);
  });

  test('fixture: a Debian-style layout with conf.d', () => {
    const r = loadConfigFile(join(FIXTURES, 'debian-style.conf'));
    assert.ok(r.ok, r.ok ? '' : r.messages.map((m) => m.text).join('\n'));
    const c = r.config;
    assert.equal(c.pidFile, '/run/mosquitto/mosquitto.pid');
    assert.equal(c.persistence, true);
    assert.equal(c.logFile, '/var/log/mosquitto/mosquitto.log');
    assert.deepEqual(c.listeners.map((l) => [l.port, l.host]), [[1883, undefined], [8883, '127.0.0.1']]);
    assert.equal(c.security.allowAnonymous, true);
  });

  test('fixture: every option of the table parses in one file', () => {
    const r = loadConfigFile(join(FIXTURES, 'all-options.conf'), { hostname: HOST });
    assert.ok(r.ok, r.ok ? '' : r.messages.map((m) => m.text).join('\n'));
    const used = new Set(r.config.optionUses.map((u) => u.option));
    assert.ok(used.size >= 100, `only ${used.size} distinct options`);
  });

  test('the Debian example mosquitto.conf (all comments) parses when installed', (t) => {
    const example = '/usr/share/doc/mosquitto/examples/mosquitto.conf';
    if (!existsSync(example)) {
      t.skip('Debian mosquitto example config not installed');
      return;
    }
    const r = parseConfig(readFileSync(example), { fileName: 'example.conf' });
    assert.ok(r.ok);
    if (r.ok) assert.equal(r.config.optionUses.length, 0);
  });

  test('defaultConfig is local-only with verbose and -p ports', () => {
    const c = defaultConfig({ verbose: true, ports: [1884, 1885] });
    assert.deepEqual(c.listeners.map((l) => `${l.host}:${l.port}`), ['127.0.0.1:1884', '::1:1884', '127.0.0.1:1885', '::1:1885']);
    assert.equal(c.logTypes.length, 9);
    assert.equal(c.security.allowAnonymous, true);
    assert.deepEqual(c.configFiles, []);
  });
});

describe('command line', () => {
  test('usage text names both versions, rest byte-identical', () => {
    const u = usageText();
    assert.ok(u.startsWith('mosquitto version 2.0.20 (skeeter 0.1.0)\n\nmosquitto is an MQTT v5.0/v3.1.1/v3.1 broker.\n\n'));
    assert.ok(u.endsWith('\nSee https://mosquitto.org/ for more information.\n\n'));
  });

  const cases: Array<[string, string[], Partial<{ stdout: boolean; stderr: string; message: string }>]> = [
    ['-h', ['-h'], { stdout: true }],
    ['--help', ['-v', '--help'], { stdout: true }],
    ['unknown option', ['-x'], { stdout: true, stderr: "Error: Unknown option '-x'.\n" }],
    ['-c without file', ['-c'], { message: 'Error: -c argument given, but no config file specified.' }],
    ['-p without port', ['-p'], { message: 'Error: -p argument given, but no port specified.' }],
    ['-p 0', ['-p', '0'], { message: 'Error: Invalid port specified (0).' }],
    ['-p 70000', ['--port', '70000'], { message: 'Error: Invalid port specified (70000).' }],
    ['-p abc', ['-p', 'abc'], { message: 'Error: Invalid port specified (0).' }],
    ['eleven ports', Array.from({ length: 11 }, (_, i) => ['-p', String(2000 + i)]).flat(), { message: 'Error: Only 10 ports can be specified on the command line.' }],
  ];
  for (const [name, argv, want] of cases) {
    test(name, () => {
      const r = parseCommandLine(argv);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.exitCode, 3);
      assert.equal(r.stdout, want.stdout ? usageText() : '');
      assert.equal(r.stderr, want.stderr ?? '');
      assert.deepEqual(r.messages.map((m) => m.text), want.message ? [want.message] : []);
    });
  }

  test('all flags, long forms', () => {
    const r = parseCommandLine(['--config-file', 'a.conf', '--daemon', '--verbose', '--port', '1884', '-p', '1885', '-c', 'b.conf']);
    assert.deepEqual(r, { ok: true, options: { configFiles: ['a.conf', 'b.conf'], daemon: true, verbose: true, ports: [1884, 1885] } });
  });

  test('ten ports are fine', () => {
    const r = parseCommandLine(Array.from({ length: 10 }, (_, i) => ['-p', String(2000 + i)]).flat());
    assert.equal(r.ok, true);
  });

  test('a -c file is read where it appears: its error wins over a later bad option', () => {
    const bad = join(tmp, 'cli-bad.conf');
    writeFileSync(bad, 'bogus\n');
    const r = loadBrokerConfig(['-c', bad, '-x']);
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.messages.map((m) => m.text), ['Error: Unknown configuration variable "bogus".', `Error found at ${bad}:1.`]);
  });

  test('-p ports are used only in local-only mode', () => {
    const withListener = join(tmp, 'cli-listener.conf');
    writeFileSync(withListener, 'listener 1999\n');
    const r = loadBrokerConfig(['-p', '1884', '-c', withListener]);
    assert.ok(r.ok);
    if (r.ok) assert.deepEqual(r.config.listeners.map((l) => l.port), [1999]);
    const r2 = loadBrokerConfig(['-p', '1884', '-v']);
    assert.ok(r2.ok);
    if (r2.ok) {
      assert.deepEqual(r2.config.listeners.map((l) => `${l.host}:${l.port}`), ['127.0.0.1:1884', '::1:1884']);
      assert.equal(r2.config.verbose, true);
      assert.equal(r2.config.logTypes.length, 9);
    }
  });

  test('two -c files read into one config (duplicates across them are errors)', () => {
    const a = join(tmp, 'two-a.conf');
    const b = join(tmp, 'two-b.conf');
    writeFileSync(a, 'pid_file /a\n');
    writeFileSync(b, 'pid_file /b\n');
    const r = loadBrokerConfig(['-c', a, '-c', b]);
    assert.equal(r.ok, false);
    if (!r.ok) assert.deepEqual(r.messages.map((m) => m.text), ['Error: Duplicate pid_file value in configuration.', `Error found at ${b}:1.`]);
  });
});

describe('reload (SIGHUP)', () => {
  test('R options change, NR options and listeners keep their startup values', () => {
    const f = join(tmp, 'reload.conf');
    writeFileSync(f, 'listener 1884\nmax_connections 5\nsys_interval 10\npid_file /a.pid\nallow_anonymous true\nplugin /p.so\nmax_inflight_messages 5\n');
    const start = loadConfigFile(f);
    assert.ok(start.ok);
    if (!start.ok) return;
    writeFileSync(f, 'listener 1884\nmax_connections 50\nsys_interval 20\npid_file /b.pid\nlog_type debug\nplugin /q.so\nmax_inflight_messages 7\n');
    const r = reloadConfig(start.config);
    assert.ok(r.ok, r.ok ? '' : r.messages.map((m) => m.text).join('\n'));
    if (!r.ok) return;
    assert.equal(r.config.sysInterval, 20);
    assert.deepEqual(r.config.logTypes, ['debug']);
    assert.equal(r.config.pidFile, '/a.pid');
    // Parsed but not applied by Mosquitto's reload (checked on Debian's 2.0.11).
    assert.equal(r.config.maxInflightMessages, 5);
    assert.equal(r.config.listeners[0]?.maxConnections, 5);
    assert.equal(r.config.security.allowAnonymous, false);
    assert.deepEqual(r.config.security.plugins.map((p) => p.path), ['/p.so']);
  });

  test('adding a listener on reload is an error', () => {
    const f = join(tmp, 'reload2.conf');
    writeFileSync(f, 'listener 1884\n');
    const start = loadConfigFile(f);
    assert.ok(start.ok);
    if (!start.ok) return;
    writeFileSync(f, 'listener 1884\nlistener 1885\n');
    const r = reloadConfig(start.config);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.deepEqual(r.messages.map((m) => m.text), [
        'Error: It is not currently possible to add/remove listeners when reloading the config file.',
        `Error found at ${f}:2.`,
      ]);
    }
  });

  test('per-listener security is re-read for matching listeners; NR errors are not seen', () => {
    const f = join(tmp, 'reload3.conf');
    writeFileSync(f, 'per_listener_settings true\nlistener 1884 127.0.0.1\npassword_file /a\n');
    const start = loadConfigFile(f);
    assert.ok(start.ok);
    if (!start.ok) return;
    writeFileSync(f, 'per_listener_settings true\nlistener 1884 127.0.0.1\npassword_file /b\nallow_anonymous true\nmax_qos 9\n');
    const r = reloadConfig(start.config);
    assert.ok(r.ok, r.ok ? '' : r.messages.map((m) => m.text).join('\n'));
    if (!r.ok) return;
    assert.equal(r.config.listeners[0]?.security.passwordFile, '/b');
    assert.equal(r.config.listeners[0]?.security.allowAnonymous, true);
    assert.equal(r.config.listeners[0]?.maxQos, 2);
  });

  test('plugin options, listener protocol and the listener list are untouched by a reload', () => {
    const f = join(tmp, 'reload4.conf');
    writeFileSync(f, 'listener 1884\nplugin /p.so\nplugin_opt_abc 1\n');
    const start = loadConfigFile(f);
    assert.ok(start.ok);
    if (!start.ok) return;
    writeFileSync(f, 'listener 1884\nprotocol websockets\nplugin /p.so\nplugin_opt_abc 2\nplugin_opt_def 3\n');
    const r = reloadConfig(start.config);
    assert.ok(r.ok, r.ok ? '' : r.messages.map((m) => m.text).join('\n'));
    if (!r.ok) return;
    assert.deepEqual(r.config.security.plugins, [{ path: '/p.so', options: [{ key: 'abc', value: '1' }], denySpecialChars: true }]);
    assert.equal(r.config.listeners[0]?.protocol, 'mqtt');
    assert.equal(r.config.listeners.length, 1);
  });

  test('only the last -c file is re-read', () => {
    const a = join(tmp, 'reload-a.conf');
    const b = join(tmp, 'reload-b.conf');
    writeFileSync(a, 'sys_interval 3\n');
    writeFileSync(b, 'max_queued_messages 9\n');
    const start = loadBrokerConfig(['-c', a, '-c', b]);
    assert.ok(start.ok);
    if (!start.ok) return;
    assert.equal(start.config.sysInterval, 3);
    const r = reloadConfig(start.config);
    assert.ok(r.ok);
    if (r.ok) assert.equal(r.config.sysInterval, 10);
  });

  test('reloadableOptions splits the options in use', () => {
    const c = ok('listener 1884\nmax_connections 5\nsys_interval 3\nuser u\npassword_file /p\nmax_keepalive 60\nconnection b\naddress h\ntopic t\n');
    const s = reloadableOptions(c);
    assert.deepEqual(s.reloadable.sort(), ['password_file', 'sys_interval']);
    assert.deepEqual(s.notReloadable.sort(), ['address', 'connection', 'listener', 'max_connections', 'max_keepalive', 'topic', 'user']);
  });
});

describe('unsupported options', () => {
  test('lists options whose feature is missing, value-dependent ones included', () => {
    const c = ok(
      'persistence false\nlistener 1884\nprotocol mqtt\nlistener 8080\nprotocol websockets\nlistener 0 /tmp/s\ncafile /ca\npassword_file /p\nplugin /x.so\nplugin_opt_abc d\nconnection b\naddress h\ntopic t\n',
    );
    // A fixed table (only the core built), so the test does not change as features land.
    const none = Object.fromEntries(Object.keys(IMPLEMENTED_FEATURES).map((k) => [k, k === 'core'])) as typeof IMPLEMENTED_FEATURES;
    const u = unsupportedOptions(c, none);
    assert.deepEqual(
      u.map((x) => [x.option, x.feature, x.line]),
      [
        ['protocol', 'websockets', 5],
        ['listener', 'unixSockets', 6],
        ['cafile', 'tls', 7],
        ['password_file', 'passwordFile', 8],
        ['plugin', 'plugins', 9],
        ['plugin_opt_abc', 'plugins', 10],
        ['connection', 'bridges', 11],
        ['address', 'bridges', 12],
        ['topic', 'bridges', 13],
      ],
    );
    assert.equal(
      unsupportedOptionMessage(u[0]!),
      'Error: The protocol option is not supported yet in skeeter (websockets listeners), found at test.conf:5.',
    );
    const all = Object.fromEntries(Object.keys(IMPLEMENTED_FEATURES).map((k) => [k, true])) as typeof IMPLEMENTED_FEATURES;
    assert.deepEqual(unsupportedOptions(c, all), []);
  });

  test('persistence true needs the persistence feature', () => {
    const u = unsupportedOptions(ok('persistence true\n'), { ...IMPLEMENTED_FEATURES, persistence: false });
    assert.deepEqual(u.map((x) => x.option), ['persistence']);
  });
});

describe('to settings', () => {
  test('security resolved per listener; log destinations; limits', () => {
    const s = toBrokerSettings(
      ok('per_listener_settings true\nlistener 1884\nallow_anonymous true\nauto_id_prefix p-\nlistener 1885 ::1\nmax_qos 1\nlog_dest none\nlog_dest stdout\nlog_dest file /tmp/x.log\nmessage_size_limit 100\npersistent_client_expiration 1h\n'),
    );
    assert.deepEqual(
      s.listeners.map((l) => [l.port, l.host, l.allowAnonymous, l.autoIdPrefix, l.maxQos]),
      [[1884, undefined, true, 'p-', 2], [1885, '::1', false, 'auto-', 1]],
    );
    assert.deepEqual(s.log.dests, [{ kind: 'stdout' }, { kind: 'file', path: '/tmp/x.log' }]);
    assert.equal(s.messageSizeLimit, 100);
    assert.equal(s.persistentClientExpiration, 3600);
    assert.equal(s.localOnly, false);
  });

  test('global security applies to every listener; local-only allows anonymous', () => {
    const s = toBrokerSettings(ok('listener 1884\nlistener 1885\nallow_zero_length_clientid false\n'));
    assert.deepEqual(s.listeners.map((l) => [l.allowAnonymous, l.allowZeroLengthClientId]), [[false, false], [false, false]]);
    const local = toBrokerSettings(ok('log_dest none\n'));
    assert.deepEqual(local.listeners.map((l) => [l.host, l.allowAnonymous]), [['127.0.0.1', true], ['::1', true]]);
    assert.deepEqual(local.log.dests, [{ kind: 'none' }]);
    assert.equal(local.persistentClientExpiration, undefined);
  });
});
