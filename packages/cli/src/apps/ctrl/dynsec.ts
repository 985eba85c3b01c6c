/**
 * `mosquitto_ctrl dynsec <command>` (apps/mosquitto_ctrl/dynsec*.c): each command's arguments
 * become one JSON command, sent as `{"commands":[...]}` (cJSON_PrintUnformatted) to
 * `$CONTROL/dynamic-security/v1`; the answer on `.../response` is printed by print.ts.
 * `help` and `init` stay local.
 *
 * Commands are matched case-insensitively. The add/remove and enable/disable pairs send the
 * command name as typed (`addclientrole` stays lower case); the others send the canonical
 * name. Numbers (priority, count, offset) go through atoi(), and a priority of -1 or a count or
 * offset below 1 is left out, as Mosquitto does.
 */
import { MosqErr } from '@skeeter/client';
import { atoi } from '../../clients/cnum.js';
import { printJson, type JsonValue } from '../../clients/json.js';
import { writeErr, writeOut } from '../../clients/output.js';
import { dynsecInit } from './init.js';
import { jarr, jbool, jnum, jobj, jstr, type JsonEntry } from './json-build.js';
import type { Prompts } from './prompt.js';
import { DYNSEC_USAGE } from './usage.js';

export const DYNSEC_REQUEST_TOPIC = '$CONTROL/dynamic-security/v1';
export const DYNSEC_RESPONSE_TOPIC = '$CONTROL/dynamic-security/v1/response';

/** What dynsec__main() returns: -1 (done, nothing to send), 0 with the request, or an error number. */
export type DynsecOutcome = { readonly rc: -1 } | { readonly rc: 0; readonly payload: Buffer } | { readonly rc: number };

/** A command's JSON members, or the rc it fails with. */
type Built = JsonEntry[] | number;
type Builder = (args: readonly string[], typed: string, prompts: Prompts) => Built | Promise<Built>;

const INVAL = MosqErr.INVAL;
/** Mosquitto reads these answers into 200-byte buffers. */
const PASSWORD_BUF = 200;

const eq = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Commands with exactly one name argument: `{"command":..., "<field>": name}`. */
function single(command: string, field: string): Builder {
  return (args) => (args.length === 1 ? [['command', jstr(command)], [field, jstr(args[0] as string)]] : INVAL);
}

/** Commands that take no arguments (and ignore any given). */
function bare(command: string): Builder {
  return () => [['command', jstr(command)]];
}

/** `[count [offset]]`: only values above 0 are sent. */
function listAll(command: string): Builder {
  return (args) => {
    if (args.length > 2) return INVAL;
    const count = args.length >= 1 ? atoi(args[0] as string) : -1;
    const offset = args.length === 2 ? atoi(args[1] as string) : -1;
    const cmd: JsonEntry[] = [['command', jstr(command)]];
    if (count > 0) cmd.push(['count', jnum(count)]);
    if (offset > 0) cmd.push(['offset', jnum(offset)]);
    return cmd;
  };
}

/** `<a> <b> [priority]` with the command name as typed; a priority of -1 is not sent. */
function pairWithPriority(first: string, second: string, order: 'as-given' | 'swapped'): Builder {
  return (args, typed) => {
    if (args.length !== 2 && args.length !== 3) return INVAL;
    const priority = args.length === 3 ? atoi(args[2] as string) : -1;
    const a: JsonEntry = [first, jstr(args[0] as string)];
    const b: JsonEntry = [second, jstr(args[1] as string)];
    // addGroupClient/removeGroupClient take <group> <user> but send the user first.
    const cmd: JsonEntry[] = [['command', jstr(typed)], ...(order === 'as-given' ? [a, b] : [b, a])];
    if (priority !== -1) cmd.push(['priority', jnum(priority)]);
    return cmd;
  };
}

