/**
 * mosquitto_ctrl against a real dynamic security plugin (harness.ts picks the broker: Debian's
 * Mosquitto with its plugin in CI, or SKEETER_CTRL_BROKER/SKEETER_CTRL_PLUGIN, or skeeter's own
 * if it has dynamic security). One administration session, step by step: every command, the
 * tables it prints, the broker's errors, prompts, protocol versions, options files. The
 * expected bytes are what Mosquitto 2.0.20's mosquitto_ctrl prints for the same steps (against
 * the 2.0.20 and the Debian 2.0.11 plugin alike); when Debian's mosquitto_ctrl is installed the
 * same steps are also run with it, on a broker of its own, as a check of the expectations.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CTRL, DEBIAN_CTRL, NO_TLS_WARNING, runCtrl, startDynsecBroker, type DynsecBroker } from './harness.js';

interface Step {
  /** After `-p <port>`; `{admin}` is `-u admin -P adminpw`. */
  args: string[];
  stdin?: string;
  stdout?: string;
  /** stderr after the no-encryption warning. */
  stderr?: string;
  status?: number;
  /** Files written in the run's HOME before the step ({port} replaced). */
  files?: Record<string, string>;
  /** No -p: the port comes from an options file. */
  noPort?: boolean;
  /** Debian's 2.0.11 mosquitto_ctrl does this differently (fixed since). */
  notDebian?: string;
}

const ADMIN = ['-u', 'admin', '-P', 'adminpw'];
const D = (...rest: string[]): string[] => [...ADMIN, 'dynsec', ...rest];

