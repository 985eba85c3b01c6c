/**
 * Runs external MQTT clients (Debian's mosquitto_* tools, python3 with paho-mqtt) as child
 * processes for the interop tests: every wait is bounded, every process is stopped by its PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Debian's client tools, by absolute path so our own launchers on PATH are never picked. */
export const DEBIAN_TOOLS = {
  pub: '/usr/bin/mosquitto_pub',
  sub: '/usr/bin/mosquitto_sub',
  rr: '/usr/bin/mosquitto_rr',
} as const;

export const hasDebianTools = (): boolean => Object.values(DEBIAN_TOOLS).every((p) => existsSync(p));

/**
 * A python3 that can import paho.mqtt.client, or undefined. The `python3` on PATH may be a
 * pyenv build that does not see Debian's dist-packages, so /usr/bin/python3 is tried too.
 */
export function pythonWithPaho(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import paho.mqtt.client'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status === 0) return py;
  }
  return undefined;
}

/** A running tool: output collected as it comes, with bounded waits on it. */
export class ToolProcess {
  readonly proc: ChildProcess;
  private out = '';
  private err = '';
  private readonly exited: Promise<ToolResult>;
  private readonly listeners = new Set<() => void>();

  constructor(bin: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.proc = spawn(bin, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => {
      this.out += d.toString();
      for (const l of this.listeners) l();
    });
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.err += d.toString();
      for (const l of this.listeners) l();
    });
    this.proc.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      // 'close' (not 'exit') so that all output has been read.
      this.proc.once('close', (code, signal) => {
        for (const l of this.listeners) l();
        resolve({ code, signal, stdout: this.out, stderr: this.err });
      });
      this.proc.once('error', (e) => resolve({ code: null, signal: null, stdout: this.out, stderr: this.err + String(e) }));
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  stdout(): string {
    return this.out;
  }

  stderr(): string {
    return this.err;
  }

  running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves when stdout+stderr match `re`; rejects after `timeoutMs` or if the process ends first. */
  waitFor(re: RegExp, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (re.test(this.out) || re.test(this.err)) {
          done();
          resolve();
        } else if (!this.running()) {
          done();
          reject(new Error(`process ended before ${re}: stdout=${JSON.stringify(this.out)} stderr=${JSON.stringify(this.err)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${re} within ${timeoutMs} ms: stdout=${JSON.stringify(this.out)} stderr=${JSON.stringify(this.err)}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Waits for the exit; past `timeoutMs` the process is killed (by PID) and the result says so. */
  async done(timeoutMs = 10_000): Promise<ToolResult> {
    const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.running() && this.proc.pid !== undefined) {
      try {
        process.kill(this.proc.pid, signal);
      } catch {
        // already gone
      }
    }
  }
}

export function runTool(bin: string, args: string[], timeoutMs = 10_000, input?: string): Promise<ToolResult> {
  const t = new ToolProcess(bin, args);
  if (input !== undefined) t.proc.stdin!.end(input);
  else t.proc.stdin!.end();
  return t.done(timeoutMs);
}