const DEFAULT_ACL_TYPES = ['publishClientSend', 'publishClientReceive', 'subscribe', 'unsubscribe'];
const ROLE_ACL_TYPES = ['publishClientSend', 'publishClientReceive', 'subscribeLiteral', 'subscribePattern', 'unsubscribeLiteral', 'unsubscribePattern'];

const setDefaultAclAccess: Builder = (args) => {
  if (args.length !== 2) return INVAL;
  const [acltype, access] = args as [string, string];
  if (!DEFAULT_ACL_TYPES.some((t) => eq(t, acltype))) return INVAL;
  let allow: boolean;
  if (eq(access, 'allow')) allow = true;
  else if (eq(access, 'deny')) allow = false;
  else {
    writeErr('Error: access must be "allow" or "deny".\n');
    return INVAL;
  }
  return [
    ['command', jstr('setDefaultACLAccess')],
    ['acls', jarr([jobj([['acltype', jstr(acltype)], ['allow', jbool(allow)]])])],
  ];
};

const createClient: Builder = async (args, _typed, prompts) => {
  if (args.length === 0) return INVAL;
  const username = args[0] as string;
  let clientid: string | undefined;
  let password: string | Buffer | undefined;
  let ask = true;
  // Words other than -c/-p are skipped; a later -c/-p replaces an earlier one.
  for (let i = 1; i < args.length; i++) {
    if (args[i] === '-c') {
      if (i + 1 === args.length) {
        writeErr('Error: -c argument given, but no clientid provided.\n');
        return INVAL;
      }
      clientid = args[++i];
    } else if (args[i] === '-p') {
      if (i + 1 === args.length) {
        writeErr('Error: -p argument given, but no password provided.\n');
        return INVAL;
      }
      password = args[++i];
      ask = false;
    }
  }
  if (ask) {
    writeOut(`Enter new password for ${username}. Press return for no password (user will be unable to login).\n`);
    const r = await prompts.ask(`New password for ${username}: `, `Reenter password for ${username}: `, true, PASSWORD_BUF);
    if (r.rc === 0) {
      password = r.password;
    } else if (r.rc === 2) {
      writeErr('Error: Passwords do not match.\n');
      return -1;
    } else {
      // An empty answer: the client is created without a password.
      password = undefined;
      writeOut('\n');
    }
  }
  const cmd: JsonEntry[] = [['command', jstr('createClient')], ['username', jstr(username)]];
  if (clientid !== undefined) cmd.push(['clientid', jstr(clientid)]);
  if (password !== undefined) cmd.push(['password', jstr(password)]);
  return cmd;
};

const setClientId: Builder = (args) => {
  if (args.length !== 1 && args.length !== 2) return INVAL;
  const cmd: JsonEntry[] = [['command', jstr('setClientId')], ['username', jstr(args[0] as string)]];
  if (args.length === 2) cmd.push(['clientid', jstr(args[1] as string)]);
  return cmd;
};

const setClientPassword: Builder = async (args, _typed, prompts) => {
  if (args.length !== 1 && args.length !== 2) return INVAL;
  const username = args[0] as string;
  let password: string | Buffer;
  if (args.length === 2) {
    password = args[1] as string;
  } else {
    const r = await prompts.ask(`New password for ${username}: `, `Reenter password for ${username}: `, false, PASSWORD_BUF);
    if (r.rc !== 0) return -1;
    password = r.password;
  }
  return [
    ['command', jstr('setClientPassword')],
    ['username', jstr(username)],
    ['password', jstr(password)],
  ];
};

