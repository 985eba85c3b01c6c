import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMessage, printMessage, jsonMessage, type ArrivalTime, type PrintableMessage } from '../src/clients/format.js';
import { formatG, formatNumber, parseJson, printJson } from '../src/clients/json.js';
import { checkFormat } from '../src/clients/config.js';

// A fixed arrival time; TZ is whatever the process has, so only offset-free fields are asserted
// against literal text, and local-time fields against the same Date's getters.
const when = new Date(2020, 4, 6, 22, 12, 0, 0);
const t: ArrivalTime = { date: when, seconds: Math.floor(when.getTime() / 1000), nanoseconds: 1234 };

const msg = (over: Partial<PrintableMessage> = {}): PrintableMessage => ({
  topic: 'f/4',
  payload: Buffer.from('  [1, 2] '),
  qos: 0,
  retain: false,
  mid: 0,
  ...over,
});

const fmt = (f: string, m = msg()): string => formatMessage(f, m, t, false).out.toString('utf8');

// Expected strings below were printed by Debian's mosquitto_sub 2.0.11 for the same messages.
test('field widths and flags on absent v5 properties print padding', () => {
  assert.equal(fmt('[%5A|%-5E|%05F|%10C|%R|%D|%P]'), '[     |     |00000|          |||]');
});

test('present v5 properties', () => {
  const m = msg({
    topic: 'f/1',
    properties: {
      contentType: 'ct',
      userProperties: { k: 'v', k2: 'v2' },
      responseTopic: 'rt',
      correlationData: Buffer.from('cd'),
      payloadFormatIndicator: 1,
      messageExpiryInterval: 100,
    },
  });
  assert.equal(fmt('[%5A|%-5E|%05F|%10C|%R|%D|%P]', m), '[     |100  |00001|        ct|rt|cd|k:v k2:v2]');
});

test('topic precision/width, payload truncation, 2.0 hex truncation quirk', () => {
  assert.equal(fmt('%8.3t|%-8p|%18x|%X|%l|%m|%q|%r|%05l|%-3q'), '     f/4|  [1, 2]|          20205b31|20205B312C20325D20|9|0|0|0|00009|0');
  assert.equal(fmt('%-8p|', msg({ payload: Buffer.from('{"a":[1,2.5]}') })), '{"a":[1,|');
  assert.equal(fmt('%-8p|', msg({ payload: Buffer.alloc(0) })), '        |');
  assert.equal(fmt('%.2t'), 'f/');
});

test('escapes, @ codes and %%', () => {
  assert.equal(fmt('a\\tb\\n\\\\\\0\\e%%@@'), 'a\tb\n\\\0\x1b%@');
  assert.equal(fmt('@N'), '000001234');
  assert.equal(fmt('@Y-@m-@d @H'), `2020-05-06 22`);
  assert.equal(fmt('%U'), `${t.seconds}.000001234`);
});

test('check_format accepts every code and rejects bad ones with Mosquitto text', () => {
  assert.equal(checkFormat('%A%C%D%E%F%I%j%J%l%m%P%p%q%R%r%S%t%U%x%X%% @@ \\\\\\0\\a\\e\\n\\r\\t\\v %-10.3t %010l'), undefined);
  assert.equal(checkFormat('%'), 'Error: Incomplete format specifier.\n');
  assert.equal(checkFormat('%5'), 'Error: Incomplete format specifier.\n');
  assert.equal(checkFormat('%z'), "Error: Invalid format specifier 'z'.\n");
  assert.equal(checkFormat('@'), 'Error: Incomplete format specifier.\n');
  assert.equal(checkFormat('\\'), 'Error: Incomplete escape specifier.\n');
  assert.equal(checkFormat('\\q'), "Error: Invalid escape specifier 'q'.\n");
});

test('default, -v and -N layouts; empty payloads', () => {
  const opts = { format: undefined, verbose: false, eol: true, pretty: false };
  assert.equal(printMessage(msg(), opts, t).out.toString(), '  [1, 2] \n');
  assert.equal(printMessage(msg({ payload: Buffer.alloc(0) }), opts, t).out.length, 0);
  assert.equal(printMessage(msg(), { ...opts, verbose: true }, t).out.toString(), 'f/4   [1, 2] \n');
  assert.equal(printMessage(msg({ payload: Buffer.alloc(0) }), { ...opts, verbose: true }, t).out.toString(), 'f/4 (null)\n');
  assert.equal(printMessage(msg({ payload: Buffer.alloc(0) }), { ...opts, verbose: true, eol: false }, t).out.length, 0);
  assert.equal(printMessage(msg(), { ...opts, format: '%t', eol: false }, t).out.toString(), 'f/4');
});

test('cJSON number printing', () => {
  assert.equal(formatNumber(1e300), '1e+300');
  assert.equal(formatNumber(1.5e-7), '1.5e-07');
  assert.equal(formatNumber(-0), '-0');
  assert.equal(formatNumber(123456789012), '123456789012');
  assert.equal(formatNumber(0.1), '0.1');
  assert.equal(formatNumber(2.5), '2.5');
  assert.equal(formatG(100000, 5), '1e+05');
  assert.equal(formatNumber(1 / 3), '0.33333333333333331');
});

test('%J pretty printing matches cJSON', () => {
  const v = parseJson(Buffer.from('{"a":[1,2.5,"x\\u00e9\\n",{"q":[]}],"b":{},"c":[],"d":null,"e":true}'));
  assert.ok(v);
  assert.equal(
    printJson(v, true).toString(),
    '{\n\t"a":\t[1, 2.5, "xé\\n", {\n\t\t\t"q":\t[]\n\t\t}],\n\t"b":\t{\n\t},\n\t"c":\t[],\n\t"d":\tnull,\n\t"e":\ttrue\n}',
  );
  assert.equal(printJson(v, false).toString(), '{"a":[1,2.5,"xé\\n",{"q":[]}],"b":{},"c":[],"d":null,"e":true}');
  assert.equal(parseJson(Buffer.from('  [1, 2] ')) !== undefined, true);
  assert.equal(parseJson(Buffer.from('not json')), undefined);
  assert.equal(parseJson(Buffer.from('[1,]')), undefined);
  assert.equal(parseJson(Buffer.from('{"a":1} x')), undefined);
});

test('%j / %J objects: key order, mid only for QoS>0, properties, invalid JSON', () => {
  const m = msg({ topic: 't', payload: Buffer.from('not "json"'), qos: 1, mid: 7, properties: { contentType: 'ct', userProperties: { k: 'v' } } });
  const j = jsonMessage(m, t, false, false)?.toString() ?? '';
  assert.match(j, /^\{"tst":"2020-05-06T22:12:00\.000001[+-]\d{4}","topic":"t","qos":1,"retain":0,"payloadlen":10,"mid":7,"properties":\{"content-type":"ct","user-properties":\{"k":"v"\}\},"payload":"not \\"json\\""\}$/);
  assert.equal(jsonMessage(m, t, true, false), undefined);
  const r = formatMessage('%J', m, t, false);
  assert.equal(r.out.length, 0);
  assert.equal(r.error, 'Error: Message payload is not valid JSON on topic t.\n');
  const empty = jsonMessage(msg({ payload: Buffer.alloc(0) }), t, true, false)?.toString() ?? '';
  assert.match(empty, /"payloadlen":0,"payload":null\}$/);
});
