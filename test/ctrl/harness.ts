/**
 * Shared by the mosquitto_ctrl tests: running our launcher (or another mosquitto_ctrl) as a real
 * process, and a broker with the dynamic security plugin to run it against.
 *
 * The broker is, in this order: the one named by SKEETER_CTRL_BROKER (a mosquitto binary, or
 * `skeeter` for ours) with the plugin named by SKEETER_CTRL_PLUGIN; Debian's Mosquitto with
 * Debian's plugin (`apt-get install mosquitto` ships both); skeeter's own broker, if it answers
 * dynamic security requests. When none is there the tests that need one skip, saying why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/broker-process.js';
import { launcher } from '../helpers/paths.js';
import { runTool, type RunResult } from '../clients/harness.js';

export const CTRL = launcher('mosquitto_ctrl');
export const DEBIAN_CTRL = '/usr/bin/mosquitto_ctrl';
export const DEBIAN_MOSQUITTO = '/usr/sbin/mosquitto';
export const DEBIAN_DYNSEC = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

/** Our version line, as Mosquitto's with skeeter's version added. */
export const OUR_VERSION = / \(skeeter [0-9.]+\)\.\n/g;

export interface CtrlRun {
  args: readonly string[];
  stdin?: string;
  env?: Record<string, string>;
  cwd: string;
  timeoutMs?: number;
  bin?: string;
}

export function runCtrl(o: CtrlRun): Promise<RunResult> {
  return runTool(o.bin ?? CTRL, o.args, { cwd: o.cwd, stdin: o.stdin ?? '', env: o.env, timeoutMs: o.timeoutMs ?? 20_000 });
}

/** The no-encryption warning every networked command starts with. */
export const NO_TLS_WARNING =
  'Warning: You are running mosquitto_ctrl without encryption.\n' +
  'This means all of the configuration changes you are making are visible on the network, including passwords.\n\n';

export interface DynsecBroker {
  readonly port: number;
  readonly dir: string;
  readonly description: string;
  stderr(): string;
  stop(): Promise<void>;
}

interface Candidate {
  description: string;
  bin: string;
  plugin: string;
}

function candidates(): Candidate[] | string {
  const envBroker = process.env.SKEETER_CTRL_BROKER;
  if (envBroker !== undefined && envBroker !== '') {
    const plugin = process.env.SKEETER_CTRL_PLUGIN ?? DEBIAN_DYNSEC;
    const bin = envBroker === 'skeeter' ? launcher('mosquitto') : envBroker;
    return [{ description: `${envBroker} (SKEETER_CTRL_BROKER) with ${plugin}`, bin, plugin }];
  }
  const list: Candidate[] = [];
  if (existsSync(DEBIAN_MOSQUITTO) && existsSync(DEBIAN_DYNSEC)) {
    list.push({ description: `Debian's Mosquitto with ${DEBIAN_DYNSEC}`, bin: DEBIAN_MOSQUITTO, plugin: DEBIAN_DYNSEC });
  }
  // skeeter's own dynamic security, configured the way Mosquitto's is.
  list.push({ description: "skeeter's broker with its dynamic security", bin: launcher('mosquitto'), plugin: DEBIAN_DYNSEC });
  return list;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function startOne(c: Candidate, configFile: string): Promise<DynsecBroker | string> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-ctrl-broker-'));
  const lines = [`listener ${port} 127.0.0.1`, `plugin ${c.plugin}`, `plugin_opt_config_file ${configFile}`];
  // Mosquitto started as root drops to user mosquitto, which could not read the config file.
  if (process.getuid?.() === 0) lines.push('user root');
  writeFileSync(join(dir, 'm.conf'), lines.join('\n') + '\n');
  const proc: ChildProcess = spawn(c.bin, ['-c', join(dir, 'm.conf')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout?.on('data', (d: Buffer) => (err += d.toString()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
      const done = new Promise((r) => proc.once('exit', r));
      process.kill(proc.pid, 'SIGTERM');
      await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when it accepts a TCP connection: at most 50 tries, 100 ms apart.
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      await stop();
      return `${c.description} did not start: ${err.trim().split('\n').slice(-2).join(' / ')}`;
    }
    if (await canConnect(port)) break;
    if (i >= 50) {
      await stop();
      return `${c.description} did not open its port`;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, dir, description: c.description, stderr: () => err, stop };
}

/**
 * Starts a dynsec broker on `configFile` (made with `mosquitto_ctrl dynsec init`, admin user
 * `admin` with password `adminpw`) and checks it answers `listClients`. Returns the broker, or
 * why there is none.
 */
export async function startDynsecBroker(configFile: string, cwd: string): Promise<DynsecBroker | string> {
  const list = candidates();
  if (typeof list === 'string') return list;
  const reasons: string[] = [];
  for (const c of list) {
    const b = await startOne(c, configFile);
    if (typeof b === 'string') {
      reasons.push(b);
      continue;
    }
    const probe = await runCtrl({ args: ['-p', String(b.port), '-u', 'admin', '-P', 'adminpw', 'dynsec', 'listClients'], cwd, timeoutMs: 15_000 });
    if (probe.status === 0 && probe.stdout === 'admin\n') return b;
    reasons.push(`${c.description} does not answer dynamic security requests (${JSON.stringify(probe.stderr.slice(-120))})`);
    await b.stop();
  }
  return `no broker with the dynamic security plugin: ${reasons.join('; ')}`;
}
