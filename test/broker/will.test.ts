/**
 * Wills around session take-over and the Will Delay Interval, and the $CONTROL/ rule, as
 * Mosquitto 2.0.20 handles them.
 */
import assert from 'node:assert/strict';
import { runScenarios, m, type Scenario } from './harness.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Session-expiry property for v5 (0 = the session ends with the connection). */
const expiry = (s: number): Buffer => m.props(m.propU32(0x11, s));

const scenarios: Scenario[] = [
  {
    name: 'a will to $CONTROL/ ends the connection without CONNACK',
    versions: [4, 5],
    debian: 'Mosquitto 2.0.11 accepts a will to $CONTROL/; 2.0.20 refuses it',
    async run(ctx, v) {
      const c = await ctx.open();
      c.send(m.connect(v, { clientId: `wctl${v}`, will: { topic: '$CONTROL/dynamic-security/v1', payload: 'x' } }));
      await ctx.expectClosed(c);
      // The same client with an ordinary will is accepted.
      await ctx.connected(v, { clientId: `wctl${v}`, will: { topic: 'CONTROL/x', payload: 'x' } });
    },
  },
  {
    name: 'take-over: the old will goes out unless the session resumes; session present only on resume',
    versions: [4, 5],
    async run(ctx, v) {
      const watch = await ctx.connected(v, { clientId: `wto-watch${v}` });
      watch.send(m.subscribe(v, 1, [[`wto/${v}/#`, 0]]));
      await ctx.expect(watch, m.suback(v, 1, [0]));
      for (const [keep1, keep2] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const id = `wto${v}-${keep1 ? 1 : 0}${keep2 ? 1 : 0}`;
        const topic = `wto/${v}/${id}`;
        const opts = (keep: boolean): m.ConnectOptions =>
          v === 5 ? { clientId: id, clean: !keep, props: expiry(keep ? 60 : 0) } : { clientId: id, clean: !keep };
        const first = await ctx.connected(v, { ...opts(keep1), will: { topic, payload: 'LWT' } });
        first.send(m.publish(v, topic, 'ready'));
        await ctx.expect(watch, m.publish(v, topic, 'ready'));
        // Present only when the old session outlives connections and the new one keeps it.
        const second = await ctx.connected(v, opts(keep2), keep1 && keep2);
        // 2.0.20 tells a v5 client it was taken over (0x8E); Debian's 2.0.11 just closes.
        if (v === 5 && !ctx.oracle) await ctx.expect(first, m.disconnect(5, 0x8e));
        await ctx.expectClosed(first);
        if (!(keep1 && keep2)) await ctx.expect(watch, m.publish(v, topic, 'LWT'), `will of ${id}`);
        second.send(m.publish(v, topic, 'again'));
        await ctx.expect(watch, m.publish(v, topic, 'again'), `no will of ${id} before this`);
        second.send(m.disconnect(v));
        await ctx.expectClosed(second);
        if (keep2) {
          // Clean up the kept session for the next round.
          const clean = await ctx.connected(v, { clientId: id }, false);
          clean.send(m.disconnect(v));
        }
      }
    },
  },
  {
    name: 'v5 will delay without session expiry: the will still waits its delay',
    versions: [5],
    async run(ctx) {
      const watch = await ctx.connected(5, { clientId: 'wdz-watch' });
      watch.send(m.subscribe(5, 1, [['wdz/#', 0]]));
      await ctx.expect(watch, m.suback(5, 1, [0]));
      const c = await ctx.connected(5, { clientId: 'wdz-a', will: { topic: 'wdz/a', payload: 'late', props: m.props(m.propU32(0x18, 1)) } });
      const closedAt = Date.now();
      c.close();
      await ctx.expect(watch, m.publish(5, 'wdz/a', 'late'));
      const waited = Date.now() - closedAt;
      assert.ok(waited >= 900, `the will came after ${waited} ms, not after its 1 s delay`);
    },
  },
  {
    name: 'v5 will delay without session expiry: a reconnect within the delay cancels the will, and the session is new',
    versions: [5],
    async run(ctx) {
      const watch = await ctx.connected(5, { clientId: 'wdr-watch' });
      watch.send(m.subscribe(5, 1, [['wdr/#', 0]]));
      await ctx.expect(watch, m.suback(5, 1, [0]));
      const will = { topic: 'wdr/a', payload: 'never', props: m.props(m.propU32(0x18, 1)) };
      const c = await ctx.connected(5, { clientId: 'wdr-a', clean: false, will });
      c.close();
      await sleep(300);
      const again = await ctx.connected(5, { clientId: 'wdr-a', clean: false }, false);
      await sleep(1200);
      again.send(m.disconnect(5));
      await ctx.expectClosed(again);
      watch.send(m.pingreq());
      await ctx.expect(watch, m.pingresp(), 'no will before the PINGRESP');
    },
  },
  {
    name: 'v5 will properties are forwarded in the order they came, user properties between others included',
    versions: [5],
    async run(ctx) {
      const watch = await ctx.connected(5, { clientId: 'wprop-watch' });
      watch.send(m.subscribe(5, 1, [['wprop/t', 0]]));
      await ctx.expect(watch, m.suback(5, 1, [0]));
      const willDelay = m.propU32(0x18, 0);
      const props = [m.propPair('k1', 'v1'), m.propStr(0x08, 'resp/t'), willDelay, m.propByte(0x01, 1), m.propStr(0x03, 'text/x'), m.propPair('k2', 'v2')];
      const c = await ctx.connected(5, { clientId: 'wprop', will: { topic: 'wprop/t', payload: 'gone', props: m.props(...props) } });
      c.close();
      // The Will Delay Interval is the broker's; the rest arrives as sent.
      const forwarded = props.filter((p) => p !== willDelay);
      await ctx.expect(watch, m.publish(5, 'wprop/t', 'gone', { props: m.props(...forwarded) }));
    },
  },
];

runScenarios('wills', scenarios);
