import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topicMatches } from '@skeeter/codec';
import { SubscriptionTree, type Subscription } from '../src/router/subscription-tree.js';
import { Session } from '../src/session/session.js';

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['a', 'b', 'c', '', '$SYS', 'x'];

function randomTopic(r: () => number): string {
  const n = 1 + Math.floor(r() * 4);
  return Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]!).join('/');
}

function randomFilter(r: () => number): string {
  const n = 1 + Math.floor(r() * 4);
  const levels: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    if (i === n - 1 && x < 0.2) levels.push('#');
    else if (x < 0.45) levels.push('+');
    else levels.push(WORDS[Math.floor(r() * WORDS.length)]!);
  }
  return levels.join('/');
}

const sub = (session: Session, filter: string): Subscription => ({
  session, filter, qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0, identifiers: undefined, group: undefined,
});

test('the tree matches exactly what topicMatches says, through subscribes, unsubscribes and the cache', () => {
  const r = rng(7);
  const tree = new SubscriptionTree();
  const live = new Map<Session, string>();
  for (let round = 0; round < 3000; round++) {
    if (r() < 0.3 || live.size === 0) {
      const s = new Session(`s${round}`);
      const f = randomFilter(r);
      tree.add(sub(s, f), f);
      live.set(s, f);
    } else if (r() < 0.15) {
      const [s, f] = [...live][Math.floor(r() * live.size)]!;
      assert.equal(tree.remove(s, f, undefined), true);
      live.delete(s);
    }
    const topic = randomTopic(r);
    const got = new Set(tree.match(topic).subs.map((x) => x.session));
    const want = new Set([...live].filter(([, f]) => topicMatches(f, topic)).map(([s]) => s));
    assert.deepEqual(got, want, `topic ${topic}`);
  }
  assert.equal(tree.count, live.size);
});

test('past the cache size, hot topics keep matching correctly while one-off topics rotate out', () => {
  const tree = new SubscriptionTree();
  const s = new Session('one');
  tree.add(sub(s, 'hot/+'), 'hot/+');
  for (let i = 0; i < 25_000; i++) {
    assert.equal(tree.match(`cold/${i}`).subs.length, 0);
    if (i % 100 === 0) assert.equal(tree.match('hot/x').subs.length, 1);
  }
  tree.remove(s, 'hot/+', undefined);
  assert.equal(tree.match('hot/x').subs.length, 0);
});
