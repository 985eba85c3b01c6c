// Starts and stops the three brokers under test as processes pinned to one core (taskset -c 1),
// each on a free loopback port, and reads their CPU time and RSS from /proc.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../lib/free-port.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MqttSocket } from './client.mjs';

const root = fileURLToPath(new URL('../../..', import.meta.url));
export const BROKER_CORE = '1';
export const SKEETER_LAUNCHER = join(root, 'scripts/bin/mosquitto');
export const SKEETER_ENTRY = join(root, 'packages/cli/dist/src/bin/mosquitto.js');
export const MOSQUITTO = '/usr/sbin/mosquitto';
const AEDES_SERVER = fileURLToPath(new URL('./aedes-server.mjs', import.meta.url));
const AEDES_ENTRY = join(root, 'test/node_modules/aedes/aedes.js');

export const BROKERS = ['skeeter', 'mosquitto', 'aedes'];

/**
 * `--base DIR` adds the broker kind `base`: skeeter as built in another checkout (a git worktree
 * of an older commit), run the same way, so a change is measured against what came before in
 * the same run instead of across two noisy runs.
 */
let baseRoot;
export function setBaseRoot(dir) {
  baseRoot = dir;
}
const launcher = (r) => join(r, 'scripts/bin/mosquitto');
const entry = (r) => join(r, 'packages/cli/dist/src/bin/mosquitto.js');

/** Why a broker cannot run here, or undefined when it can. */
export function unavailable(kind) {
  if (kind === 'skeeter' && !existsSync(SKEETER_ENTRY)) return 'not built (npx tsc -b)';
  if (kind === 'base' && (baseRoot === undefined || !existsSync(entry(baseRoot)))) return `no built checkout at --base ${baseRoot ?? '(not given)'}`;
  if (kind === 'mosquitto' && !existsSync(MOSQUITTO)) return `${MOSQUITTO} not installed`;
  if (kind === 'aedes' && !existsSync(AEDES_ENTRY)) return 'test/node_modules/aedes missing';
  return undefined;
}

/**
 * The same configuration for skeeter and Mosquitto: one loopback listener, anonymous clients,
 * no logging (log lines per connection would cost both), every other option at its default.
 */
function configText(port) {
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'log_dest none'];
  // Mosquitto refuses to keep root privileges unless told to; skeeter accepts the option too.
  if (process.getuid?.() === 0) lines.push('user root');
  return lines.join('\n') + '\n';
}

/**
 * Starts one broker pinned to BROKER_CORE through a shell that raises its open-files limit to the
 * hard limit first (idle-connection scenario). `profileDir` (skeeter only) adds --cpu-prof.
 */
export async function startBroker(kind, { profileDir } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `bench-${kind}-`));
  let argv;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  if (kind === 'aedes') {
    argv = [process.execPath, AEDES_SERVER, String(port)];
  } else {
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, configText(port));
    argv = [kind === 'skeeter' ? SKEETER_LAUNCHER : kind === 'base' ? launcher(baseRoot) : MOSQUITTO, '-c', conf];
    if (kind === 'skeeter' && profileDir) {
      // Node 20 refuses --cpu-prof in NODE_OPTIONS, so run what the launcher would exec
      // (`node <entry> "$@"`) with the flag on the command line instead.
      argv = [process.execPath, '--cpu-prof', `--cpu-prof-dir=${profileDir}`, SKEETER_ENTRY, '-c', conf];
    }
  }
  // `exec` all the way down (sh -> taskset -> launcher sh -> node) so the child's PID is the
  // broker's own: RSS and CPU are read from /proc/<pid>, and SIGTERM reaches the broker.
  const child = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec taskset -c "$0" "$@"', BROKER_CORE, ...argv], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output = (output + d).slice(-4000)));
  child.stderr.on('data', (d) => (output = (output + d).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const broker = { kind, port, pid: child.pid, child, exited, dir, output: () => output };
  // Ready once a CONNECT is answered (retrying while the listener is not open yet).
  const deadline = Date.now() + 15_000;
  let exitedEarly = false;
  exited.then(() => (exitedEarly = true));
  for (;;) {
    if (exitedEarly) throw new Error(`${kind} exited during startup: ${output}`);
    const probe = new MqttSocket(port, `probe-${kind}`);
    try {
      await probe.connect(2000);
      probe.close();
      break;
    } catch (e) {
      probe.close();
      if (Date.now() > deadline) {
        await stopBroker(broker);
        throw new Error(`${kind} not ready on port ${port}: ${e.message}; output: ${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return broker;
}

/** SIGTERM by PID, then SIGKILL by PID if it has not exited within 10 s. */
export async function stopBroker(broker) {
  if (broker.child.exitCode === null && broker.child.signalCode === null) {
    try {
      process.kill(broker.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        process.kill(broker.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, 10_000);
    await broker.exited;
    clearTimeout(timer);
  }
  rmSync(broker.dir, { recursive: true, force: true });
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const TICKS_PER_SECOND = 100;

/**
 * Busy CPU seconds of one core so far, all processes (/proc/stat "cpuN": user nice system irq
 * softirq steal). Minus the broker's own time this shows what else ran on the broker's core.
 */
export function coreBusySeconds(core) {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${core} `));
  if (!line) return NaN;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / TICKS_PER_SECOND;
}

/** User + system CPU seconds consumed by the process so far (/proc/<pid>/stat fields 14, 15). */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces; fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}
