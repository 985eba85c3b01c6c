/**
 * Topic names, filters, shared subscriptions and matching (spec 4.7, 4.8.2), as tables, plus
 * an exhaustive comparison of topicMatches with a plain level-by-level reference matcher.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidTopicFilter, isValidTopicName, parseSharedSubscription, topicMatches } from '../src/index.js';

describe('isValidTopicName', () => {
  const valid = ['a', 'a/b', '/', '//', 'a//b', '/a', 'a/', '$SYS/broker/uptime', '$', ' ', 'ü/€/𝄞', 'a b', 'x'.repeat(65535), '$share/g/a'];
  const invalid = ['', '+', '#', 'a/+', 'a/#', 'a+', '#a', 'a/b#', 'sport/+/player', 'a\u0000b'];
  for (const t of valid) it(`accepts ${JSON.stringify(t.length > 20 ? `${t.slice(0, 8)}...(${t.length})` : t)}`, () => assert.equal(isValidTopicName(t), true));
  for (const t of invalid) it(`rejects ${JSON.stringify(t)}`, () => assert.equal(isValidTopicName(t), false));
});

describe('isValidTopicFilter', () => {
  const valid = [
    'a', '#', '+', 'a/#', 'a/+', '+/a', 'a/+/b', '+/+', '/+', '+/', '/#', '+/#', 'a//b', '/', '//',
    '$SYS/#', '$SYS/+/x', 'sport/tennis/player1/#', '$share/g/a/#', '$share/g/+', 'ü/+/€',
  ];
  const invalid = [
    '', 'a/#/b', '#/a', 'a#', '#a', 'a/b#', 'a/#b', '##', 'a/##', 'a+', '+a', 'a/+b', 'a/b+', '++', 'a/++/b',
    'sport/tennis#', 'sport+', 'a\u0000b',
  ];
  for (const f of valid) it(`accepts ${JSON.stringify(f)}`, () => assert.equal(isValidTopicFilter(f), true));
  for (const f of invalid) it(`rejects ${JSON.stringify(f)}`, () => assert.equal(isValidTopicFilter(f), false));
});

describe('parseSharedSubscription', () => {
  const table: Array<[string, { group: string; filter: string } | null]> = [
    ['$share/g/a', { group: 'g', filter: 'a' }],
    ['$share/group1/a/b/c', { group: 'group1', filter: 'a/b/c' }],
    ['$share/g/#', { group: 'g', filter: '#' }],
    ['$share/g/+/x', { group: 'g', filter: '+/x' }],
    ['$share/g//', { group: 'g', filter: '/' }],
    ['$share/g//a', { group: 'g', filter: '/a' }],
    ['$share/g/$SYS/#', { group: 'g', filter: '$SYS/#' }],
    ['$share/ü/a', { group: 'ü', filter: 'a' }],
    // not shared subscriptions at all
    ['a/b', null],
    ['#', null],
    ['$SYS/#', null],
    ['$share', null],
    ['$SHARE/g/a', null],
    ['$sharex/g/a', null],
    ['share/g/a', null],
    // malformed shared subscriptions [MQTT-4.8.2-1], [MQTT-4.8.2-2]
    ['$share/', null],
    ['$share//a', null],
    ['$share/g', null],
    ['$share/g/', null],
    ['$share/+/a', null],
    ['$share/#/a', null],
    ['$share/g+/a', null],
    ['$share/g/a/#/b', null],
    ['$share/g/a+', null],
  ];
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => {
      const parsed = parseSharedSubscription(input);
      assert.deepEqual(parsed === null ? null : { group: parsed.group, filter: parsed.filter }, expected);
    });
  }
});

describe('topicMatches', () => {
  const table: Array<[filter: string, topic: string, matches: boolean]> = [
    // exact
    ['a/b', 'a/b', true],
    ['a/b', 'A/b', false],
    ['a/b', 'a/b/', false],
    ['a/b/', 'a/b/', true],
    ['a/b', 'a//b', false],
    ['a//b', 'a//b', true],
    ['a', 'ab', false],
    ['ab', 'a', false],
    ['/', '/', true],
    ['ü/€', 'ü/€', true],
    // + matches exactly one level, possibly empty
    ['+', 'a', true],
    ['+', 'a/b', false],
    ['+', '/', false],
    ['+/+', '/', true],
    ['/+', '/', true],
    ['+/', '/', true],
    ['+/+', 'a/b', true],
    ['+/+', 'a', false],
    ['+/+', 'a/b/c', false],
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a//c', true],
    ['a/+/c', 'a/c', false],
    ['a/+', 'a/', true],
    ['a/+', 'a', false],
    ['a/+', 'a/b/c', false],
    ['+/b', 'a/b', true],
    ['+/b', '/b', true],
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    // # matches the rest, including the parent level [MQTT-4.7.1-2]
    ['#', 'a', true],
    ['#', 'a/b/c', true],
    ['#', '/', true],
    ['#', '/a', true],
    ['a/#', 'a', true],
    ['a/#', 'a/', true],
    ['a/#', 'a/b', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'ab', false],
    ['a/#', 'b', false],
    ['a/#', 'b/a', false],
    ['a/b/#', 'a/b', true],
    ['a/b/#', 'a', false],
    ['/#', '/', true],
    ['/#', '/a', true],
    ['/#', 'a', false],
    ['+/#', 'a', true],
    ['+/#', 'a/b/c', true],
    ['+/+/#', 'a', false],
    ['+/+/#', 'a/b', true],
    ['a/+/#', 'a', false],
    ['a/+/#', 'a/b', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
    ['sport/#', 'sport', true],
    // $-topics are not matched by a leading wildcard [MQTT-4.7.2-1]
    ['#', '$SYS', false],
    ['#', '$SYS/broker/uptime', false],
    ['+', '$SYS', false],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false],
    ['+/#', '$SYS/a', false],
    ['$SYS/#', '$SYS', true],
    ['$SYS/#', '$SYS/broker/uptime', true],
    ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
    ['$SYS/+', '$SYS/x', true],
    ['a/+', 'a/$x', true],
    ['a/#', 'a/$x/y', true],
    ['$', '$', true],
  ];
  for (const [filter, topic, matches] of table) {
    it(`${JSON.stringify(filter)} ${matches ? 'matches' : 'does not match'} ${JSON.stringify(topic)}`, () => {
      assert.equal(topicMatches(filter, topic), matches);
    });
  }

  it('table rows use valid filters and topic names (matching is only defined for those)', () => {
    for (const [filter, topic] of table) {
      assert.ok(isValidTopicFilter(filter), filter);
      assert.ok(isValidTopicName(topic), topic);
    }
  });

  it('agrees with a level-by-level reference matcher on every small filter and topic', () => {
    /** Plain reading of spec 4.7: split on "/", compare level by level. */
    const reference = (filter: string, topic: string): boolean => {
      const f = filter.split('/');
      const t = topic.split('/');
      if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
      for (let i = 0; i < f.length; i++) {
        if (f[i] === '#') return true;
        if (i >= t.length) return false;
        if (f[i] !== '+' && f[i] !== t[i]) return false;
      }
      return f.length === t.length;
    };
    const joins = (levels: string[], max: number): string[] => {
      let out = levels.slice();
      let layer = levels.slice();
      for (let n = 2; n <= max; n++) {
        layer = layer.flatMap((prefix) => levels.map((l) => `${prefix}/${l}`));
        out = out.concat(layer);
      }
      return out;
    };
    const topics = joins(['a', 'b', '', '$s'], 3).filter(isValidTopicName);
    const plain = joins(['a', '', '+', '$s'], 3);
    const filters = [...plain, ...plain.map((f) => `${f}/#`), '#'].filter(isValidTopicFilter);
    let compared = 0;
    let matched = 0;
    for (const f of filters) {
      for (const t of topics) {
        const want = reference(f, t);
        assert.equal(topicMatches(f, t), want, `${JSON.stringify(f)} vs ${JSON.stringify(t)}`);
        compared++;
        if (want) matched++;
      }
    }
    assert.ok(compared > 10_000 && matched > 500, `compared ${compared}, matched ${matched}`);
  });
});
