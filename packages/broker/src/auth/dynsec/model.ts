/**
 * The dynamic-security data: clients, groups and roles with their links in both directions,
 * kept in the orders Mosquitto 2.0.20 keeps them (they decide the ACL check order, the command
 * output and the saved file):
 *
 * - clients, groups and roles by name (strcmp on bytes);
 * - a client's or group's roles by priority, highest first, then role name;
 * - a client's groups by priority, highest first, then group name;
 * - a group's (and a role's) clients by user name;
 * - a role's ACLs of one type by priority, highest first, equal priorities in the order added.
 *
 * All names are byte strings (see cjson.ts).
 *
 * A role's own lists of clients and groups (role->clientlist, role->grouplist) only say whom
 * a change of the role kicks. They are kept as 2.0.20 keeps them, which is not always the
 * reverse of the client's and group's role lists: roles given by createClient or createGroup,
 * and the new roles of modifyGroup, are not entered there (so changing such a role kicks
 * nobody until the next restart reads the file), and a group stays listed in the roles
 * modifyGroup took from it. The ACL checks only use the client's and group's own lists, which
 * are always right; and deleting a role or group removes every link to it (where 2.0.20 would
 * keep pointers to freed memory).
 */
import { isValidTopicFilter } from '@skeeter/codec';

export const ACL_TYPES = [
  'publishClientSend',
  'publishClientReceive',
  'subscribeLiteral',
  'subscribePattern',
  'unsubscribeLiteral',
  'unsubscribePattern',
] as const;
export type AclType = (typeof ACL_TYPES)[number];

/** The acltype as given (any case, strcasecmp) to its canonical name. */
export function aclTypeOf(name: string): AclType | undefined {
  const lower = name.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  return ACL_TYPES.find((t) => t.toLowerCase() === lower);
}

export interface Acl {
  readonly topic: string;
  readonly priority: number;
  readonly allow: boolean;
  /** Whether `topic` is a well-formed filter: a malformed one matches no topic (mosquitto_topic_matches_sub fails). */
  readonly wellFormed: boolean;
}

export function newAcl(topic: string, priority: number, allow: boolean): Acl {
  return { topic, priority, allow, wellFormed: isValidTopicFilter(topic) };
}

/** The ACLs of one type in a role: in check order, and by topic. */
export class AclList {
  readonly items: Acl[] = [];
  readonly byTopic = new Map<string, Acl>();

  /** Adds after every ACL of higher or equal priority; false when the topic is already there. */
  add(acl: Acl): boolean {
    if (this.byTopic.has(acl.topic)) return false;
    let i = 0;
    while (i < this.items.length && this.items[i]!.priority >= acl.priority) i++;
    this.items.splice(i, 0, acl);
    this.byTopic.set(acl.topic, acl);
    return true;
  }

  remove(topic: string): boolean {
    const acl = this.byTopic.get(topic);
    if (acl === undefined) return false;
    this.byTopic.delete(topic);
    this.items.splice(this.items.indexOf(acl), 1);
    return true;
  }
}

export type RoleAcls = Record<AclType, AclList>;

export function emptyAcls(): RoleAcls {
  return {
    publishClientSend: new AclList(),
    publishClientReceive: new AclList(),
    subscribeLiteral: new AclList(),
    subscribePattern: new AclList(),
    unsubscribeLiteral: new AclList(),
    unsubscribePattern: new AclList(),
  };
}

export interface Password {
  hash: Buffer;
  salt: Buffer;
  iterations: number;
}

export interface RoleLink {
  readonly role: Role;
  readonly priority: number;
}
export interface GroupLink {
  readonly group: Group;
  readonly priority: number;
}
export interface ClientLink {
  readonly client: Client;
  readonly priority: number;
}

export class Client {
  clientId: string | undefined;
  textName: string | undefined;
  textDescription: string | undefined;
  disabled = false;
  /** undefined: no password set (the client can never log in). */
  password: Password | undefined;
  readonly roles: RoleLink[] = [];
  readonly groups: GroupLink[] = [];
  readonly username: string;
  constructor(username: string) {
    this.username = username;
  }
}

export class Group {
  textName: string | undefined;
  textDescription: string | undefined;
  roles: RoleLink[] = [];
  readonly clients: ClientLink[] = [];
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

export class Role {
  textName: string | undefined;
  textDescription: string | undefined;
  acls: RoleAcls = emptyAcls();
  /** role->clientlist: the clients a change of the role kicks. */
  readonly clients: ClientLink[] = [];
  /** role->grouplist: the groups whose clients a change of the role kicks. */
  readonly groups: GroupLink[] = [];
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

const byPriorityThenName = <T>(name: (x: T) => string) => (a: { priority: number } & T, b: { priority: number } & T): number =>
  b.priority - a.priority || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);

const roleOrder = byPriorityThenName<RoleLink>((l) => l.role.name);
const groupOrder = byPriorityThenName<GroupLink>((l) => l.group.name);
const clientOrder = (a: ClientLink, b: ClientLink): number => (a.client.username < b.client.username ? -1 : a.client.username > b.client.username ? 1 : 0);

/** uthash's HASH_ADD_INORDER: before the first element that sorts after the new one. */
function insertSorted<T>(list: T[], item: T, cmp: (a: T, b: T) => number): void {
  let i = 0;
  while (i < list.length && cmp(list[i]!, item) <= 0) i++;
  list.splice(i, 0, item);
}

/** A name-ordered collection with lookup. */
export class Named<T> {
  readonly #items: T[] = [];
  readonly #byName = new Map<string, T>();
  readonly nameOf: (x: T) => string;
  constructor(nameOf: (x: T) => string) {
    this.nameOf = nameOf;
  }

