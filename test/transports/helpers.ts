/**
 * Shared bits of the transport tests: waiting for a second listener's port, and comparing
 * broker log lines without their timestamps.
 */
import { connect } from 'node:net';

/** Resolves once a TCP connection to the port succeeds (at most 50 tries, 100 ms apart). */
export async function waitForPort(port: number, host = '127.0.0.1'): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} never opened`);
}

/** The log's lines without the "<unix seconds>: " prefix. */
export const logLines = (text: string): string[] =>
  text.split('\n').filter((l) => l.length > 0).map((l) => l.replace(/^\d+: /, ''));

/** Polls `check` until it is true (at most `timeoutMs`). */
export async function eventually(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
