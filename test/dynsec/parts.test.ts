/**
 * The pure parts of the Dynamic Security plugin that every command and check goes through:
 * cJSON's reading and printing rules, Mosquitto's UTF-8 check, and the ACL pattern match for
 * subscriptions (sub_acl_check).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { repoRoot } from '../helpers/paths.js';

interface JsonObjectLike {
  members: ReadonlyArray<readonly [string, unknown]>;
}
interface CJson {
  parseJson(bytes: string): unknown;
  getItem(obj: unknown, name: string): unknown;
  getInt(obj: unknown, name: string, optional: boolean, fallback: number): { ok: boolean; value: number };
  printCompact(v: unknown): string;
  printFormatted(v: unknown): string;
  isValidUtf8(s: string): boolean;
}
const dist = (p: string): string => pathToFileURL(join(repoRoot, 'packages/broker/dist/src/auth/dynsec', p)).href;
const cjson = (await import(dist('cjson.js'))) as CJson;
const { subAclCheck } = (await import(dist('acl.js'))) as { subAclCheck(acl: string, sub: string): boolean };

test('parsing as cJSON does: first value only, BOM, white space up to byte 32, member names case-insensitive, first duplicate wins', () => {
  const v = cjson.parseJson('\xef\xbb\xbf \x00\t{"Commands": [1, -2.5e1, true, null], "commands": 0} and then garbage');
  assert.deepEqual(cjson.getItem(v, 'commands'), [1, -25, true, null]);
  assert.equal(cjson.getItem(v, 'COMMANDS') !== undefined, true);
  assert.equal((v as JsonObjectLike).members.length, 2);
  for (const bad of ['', ' ', '{', '{"a"}', '{"a":}', '[1,]', '{"a":1,}', '-', '+1', '.5', "{'a':1}", '"\\x"', '"\\ud800"', '"\\udc00x"', '"abc']) {
    assert.equal(cjson.parseJson(bad), undefined, JSON.stringify(bad));
  }
  // strtod reads what it can: "01" is 1, "1." is 1.
  assert.deepEqual(cjson.parseJson('[01, 1., 1e+2, -0]'), [1, 1, 100, -0]);
  assert.equal(cjson.parseJson('['.repeat(1001) + ']'.repeat(1001)), undefined, 'nesting is limited to 1000 levels');
  assert.notEqual(cjson.parseJson('['.repeat(1000) + ']'.repeat(1000)), undefined);
});

test('strings are byte strings: escapes become UTF-8, bad hex digits read as 0, a NUL ends the string', () => {
  assert.equal(cjson.parseJson('"\\u00e9\\ud83d\\ude00\\n\\/"'), '\xc3\xa9\xf0\x9f\x98\x80\n/');
  assert.equal(cjson.parseJson('"ab\\uzz12cd"'), 'ab', '\\uzz12 is U+0000: C reads up to it');
  assert.equal(cjson.parseJson('"raw \xff bytes"'), 'raw \xff bytes');
  assert.equal(cjson.getItem(cjson.parseJson('{"user\\u0000name": 1}'), 'user'), 1);
});

test('json_get_int is cJSON\'s valueint: saturated, truncated toward zero', () => {
  const o = cjson.parseJson('{"a": 1e300, "b": -1e300, "c": 2.9, "d": -2.9, "e": "5"}');
  assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => cjson.getInt(o, k, true, -1).value), [2147483647, -2147483648, 2, -2]);
  assert.deepEqual(cjson.getInt(o, 'e', true, -1), { ok: false, value: -1 });
  assert.deepEqual(cjson.getInt(o, 'missing', true, -1), { ok: true, value: -1 });
  assert.deepEqual(cjson.getInt(o, 'missing', false, -1), { ok: false, value: -1 });
});

test('printing as cJSON_PrintUnformatted and cJSON_Print do', () => {
  const v = { s: 'q"\\\x01\x7f\xe9\t', n: [1, { a: [] }, []], o: { x: true, y: null }, skipped: undefined };
  assert.equal(cjson.printCompact(v), '{"s":"q\\"\\\\\\u0001\x7f\xe9\\t","n":[1,{"a":[]},[]],"o":{"x":true,"y":null}}');
  assert.equal(cjson.printFormatted(v), '{\n\t"s":\t"q\\"\\\\\\u0001\x7f\xe9\\t",\n\t"n":\t[1, {\n\t\t\t"a":\t[]\n\t\t}, []],\n\t"o":\t{\n\t\t"x":\ttrue,\n\t\t"y":\tnull\n\t}\n}');
});

test('mosquitto_validate_utf8: no control characters, non-characters, surrogates or overlong forms', () => {
  const ok = ['', 'plain', '\xc3\xa9', '\xf0\x9f\x98\x80', '\xef\xbf\xbd'];
  const bad = ['\x00', 'a\x1f', '\x7f', '\xc2\x85', '\xc0\xaf', '\xe0\x80\xaf', '\xed\xa0\x80', '\xef\xbf\xbf', '\xef\xbf\xbe', '\xef\xb7\x90', '\xf4\x90\x80\x80', '\xf0\x9f\xbf\xbf', '\xff', '\xc3', 'x'.repeat(65537)];
  for (const s of ok) assert.equal(cjson.isValidUtf8(s), true, JSON.stringify(s));
  for (const s of bad) assert.equal(cjson.isValidUtf8(s), false, JSON.stringify(s.slice(0, 8)));
});

test('sub_acl_check: whether an ACL pattern covers a whole subscription', () => {
  const cases: Array<[string, string, boolean]> = [
    ['foo/+/bar', 'foo/#', false],
    ['foo/+/ba℞/#', 'foo/baz/ba℞', true],
    ['foo/+/ba℞/#', 'foo/baz/ba℞/+', true],
    ['foo/+/ba℞/#', 'foo/baz/ba℞/#', true],
    ['foo/+/ba℞/#', 'foo/baz/+/#', false],
    ['/+//#', '/foo///#', true],
    ['#', '#', true],
    ['#', '+', true],
    ['/#', '+', false],
    ['/#', '/+', true],
    ['/+', '#', false],
    ['/+', '+', false],
    ['+/+', 'topic/topic', true],
    ['+/+', 'topic/topic/', false],
    ['+', '#', false],
    ['+', '+', true],
    ['a/b/c/d/e', 'a/b/c/d/e', true],
    ['a/b/ /d/e', 'a/b/c/d/e', false],
    ['a/#', 'a', true],
    ['$share/+/s/#', '$share/g/s/1', true],
  ];
  for (const [acl, sub, want] of cases) assert.equal(subAclCheck(acl, sub), want, `${acl} covers ${sub}`);
});