  get(name: string): T | undefined {
    return this.#byName.get(name);
  }
  get size(): number {
    return this.#items.length;
  }
  all(): readonly T[] {
    return this.#items;
  }
  add(item: T): void {
    const name = this.nameOf(item);
    this.#byName.set(name, item);
    insertSorted(this.#items, item, (a, b) => (this.nameOf(a) < this.nameOf(b) ? -1 : this.nameOf(a) > this.nameOf(b) ? 1 : 0));
  }
  delete(item: T): void {
    this.#byName.delete(this.nameOf(item));
    const i = this.#items.indexOf(item);
    if (i !== -1) this.#items.splice(i, 1);
  }
}

export interface DefaultAccess {
  publishClientSend: boolean;
  publishClientReceive: boolean;
  subscribe: boolean;
  unsubscribe: boolean;
}

export class DynsecData {
  readonly clients = new Named<Client>((c) => c.username);
  readonly groups = new Named<Group>((g) => g.name);
  readonly roles = new Named<Role>((r) => r.name);
  defaultAccess: DefaultAccess = { publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: false };
  anonymousGroup: Group | undefined;

  /**
   * dynsec_rolelist__client_add; with `listed` false, dynsec_rolelist__add (createClient): the
   * role does not list the client. false when the client already has the role.
   */
  addClientRole(client: Client, role: Role, priority: number, listed = true): boolean {
    if (client.roles.some((l) => l.role === role)) return false;
    insertSorted(client.roles, { role, priority }, roleOrder);
    if (listed && !role.clients.some((l) => l.client === client)) insertSorted(role.clients, { client, priority }, clientOrder);
    return true;
  }

  /** dynsec_rolelist__client_remove: nothing changes when the client does not have the role. */
  removeClientRole(client: Client, role: Role): void {
    if (!removeWhere(client.roles, (l) => l.role === role)) return;
    removeWhere(role.clients, (l) => l.client === client);
  }

  /**
   * dynsec_rolelist__group_add; with `listed` false, dynsec_rolelist__add (createGroup,
   * modifyGroup). false when the group already has the role.
   */
  addGroupRole(group: Group, role: Role, priority: number, listed = true): boolean {
    if (group.roles.some((l) => l.role === role)) return false;
    insertSorted(group.roles, { role, priority }, roleOrder);
    if (listed && !role.groups.some((l) => l.group === group)) insertSorted(role.groups, { group, priority }, groupOrder);
    return true;
  }

  /** dynsec_rolelist__group_remove: from the group's roles and the role's groups, each if there. */
  removeGroupRole(group: Group, role: Role): void {
    removeWhere(group.roles, (l) => l.role === role);
    removeWhere(role.groups, (l) => l.group === group);
  }

  /** modifyGroup's new role list: the group's roles replaced, the roles' own lists untouched. */
  replaceGroupRoles(group: Group, links: readonly RoleLink[]): void {
    group.roles = [];
    for (const l of links) insertSorted(group.roles, l, roleOrder);
  }

  /** dynsec_groups__add_client: false when the client is already in the group. */
  addGroupClient(client: Client, group: Group, priority: number): boolean {
    if (group.clients.some((l) => l.client === client)) return false;
    insertSorted(group.clients, { client, priority }, clientOrder);
    if (!client.groups.some((l) => l.group === group)) insertSorted(client.groups, { group, priority }, groupOrder);
    return true;
  }

  removeGroupClient(client: Client, group: Group): void {
    removeWhere(group.clients, (l) => l.client === client);
    removeWhere(client.groups, (l) => l.group === group);
  }

  removeClientFromAllGroups(client: Client): void {
    for (const { group } of [...client.groups]) this.removeGroupClient(client, group);
  }

  removeAllClientRoles(client: Client): void {
    for (const { role } of [...client.roles]) this.removeClientRole(client, role);
  }

  removeAllGroupRoles(group: Group): void {
    for (const { role } of [...group.roles]) this.removeGroupRole(group, role);
  }

  removeAllGroupClients(group: Group): void {
    for (const { client } of [...group.clients]) this.removeGroupClient(client, group);
  }

  deleteClient(client: Client): void {
    this.removeClientFromAllGroups(client);
    this.removeAllClientRoles(client);
    for (const role of this.roles.all()) removeWhere(role.clients, (l) => l.client === client);
    this.clients.delete(client);
  }

  deleteGroup(group: Group): void {
    this.removeAllGroupRoles(group);
    this.removeAllGroupClients(group);
    for (const role of this.roles.all()) removeWhere(role.groups, (l) => l.group === group);
    this.groups.delete(group);
    if (this.anonymousGroup === group) this.anonymousGroup = undefined;
  }

  /** The role and every link to it, listed or not. */
  deleteRole(role: Role): void {
    for (const client of this.clients.all()) removeWhere(client.roles, (l) => l.role === role);
    for (const group of this.groups.all()) removeWhere(group.roles, (l) => l.role === role);
    role.clients.length = 0;
    role.groups.length = 0;
    this.roles.delete(role);
  }
}

function removeWhere<T>(list: T[], pred: (x: T) => boolean): boolean {
  const i = list.findIndex(pred);
  if (i === -1) return false;
  list.splice(i, 1);
  return true;
}
