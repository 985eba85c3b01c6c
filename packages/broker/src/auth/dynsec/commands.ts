/**
 * The `$CONTROL/dynamic-security/v1` commands, answering exactly as Mosquitto 2.0.20 does: the
 * same checks in the same order, error strings, response members and log lines
 * (`dynsec: <admin id>/<admin user> | <command> | ...`), the same saves, and the same clients
 * kicked so a change takes effect at their next connect.
 *
 * Everything here works on byte strings (see cjson.ts); `Effects` turns them back into the
 * broker's strings.
 */
import { randomBytes, pbkdf2Sync } from 'node:crypto';
import { getBool, getInt, getItem, getString, isValidUtf8, JsonObject, type JsonOut, type JsonValue } from './cjson.js';
import { aclsFromJson, clientsJson, groupsJson, roleJson, rolesJson } from './config-file.js';
import { aclTypeOf, Client, Group, newAcl, Role, type DynsecData, type RoleLink } from './model.js';

/** PW_DEFAULT_ITERATIONS: what 2.0.20 uses for passwords set by a command. */
export const DEFAULT_ITERATIONS = 101;

/** What a command may do outside the data. */
export interface Effects {
  /** dynsec__config_save: the config changed and is to be saved (once, after the whole payload). */
  save(): void;
  /** mosquitto_kick_client_by_username(username, false); undefined: every anonymous client. */
  kick(username: string | undefined): void;
  log(text: string): void;
}

/** The client that sent the commands, for the log lines (`(null)` when absent, as glibc prints). */
export interface Admin {
  clientId: string;
  username: string | undefined;
}

type Reply = { [key: string]: JsonOut | undefined };

/** A new salt and hash for `password` (dynsec_auth__pw_hash with new_password). */
export function hashNewPassword(password: string): { hash: Buffer; salt: Buffer; iterations: number } {
  const salt = randomBytes(12);
  return { hash: pbkdf2Sync(Buffer.from(password, 'latin1'), salt, DEFAULT_ITERATIONS, 64, 'sha512'), salt, iterations: DEFAULT_ITERATIONS };
}

const lower = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

export class CommandRunner {
  readonly responses: Reply[] = [];
  readonly #data: DynsecData;
  readonly #fx: Effects;
  readonly #who: string;

  constructor(data: DynsecData, effects: Effects, admin: Admin) {
    this.#data = data;
    this.#fx = effects;
    this.#who = `${admin.clientId}/${admin.username ?? '(null)'}`;
  }

  /** dynsec__command_reply. */
  reply(command: string, error: string | undefined, correlationData: string | undefined): void {
    this.responses.push({ command, error, correlationData });
  }

