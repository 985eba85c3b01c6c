/**
 * Wills around session take-over and the Will Delay Interval, and the $CONTROL/ rule, as
 * Mosquitto 2.0.20 handles them.
 */
import { runScenarios, m, type Scenario } from './harness.js';

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
];

runScenarios('wills', scenarios);
