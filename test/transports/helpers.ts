/**
 * Shared bits of the transport tests: waiting for a second listener's port, and comparing
 * broker log lines without their timestamps.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_MOSQUITTO } from '../helpers/broker-process.js';
import { launcher } from '../helpers/paths.js';
import { ToolProcess, type ToolResult } from '../interop/tools.js';

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

/** Runs a broker that is expected to fail at startup, and returns its exit code and log. */
export async function runBrokerToExit(oracle: boolean, lines: string[]): Promise<ToolResult> {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-tls-conf-'));
  try {
    const conf = join(dir, 'test.conf');
    writeFileSync(conf, [...lines, ...(oracle && process.getuid?.() === 0 ? ['user root'] : [])].join('\n') + '\n');
    const t = new ToolProcess(oracle ? DEBIAN_MOSQUITTO : launcher('mosquitto'), ['-c', conf], { cwd: dir });
    t.proc.stdin!.end();
    return await t.done(10_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

