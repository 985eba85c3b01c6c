import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atoi, isCControl, strtokAll, trimBlanks } from '../src/c-string.js';
import { decodeBase64Mosquitto, encodeBase64, encodeBase64NoPadding } from '@skeeter/password-file';

test('atoi follows glibc', () => {
  const cases: [string, number][] = [
    ['101', 101], ['  42x', 42], ['+7', 7], ['-5', -5], ['abc', 0], ['', 0], ['5x', 5],
    ['2147483647', 2147483647], ['2147483648', -2147483648], ['4294967297', 1],
    ['99999999999999999999999', -1], ['\t\n 3', 3],
  ];
  for (const [input, expected] of cases) assert.equal(atoi(input), expected, JSON.stringify(input));
});

test('strtok tokens skip runs of delimiters', () => {
  assert.deepEqual(strtokAll(':::a:b::c:', ':').map((t) => t.text), ['a', 'b', 'c']);
  assert.deepEqual(strtokAll(':::a', ':'), [{ text: 'a', start: 3 }]);
  assert.deepEqual(strtokAll('', ':'), []);
  assert.deepEqual(strtokAll('$$7$$101$$s', '$').map((t) => t.text), ['7', '101', 's']);
});

test('trimBlanks and iscntrl use the C locale', () => {
  assert.equal(trimBlanks(' \t\r\n\v\fx y\r\n'), 'x y');
  assert.equal(trimBlanks('\u00a0x'), '\u00a0x');
  assert.equal(isCControl(0x1f), true);
  assert.equal(isCControl(0x7f), true);
  assert.equal(isCControl(0x80), false);
  assert.equal(isCControl(0x20), false);
});

test('base64 decoding matches what the 2.0 broker accepted', () => {
  const twelve = Buffer.alloc(12, 1);
  const s = encodeBase64(twelve);
  assert.deepEqual(decodeBase64Mosquitto(s), twelve);
  assert.deepEqual(decodeBase64Mosquitto(s + '=='), twelve, 'extra padding after a complete group is ignored');
  assert.equal(decodeBase64Mosquitto(s + 'AAAA')?.length, 15);
  assert.equal(decodeBase64Mosquitto(s.slice(0, 8) + ' ' + s.slice(8)), undefined, 'blank inside');
  assert.equal(decodeBase64Mosquitto('!!!!'), undefined);
  assert.equal(decodeBase64Mosquitto('QQ==AAAA'), undefined, 'data after padding');
  const sixtyFour = Buffer.alloc(64, 9);
  const h = encodeBase64(sixtyFour);
  assert.ok(h.endsWith('=='));
  assert.equal(decodeBase64Mosquitto(h)?.length, 64);
  assert.equal(decodeBase64Mosquitto(h.slice(0, -2))?.length, 63, 'unpadded final group is dropped');
  assert.equal(decodeBase64Mosquitto(h.slice(0, -1))?.length, 63, 'a group still short of padding is dropped');
  assert.equal(decodeBase64Mosquitto(encodeBase64(Buffer.alloc(2)).slice(0, 3) + '=')?.length, 2, 'one = completes a 3-character group');
  assert.equal(encodeBase64NoPadding(sixtyFour), h.slice(0, -2));
  assert.equal(decodeBase64Mosquitto('A'), undefined);
});