const STEPS: Step[] = [
  { args: D('listClients'), stdout: 'admin\n' },
  { args: D('getClient', 'admin'), stdout: 'Username: admin\nClientid:\nRoles:    admin (priority: -1)\n' },
  { args: D('getRole', 'admin'), stdout:
      'Rolename: admin\n' +
      'ACLs:     publishClientSend    : allow : $CONTROL/dynamic-security/# (priority: 0)\n' +
      '          publishClientReceive : allow : $CONTROL/dynamic-security/# (priority: 0)\n' +
      '          publishClientReceive : allow : $SYS/# (priority: 0)\n' +
      '          publishClientReceive : allow : # (priority: 0)\n' +
      '          subscribePattern     : allow : $CONTROL/dynamic-security/# (priority: 0)\n' +
      '          subscribePattern     : allow : $SYS/# (priority: 0)\n' +
      '          subscribePattern     : allow : # (priority: 0)\n' +
      '          unsubscribePattern   : allow : # (priority: 0)\n' },
  { args: D('createClient', 'alice', '-p', 'alicepw', '-c', 'alice-id') },
  { args: D('createClient', 'alice', '-p', 'x'), stderr: 'createClient: Error: Client already exists\n' },
  { args: D('getClient', 'alice'), stdout: 'Username: alice\nClientid: alice-id\n' },
  { args: D('createRole', 'reader') },
  { args: D('addRoleACL', 'reader', 'subscribePattern', 'sensors/#', 'allow', '5') },
  { args: D('addRoleACL', 'reader', 'publishClientReceive', 'sensors/#', 'allow') },
  { args: D('addRoleACL', 'reader', 'PUBLISHclientSEND', 'sensors/x', 'DENY', '3') },
  { args: D('addRoleACL', 'reader', 'unsubscribeLiteral', 'sensors/y', 'allow', '-2') },
  { args: D('getRole', 'reader'), stdout:
      'Rolename: reader\n' +
      'ACLs:     publishClientSend    : deny  : sensors/x (priority: 3)\n' +
      '          publishClientReceive : allow : sensors/# (priority: 0)\n' +
      '          subscribePattern     : allow : sensors/# (priority: 5)\n' +
      '          unsubscribeLiteral   : allow : sensors/y (priority: -2)\n' },
  { args: D('addClientRole', 'alice', 'reader', '2') },
  { args: D('addClientRole', 'alice', 'reader'), stderr: 'addClientRole: Error: Internal error\n' },
  { args: D('getClient', 'alice'), stdout: 'Username: alice\nClientid: alice-id\nRoles:    reader (priority: 2)\n' },
  { args: D('createGroup', 'team') },
  { args: D('addGroupClient', 'team', 'alice', '4') },
  { args: D('addGroupRole', 'team', 'reader') },
  { args: D('getGroup', 'team'), stdout: 'Groupname: team\nRoles:     reader (priority: -1)\nClients:   alice\n' },
  { args: D('getClient', 'alice'), stdout: 'Username: alice\nClientid: alice-id\nRoles:    reader (priority: 2)\nGroups:   team (priority: 4)\n' },
  { args: D('getAnonymousGroup'), stdout: '\n' },
  { args: D('setAnonymousGroup', 'team') },
  { args: D('getAnonymousGroup'), stdout: 'team\n' },
  { args: D('listGroups'), stdout: 'team\n' },
  { args: D('listRoles'), stdout: 'admin\nreader\n' },
  { args: D('listClients', '1', '1'), stdout: 'alice\n' },
  { args: D('listClients', '1'), stdout: 'admin\n' },
  { args: D('getDefaultACLAccess'), stdout: 'publishClientSend    : deny\npublishClientReceive : allow\nsubscribe            : deny\nunsubscribe          : allow\n' },
  { args: D('setDefaultACLAccess', 'subscribe', 'allow') },
  {
    args: D('getDefaultACLAccess'),
    stdout: 'publishClientSend    : deny\npublishClientReceive : allow\nsubscribe            : allow\nunsubscribe          : allow\n',
    notDebian: "2.0.11's setDefaultACLAccess did not work (fixed in 2.0.12)",
  },
  { args: D('disableClient', 'alice') },
  { args: D('getClient', 'alice'), stdout: 'Username: alice\nClientid: alice-id\nDisabled: true\nRoles:    reader (priority: 2)\nGroups:   team (priority: 4)\n' },
  { args: D('enableClient', 'alice') },
  { args: D('getClient', 'alice'), stdout: 'Username: alice\nClientid: alice-id\nRoles:    reader (priority: 2)\nGroups:   team (priority: 4)\n' },
  // A client id is set: connecting without it is refused; with it, alice is in but her roles
  // do not reach $CONTROL.
  { args: ['-u', 'alice', '-P', 'alicepw', 'dynsec', 'listClients'], stderr: 'Connection error: Not authorized\n' },
  { args: ['-i', 'alice-id', '-u', 'alice', '-P', 'alicepw', 'dynsec', 'listClients'], stderr: 'Subscribe error: Not authorized\n' },
  { args: ['-i', 'alice-id', '-u', 'alice', '-P', 'alicepw', '-V', 'mqttv311', 'dynsec', 'listClients'], stderr: 'Subscribe error: Subscription refused.\n' },
  { args: D('setClientId', 'alice') },
  { args: D('getClient', 'alice'), stdout: 'Username: alice\nClientid:\nRoles:    reader (priority: 2)\nGroups:   team (priority: 4)\n' },
  { args: D('setClientPassword', 'alice', 'newpw') },
  { args: ['-u', 'alice', '-P', 'alicepw', 'dynsec', 'listClients'], stderr: 'Connection error: Not authorized\n' },
  { args: ['-u', 'alice', '-P', 'newpw', 'dynsec', 'listClients'], stderr: 'Subscribe error: Not authorized\n' },
  { args: D('setClientPassword', 'alice'), stdin: 'third\nthird\n', stdout: 'New password for alice: \nReenter password for alice: \n' },
  { args: ['-u', 'alice', '-P', 'third', 'dynsec', 'listClients'], stderr: 'Subscribe error: Not authorized\n' },
  { args: D('removeGroupClient', 'team', 'alice') },
  { args: D('removeGroupRole', 'team', 'reader') },
  { args: D('getGroup', 'team'), stdout: 'Groupname: team\n' },
  { args: D('removeClientRole', 'alice', 'reader') },
  { args: D('getClient', 'alice'), stdout: 'Username: alice\nClientid:\n' },
  { args: D('removeRoleACL', 'reader', 'subscribePattern', 'sensors/#') },
  { args: D('getRole', 'reader'), stdout:
      'Rolename: reader\n' +
      'ACLs:     publishClientSend    : deny  : sensors/x (priority: 3)\n' +
      '          publishClientReceive : allow : sensors/# (priority: 0)\n' +
      '          unsubscribeLiteral   : allow : sensors/y (priority: -2)\n' },
  { args: D('deleteClient', 'alice') },
  { args: D('getClient', 'alice'), stderr: 'getClient: Error: Client not found\n' },
  { args: D('deleteClient', 'alice'), stderr: 'deleteClient: Error: Client not found\n' },
  { args: D('deleteRole', 'reader') },
  { args: D('getRole', 'reader'), stderr: 'getRole: Error: Role not found\n' },
  { args: D('deleteGroup', 'nothere'), stderr: 'deleteGroup: Error: Group not found\n' },
  { args: D('getGroup', 'nothere'), stderr: 'getGroup: Error: Group not found\n' },
  { args: D('ENABLECLIENT', 'nobody'), stderr: 'enableClient: Error: Client not found\n' },
  // Prompts: a new client's password (twice), and the connection's password.
  {
    args: D('createClient', 'bob'),
    stdin: 'bobpw\nbobpw\n',
    stdout: 'Enter new password for bob. Press return for no password (user will be unable to login).\nNew password for bob: \nReenter password for bob: \n',
  },
  { args: ['-u', 'bob', '-P', 'bobpw', 'dynsec', 'listClients'], stderr: 'Subscribe error: Not authorized\n' },
  {
    args: D('createClient', 'carol'),
    stdin: '\n',
    stdout: 'Enter new password for carol. Press return for no password (user will be unable to login).\nNew password for carol: \n',
  },
  { args: ['-u', 'carol', '-P', '', 'dynsec', 'listClients'], stderr: 'Connection error: Not authorized\n' },
  { args: ['-u', 'admin', 'dynsec', 'listClients'], stdin: 'adminpw\n', stdout: 'Password for admin: \nadmin\nbob\ncarol\n' },
  { args: ['-u', 'admin', 'dynsec', 'listClients'], stdin: 'wrong\n', stdout: 'Password for admin: \n', stderr: 'Connection error: Not authorized\n' },
  // Protocol versions, QoS.
  { args: ['-V', 'mqttv311', ...D('listClients')], stdout: 'admin\nbob\ncarol\n' },
  { args: ['-V', 'mqttv31', ...D('listClients')], stdout: 'admin\nbob\ncarol\n' },
  { args: ['-V', 'mqttv311', '-u', 'admin', '-P', 'bad', 'dynsec', 'listClients'], stderr: 'Connection error: Connection Refused: not authorised.\n' },
  { args: ['-u', 'admin', '-P', 'bad', 'dynsec', 'listClients'], stderr: 'Connection error: Not authorized\n' },
  { args: ['-P', 'adminpw', 'dynsec', 'listClients'], stderr: 'Connection error: Not authorized\n' },
  { args: ['-q', '0', ...D('listClients', '2')], stdout: 'admin\nbob\n' },
  { args: ['-q', '2', ...D('listClients', '2', '1')], stdout: 'bob\ncarol\n' },
  { args: ['-i', 'ctrl-admin', ...D('deleteClient', 'carol')] },
  // The default options file, and -o (broken in 2.0.11).
  { args: ['dynsec', 'listClients'], noPort: true, files: { '.config/mosquitto_ctrl': '-p {port}\n-u admin\n-P adminpw\n' }, stdout: 'admin\nbob\n' },
  {
    args: ['-o', 'opts', 'dynsec', 'listClients'],
    noPort: true,
    files: { opts: '# admin\n-p {port}\n-u   admin\n-P adminpw\n' },
    stdout: 'admin\nbob\n',
    notDebian: "2.0.11's -o did nothing (fixed in 2.0.15)",
  },
  // The options file is read after argv: it wins.
  {
    args: ['-u', 'bob', '-P', 'bobpw', 'dynsec', 'listRoles'],
    files: { '.config/mosquitto_ctrl': '-u admin\n-P adminpw\n' },
    stdout: 'admin\n',
    notDebian: '2.0.11 read the options file before argv (changed with the -o fix in 2.0.15)',
  },
  { args: ['-L', 'mqtt://admin:adminpw@127.0.0.1:{port}/ignored', 'dynsec', 'listGroups'], noPort: true, stdout: 'team\n' },
];

