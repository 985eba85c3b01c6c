/**
 * OutgoingWire on a real stream: MQTT.js's pieces are framed back into packets whatever their
 * split, and acks, DISCONNECT and one-byte PUBLISH properties leave in libmosquitto's form.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { OutgoingWire } from '../src/wire.js';

function wired(): { wire: OutgoingWire; stream: PassThrough; out: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d));
  const wire = new OutgoingWire();
  wire.install(stream);
  return { wire, stream, out: () => Buffer.concat(chunks).toString('hex') };
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');

describe('OutgoingWire', () => {
  it('drops the empty property list of acks, and reason code 0 with it [MQTT-3.4.2.1]', async () => {
    const { stream, out } = wired();
    // PUBREL as mqtt-packet writes it: header, length, id, reason code, property length.
    stream.write(hex('62'));
    stream.write(hex('04'));
    stream.write(hex('0001'));
    stream.write(hex('00'));
    stream.write(hex('00'));
    // PUBCOMP with reason 0x92 (not found), in one piece.
    stream.write(hex('70 04 0002 92 00'));
    await new Promise((r) => setImmediate(r));
    assert.equal(out(), '620200017003000292');
  });

  it('DISCONNECT without properties: length 0, or 1 for another reason [MQTT-3.14.2.1]', async () => {
    const { stream, out } = wired();
    stream.write(hex('e0 02 00 00 e0 02 04 00'));
    await new Promise((r) => setImmediate(r));
    assert.equal(out(), 'e000e00104');
  });

  it('leaves packets with properties alone', async () => {
    const { stream, out } = wired();
    const disconnect = 'e006 00 04 1f0001 72';
    const puback = '4008 0001 10 04 1f0001 72'.replace(/ /g, '');
    stream.write(hex(disconnect + puback));
    await new Promise((r) => setImmediate(r));
    assert.equal(out(), (disconnect + puback).replace(/ /g, ''));
  });

  it('writes one-byte property values into the next PUBLISH, after other properties', async () => {
    const { wire, stream, out } = wired();
    // QoS 1 PUBLISH 't', id 1, properties: user-property a=b, payload-format-indicator 1,
    // content-type "c"; payload 'x'. Written as strings and buffers in pieces.
    const props = '26 0001 61 0001 62' + '01 01' + '03 0001 63';
    const propLen = hex(props).length;
    const body = `0001 74 0001 ${propLen.toString(16).padStart(2, '0')} ${props} 78`;
    const packet = hex(`32 ${hex(body).length.toString(16).padStart(2, '0')} ${body}`);
    wire.nextPublishBytes = { 1: 5 };
    stream.write(packet.subarray(0, 4));
    stream.write('t', 'utf8');
    stream.write(packet.subarray(5));
    // The value applies to that PUBLISH only.
    stream.write(packet);
    await new Promise((r) => setImmediate(r));
    const patched = Buffer.from(packet);
    patched[packet.indexOf(hex('0101')) + 1] = 5;
    assert.equal(out(), patched.toString('hex') + packet.toString('hex'));
  });

  it('passes MQTT 3 style packets and large payloads through unchanged', async () => {
    const { stream, out } = wired();
    const payload = Buffer.alloc(70_000, 0x41);
    // Remaining length 70000 + 2 + 1 + 1 (topic 'a', property length 0): three varint bytes.
    const rl = 2 + 1 + 1 + payload.length;
    const varint = [(rl & 0x7f) | 0x80, ((rl >> 7) & 0x7f) | 0x80, rl >> 14];
    const head = Buffer.from([0x30, ...varint, 0, 1, 0x61, 0]);
    stream.write(head.subarray(0, 2));
    stream.write(head.subarray(2));
    stream.write(payload);
    stream.write(hex('c000'));
    await new Promise((r) => setImmediate(r));
    assert.equal(out(), Buffer.concat([head, payload, hex('c000')]).toString('hex'));
  });
});
