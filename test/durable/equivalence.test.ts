/**
 * Durable mode, the strongest check: after a mix of operations (persistent 3.1.1 and 5.0
 * sessions, subscriptions with identifiers, unsubscriptions, QoS 0/1/2 publishes, deliveries
 * left in flight and between PUBREC and PUBCOMP, retained messages set and cleared, a session
 * ended by a clean connect), the files on disk are copied as a crash would leave them. The
 * running broker then saves its live state at shutdown; a second broker replays the copied
 * snapshot + journal and saves at shutdown too. Both mosquitto.db files must hold the same
 * state (store ids aside, which a restore renumbers, and expiry times, which restart).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDbBuffer, type DbRecord, type MsgStoreRecord } from '@skeeter/persistence';
import * as m from '../helpers/mqtt-bytes.js';
import { connectPeer, durableConfig, startDurable, type Peer } from './helpers.js';

const conf = (dir: string): string[] => durableConfig(dir, 0).map((l) => (l.startsWith('listener') ? 'listener %PORT% 127.0.0.1' : l));

/** The state of a mosquitto.db as comparable text, messages named by topic and payload. */
function describe(file: Buffer): string[] {
  const records: DbRecord[] = [];
  for (const ev of readDbBuffer(file)) if (ev.event === 'chunk') records.push(ev.chunk.record);
  const messages = new Map<bigint, MsgStoreRecord>();
  for (const r of records) if (r.kind === 'msg_store') messages.set(r.storeId, r);
  const name = (id: bigint): string => {
    const msg = messages.get(id);
    return msg ? `${msg.topic?.toString()}=${msg.payload.toString()} q${msg.qos} r${msg.retain}` : `missing ${id}`;
  };
  const out: string[] = [];
  for (const r of records) {
    switch (r.kind) {
      case 'client':
        out.push(`client ${r.clientId?.toString()} user=${r.username?.toString() ?? ''} interval=${r.sessionExpiryInterval} lastMid=${r.lastMid}`);
        break;
      case 'client_msg':
        out.push(`  msg ${r.clientId?.toString()} ${name(r.storeId)} mid=${r.mid} qos=${r.qos} state=${r.state} dir=${r.direction} retain=${r.retain} props=${JSON.stringify(r.properties)}`);
        break;
      case 'sub':
        out.push(`sub ${r.clientId?.toString()} ${r.topic?.toString()} qos=${r.qos} options=${r.options} id=${r.identifier}`);
        break;
      case 'retain':
        out.push(`retain ${name(r.storeId)}`);
        break;
    }
  }
  return out;
}

async function subscribe(peer: Peer, v: m.Version, mid: number, filters: Array<[string, number]>, props?: Buffer): Promise<void> {
  const ack = peer.next(9);
  peer.send(m.subscribe(v, mid, filters, props));
  await ack;
}

async function bye(peer: Peer, v: m.Version): Promise<void> {
  peer.send(m.disconnect(v));
  let t: NodeJS.Timeout | undefined;
  await Promise.race([peer.closed, new Promise((r) => (t = setTimeout(r, 5000)))]);
  clearTimeout(t);
  peer.close();
}