async function runSteps(label: string, bin: string, skipDebianDiffs: boolean): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'skeeter-ctrl-dynsec-'));
  let broker: DynsecBroker | string = 'not started';
  describe(label, { concurrency: 1 }, () => {
    before(async () => {
      const r = await runCtrl({ args: ['dynsec', 'init', join(work, 'dynsec.json'), 'admin', 'adminpw'], cwd: work });
      assert.equal(r.status, 0, r.stderr);
      broker = await startDynsecBroker(join(work, 'dynsec.json'), work);
      if (typeof broker !== 'string') process.stderr.write(`# ${label}: ${broker.description}\n`);
    });
    after(async () => {
      if (typeof broker !== 'string') await broker.stop();
      rmSync(work, { recursive: true, force: true });
    });
    STEPS.forEach((step, i) => {
      it(`${i + 1}: mosquitto_ctrl ${step.args.join(' ')}${step.stdin !== undefined ? ` < ${JSON.stringify(step.stdin)}` : ''}`, async (t) => {
        if (typeof broker === 'string') return t.skip(broker);
        if (skipDebianDiffs && step.notDebian) return t.skip(step.notDebian);
        const port = String(broker.port);
        const home = join(work, `home-${i}`);
        mkdirSync(home, { recursive: true });
        for (const [name, content] of Object.entries(step.files ?? {})) {
          mkdirSync(join(home, name, '..'), { recursive: true });
          writeFileSync(join(home, name), content.replaceAll('{port}', port));
        }
        const args = [...(step.noPort ? [] : ['-p', port]), ...step.args.map((a) => a.replaceAll('{port}', port))];
        const r = await runCtrl({ bin, args, stdin: step.stdin, cwd: home });
        const utf8 = (s: string): string => Buffer.from(s, 'latin1').toString('utf8');
        assert.equal(utf8(r.stdout), step.stdout ?? '', 'stdout');
        assert.equal(utf8(r.stderr), NO_TLS_WARNING + (step.stderr ?? ''), 'stderr');
        assert.equal(r.status, step.status ?? 0, 'exit status');
      });
    });
  });
}

await runSteps('mosquitto_ctrl dynsec session against a dynamic security broker', CTRL, false);
if (existsSync(DEBIAN_CTRL)) {
  await runSteps("the same session with Debian's mosquitto_ctrl 2.0.11 (checks the expectations)", DEBIAN_CTRL, true);
}
