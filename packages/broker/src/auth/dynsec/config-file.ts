/**
 * The dynamic-security config file (plugin_opt_config_file) in Mosquitto 2.0.20's format:
 * read at start (dynsec__config_load), written after every command payload that changed
 * something (2.0.20 writes after each command of the payload: the file it ends with is the
 * same) with cJSON_Print's layout and 2.0.20's member order, through `<file>.new` and a rename
 * so the file is never seen half written.
 *
 * Loading skips what 2.0.20 skips (entries without a name, duplicates, links to unknown roles,
 * groups or clients, clients whose salt or hash is not 12 or 64 bytes of base64). A file that
 * is not JSON, whose top level is not an object, or whose `roles`, `clients` or `groups` is not
 * an array is refused, and the broker does not start: 2.0.20 logs the error (or, for the
 * latter two, nothing) and starts with whatever it read, so the next change overwrites the
 * file. A missing file is an empty config, as in 2.0.20 (the first change creates it).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { getBool, getInt, getItem, getString, JsonObject, parseJson, printFormatted, type JsonOut, type JsonValue } from './cjson.js';
import { ACL_TYPES, AclList, Client, DynsecData, Group, Role, emptyAcls, newAcl, type AclType, type RoleAcls, type RoleLink, type GroupLink, type ClientLink } from './model.js';

export type LoadResult =
  | { ok: true; data: DynsecData; messages: Array<{ level: 'error' | 'warning'; text: string }> }
  | { ok: false; rc: number; messages: Array<{ level: 'error' | 'warning'; text: string }> };

const MOSQ_ERR_INVAL = 3;
const MOSQ_ERR_ERRNO = 14;
const PREFIX = 'Error loading Dynamic security plugin config: ';

/** Reads and parses the config file. */
export function loadConfigFile(path: string): LoadResult {
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory()) {
      return { ok: false, rc: MOSQ_ERR_ERRNO, messages: [{ level: 'error', text: `Error: ${path} is not a file.` }, { level: 'error', text: `${PREFIX}File is not readable - check permissions.\n` }] };
    }
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const messages = [{ level: 'error' as const, text: `${PREFIX}File is not readable - check permissions.\n` }];
    // Missing: start empty, as 2.0.20 does. There but unreadable: refuse, so it is not replaced.
    return code === 'ENOENT' ? { ok: true, data: new DynsecData(), messages } : { ok: false, rc: MOSQ_ERR_ERRNO, messages };
  }
  if (bytes.length === 0) return { ok: true, data: new DynsecData(), messages: [] };
  // cJSON_Parse reads a C string: the text ends at the first NUL, which it still sees as a byte.
  let text = bytes.toString('latin1');
  const nul = text.indexOf('\0');
  text = (nul === -1 ? text : text.slice(0, nul)) + '\0';
  const tree = parseJson(text);
  if (tree === undefined) return { ok: false, rc: MOSQ_ERR_INVAL, messages: [{ level: 'error', text: `${PREFIX}File is not valid JSON.\n` }] };
  const bad = (what: string): LoadResult => ({ ok: false, rc: MOSQ_ERR_INVAL, messages: [{ level: 'error', text: `${PREFIX}${what}\n` }] });
  if (!(tree instanceof JsonObject)) return bad('File is not a JSON object.');
  for (const key of ['roles', 'clients', 'groups']) {
    const v = getItem(tree, key);
    if (v !== undefined && !Array.isArray(v)) return bad(`"${key}" is not an array.`);
  }
  return { ok: true, data: fromTree(tree), messages: [] };
}

/** The ACLs of a `acls` array, one type at a time as dynsec_roles__acl_load reads them. */
export function aclsFromJson(list: JsonValue[]): RoleAcls {
  const acls = emptyAcls();
  for (const type of ACL_TYPES) loadAcls(list, type, acls[type]);
  return acls;
}

