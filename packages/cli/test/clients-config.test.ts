import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, optionsFileArgs, type ClientConfig } from '../src/clients/config.js';
import { atoi, atof, strtol } from '../src/clients/cnum.js';

const ok = (tool: 'mosquitto_pub' | 'mosquitto_sub' | 'mosquitto_rr', argv: string[]): ClientConfig => {
  const r = loadConfig(tool, argv, {});
  assert.equal(r.kind, 'ok', JSON.stringify(r));
  return (r as { config: ClientConfig }).config;
};
const err = (tool: 'mosquitto_pub' | 'mosquitto_sub' | 'mosquitto_rr', argv: string[]): string => {
  const r = loadConfig(tool, argv, {});
  assert.equal(r.kind, 'error');
  return (r as { text: string }).text;
};

test('a value is the next argument whatever it looks like', () => {
  const c = ok('mosquitto_pub', ['-t', '-m', '-m', '--help']);
  assert.equal(c.topic, '-m');
  assert.equal(c.message, '--help');
});

test('C number parsing quirks: atoi prefix, strtol base 0, atof', () => {
  assert.equal(atoi('10s'), 10);
  assert.equal(atoi('abc'), 0);
  assert.equal(atoi(' -7'), -7);
  assert.equal(strtol('0x10', 0).value, 16n);
  assert.equal(strtol('010', 0).value, 8n);
  assert.equal(atof('0.5x'), 0.5);
  assert.equal(ok('mosquitto_pub', ['-k', '10s', '-t', 'a', '-m', 'b']).keepalive, 10);
  assert.equal(ok('mosquitto_pub', ['-p', 'abc', '-t', 'a', '-m', 'b']).port, 0);
});

test('-x: hex, -1 and ∞ mean infinite, and -x alone leaves MQTT 3.1.1', () => {
  assert.equal(ok('mosquitto_pub', ['-x', '0x10', '-t', 'a', '-m', 'b']).sessionExpiryInterval, 16);
  assert.equal(ok('mosquitto_pub', ['-x', '-1', '-i', 'c', '-t', 'a', '-m', 'b']).sessionExpiryInterval, 4294967295);
  assert.equal(ok('mosquitto_pub', ['-x', '∞', '-i', 'c', '-t', 'a', '-m', 'b']).protocolVersion, 4);
  assert.equal(err('mosquitto_pub', ['-x', '12abc']), 'Error: session-expiry-interval not a number.\n\n');
});

test('-D properties are kept in order, force MQTT 5, and user properties take two values', () => {
  const c = ok('mosquitto_pub', ['-D', 'PUBLISH', 'user-property', 'k', 'v', '-D', 'publish', 'content-type', 'a b', '-t', 't', '-m', 'm']);
  assert.equal(c.protocolVersion, 5);
  assert.deepEqual(
    c.props.publish.map((e) => [e.property.name, Buffer.isBuffer(e.value) ? e.value.toString() : e.value]),
    [
      ['user-property', ['k', 'v']],
      ['content-type', 'a b'],
    ],
  );
  assert.equal(err('mosquitto_pub', ['-D', 'subscribe', 'subscription-identifier', '268435456']), 'Error adding property subscription-identifier 4\n');
});

test('-c with MQTT 5 sets an infinite session expiry on CONNECT', () => {
  const c = ok('mosquitto_sub', ['-c', '-i', 'me', '-V', '5', '-t', 'a']);
  assert.deepEqual(
    c.props.connect.map((e) => [e.property.name, e.value]),
    [['session-expiry-interval', 4294967295]],
  );
});

test('-L fills host, port, credentials and topic; sub adds it to -t topics', () => {
  const c = ok('mosquitto_sub', ['-L', 'MQTTS://u:p@example.com:1234/a/b', '-t', 'c']);
  assert.deepEqual([c.host, c.port, c.username, c.password, c.tlsUseOsCerts, c.topics], ['example.com', 1234, 'u', 'p', true, ['a/b', 'c']]);
});

test('--proxy socks5h URL parsing (with the %40 quirk)', () => {
  const c = ok('mosquitto_pub', ['--proxy', 'socks5h://us%3Aer:p%40ss@proxy:1081', '-t', 'a', '-m', 'b']);
  assert.deepEqual([c.socks5Host, c.socks5Port, c.socks5Username, c.socks5Password], ['proxy', 1081, 'us:er', 'p:ss']);
  assert.equal(ok('mosquitto_pub', ['--proxy', 'socks5h://proxy', '-t', 'a', '-m', 'b']).socks5Port, 1080);
  assert.equal(err('mosquitto_pub', ['--proxy', 'socks5h://h:0']), 'Error: Invalid proxy port 0\n');
});

test('options file lines: option, then the rest of the line as one value', () => {
  assert.deepEqual(optionsFileArgs(Buffer.from('# comment\n-t a topic with spaces\r\n-q 1\n-d\n\n  -v\n')), [
    ['-t', 'a topic with spaces'],
    ['-q', '1'],
    ['-d'],
    ['-v'],
  ]);
});

test('2.1 -o options file: missing value and duplicates', () => {
  assert.equal(err('mosquitto_pub', ['-o']), 'Error: -o argument given but no options file specified.\n\n');
  assert.equal(err('mosquitto_pub', ['-o', 'a', '-o', 'b']), 'Error: Duplicate -o argument given.\n\n');
});

test('mosquitto_rr defaults: MQTT 5, one message', () => {
  const c = ok('mosquitto_rr', ['-t', 'a', '-e', 'b', '-m', 'c']);
  assert.equal(c.protocolVersion, 5);
  assert.equal(c.msgCount, 1);
});
