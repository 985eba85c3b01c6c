/**
 * Durable mode: what the journal replays after SIGKILL besides plain queued messages —
 * MQTT 5 properties and subscription identifiers, retained messages set and cleared, an
 * outgoing QoS 2 message between PUBREC and PUBCOMP (the broker resumes with PUBREL, never the
 * PUBLISH again), unsubscriptions, and a session ended by a clean connect.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as m from '../helpers/mqtt-bytes.js';
import { connectPeer, durableConfig, startDurable, type Incoming, type Peer } from './helpers.js';

const conf = (dir: string): string[] => durableConfig(dir, 0).map((l) => (l.startsWith('listener') ? 'listener %PORT% 127.0.0.1' : l));

/** Waits for the next PUBLISH and returns topic, packet id, raw properties and payload. */
async function nextPublish(peer: Peer, v: m.Version): Promise<{ topic: string; mid: number; qos: number; dup: boolean; retain: boolean; props: Buffer; payload: string }> {
  const p: Incoming = await peer.next(3);
  const qos = (p.flags >> 1) & 3;
  const tl = p.body.readUInt16BE(0);
  const topic = p.body.subarray(2, 2 + tl).toString();
  let pos = 2 + tl;
  let mid = 0;
  if (qos > 0) {
    mid = p.body.readUInt16BE(pos);
    pos += 2;
  }
  let props: Buffer = Buffer.alloc(0);
  if (v === 5) {
    const len = p.body[pos]!; // short property blocks only in this test
    props = p.body.subarray(pos + 1, pos + 1 + len);
    pos += 1 + len;
  }
  return { topic, mid, qos, dup: (p.flags & 8) !== 0, retain: (p.flags & 1) !== 0, props, payload: p.body.subarray(pos).toString() };
}

const SESSION = m.props(m.propU32(0x11, 3600));

/**
 * Everything `peer` (a 3.1.1 client) receives until a marker published after it subscribed to
 * `markerTopic`: messages already due to it arrive before the marker.
 */
async function untilMarker(peer: Peer, port: number, filter: string, markerTopic: string): Promise<string[]> {
  const got: string[] = [];
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  let resolveSubacked: () => void = () => undefined;
  const subacked = new Promise<void>((r) => (resolveSubacked = r));
  peer.onPacket = (p) => {
    if (p.type === 9) resolveSubacked();
    if (p.type !== 3) return;
    const tl = p.body.readUInt16BE(0);
    const topic = p.body.subarray(2, 2 + tl).toString();
    const payload = p.body.subarray(2 + tl).toString();
    if (topic === markerTopic && payload === 'marker') resolveDone();
    else got.push(`${topic}=${payload}${(p.flags & 1) !== 0 ? ' (retained)' : ''}`);
  };
  peer.send(m.subscribe(4, 9, [[filter, 0]]));
  await subacked;
  const { peer: mk } = await connectPeer(port, 4, { clientId: 'marker', clean: true });
  mk.send(m.publish(4, markerTopic, 'marker'));
  mk.send(m.disconnect(4));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error('marker not received in 15 s')), 15_000)))]);
  clearTimeout(timer);
  mk.close();
  return got;
}

