/**
 * Deterministic generated database states (a small LCG, so a failing seed can be replayed),
 * covering every field and property kind the writer can emit.
 */
import { ClientMessageState, type ClientMsgRecord, type DbState, type MsgStoreRecord, type Property, type SubRecord } from '../../src/index.js';

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  text(n: number): Buffer {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz/0123456789-é✓';
    return Buffer.from(Array.from({ length: n }, () => alphabet[this.int(alphabet.length)]).join(''));
  }
}

function messageProperties(rng: Rng): Property[] | null {
  if (rng.int(3) !== 0) return null;
  const props: Property[] = [];
  if (rng.int(2)) props.push({ identifier: 1, value: rng.int(2) });
  if (rng.int(2)) props.push({ identifier: 3, value: rng.text(1 + rng.int(20)) });
  if (rng.int(2)) props.push({ identifier: 8, value: rng.text(1 + rng.int(20)) });
  if (rng.int(2)) props.push({ identifier: 9, value: rng.bytes(rng.int(40)) });
  for (let i = rng.int(3); i > 0; i--) props.push({ identifier: 38, name: rng.text(rng.int(10)), value: rng.text(rng.int(10)) });
  return props.length > 0 ? props : null;
}

export function generateState(seed: number, sizes = { messages: 50, sessions: 10 }): DbState {
  const rng = new Rng(seed);
  const messages: MsgStoreRecord[] = [];
  let id = BigInt(1 + rng.int(1000));
  for (let i = 0; i < sizes.messages; i++) {
    id += BigInt(1 + rng.int(5));
    messages.push({
      kind: 'msg_store',
      storeId: i % 7 === 0 ? id + (1n << 60n) : id, // some ids beyond 2^53, like develop's clock-derived ids
      expiryTime: rng.int(4) === 0 ? BigInt(1795634000 + rng.int(100000)) : 0n,
      sourceMid: rng.int(65536),
      sourcePort: rng.int(65536),
      sourceId: rng.int(5) === 0 ? null : rng.text(1 + rng.int(23)),
      sourceUsername: rng.int(2) === 0 ? null : rng.text(1 + rng.int(12)),
      topic: rng.text(1 + rng.int(60)),
      qos: rng.int(3),
      retain: rng.int(2),
      payload: rng.int(2) ? rng.text(rng.int(300)) : rng.bytes(rng.int(3000)),
      properties: messageProperties(rng),
    });
  }
  const sessions = [];
  const subscriptions: SubRecord[] = [];
  for (let s = 0; s < sizes.sessions; s++) {
    const clientId = Buffer.from(`gen-${seed}-${s}`);
    const queued: ClientMsgRecord[] = [];
    for (let k = rng.int(8); k > 0; k--) {
      const m = messages[rng.int(messages.length)]!;
      queued.push({
        kind: 'client_msg',
        clientId,
        storeId: m.storeId,
        mid: 1 + rng.int(65535),
        qos: rng.int(3),
        state: rng.int(12) as ClientMessageState,
        retain: rng.int(2),
        dup: rng.int(2),
        direction: rng.int(2),
        properties: rng.int(3) === 0 ? [{ identifier: 11, value: 1 + rng.int(268435455) }] : null,
      });
    }
    sessions.push({
      client: {
        kind: 'client' as const,
        clientId,
        username: rng.int(2) ? rng.text(1 + rng.int(10)) : null,
        sessionExpiryTime: rng.int(2) ? BigInt(1795634000 + rng.int(1000000)) : 0n,
        sessionExpiryInterval: rng.int(2) ? 0xffffffff : rng.int(100000),
        lastMid: rng.int(65536),
        listenerPort: rng.int(65536),
      },
      messages: queued,
    });
    for (let k = rng.int(4); k > 0; k--) {
      subscriptions.push({
        kind: 'sub',
        clientId,
        topic: rng.text(1 + rng.int(30)),
        qos: rng.int(3),
        options: [0, 0x04, 0x08, 0x0c][rng.int(4)]!,
        identifier: rng.int(2) ? 0 : 1 + rng.int(268435455),
      });
    }
  }
  const retained = messages.filter((m) => m.retain === 1).map((m) => m.storeId);
  return { lastDbId: id + 100n, shutdown: rng.int(2), messages, sessions, subscriptions, retained };
}
