/**
 * User properties in more than one run (other properties between them) keep their wire order
 * through decode and encode, as Mosquitto forwards its property list; blocks with one run, and
 * objects built by hand, encode in key order as before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketType } from '../src/constants.js';
import { decodePacket, encodePacket, keepPropertyOrder, PROPERTY_ORDER, preparePublish, encodePreparedPublish } from '../src/index.js';
import type { PublishPacket } from '../src/types.js';
import { hex } from './hex.js';

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

const str = (s: string): Buffer => Buffer.concat([Buffer.from([0, s.length]), ascii(s)]);
const user = (k: string, v: string): Buffer => Buffer.concat([Buffer.from([0x26]), str(k), str(v)]);
const contentType = Buffer.concat([Buffer.from([0x03]), str('text/x')]);
const expiry = hex('0200000010');

/** A v5 QoS 0 PUBLISH to "t" with the given property bytes and payload "p". */
function publish(...props: Buffer[]): Buffer {
  const block = Buffer.concat(props);
  const body = Buffer.concat([str('t'), Buffer.from([block.length]), block, ascii('p')]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

const decode = (b: Buffer): PublishPacket => decodePacket(b, { protocolVersion: 5 }) as PublishPacket;

describe('property order', () => {
  it('interleaved user properties re-encode byte for byte', () => {
    const wire = publish(user('a', '1'), contentType, expiry, user('b', '2'));
    const p = decode(wire);
    assert.equal(p.type, PacketType.Publish);
    // The decoded object is as before: the order is kept off the enumerable keys.
    assert.deepEqual(p.properties, { userProperties: [['a', '1'], ['b', '2']], contentType: 'text/x', messageExpiryInterval: 16 });
    assert.equal(encodePacket(p, 5).toString('hex'), wire.toString('hex'));
  });

  it('a copy with properties dropped keeps the order of the rest (keepPropertyOrder)', () => {
    const p = decode(publish(user('a', '1'), expiry, contentType, user('b', '2'), user('c', '3')));
    const { messageExpiryInterval: _dropped, ...rest } = p.properties!;
    keepPropertyOrder(p.properties!, rest);
    const prepared = preparePublish({ topic: 't', payload: ascii('p'), properties: rest }, 5);
    const out = encodePreparedPublish(prepared, { qos: 0, retain: false, dup: false, packetId: 0 });
    assert.equal(out.toString('hex'), publish(user('a', '1'), contentType, user('b', '2'), user('c', '3')).toString('hex'));
    // Without it, key order: all user properties together.
    const plain = encodePreparedPublish(preparePublish({ topic: 't', payload: ascii('p'), properties: { ...rest } }, 5), { qos: 0, retain: false, dup: false, packetId: 0 });
    assert.equal(plain.toString('hex'), publish(user('a', '1'), user('b', '2'), user('c', '3'), contentType).toString('hex'));
  });

  it('one run of user properties records no order', () => {
    const p = decode(publish(contentType, user('a', '1'), user('b', '2'), expiry));
    assert.equal((p.properties as Record<symbol, unknown>)[PROPERTY_ORDER], undefined);
  });

  it('properties added to an ordered object after decoding follow, in key order', () => {
    const p = decode(publish(user('a', '1'), contentType, user('b', '2')));
    const props = { ...p.properties!, responseTopic: 'r' };
    keepPropertyOrder(p.properties!, props);
    props.userProperties = [...props.userProperties!, ['c', '3']];
    const out = encodePacket({ ...p, properties: props }, 5);
    const rt = Buffer.concat([Buffer.from([0x08]), str('r')]);
    assert.equal(out.toString('hex'), publish(user('a', '1'), contentType, user('b', '2'), user('c', '3'), rt).toString('hex'));
  });
});
