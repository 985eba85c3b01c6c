/**
 * Runs one client tool invocation twice — our launcher and Debian's binary — against the same
 * Debian broker, and returns what each printed and its exit status, with the bytes that must
 * differ (server-assigned client ids, random MQTT 3.1 ids, version numbers, timestamps) masked.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launcher } from '../helpers/paths.js';

export const DEBIAN_BROKER = '/usr/sbin/mosquitto';
export const DEBIAN_BIN = '/usr/bin';

export function debianToolsMissing(): string | undefined {
  for (const p of [DEBIAN_BROKER, `${DEBIAN_BIN}/mosquitto_pub`, `${DEBIAN_BIN}/mosquitto_sub`, `${DEBIAN_BIN}/mosquitto_rr`]) {
    if (spawnSync('test', ['-x', p]).status !== 0) {
      return `Debian mosquitto/mosquitto-clients not installed (${p} missing): apt-get install -y mosquitto mosquitto-clients`;
    }
  }
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Broker {
  port: number;
  proc: ChildProcess;
  dir: string;
  stop(): Promise<void>;
}

/** Starts Debian's broker on a free loopback port with extra config lines. */
export async function startDebianBroker(extra: string[] = ['allow_anonymous true']): Promise<Broker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-golden-'));
  const lines = [`listener ${port} 127.0.0.1`, ...extra];
  if (process.getuid?.() === 0) lines.push('user root');
  writeFileSync(join(dir, 'm.conf'), lines.join('\n') + '\n');
  const proc = spawn(DEBIAN_BROKER, ['-c', join(dir, 'm.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const { connect } = await import('node:net');
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`broker exited: ${err}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (i >= 50) {
      proc.kill('SIGKILL');
      throw new Error(`broker did not listen: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    proc,
    dir,
    stop: async () => {
      if (proc.exitCode === null && proc.pid !== undefined) {
        const done = new Promise((r) => proc.once('exit', r));
        process.kill(proc.pid, 'SIGTERM');
        await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
        if (proc.exitCode === null) process.kill(proc.pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  stdout: string;
  stderr: string;
  status: number | null;
  signal: string | null;
}

export interface RunOptions {
  stdin?: string | Buffer | undefined;
  env?: Record<string, string> | undefined;
  cwd: string;
  timeoutMs: number;
  /** Called once the process is running (to publish live messages while it waits). */
  whileRunning?: ((done: () => boolean) => Promise<void>) | undefined;
}

/** Runs a tool to completion, bounded by timeoutMs (then SIGKILL). */
export function runTool(bin: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: opts.cwd, TZ: 'UTC', NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => {});
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    else child.stdin.end();
    let exited = false;
    const timer = setTimeout(() => {
      if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, opts.timeoutMs);
    if (opts.whileRunning) void opts.whileRunning(() => exited);
    child.on('close', (status, signal) => {
      exited = true;
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('latin1'),
        stderr: Buffer.concat(err).toString('latin1'),
        status,
        signal,
      });
    });
  });
}

export const ours = (tool: string): string => launcher(tool);
export const debian = (tool: string): string => `${DEBIAN_BIN}/${tool}`;

/** Masks what legitimately differs between the two runs. */
export function mask(s: string): string {
  return s
    .replace(/auto-[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}/g, 'auto-<id>')
    .replace(/mosq-[A-Za-z0-9]{18}/g, 'mosq-<id>')
    .replace(/version [0-9.]+ running on libmosquitto [0-9.]+(?: \(skeeter [0-9.]+\))?\./g, 'version <v> running on libmosquitto <v>.')
    .replace(/"tst":(\t?)"[^"]*"/g, '"tst":$1"<tst>"')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}/g, '<iso8601>')
    .replace(/\b\d{10}\.\d{9}\b/g, '<unix.ns>');
}