function loadAcls(list: JsonValue[], type: AclType, into: AclList): void {
  const lower = type.toLowerCase();
  for (const j of list) {
    const acltype = getString(j, 'acltype', false).value;
    const topic = getString(j, 'topic', false).value;
    if (acltype === undefined || acltype.replace(/[A-Z]+/g, (m) => m.toLowerCase()) !== lower || topic === undefined) continue;
    into.add(newAcl(topic, getInt(j, 'priority', true, 0).value, getBool(j, 'allow', true, false).value));
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(s: string, length: number): Buffer | undefined {
  if (!BASE64.test(s)) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.length === length ? b : undefined;
}

function fromTree(tree: JsonObject): DynsecData {
  const data = new DynsecData();
  // dynsec__general_config_load, then roles, clients and groups (clients before groups, so
  // groups find their members).
  const access = getItem(tree, 'defaultACLAccess');
  if (access instanceof JsonObject) {
    const d = data.defaultAccess;
    d.publishClientSend = getBool(access, 'publishClientSend', true, false).value;
    d.publishClientReceive = getBool(access, 'publishClientReceive', true, false).value;
    d.subscribe = getBool(access, 'subscribe', true, false).value;
    d.unsubscribe = getBool(access, 'unsubscribe', true, false).value;
  }
  for (const j of (getItem(tree, 'roles') as JsonValue[] | undefined) ?? []) {
    if (!(j instanceof JsonObject)) continue;
    const name = getString(j, 'rolename', false).value;
    if (name === undefined || data.roles.get(name) !== undefined) continue;
    const role = new Role(name);
    role.textName = getString(j, 'textname', false).value;
    role.textDescription = getString(j, 'textdescription', false).value;
    const acls = getItem(j, 'acls');
    if (Array.isArray(acls)) role.acls = aclsFromJson(acls);
    data.roles.add(role);
  }
  for (const j of (getItem(tree, 'clients') as JsonValue[] | undefined) ?? []) {
    if (!(j instanceof JsonObject)) continue;
    const username = getString(j, 'username', false).value;
    if (username === undefined || data.clients.get(username) !== undefined) continue;
    const client = new Client(username);
    const disabled = getBool(j, 'disabled', false, false);
    if (disabled.ok) client.disabled = disabled.value;
    const salt = getString(j, 'salt', false).value;
    const hash = getString(j, 'password', false).value;
    const iterations = getInt(j, 'iterations', false, -1).value;
    if (salt !== undefined && hash !== undefined && iterations > 0) {
      const saltBytes = decodeBase64(salt, 12);
      const hashBytes = saltBytes && decodeBase64(hash, 64);
      if (saltBytes === undefined || hashBytes === undefined) continue;
      client.password = { hash: hashBytes, salt: saltBytes, iterations };
    }
    client.clientId = getString(j, 'clientid', false).value;
    client.textName = getString(j, 'textname', false).value;
    client.textDescription = getString(j, 'textdescription', false).value;
    const roles = getItem(j, 'roles');
    if (Array.isArray(roles)) {
      for (const r of roles) {
        if (!(r instanceof JsonObject)) continue;
        const rolename = getString(r, 'rolename', false).value;
        const role = rolename === undefined ? undefined : data.roles.get(rolename);
        if (role !== undefined) data.addClientRole(client, role, getInt(r, 'priority', true, -1).value);
      }
    }
    data.clients.add(client);
  }
  for (const j of (getItem(tree, 'groups') as JsonValue[] | undefined) ?? []) {
    if (!(j instanceof JsonObject)) continue;
    const name = getString(j, 'groupname', false).value;
    if (name === undefined || data.groups.get(name) !== undefined) continue;
    const group = new Group(name);
    group.textName = getString(j, 'textname', false).value;
    group.textDescription = getString(j, 'textdescription', false).value;
    const roles = getItem(j, 'roles');
    if (Array.isArray(roles)) {
      for (const r of roles) {
        if (!(r instanceof JsonObject)) continue;
        const rolename = getString(r, 'rolename', false).value;
        const role = rolename === undefined ? undefined : data.roles.get(rolename);
        if (role !== undefined) data.addGroupRole(group, role, getInt(r, 'priority', true, -1).value);
      }
    }
    data.groups.add(group);
    const clients = getItem(j, 'clients');
    if (Array.isArray(clients)) {
      for (const c of clients) {
        if (!(c instanceof JsonObject)) continue;
        const username = getString(c, 'username', false).value;
        const client = username === undefined ? undefined : data.clients.get(username);
        if (client !== undefined) data.addGroupClient(client, group, getInt(c, 'priority', true, -1).value);
      }
    }
  }
  const anonymous = getString(tree, 'anonymousGroup', false).value;
  if (anonymous !== undefined) data.anonymousGroup = data.groups.get(anonymous);
  return data;
}

export const rolesJson = (links: readonly RoleLink[]): JsonOut[] =>
  links.map((l) => ({ rolename: l.role.name, priority: l.priority !== -1 ? l.priority : undefined }));
export const groupsJson = (links: readonly GroupLink[]): JsonOut[] =>
  links.map((l) => ({ groupname: l.group.name, priority: l.priority !== -1 ? l.priority : undefined }));
export const clientsJson = (links: readonly ClientLink[]): JsonOut[] =>
  links.map((l) => ({ username: l.client.username, priority: l.priority !== -1 ? l.priority : undefined }));

/** A role with its ACLs (add_role_to_json, verbose), as getRole, listRoles and the file show it. */
export function roleJson(role: Role): JsonOut {
  const acls: JsonOut[] = [];
  for (const type of ACL_TYPES) {
    for (const a of role.acls[type].items) acls.push({ acltype: type, topic: a.topic, priority: a.priority, allow: a.allow });
  }
  return { rolename: role.name, textname: role.textName, textdescription: role.textDescription, acls };
}

/** The whole config as dynsec__config_save builds it. */
export function toTree(data: DynsecData): JsonOut {
  const d = data.defaultAccess;
  return {
    defaultACLAccess: {
      publishClientSend: d.publishClientSend,
      publishClientReceive: d.publishClientReceive,
      subscribe: d.subscribe,
      unsubscribe: d.unsubscribe,
    },
    clients: data.clients.all().map((c) => ({
      username: c.username,
      clientid: c.clientId,
      textname: c.textName,
      textdescription: c.textDescription,
      disabled: c.disabled ? true : undefined,
      roles: rolesJson(c.roles),
      password: c.password?.hash.toString('base64'),
      salt: c.password?.salt.toString('base64'),
      iterations: c.password?.iterations,
    })),
    groups: data.groups.all().map((g) => ({
      groupname: g.name,
      textname: g.textName,
      textdescription: g.textDescription,
      roles: rolesJson(g.roles),
      clients: clientsJson(g.clients),
    })),
    anonymousGroup: data.anonymousGroup?.name,
    roles: data.roles.all().map(roleJson),
  };
}

/**
 * Writes the config: `<path>.new` (created 0600, as Mosquitto's restricted fopen does), synced,
 * then renamed over `path`. Returns Mosquitto's error line on failure; the old file is then
 * untouched.
 */
export function saveConfigFile(path: string, data: DynsecData): string | undefined {
  const text = Buffer.from(printFormatted(toTree(data)), 'latin1');
  const tmp = `${path}.new`;
  let fd: number;
  try {
    fd = openSync(tmp, 'w', 0o600);
  } catch {
    return 'Error saving Dynamic security plugin config: File is not writable - check permissions.\n';
  }
  try {
    let off = 0;
    while (off < text.length) off += writeSync(fd, text, off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    return `Error saving Dynamic security plugin config: ${(e as Error).message}\n`;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    return `Error updating dynsec config file: ${strerror(e)}`;
  }
  // The rename itself survives a crash once the directory is synced (best effort).
  try {
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Not every file system lets a directory be synced.
  }
  return undefined;
}

/** strerror(errno) for the common cases, Node's message otherwise. */
function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const known: Record<string, string> = {
    EACCES: 'Permission denied',
    EPERM: 'Operation not permitted',
    ENOENT: 'No such file or directory',
    EISDIR: 'Is a directory',
    ENOTDIR: 'Not a directory',
    EXDEV: 'Invalid cross-device link',
    EROFS: 'Read-only file system',
    ENOSPC: 'No space left on device',
    EBUSY: 'Device or resource busy',
  };
  return (code && known[code]) ?? (e instanceof Error ? e.message : String(e));
}
