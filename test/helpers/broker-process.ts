/**
 * Starts a broker as a real process, on a free port on 127.0.0.1, with a per-test config in a
 * temp dir, and stops it by PID. `binary` is our launcher by default; the Debian `mosquitto` can
 * be started the same way as an oracle.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launcher } from './paths.js';

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

export interface RunningBroker {
  port: number;
  pid: number;
  dir: string;
  /** Everything the broker wrote to stderr so far. */
  stderr(): string;
  stdout(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  process: ChildProcess;
}

export interface StartOptions {
  /** Config lines after `listener <port> 127.0.0.1` (allow_anonymous true is added unless given). */
  config?: string[];
  /** Run the Debian broker instead of ours. */
  oracle?: boolean;
  verbose?: boolean;
  /** Use `-p <port>` and no config file (local-only mode). */
  localOnly?: boolean;
  /** Listen on this port instead of a fresh free one (e.g. to restart a broker in place). */
  port?: number;
  /** The whole config, given the port (no `listener` line nor allow_anonymous is added). */
  wholeConfig?: (port: number) => string[];
}

export const hasDebianMosquitto = (): boolean =>
  spawnSync('sh', ['-c', 'command -v mosquitto && test -x /usr/sbin/mosquitto'], { encoding: 'utf8' }).status === 0;

export const DEBIAN_MOSQUITTO = '/usr/sbin/mosquitto';

export async function startBroker(options: StartOptions = {}): Promise<RunningBroker> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-broker-'));
  const args: string[] = [];
  if (options.localOnly) {
    args.push('-p', String(port));
  } else {
    const lines = options.wholeConfig ? options.wholeConfig(port) : [`listener ${port} 127.0.0.1`, ...(options.config ?? [])];
    if (!options.wholeConfig && !lines.some((l) => l.startsWith('allow_anonymous'))) lines.push('allow_anonymous true');
    if (options.oracle && process.getuid?.() === 0) lines.push('user root');
    const conf = join(dir, 'test.conf');
    writeFileSync(conf, lines.join('\n') + '\n');
    args.push('-c', conf);
  }
  if (options.verbose) args.push('-v');
  const bin = options.oracle ? DEBIAN_MOSQUITTO : launcher('mosquitto');
  const proc = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  // Ready when a TCP connection succeeds: at most 50 tries, 100 ms apart.
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`broker exited with ${proc.exitCode}: ${err}`);
    if (await canConnect(port)) break;
    if (i >= 50) {
      proc.kill('SIGKILL');
      throw new Error(`broker did not open port ${port}: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    pid: proc.pid!,
    dir,
    process: proc,
    stderr: () => err,
    stdout: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, signal);
      const timer = setTimeout(() => {
        if (proc.exitCode === null) process.kill(proc.pid!, 'SIGKILL');
      }, 5000);
      const code = await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