test('properties, subscription identifiers, retained messages, QoS 2 in PUBREL state and ended sessions survive SIGKILL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-durable-'));
  try {
    let heldMid = 0;
    const b1 = await startDurable(dir, conf(dir));
    const port = b1.port;
    try {
      // A v5 session subscribed with identifier 7, offline.
      const { peer: s } = await connectPeer(port, 5, { clientId: 'props-sub', clean: false, props: SESSION });
      let ack = s.next(9);
      s.send(m.subscribe(5, 1, [['p/#', 1]], m.props(m.propVarint(0x0b, 7))));
      await ack;
      s.send(m.disconnect(5));
      s.close();
      // A v4 session that will hold a QoS 2 message between PUBREC and PUBCOMP.
      const { peer: q } = await connectPeer(port, 4, { clientId: 'q2-sub', clean: false });
      ack = q.next(9);
      q.send(m.subscribe(4, 1, [['q/#', 2]]));
      await ack;
      // A session that a clean connect will end, and one that unsubscribes.
      for (const id of ['ended', 'unsub']) {
        const { peer } = await connectPeer(port, 4, { clientId: id, clean: false });
        const a = peer.next(9);
        peer.send(m.subscribe(4, 1, [['p/#', 1]]));
        await a;
        if (id === 'unsub') {
          const u = peer.next(11);
          peer.send(m.unsubscribe(4, 2, ['p/#']));
          await u;
        }
        peer.send(m.disconnect(4));
        peer.close();
      }
      const { peer: gone } = await connectPeer(port, 4, { clientId: 'ended', clean: true });
      gone.send(m.disconnect(4));
      gone.close();

      const { peer: pub } = await connectPeer(port, 5, { clientId: 'props-pub', clean: true });
      const props = m.props(m.propStr(0x03, 'text/plain'), m.propPair('k', 'v'));
      let pa = pub.next(4);
      pub.send(m.publish(5, 'p/1', 'with-props', { qos: 1, mid: 1, props }));
      await pa;
      // Retained: one kept, one set then cleared.
      for (const [topic, payload, mid] of [['r/keep', 'kept', 2], ['r/clear', 'soon gone', 3], ['r/clear', '', 4]] as const) {
        pa = pub.next(4);
        pub.send(m.publish(5, topic, payload, { qos: 1, mid, retain: true }));
        await pa;
      }
      // QoS 2 to the online v4 session: it answers PUBREC and never PUBCOMP.
      const rec = pub.next(5);
      pub.send(m.publish(5, 'q/2', 'q2-held', { qos: 2, mid: 6 }));
      await rec;
      const comp = pub.next(7);
      const delivered = nextPublish(q, 4);
      pub.send(m.pubrel(5, 6));
      await comp;
      const d = await delivered;
      assert.equal(d.qos, 2);
      const rel = q.next(6);
      q.send(m.pubrec(4, d.mid));
      // PUBREL comes only once the new state is on disk.
      await rel;
      pub.close();
      q.close();
      // Wait for the last acknowledgements to be committed: a PINGREQ round trip after them
      // on a fresh connection is not enough, so ask for a durable SUBACK.
      const { peer: barrier } = await connectPeer(port, 4, { clientId: 'barrier', clean: false });
      const ba = barrier.next(9);
      barrier.send(m.subscribe(4, 1, [['none/#', 0]]));
      await ba;
      barrier.close();
      heldMid = d.mid;
    } finally {
      await b1.kill();
    }

    const b2 = await startDurable(dir, conf(dir), port);
    try {
      assert.match(b2.stderr(), /Replayed \d+ journal operation/);
      // The v5 session gets its message with its properties and subscription identifier.
      const { peer: s, present } = await connectPeer(port, 5, { clientId: 'props-sub', clean: false, props: SESSION });
      assert.equal(present, true);
      const got = await nextPublish(s, 5);
      assert.equal(got.payload, 'with-props');
      assert.ok(got.props.includes(Buffer.from([0x0b, 7])), `subscription identifier in ${got.props.toString('hex')}`);
      assert.ok(got.props.includes(Buffer.concat([Buffer.from([0x03]), m.str('text/plain')])), got.props.toString('hex'));
      assert.ok(got.props.includes(Buffer.concat([Buffer.from([0x26]), m.str('k'), m.str('v')])), got.props.toString('hex'));
      s.send(m.puback(5, got.mid));
      s.close();
      // The QoS 2 delivery resumes with PUBREL, not with the PUBLISH again.
      const { peer: q, present: qp } = await connectPeer(port, 4, { clientId: 'q2-sub', clean: false });
      assert.equal(qp, true);
      const rel = await q.next(6);
      assert.equal(rel.body.readUInt16BE(0), heldMid);
      q.send(m.pubcomp(4, rel.body.readUInt16BE(0)));
      q.close();
      // Retained: r/keep only (r/clear was cleared).
      const { peer: r } = await connectPeer(port, 4, { clientId: 'reader', clean: true });
      assert.deepEqual(await untilMarker(r, port, 'r/#', 'r/marker'), ['r/keep=kept (retained)']);
      r.close();
      // The ended session is gone; the unsubscribed one got nothing.
      const { present: endedPresent, peer: e } = await connectPeer(port, 4, { clientId: 'ended', clean: false });
      assert.equal(endedPresent, false);
      e.close();
      const { present: unsubPresent, peer: u } = await connectPeer(port, 4, { clientId: 'unsub', clean: false });
      assert.equal(unsubPresent, true);
      assert.deepEqual(await untilMarker(u, port, 'u/marker', 'u/marker'), [], 'no message for the unsubscribed session');
      u.close();
    } finally {
      assert.equal(await b2.stop(), 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a CONNACK for a new persistent session means the session is on disk: SIGKILL right after it keeps it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-durable-'));
  try {
    const b1 = await startDurable(dir, conf(dir));
    const port = b1.port;
    try {
      for (const [v, id] of [[3, 'ck-v3'], [4, 'ck-v4'], [5, 'ck-v5']] as const) {
        const { peer } = await connectPeer(port, v, { clientId: id, clean: false, ...(v === 5 ? { props: SESSION } : {}) });
        peer.close();
      }
    } finally {
      await b1.kill();
    }
    const b2 = await startDurable(dir, conf(dir), port);
    try {
      // 3.1 has no session-present flag: its session shows in the log instead.
      for (const [v, id] of [[4, 'ck-v4'], [5, 'ck-v5']] as const) {
        const { peer, present } = await connectPeer(port, v, { clientId: id, clean: false, ...(v === 5 ? { props: SESSION } : {}) });
        assert.equal(present, true, id);
        peer.close();
      }
    } finally {
      assert.equal(await b2.stop(), 0);
    }
    // The shutdown snapshot names all three sessions.
    const db = readFileSync(join(dir, 'mosquitto.db')).toString('latin1');
    for (const id of ['ck-v3', 'ck-v4', 'ck-v5']) assert.ok(db.includes(id), id);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