test('the replayed journal gives exactly the state the broker had (compared through both shutdown snapshots)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-durable-'));
  const copy = mkdtempSync(join(tmpdir(), 'skeeter-durable-copy-'));
  try {
    const b1 = await startDurable(dir, conf(dir));
    const port = b1.port;
    let live: string[];
    try {
      const SESSION5 = m.props(m.propU32(0x11, 600));
      // Offline sessions of both versions, one with a subscription identifier.
      const { peer: a } = await connectPeer(port, 4, { clientId: 'eq-a', clean: false, username: 'alice' });
      await subscribe(a, 4, 1, [['t/#', 2], ['x/+', 1]]);
      await bye(a, 4);
      const { peer: b } = await connectPeer(port, 5, { clientId: 'eq-b', clean: false, props: SESSION5 });
      await subscribe(b, 5, 1, [['t/+', 1]], m.props(m.propVarint(0x0b, 42)));
      await subscribe(b, 5, 2, [['gone/#', 0]]);
      const ua = b.next(11);
      b.send(m.unsubscribe(5, 3, ['gone/#']));
      await ua;
      await bye(b, 5);
      // A session that a clean connect ends.
      const { peer: c } = await connectPeer(port, 4, { clientId: 'eq-c', clean: false });
      await subscribe(c, 4, 1, [['t/#', 1]]);
      await bye(c, 4);
      const { peer: c2 } = await connectPeer(port, 4, { clientId: 'eq-c', clean: true });
      await bye(c2, 4);

      // Publishes of every QoS, with and without properties, retained set and cleared.
      const { peer: p } = await connectPeer(port, 5, { clientId: 'eq-pub', clean: true });
      let mid = 0;
      const pub = async (topic: string, payload: string, qos: 0 | 1 | 2, retain = false, props?: Buffer): Promise<void> => {
        mid++;
        const o: m.PublishOptions = { qos, retain, mid };
        if (props) o.props = props;
        if (qos === 0) {
          p.send(m.publish(5, topic, payload, o));
          return;
        }
        if (qos === 1) {
          const ack = p.next(4);
          p.send(m.publish(5, topic, payload, o));
          await ack;
          return;
        }
        const rec = p.next(5);
        p.send(m.publish(5, topic, payload, o));
        await rec;
        const comp = p.next(7);
        p.send(m.pubrel(5, mid));
        await comp;
      };
      for (let i = 0; i < 30; i++) await pub(`t/${i % 3}`, `m${i}`, ((i % 3) as 0 | 1 | 2), false, i % 5 === 0 ? m.props(m.propPair('k', `v${i}`)) : undefined);
      await pub('x/1', 'only-a', 1);
      await pub('t/r', 'kept', 1, true);
      await pub('t/gone', 'soon', 1, true);
      await pub('t/gone', '', 1, true);
      // A QoS 2 message held by the broker until PUBREL (the publisher has a persistent session).
      const { peer: h } = await connectPeer(port, 5, { clientId: 'eq-held', clean: false, props: SESSION5 });
      const rec = h.next(5);
      h.send(m.publish(5, 't/held', 'until-pubrel', { qos: 2, mid: 77 }));
      await rec;
      await bye(h, 5);

      // eq-a comes back and takes some of its queue: one QoS 1 acknowledged, one QoS 2 left
      // between PUBREC and PUBCOMP, the rest left in flight or queued.
      const { peer: a2 } = await connectPeer(port, 4, { clientId: 'eq-a', clean: false, username: 'alice' });
      const first = await a2.next(3);
      const second = await a2.next(3);
      const third = await a2.next(3);
      for (const pkt of [first, second, third]) {
        const qos = (pkt.flags >> 1) & 3;
        const tl = pkt.body.readUInt16BE(0);
        const id = pkt.body.readUInt16BE(2 + tl);
        if (qos === 1) a2.send(m.puback(4, id));
        else if (qos === 2) {
          const rel = a2.next(6);
          a2.send(m.pubrec(4, id));
          await rel;
        }
      }
      await bye(a2, 4);
      await bye(p, 5);
      // Everything before this SUBACK is on disk once it arrives.
      const { peer: barrier } = await connectPeer(port, 4, { clientId: 'eq-barrier', clean: false });
      await subscribe(barrier, 4, 1, [['none', 0]]);
      await bye(barrier, 4);

      // The files as a crash now would leave them.
      for (const f of readdirSync(dir)) if (f.startsWith('mosquitto.db')) cpSync(join(dir, f), join(copy, f));
    } finally {
      assert.equal(await b1.stop(), 0, b1.stderr());
    }
    live = describe(readFileSync(join(dir, 'mosquitto.db')));

    const b2 = await startDurable(copy, conf(copy));
    try {
      assert.match(b2.stderr(), /Replayed \d+ journal operation/);
    } finally {
      assert.equal(await b2.stop(), 0, b2.stderr());
    }
    const replayed = describe(readFileSync(join(copy, 'mosquitto.db')));
    assert.deepEqual(replayed, live);
    // The comparison covers every kind of state.
    const text = live.join('\n');
    for (const want of ['client eq-a user=alice', 'client eq-b', 'client eq-held', 'sub eq-b t/+ qos=1 options=0 id=42', 'retain t/r=kept', 'state=9', 'state=7', 'state=11', 'dir=0']) {
      assert.ok(text.includes(want), `${want} in\n${text}`);
    }
    assert.ok(!text.includes('eq-c'), 'the ended session is gone');
    assert.ok(!text.includes('gone/#'), 'the unsubscribed filter is gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(copy, { recursive: true, force: true });
  }
});
