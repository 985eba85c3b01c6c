/**
 * Helpers for the mosquitto_passwd black-box and interop tests: run our launcher or Debian's
 * binary, drive a program through a pseudo-terminal (util-linux `script`), and start Debian's
 * broker with a password file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file compiles to test/dist/passwd/helpers.js). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const fixtures = join(repoRoot, 'test', 'passwd', 'fixtures');
export const OUR_PASSWD = join(repoRoot, 'scripts', 'bin', 'mosquitto_passwd');

export const DEBIAN = {
  passwd: '/usr/bin/mosquitto_passwd',
  broker: '/usr/sbin/mosquitto',
  sub: '/usr/bin/mosquitto_sub',
  pub: '/usr/bin/mosquitto_pub',
} as const;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why a Debian-oracle test must be skipped, or false when all the binaries are there. */
export function debianMissing(...tools: (keyof typeof DEBIAN)[]): string | false {
  const missing = tools.filter((t) => !executable(DEBIAN[t]));
  return missing.length === 0 ? false : `Debian Mosquitto not installed (${missing.map((t) => DEBIAN[t]).join(', ')} missing): apt-get install -y mosquitto mosquitto-clients`;
}

export const hasScript = (): boolean => spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run a binary to completion (10 s bound) with optional stdin. */
export function run(binary: string, args: readonly string[], options: { input?: string | Buffer; cwd?: string; timeout?: number } = {}): Run {
  const r = spawnSync(binary, args, {
    input: options.input ?? '',
    cwd: options.cwd,
    encoding: 'utf8',
    timeout: options.timeout ?? 20_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-passwd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export interface PtySession {
  /** Everything the program wrote to the terminal so far. */
  output(): string;
  /** Wait (bounded) until the output contains text after `from`; resolves to its end index. */
  waitFor(text: string, from?: number, timeoutMs?: number): Promise<number>;
  /** Type bytes on the terminal. */
  send(bytes: string): void;
  /** Resolves to the exit status once the program ends (bounded). */
  exit(timeoutMs?: number): Promise<number | null>;
  pid: number;
}

/**
 * Run a command on a pseudo-terminal: `script -qfec <cmd> /dev/null` puts it on a new pty and
 * relays our pipe to the pty's input and the pty's output to our pipe; `-e` returns the
 * command's exit status.
 */
export function startInPty(binary: string, args: readonly string[], cwd: string): PtySession {
  const command = [binary, ...args].map(shellQuote).join(' ');
  const child: ChildProcess = spawn('script', ['-qfec', command, '/dev/null'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    pid: child.pid ?? -1,
    output: () => out,
    async waitFor(text, from = 0, timeoutMs = 10_000) {
      for (let waited = 0; ; waited += 20) {
        const at = out.indexOf(text, from);
        if (at !== -1) return at + text.length;
        if (waited >= timeoutMs || child.exitCode !== null) throw new Error(`timed out waiting for ${JSON.stringify(text)}; output so far: ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    send(bytes) {
      child.stdin?.write(bytes);
    },
    async exit(timeoutMs = 20_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const result = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (result === 'timeout') {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
        throw new Error(`pty program did not exit; output: ${JSON.stringify(out)}`);
      }
      child.stdin?.end();
      return result;
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface DebianBroker {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

/** Debian's broker with `password_file`, `allow_anonymous false`, on a free loopback port. */
export async function startDebianBroker(passwordFile: string, dir: string): Promise<DebianBroker> {
  const port = await freePort();
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${passwordFile}`, 'log_dest stderr'];
  if (process.getuid?.() === 0) lines.push('user root');
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, lines.join('\n') + '\n');
  const child = spawn(DEBIAN.broker, ['-c', conf], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready once the port accepts a connection: at most 100 tries, 50 ms apart.
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`Debian mosquitto exited: ${log}`);
    if (await canConnect(port)) break;
    if (i >= 100) {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      throw new Error(`Debian mosquitto did not listen: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
        clearTimeout(timer);
        if (child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      }
    },
  };
}

/** Publish one message with Debian's mosquitto_pub as user/password; returns the run. */
export function debianPublish(port: number, username: string, password: string): Run {
  return run(DEBIAN.pub, ['-h', '127.0.0.1', '-p', String(port), '-u', username, '-P', password, '-t', 'skeeter/passwd', '-m', 'x', '-q', '1'], { timeout: 15_000 });
}

function mqttString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * One MQTT 3.1.1 CONNECT (clean session, empty client id) with the given username/password
 * (null = field absent); resolves to the CONNACK return code. Bounded by a 10 s timeout.
 */
export function connackCode(port: number, username: string | null, password: string | null): Promise<number> {
  return new Promise((resolve, reject) => {
    let flags = 0x02;
    const payload: Buffer[] = [mqttString(Buffer.alloc(0))];
    if (username !== null) {
      flags |= 0x80;
      payload.push(mqttString(Buffer.from(username, 'utf8')));
    }
    if (password !== null) {
      flags |= 0x40;
      payload.push(mqttString(Buffer.from(password, 'utf8')));
    }
    const body = Buffer.concat([mqttString(Buffer.from('MQTT')), Buffer.from([4, flags, 0, 60]), ...payload]);
    if (body.length > 127) throw new Error('test CONNECT too long for a one-byte length');
    const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.concat([Buffer.from([0x10, body.length]), body])));
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no CONNACK within 10 s'));
    }, 10_000);
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      if (received.length >= 4) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received[3] ?? -1);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