  #log(text: string): void {
    this.#fx.log(`dynsec: ${this.#who} | ${text}`);
  }

  /** A required name member that must be valid UTF-8: the value, or undefined after replying. */
  #name(cmd: JsonValue, command: string, key: string, missing: string, invalid: string, cd: string | undefined): string | undefined {
    const v = getString(cmd, key, false);
    if (!v.ok || v.value === undefined) {
      this.reply(command, missing, cd);
      return undefined;
    }
    if (!isValidUtf8(v.value)) {
      this.reply(command, invalid, cd);
      return undefined;
    }
    return v.value;
  }

  #username(cmd: JsonValue, command: string, cd: string | undefined): string | undefined {
    return this.#name(cmd, command, 'username', 'Invalid/missing username', 'Username not valid UTF-8', cd);
  }
  #groupname(cmd: JsonValue, command: string, cd: string | undefined): string | undefined {
    return this.#name(cmd, command, 'groupname', 'Invalid/missing groupname', 'Group name not valid UTF-8', cd);
  }
  #rolename(cmd: JsonValue, command: string, cd: string | undefined): string | undefined {
    return this.#name(cmd, command, 'rolename', 'Invalid/missing rolename', 'Role name not valid UTF-8', cd);
  }

  /** dynsec__handle_control: every command in order; a bad correlationData stops the rest. */
  run(commands: JsonValue[]): void {
    // As in 2.0.20, a reply for an entry that is not a valid command carries the
    // correlationData of the last command that had one.
    let cd: string | undefined;
    for (const c of commands) {
      if (!(c instanceof JsonObject)) {
        this.reply('Unknown command', 'Command not an object', cd);
        continue;
      }
      const name = getString(c, 'command', false);
      if (!name.ok || name.value === undefined) {
        this.reply('Unknown command', 'Missing command', cd);
        continue;
      }
      const got = getString(c, 'correlationData', true);
      if (!got.ok) {
        this.reply(name.value, 'Invalid correlationData data type.', undefined);
        return;
      }
      cd = got.value;
      const handler = HANDLERS.get(lower(name.value));
      if (handler === undefined) this.reply(name.value, 'Unknown command', cd);
      else handler.call(this, c, cd);
    }
  }

  // ---- Default ACL access ------------------------------------------------------------------

  setDefaultACLAccess(cmd: JsonValue, cd: string | undefined): void {
    const acls = getItem(cmd, 'acls');
    if (!Array.isArray(acls)) return this.reply('setDefaultACLAccess', 'Missing/invalid actions array', cd);
    const d = this.#data.defaultAccess;
    for (const a of acls) {
      const type = getString(a, 'acltype', false);
      const allow = getBool(a, 'allow', false, false);
      if (!type.ok || type.value === undefined || !allow.ok) continue;
      switch (lower(type.value)) {
        case 'publishclientsend':
          d.publishClientSend = allow.value;
          break;
        case 'publishclientreceive':
          d.publishClientReceive = allow.value;
          break;
        case 'subscribe':
          d.subscribe = allow.value;
          break;
        case 'unsubscribe':
          d.unsubscribe = allow.value;
          break;
      }
      this.#log(`setDefaultACLAccess | acltype=${type.value} | allow=${allow.value}`);
    }
    this.#fx.save();
    this.reply('setDefaultACLAccess', undefined, cd);
  }

  getDefaultACLAccess(_cmd: JsonValue, cd: string | undefined): void {
    this.#log('getDefaultACLAccess');
    const d = this.#data.defaultAccess;
    this.responses.push({
      command: 'getDefaultACLAccess',
      data: {
        acls: [
          { acltype: 'publishClientSend', allow: d.publishClientSend },
          { acltype: 'publishClientReceive', allow: d.publishClientReceive },
          { acltype: 'subscribe', allow: d.subscribe },
          { acltype: 'unsubscribe', allow: d.unsubscribe },
        ],
      },
      correlationData: cd,
    });
  }

  // ---- Clients -----------------------------------------------------------------------------

  /**
   * dynsec_rolelist__load_from_json: the `roles` member as links, 'absent', 'not-found' (a role
   * that does not exist) or 'invalid' (not an array, or an entry without a rolename).
   */
  #roleList(cmd: JsonValue): RoleLink[] | 'absent' | 'not-found' | 'invalid' {
    const roles = getItem(cmd, 'roles');
    if (roles === undefined) return 'absent';
    if (!Array.isArray(roles)) return 'invalid';
    const links: RoleLink[] = [];
    for (const r of roles) {
      const name = getString(r, 'rolename', false).value;
      if (name === undefined) return 'invalid';
      const role = this.#data.roles.get(name);
      if (role === undefined) return 'not-found';
      if (!links.some((l) => l.role === role)) links.push({ role, priority: getInt(r, 'priority', true, -1).value });
    }
    return links;
  }

  createClient(cmd: JsonValue, cd: string | undefined): void {
    const C = 'createClient';
    const username = this.#username(cmd, C, cd);
    if (username === undefined) return;
    const password = getString(cmd, 'password', true);
    if (!password.ok) return this.reply(C, 'Invalid/missing password', cd);
    const clientId = getString(cmd, 'clientid', true);
    if (!clientId.ok) return this.reply(C, 'Invalid/missing client id', cd);
    if (clientId.value !== undefined && !isValidUtf8(clientId.value)) return this.reply(C, 'Client ID not valid UTF-8', cd);
    const textName = getString(cmd, 'textname', true);
    if (!textName.ok) return this.reply(C, 'Invalid/missing textname', cd);
    const textDescription = getString(cmd, 'textdescription', true);
    if (!textDescription.ok) return this.reply(C, 'Invalid/missing textdescription', cd);
    const data = this.#data;
    if (data.clients.get(username) !== undefined) return this.reply(C, 'Client already exists', cd);

    const roles = this.#roleList(cmd);
    if (roles === 'not-found') return this.reply(C, 'Role not found', cd);
    if (roles === 'invalid') return this.reply(C, "'roles' not an array or missing/invalid rolename", cd);
    // Groups are checked before anything changes: 2.0.20 adds the client first and takes it
    // out again, with the same answers (a group named twice is its "Internal error").
    const groups: Array<{ group: Group; priority: number }> = [];
    const jGroups = getItem(cmd, 'groups');
    if (Array.isArray(jGroups)) {
      for (const j of jGroups) {
        if (!(j instanceof JsonObject)) continue;
        const name = getString(j, 'groupname', false).value;
        if (name === undefined) continue;
        const group = data.groups.get(name);
        if (group === undefined) return this.reply(C, 'Group not found', cd);
        if (groups.some((g) => g.group === group)) return this.reply(C, 'Internal error', cd);
        groups.push({ group, priority: getInt(j, 'priority', true, -1).value });
      }
    }
    const client = new Client(username);
    client.textName = textName.value;
    client.textDescription = textDescription.value;
    if (password.value !== undefined) client.password = hashNewPassword(password.value);
    if (clientId.value !== undefined && clientId.value.length > 0) client.clientId = clientId.value;
    // As in 2.0.20, the roles do not list the new client (a change to them does not kick it).
    if (roles !== 'absent') for (const l of roles) data.addClientRole(client, l.role, l.priority, false);
    data.clients.add(client);
    for (const g of groups) data.addGroupClient(client, g.group, g.priority);
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#log(`createClient | username=${username} | password=${password.value !== undefined ? '*****' : 'no password'}`);
  }

  deleteClient(cmd: JsonValue, cd: string | undefined): void {
    // deleteClient is the one command 2.0.20 does not check for valid UTF-8.
    const username = getString(cmd, 'username', false);
    if (!username.ok || username.value === undefined) return this.reply('deleteClient', 'Invalid/missing username', cd);
    const client = this.#data.clients.get(username.value);
    if (client === undefined) return this.reply('deleteClient', 'Client not found', cd);
    this.#data.deleteClient(client);
    this.#fx.save();
    this.reply('deleteClient', undefined, cd);
    this.#fx.kick(username.value);
    this.#log(`deleteClient | username=${username.value}`);
  }

  disableClient(cmd: JsonValue, cd: string | undefined): void {
    const username = this.#username(cmd, 'disableClient', cd);
    if (username === undefined) return;
    const client = this.#data.clients.get(username);
    if (client === undefined) return this.reply('disableClient', 'Client not found', cd);
    client.disabled = true;
    this.#fx.kick(username);
    this.#fx.save();
    this.reply('disableClient', undefined, cd);
    this.#log(`disableClient | username=${username}`);
  }

  enableClient(cmd: JsonValue, cd: string | undefined): void {
    const username = this.#username(cmd, 'enableClient', cd);
    if (username === undefined) return;
    const client = this.#data.clients.get(username);
    if (client === undefined) return this.reply('enableClient', 'Client not found', cd);
    client.disabled = false;
    this.#fx.save();
    this.reply('enableClient', undefined, cd);
    this.#log(`enableClient | username=${username}`);
  }

  setClientId(cmd: JsonValue, cd: string | undefined): void {
    const C = 'setClientId';
    const username = this.#username(cmd, C, cd);
    if (username === undefined) return;
    const clientId = getString(cmd, 'clientid', true);
    if (!clientId.ok) return this.reply(C, 'Invalid/missing client ID', cd);
    if (clientId.value !== undefined && !isValidUtf8(clientId.value)) return this.reply(C, 'Client ID not valid UTF-8', cd);
    const client = this.#data.clients.get(username);
    if (client === undefined) return this.reply(C, 'Client not found', cd);
    client.clientId = clientId.value !== undefined && clientId.value.length > 0 ? clientId.value : undefined;
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#fx.kick(username);
    this.#log(`setClientId | username=${username} | clientid=${client.clientId ?? '(null)'}`);
  }

  setClientPassword(cmd: JsonValue, cd: string | undefined): void {
    const C = 'setClientPassword';
    const username = this.#username(cmd, C, cd);
    if (username === undefined) return;
    const password = getString(cmd, 'password', false);
    if (!password.ok || password.value === undefined) return this.reply(C, 'Invalid/missing password', cd);
    if (password.value.length === 0) return this.reply(C, 'Empty password is not allowed', cd);
    const client = this.#data.clients.get(username);
    if (client === undefined) return this.reply(C, 'Client not found', cd);
    client.password = hashNewPassword(password.value);
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#fx.kick(username);
    this.#log(`setClientPassword | username=${username} | password=******`);
  }

  modifyClient(cmd: JsonValue, cd: string | undefined): void {
    const C = 'modifyClient';
    const username = this.#username(cmd, C, cd);
    if (username === undefined) return;
    const data = this.#data;
    const client = data.clients.get(username);
    if (client === undefined) return this.reply(C, 'Client not found', cd);
    const clientId = getString(cmd, 'clientid', false);
    const password = getString(cmd, 'password', false);
    const textName = getString(cmd, 'textname', false);
    const textDescription = getString(cmd, 'textdescription', false);
    const roles = this.#roleList(cmd);
    if (roles === 'not-found') return this.reply(C, 'Role not found', cd);
    if (roles === 'invalid') return this.reply(C, "'roles' not an array or missing/invalid rolename", cd);
    const jGroups = getItem(cmd, 'groups');
    if (Array.isArray(jGroups)) {
      // Every group must exist before the client's groups are replaced.
      for (const j of jGroups) {
        if (!(j instanceof JsonObject)) continue;
        const name = getString(j, 'groupname', false).value;
        if (name === undefined) return this.reply(C, "'groups' contains an object with an invalid 'groupname'", cd);
        if (data.groups.get(name) === undefined) return this.reply(C, "'groups' contains an object with a 'groupname' that does not exist", cd);
      }
      data.removeClientFromAllGroups(client);
      for (const j of jGroups) {
        if (!(j instanceof JsonObject)) continue;
        const group = data.groups.get(getString(j, 'groupname', false).value!)!;
        data.addGroupClient(client, group, getInt(j, 'priority', true, -1).value);
      }
    }
    if (password.ok && password.value !== undefined && password.value.length > 0) client.password = hashNewPassword(password.value);
    if (clientId.ok && clientId.value !== undefined) client.clientId = clientId.value.length > 0 ? clientId.value : undefined;
    if (textName.ok) client.textName = textName.value;
    if (textDescription.ok) client.textDescription = textDescription.value;
    if (roles !== 'absent') {
      data.removeAllClientRoles(client);
      for (const l of roles) data.addClientRole(client, l.role, l.priority);
    }
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#fx.kick(username);
    this.#log(`modifyClient | username=${username}`);
  }

  #clientJson(client: Client, verbose: boolean): JsonOut {
    if (!verbose) return client.username;
    return {
      username: client.username,
      clientid: client.clientId,
      textname: client.textName,
      textdescription: client.textDescription,
      disabled: client.disabled ? true : undefined,
      roles: rolesJson(client.roles),
      groups: groupsJson(client.groups),
    };
  }

  getClient(cmd: JsonValue, cd: string | undefined): void {
    const username = this.#username(cmd, 'getClient', cd);
    if (username === undefined) return;
    const client = this.#data.clients.get(username);
    if (client === undefined) return this.reply('getClient', 'Client not found', cd);
    this.responses.push({ command: 'getClient', data: { client: this.#clientJson(client, true) }, correlationData: cd });
    this.#log(`getClient | username=${username}`);
  }

  /** listClients / listGroups / listRoles: `count` items from `offset` (count 0 still gives one, as in 2.0.20). */
  #list<T>(command: string, key: string, cmd: JsonValue, cd: string | undefined, items: readonly T[], toJson: (x: T, verbose: boolean) => JsonOut): void {
    const verbose = getBool(cmd, 'verbose', true, false).value;
    let count = getInt(cmd, 'count', true, -1).value;
    const offset = getInt(cmd, 'offset', true, 0).value;
    const out: JsonOut[] = [];
    for (let i = 0; i < items.length; i++) {
      if (i < offset) continue;
      out.push(toJson(items[i]!, verbose));
      if (count >= 0) {
        count--;
        if (count <= 0) break;
      }
    }
    this.responses.push({ command, data: { totalCount: items.length, [key]: out }, correlationData: cd });
    this.#log(`${command} | verbose=${verbose} | count=${count} | offset=${offset}`);
  }

  listClients(cmd: JsonValue, cd: string | undefined): void {
    this.#list('listClients', 'clients', cmd, cd, this.#data.clients.all(), (c, v) => this.#clientJson(c, v));
  }

  addClientRole(cmd: JsonValue, cd: string | undefined): void {
    const C = 'addClientRole';
    const username = this.#username(cmd, C, cd);
    if (username === undefined) return;
    const rolename = this.#rolename(cmd, C, cd);
    if (rolename === undefined) return;
    const priority = getInt(cmd, 'priority', true, -1).value;
    const client = this.#data.clients.get(username);
    if (client === undefined) return this.reply(C, 'Client not found', cd);
    const role = this.#data.roles.get(rolename);
    if (role === undefined) return this.reply(C, 'Role not found', cd);
    // A role the client already has is 2.0.20's "Internal error".
    if (!this.#data.addClientRole(client, role, priority)) return this.reply(C, 'Internal error', cd);
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#fx.kick(username);
    this.#log(`addClientRole | username=${username} | rolename=${rolename} | priority=${priority}`);
  }

  removeClientRole(cmd: JsonValue, cd: string | undefined): void {
    const C = 'removeClientRole';
    const username = this.#username(cmd, C, cd);
    if (username === undefined) return;
    const rolename = this.#rolename(cmd, C, cd);
    if (rolename === undefined) return;
    const client = this.#data.clients.get(username);
    if (client === undefined) return this.reply(C, 'Client not found', cd);
    const role = this.#data.roles.get(rolename);
    if (role === undefined) return this.reply(C, 'Role not found', cd);
    this.#data.removeClientRole(client, role);
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#fx.kick(username);
    this.#log(`removeClientRole | username=${username} | rolename=${rolename}`);
  }

  // ---- Groups ------------------------------------------------------------------------------

  /** group__kick_all: its clients, and the anonymous clients when it is the anonymous group. */
  #kickGroup(group: Group): void {
    if (group === this.#data.anonymousGroup) this.#fx.kick(undefined);
    for (const { client } of [...group.clients]) this.#fx.kick(client.username);
  }

  addGroupRole(cmd: JsonValue, cd: string | undefined): void {
    const C = 'addGroupRole';
    const groupname = this.#groupname(cmd, C, cd);
    if (groupname === undefined) return;
    const rolename = this.#rolename(cmd, C, cd);
    if (rolename === undefined) return;
    const priority = getInt(cmd, 'priority', true, -1).value;
    const group = this.#data.groups.get(groupname);
    if (group === undefined) return this.reply(C, 'Group not found', cd);
    const role = this.#data.roles.get(rolename);
    if (role === undefined) return this.reply(C, 'Role not found', cd);
    if (!this.#data.addGroupRole(group, role, priority)) return this.reply(C, 'Group is already in this role', cd);
    this.#log(`addGroupRole | groupname=${groupname} | rolename=${rolename} | priority=${priority}`);
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#kickGroup(group);
  }

  createGroup(cmd: JsonValue, cd: string | undefined): void {
    const C = 'createGroup';
    const groupname = this.#groupname(cmd, C, cd);
    if (groupname === undefined) return;
    const textName = getString(cmd, 'textname', true);
    if (!textName.ok) return this.reply(C, 'Invalid/missing textname', cd);
    const textDescription = getString(cmd, 'textdescription', true);
    if (!textDescription.ok) return this.reply(C, 'Invalid/missing textdescription', cd);
    const data = this.#data;
    if (data.groups.get(groupname) !== undefined) return this.reply(C, 'Group already exists', cd);
    const roles = this.#roleList(cmd);
    if (roles === 'not-found') return this.reply(C, 'Role not found', cd);
    if (roles === 'invalid') return this.reply(C, 'Internal error', cd);
    const group = new Group(groupname);
    group.textName = textName.value;
    group.textDescription = textDescription.value;
    // As in 2.0.20, the roles do not list the new group (a change to them does not kick its clients).
    if (roles !== 'absent') for (const l of roles) data.addGroupRole(group, l.role, l.priority, false);
    data.groups.add(group);
    this.#log(`createGroup | groupname=${groupname}`);
    this.#fx.save();
    this.reply(C, undefined, cd);
  }

  deleteGroup(cmd: JsonValue, cd: string | undefined): void {
    const C = 'deleteGroup';
    const groupname = this.#groupname(cmd, C, cd);
    if (groupname === undefined) return;
    const group = this.#data.groups.get(groupname);
    if (group === undefined) return this.reply(C, 'Group not found', cd);
    if (group === this.#data.anonymousGroup) return this.reply(C, 'Deleting the anonymous group is forbidden', cd);
    this.#kickGroup(group);
    this.#data.deleteGroup(group);
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#log(`deleteGroup | groupname=${groupname}`);
  }

  /** addGroupClient / removeGroupClient: the user is kicked whatever the outcome, as in 2.0.20. */
  addGroupClient(cmd: JsonValue, cd: string | undefined): void {
    const C = 'addGroupClient';
    const username = this.#username(cmd, C, cd);
    if (username === undefined) return;
    const groupname = this.#groupname(cmd, C, cd);
    if (groupname === undefined) return;
    const priority = getInt(cmd, 'priority', true, -1).value;
    const client = this.#data.clients.get(username);
    const group = this.#data.groups.get(groupname);
    if (client === undefined) this.reply(C, 'Client not found', cd);
    else if (group === undefined) this.reply(C, 'Group not found', cd);
    else if (!this.#data.addGroupClient(client, group, priority)) this.reply(C, 'Client is already in this group', cd);
    else {
      this.#fx.save();
      this.#log(`addGroupClient | groupname=${groupname} | username=${username} | priority=${priority}`);
      this.reply(C, undefined, cd);
    }
    this.#fx.kick(username);
  }

  removeGroupClient(cmd: JsonValue, cd: string | undefined): void {
    const C = 'removeGroupClient';
    const username = this.#username(cmd, C, cd);
    if (username === undefined) return;
    const groupname = this.#groupname(cmd, C, cd);
    if (groupname === undefined) return;
    const client = this.#data.clients.get(username);
    const group = this.#data.groups.get(groupname);
    if (client === undefined) this.reply(C, 'Client not found', cd);
    else if (group === undefined) this.reply(C, 'Group not found', cd);
    else {
      this.#data.removeGroupClient(client, group);
      this.#fx.save();
      this.#log(`removeGroupClient | groupname=${groupname} | username=${username}`);
      this.reply(C, undefined, cd);
    }
    this.#fx.kick(username);
  }

  #groupJson(group: Group): JsonOut {
    return {
      groupname: group.name,
      textname: group.textName,
      textdescription: group.textDescription,
      clients: group.clients.map((l) => ({ username: l.client.username })),
      roles: rolesJson(group.roles),
    };
  }

  getGroup(cmd: JsonValue, cd: string | undefined): void {
    const groupname = this.#groupname(cmd, 'getGroup', cd);
    if (groupname === undefined) return;
    const group = this.#data.groups.get(groupname);
    if (group === undefined) return this.reply('getGroup', 'Group not found', cd);
    this.responses.push({ command: 'getGroup', data: { group: this.#groupJson(group) }, correlationData: cd });
    this.#log(`getGroup | groupname=${groupname}`);
  }

  listGroups(cmd: JsonValue, cd: string | undefined): void {
    this.#list('listGroups', 'groups', cmd, cd, this.#data.groups.all(), (g, v) => (v ? this.#groupJson(g) : g.name));
  }

  removeGroupRole(cmd: JsonValue, cd: string | undefined): void {
    const C = 'removeGroupRole';
    const groupname = this.#groupname(cmd, C, cd);
    if (groupname === undefined) return;
    const rolename = this.#rolename(cmd, C, cd);
    if (rolename === undefined) return;
    const group = this.#data.groups.get(groupname);
    if (group === undefined) return this.reply(C, 'Group not found', cd);
    const role = this.#data.roles.get(rolename);
    if (role === undefined) return this.reply(C, 'Role not found', cd);
    this.#data.removeGroupRole(group, role);
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#kickGroup(group);
    this.#log(`removeGroupRole | groupname=${groupname} | rolename=${rolename}`);
  }

  modifyGroup(cmd: JsonValue, cd: string | undefined): void {
    const C = 'modifyGroup';
    const groupname = this.#groupname(cmd, C, cd);
    if (groupname === undefined) return;
    const data = this.#data;
    const group = data.groups.get(groupname);
    if (group === undefined) return this.reply(C, 'Group not found', cd);
    const logged = (): void => this.#log(`modifyGroup | groupname=${groupname}`);
    const textName = getString(cmd, 'textname', false);
    const textDescription = getString(cmd, 'textdescription', false);
    const roles = this.#roleList(cmd);
    if (roles === 'not-found' || roles === 'invalid') {
      this.reply(C, roles === 'not-found' ? 'Role not found' : "'roles' not an array or missing/invalid rolename", cd);
      return logged();
    }
    const jClients = getItem(cmd, 'clients');
    if (Array.isArray(jClients)) {
      for (const j of jClients) {
        if (!(j instanceof JsonObject)) continue;
        const username = getString(j, 'username', false).value;
        if (username === undefined) {
          this.reply(C, "'clients' contains an object with an invalid 'username'", cd);
          return logged();
        }
        if (data.clients.get(username) === undefined) {
          this.reply(C, "'clients' contains an object with a 'username' that does not exist", cd);
          return logged();
        }
      }
      // The members leaving are kicked, then (below) the new members.
      this.#kickGroup(group);
      data.removeAllGroupClients(group);
      for (const j of jClients) {
        if (!(j instanceof JsonObject)) continue;
        const client = data.clients.get(getString(j, 'username', false).value!)!;
        data.addGroupClient(client, group, getInt(j, 'priority', true, -1).value);
      }
    }
    if (textName.ok) group.textName = textName.value;
    if (textDescription.ok) group.textDescription = textDescription.value;
    if (roles !== 'absent') data.replaceGroupRoles(group, roles);
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#kickGroup(group);
    logged();
  }

  setAnonymousGroup(cmd: JsonValue, cd: string | undefined): void {
    const C = 'setAnonymousGroup';
    const groupname = this.#groupname(cmd, C, cd);
    if (groupname === undefined) return;
    const group = this.#data.groups.get(groupname);
    if (group === undefined) return this.reply(C, 'Group not found', cd);
    this.#data.anonymousGroup = group;
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#fx.kick(undefined);
    this.#log(`setAnonymousGroup | groupname=${groupname}`);
  }

  getAnonymousGroup(_cmd: JsonValue, cd: string | undefined): void {
    this.responses.push({
      command: 'getAnonymousGroup',
      data: { group: { groupname: this.#data.anonymousGroup?.name ?? '' } },
      correlationData: cd,
    });
    this.#log('getAnonymousGroup');
  }

  // ---- Roles -------------------------------------------------------------------------------

  /** role__kick_all: the role's clients, then the clients of its groups (and the anonymous ones). */
  #kickRole(role: Role): void {
    for (const { client } of [...role.clients]) this.#fx.kick(client.username);
    for (const { group } of [...role.groups]) this.#kickGroup(group);
  }

  createRole(cmd: JsonValue, cd: string | undefined): void {
    const C = 'createRole';
    const rolename = this.#rolename(cmd, C, cd);
    if (rolename === undefined) return;
    const textName = getString(cmd, 'textname', true);
    if (!textName.ok) return this.reply(C, 'Invalid/missing textname', cd);
    const textDescription = getString(cmd, 'textdescription', true);
    if (!textDescription.ok) return this.reply(C, 'Invalid/missing textdescription', cd);
    if (this.#data.roles.get(rolename) !== undefined) return this.reply(C, 'Role already exists', cd);
    const role = new Role(rolename);
    role.textName = textName.value;
    role.textDescription = textDescription.value;
    const acls = getItem(cmd, 'acls');
    if (Array.isArray(acls)) role.acls = aclsFromJson(acls);
    this.#data.roles.add(role);
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#log(`createRole | rolename=${rolename}`);
  }

  deleteRole(cmd: JsonValue, cd: string | undefined): void {
    const C = 'deleteRole';
    const rolename = this.#rolename(cmd, C, cd);
    if (rolename === undefined) return;
    const role = this.#data.roles.get(rolename);
    if (role === undefined) return this.reply(C, 'Role not found', cd);
    this.#kickRole(role);
    this.#data.deleteRole(role);
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#log(`deleteRole | rolename=${rolename}`);
  }

  getRole(cmd: JsonValue, cd: string | undefined): void {
    const rolename = this.#rolename(cmd, 'getRole', cd);
    if (rolename === undefined) return;
    const role = this.#data.roles.get(rolename);
    if (role === undefined) return this.reply('getRole', 'Role not found', cd);
    this.responses.push({ command: 'getRole', data: { role: roleJson(role) }, correlationData: cd });
  }

  listRoles(cmd: JsonValue, cd: string | undefined): void {
    this.#list('listRoles', 'roles', cmd, cd, this.#data.roles.all(), (r, v) => (v ? roleJson(r) : r.name));
  }

  /** The role, ACL type and topic of addRoleACL / removeRoleACL, or undefined after replying. */
  #aclTarget(C: string, cmd: JsonValue, cd: string | undefined): { role: Role; type: string; list: Role['acls'][keyof Role['acls']]; topic: string } | undefined {
    const rolename = this.#rolename(cmd, C, cd);
    if (rolename === undefined) return undefined;
    const role = this.#data.roles.get(rolename);
    if (role === undefined) return void this.reply(C, 'Role not found', cd);
    const type = getString(cmd, 'acltype', false);
    if (!type.ok || type.value === undefined) return void this.reply(C, 'Invalid/missing acltype', cd);
    const kind = aclTypeOf(type.value);
    if (kind === undefined) return void this.reply(C, 'Unknown acltype', cd);
    const topic = getString(cmd, 'topic', false);
    if (!topic.ok || topic.value === undefined) return void this.reply(C, 'Invalid/missing topic', cd);
    if (!isValidUtf8(topic.value)) return void this.reply(C, 'Topic not valid UTF-8', cd);
    if (!isSubTopic(topic.value)) return void this.reply(C, 'Invalid ACL topic', cd);
    return { role, type: type.value, list: role.acls[kind], topic: topic.value };
  }

  addRoleACL(cmd: JsonValue, cd: string | undefined): void {
    const C = 'addRoleACL';
    const t = this.#aclTarget(C, cmd, cd);
    if (t === undefined) return;
    if (t.list.byTopic.has(t.topic)) return this.reply(C, 'ACL with this topic already exists', cd);
    const priority = getInt(cmd, 'priority', true, 0).value;
    const allow = getBool(cmd, 'allow', true, false).value;
    t.list.add(newAcl(t.topic, priority, allow));
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#kickRole(t.role);
    this.#log(`addRoleACL | rolename=${t.role.name} | acltype=${t.type} | topic=${t.topic} | priority=${priority} | allow=${allow}`);
  }

  removeRoleACL(cmd: JsonValue, cd: string | undefined): void {
    const C = 'removeRoleACL';
    const t = this.#aclTarget(C, cmd, cd);
    if (t === undefined) return;
    if (!t.list.remove(t.topic)) return this.reply(C, 'ACL not found', cd);
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#kickRole(t.role);
    this.#log(`removeRoleACL | rolename=${t.role.name} | acltype=${t.type} | topic=${t.topic}`);
  }

  /** modifyRole: text and ACLs replaced; unlike the other changes, 2.0.20 kicks nobody here. */
  modifyRole(cmd: JsonValue, cd: string | undefined): void {
    const C = 'modifyRole';
    const rolename = this.#rolename(cmd, C, cd);
    if (rolename === undefined) return;
    const role = this.#data.roles.get(rolename);
    if (role === undefined) return this.reply(C, 'Role does not exist', cd);
    const textName = getString(cmd, 'textname', false);
    if (textName.ok) role.textName = textName.value;
    const textDescription = getString(cmd, 'textdescription', false);
    if (textDescription.ok) role.textDescription = textDescription.value;
    const acls = getItem(cmd, 'acls');
    if (Array.isArray(acls)) role.acls = aclsFromJson(acls);
    this.#fx.save();
    this.reply(C, undefined, cd);
    this.#log(`modifyRole | rolename=${rolename}`);
  }
}

/** mosquitto_sub_topic_check: `+` and `#` only as whole levels, `#` last; at most 65535 bytes (empty is fine). */
function isSubTopic(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '+' && c !== '#') continue;
    if (i > 0 && s[i - 1] !== '/') return false;
    if (c === '+' && i + 1 < s.length && s[i + 1] !== '/') return false;
    if (c === '#' && i + 1 < s.length) return false;
  }
  return s.length <= 65535;
}

type Handler = (this: CommandRunner, cmd: JsonValue, cd: string | undefined) => void;
const P = CommandRunner.prototype;
/** Command names are matched case-insensitively (strcasecmp), answered with their proper spelling. */
const HANDLERS = new Map<string, Handler>(
  (
    [
      P.setDefaultACLAccess,
      P.getDefaultACLAccess,
      P.createClient,
      P.deleteClient,
      P.getClient,
      P.listClients,
      P.modifyClient,
      P.setClientPassword,
      P.setClientId,
      P.addClientRole,
      P.removeClientRole,
      P.enableClient,
      P.disableClient,
      P.addGroupClient,
      P.createGroup,
      P.deleteGroup,
      P.getGroup,
      P.listGroups,
      P.modifyGroup,
      P.removeGroupClient,
      P.addGroupRole,
      P.removeGroupRole,
      P.setAnonymousGroup,
      P.getAnonymousGroup,
      P.createRole,
      P.getRole,
      P.listRoles,
      P.modifyRole,
      P.deleteRole,
      P.addRoleACL,
      P.removeRoleACL,
    ] as Handler[]
  ).map((h) => [h.name.toLowerCase(), h]),
);