const addRoleAcl: Builder = (args) => {
  if (args.length !== 4 && args.length !== 5) return INVAL;
  const [rolename, acltype, topic, action] = args as [string, string, string, string];
  const priority = args.length === 5 ? atoi(args[4] as string) : -1;
  if (!ROLE_ACL_TYPES.some((t) => eq(t, acltype))) return INVAL;
  let allow: boolean;
  if (eq(action, 'allow')) allow = true;
  else if (eq(action, 'deny')) allow = false;
  else return INVAL;
  const cmd: JsonEntry[] = [
    ['command', jstr('addRoleACL')],
    ['rolename', jstr(rolename)],
    ['acltype', jstr(acltype)],
    ['topic', jstr(topic)],
    ['allow', jbool(allow)],
  ];
  if (priority !== -1) cmd.push(['priority', jnum(priority)]);
  return cmd;
};

const removeRoleAcl: Builder = (args) => {
  if (args.length !== 3) return INVAL;
  const [rolename, acltype, topic] = args as [string, string, string];
  if (!ROLE_ACL_TYPES.some((t) => eq(t, acltype))) return INVAL;
  return [
    ['command', jstr('removeRoleACL')],
    ['rolename', jstr(rolename)],
    ['acltype', jstr(acltype)],
    ['topic', jstr(topic)],
  ];
};

/** The commands in dynsec__main()'s order. */
const COMMANDS: ReadonlyArray<readonly [string, Builder]> = [
  ['setDefaultACLAccess', setDefaultAclAccess],
  ['getDefaultACLAccess', bare('getDefaultACLAccess')],
  ['createClient', createClient],
  ['deleteClient', single('deleteClient', 'username')],
  ['getClient', single('getClient', 'username')],
  ['listClients', listAll('listClients')],
  ['setClientId', setClientId],
  ['setClientPassword', setClientPassword],
  ['addClientRole', pairWithPriority('username', 'rolename', 'as-given')],
  ['removeClientRole', pairWithPriority('username', 'rolename', 'as-given')],
  ['enableClient', (args, typed) => (args.length === 1 ? [['command', jstr(typed)], ['username', jstr(args[0] as string)]] : INVAL)],
  ['disableClient', (args, typed) => (args.length === 1 ? [['command', jstr(typed)], ['username', jstr(args[0] as string)]] : INVAL)],
  ['createGroup', single('createGroup', 'groupname')],
  ['deleteGroup', single('deleteGroup', 'groupname')],
  ['getGroup', single('getGroup', 'groupname')],
  ['listGroups', listAll('listGroups')],
  ['addGroupRole', pairWithPriority('groupname', 'rolename', 'as-given')],
  ['removeGroupRole', pairWithPriority('groupname', 'rolename', 'as-given')],
  ['addGroupClient', pairWithPriority('groupname', 'username', 'swapped')],
  ['removeGroupClient', pairWithPriority('groupname', 'username', 'swapped')],
  ['setAnonymousGroup', single('setAnonymousGroup', 'groupname')],
  ['getAnonymousGroup', bare('getAnonymousGroup')],
  ['createRole', single('createRole', 'rolename')],
  ['deleteRole', single('deleteRole', 'rolename')],
  ['getRole', single('getRole', 'rolename')],
  ['listRoles', listAll('listRoles')],
  ['addRoleACL', addRoleAcl],
  ['removeRoleACL', removeRoleAcl],
];

/** dynsec__main(): `args` starts with the command. */
export async function dynsecMain(args: readonly string[], prompts: Prompts): Promise<DynsecOutcome> {
  const command = args[0] ?? '';
  const rest = args.slice(1);
  if (eq(command, 'help')) {
    writeOut(DYNSEC_USAGE);
    return { rc: -1 };
  }
  if (eq(command, 'init')) return { rc: await dynsecInit(rest, prompts) };
  const entry = COMMANDS.find(([name]) => eq(name, command));
  if (entry === undefined) {
    writeErr(`Command '${command}' not recognised.\n`);
    return { rc: MosqErr.UNKNOWN };
  }
  const built = await entry[1](rest, command, prompts);
  if (typeof built === 'number') return { rc: built };
  const tree: JsonValue = jobj([['commands', jarr([jobj(built)])]]);
  return { rc: 0, payload: printJson(tree, false) };
}
