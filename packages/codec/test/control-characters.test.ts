import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder, ErrorCode, isValidMqttUtf8, MqttProtocolError } from '../src/index.js';
import { findInvalidMqttUtf8 } from '../src/utf8.js';

// PUBLISH v3.1.1 with topic "a<c>b" (c given as UTF-8 bytes) and payload "x".
const publishWith = (c: number[]): Buffer => {
  const topic = Buffer.from([0x61, ...c, 0x62]);
  return Buffer.concat([Buffer.from([0x30, 2 + topic.length + 1, 0, topic.length]), topic, Buffer.from('x')]);
};

test('control characters pass by default (the spec only says SHOULD NOT)', () => {
  for (const c of [[0x0b], [0x7f], [0xc2, 0x85]]) {
    const out: unknown[] = [];
    new Decoder().push(publishWith(c), (p) => out.push(p));
    assert.equal(out.length, 1);
  }
  assert.equal(isValidMqttUtf8(Buffer.from([0x0b])), true);
});

test("rejectControlCharacters refuses C0 and C1 controls as Mosquitto's UTF-8 check does", () => {
  for (const c of [[0x01], [0x0b], [0x1f], [0x7f], [0xc2, 0x80], [0xc2, 0x9f]]) {
    const d = new Decoder({ rejectControlCharacters: true });
    assert.throws(() => d.push(publishWith(c), () => assert.fail('no packet expected')), (e: unknown) => {
      assert.ok(e instanceof MqttProtocolError);
      assert.equal(e.code, ErrorCode.MalformedUtf8);
      assert.equal(e.reasonCode, 0x81);
      return true;
    });
  }
  // Neighbours that are not controls still pass: space, tilde, U+00A0, tab-free text.
  for (const c of [[0x20], [0x7e], [0xc2, 0xa0]]) {
    const out: unknown[] = [];
    new Decoder({ rejectControlCharacters: true }).push(publishWith(c), (p) => out.push(p));
    assert.equal(out.length, 1);
  }
  assert.equal(findInvalidMqttUtf8(Buffer.from('ab\tc'), 0, 4, true), 2);
});
