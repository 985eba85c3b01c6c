import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launcher, repoRoot } from '../helpers/paths.js';

/** The Mosquitto 2.0.11 fixtures, kept with the persistence package. */
export const fixturesDir = join(repoRoot, 'packages', 'persistence', 'test', 'fixtures');
export const FIXTURES = ['a-empty', 'b-retained', 'c-persistent-v311', 'c2-stale-username-v311', 'e-large'] as const;

export const fixturePath = (name: string, ext = '.db'): string => join(fixturesDir, `${name}${ext}`);
export const fixtureBytes = (name: string, ext = '.db'): Buffer => readFileSync(fixturePath(name, ext));

export interface RunResult {
  readonly status: number | null;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

/** Runs a command (the real built tool through its launcher by default), bounded by a timeout. */
export function run(args: readonly string[], command = launcher('db_dump'), timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      process.kill(child.pid!, 'SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
  });
}

/**
 * The reference `--stats` and `--client-stats` outputs from NAME.dump-stats.txt, which holds
 * both, each after a `$ db_dump ...` heading line and separated by one empty line.
 */
export function referenceStats(name: string): { stats: Buffer; clientStats: Buffer } {
  const text = fixtureBytes(name, '.dump-stats.txt').toString('latin1');
  const h1 = `$ db_dump --stats ${name}.db\n`;
  const h2 = `\n$ db_dump --client-stats ${name}.db\n`;
  const i1 = text.indexOf(h1);
  const i2 = text.indexOf(h2);
  if (i1 !== 0 || i2 < 0) throw new Error(`unexpected layout of ${name}.dump-stats.txt`);
  return {
    stats: Buffer.from(text.slice(h1.length, i2), 'latin1'),
    clientStats: Buffer.from(text.slice(i2 + h2.length), 'latin1'),
  };
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-dbdump-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
