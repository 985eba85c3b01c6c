/**
 * dynsec__payload_callback(): the response on `$CONTROL/dynamic-security/v1/response`, printed
 * as 2.0.20 prints it. An `error` member is `<command>: Error: <error>` on stderr; otherwise the
 * list/get commands print their data on stdout and the others print nothing.
 *
 * Members are found as cJSON_GetObjectItem finds them (first match, names compared
 * case-insensitively), widths are printf's (`%-20s` pads bytes), numbers are printed as
 * `(int)valuedouble`, and a table stops at the first malformed part with
 * "Error: Invalid response from server." after what it printed so far.
 */
import { parseJsonPrefix, type JsonValue } from '../../clients/json.js';
import { writeErr, writeOut } from '../../clients/output.js';
import { cString, getItem, isArr, isBool, isNum, isObj, isStr } from './json-build.js';

const INVALID = 'Error: Invalid response from server.\n';

/** Output collected per stream and written in order (stdout is only read as a whole). */
class Out {
  private readonly parts: Buffer[] = [];
  text(s: string): void {
    this.parts.push(Buffer.from(s, 'utf8'));
  }
  bytes(b: Buffer): void {
    this.parts.push(b);
  }
  /** printf("%-*s", width, s): left-aligned, padded with spaces to `width` bytes. */
  padded(b: Buffer, width: number): void {
    this.parts.push(b);
    if (b.length < width) this.parts.push(Buffer.alloc(width - b.length, 0x20));
  }
  flush(): void {
    if (this.parts.length > 0) writeOut(Buffer.concat(this.parts));
    this.parts.length = 0;
  }
}

/** C's (int) of a double: truncation; out of range (undefined in C) is INT_MIN, as on x86. */
function cInt(d: number): number {
  if (!Number.isFinite(d) || d >= 2147483648 || d <= -2147483649) return -2147483648;
  return Math.trunc(d);
}

function priority(out: Out, elem: JsonValue): void {
  const p = getItem(elem, 'priority');
  out.text(isNum(p) ? ` (priority: ${cInt(p.v)})` : ' (priority: -1)');
}

function printList(out: Out, response: JsonValue, arrayName: string, keyName: string): void {
  const data = getItem(response, 'data');
  if (data === undefined) return writeErr(INVALID);
  const list = getItem(data, arrayName);
  if (!isArr(list)) return writeErr(INVALID);
  for (const elem of list.v) {
    if (isObj(elem)) {
      const name = getItem(elem, keyName);
      if (isStr(name)) (out.bytes(cString(name)), out.text('\n'));
    } else if (isStr(elem)) {
      out.bytes(cString(elem));
      out.text('\n');
    }
  }
}

/** `Roles:` then one role a line, the label column `width` bytes wide. */
function printRoles(out: Out, roles: JsonValue | undefined, width: number): void {
  if (!isArr(roles)) {
    out.text('Roles:\n');
    return;
  }
  let first = true;
  for (const elem of roles.v) {
    const name = getItem(elem, 'rolename');
    if (!isStr(name)) continue;
    out.padded(Buffer.from(first ? 'Roles:' : ''), width);
    first = false;
    out.text(' ');
    out.bytes(cString(name));
    priority(out, elem);
    out.text('\n');
  }
}

/** data.<member> as an object, or undefined after reporting the response as invalid. */
function dataObject(response: JsonValue, member: string): JsonValue | undefined {
  const data = getItem(response, 'data');
  if (!isObj(data)) return void writeErr(INVALID);
  const obj = getItem(data, member);
  if (!isObj(obj)) return void writeErr(INVALID);
  return obj;
}

function printClient(out: Out, response: JsonValue): void {
  const client = dataObject(response, 'client');
  if (client === undefined) return;
  const username = getItem(client, 'username');
  if (!isStr(username)) return writeErr(INVALID);
  out.text('Username: ');
  out.bytes(cString(username));
  out.text('\n');
  const clientid = getItem(client, 'clientid');
  if (isStr(clientid)) (out.text('Clientid: '), out.bytes(cString(clientid)), out.text('\n'));
  else out.text('Clientid:\n');
  const disabled = getItem(client, 'disabled');
  if (isBool(disabled)) out.text(`Disabled: ${disabled.v ? 'true' : 'false'}\n`);
  printRoles(out, getItem(client, 'roles'), 'Username:'.length);
  const groups = getItem(client, 'groups');
  if (!isArr(groups)) {
    out.text('Groups:\n');
    return;
  }
  let first = true;
  for (const elem of groups.v) {
    const name = getItem(elem, 'groupname');
    if (!isStr(name)) continue;
    out.text(first ? 'Groups:   ' : '          ');
    first = false;
    out.bytes(cString(name));
    priority(out, elem);
    out.text('\n');
  }
}

function printGroup(out: Out, response: JsonValue): void {
  const group = dataObject(response, 'group');
  if (group === undefined) return;
  const groupname = getItem(group, 'groupname');
  if (!isStr(groupname)) return writeErr(INVALID);
  out.text('Groupname: ');
  out.bytes(cString(groupname));
  out.text('\n');
  printRoles(out, getItem(group, 'roles'), 'Groupname:'.length);
  const clients = getItem(group, 'clients');
  if (!isArr(clients)) return;
  let first = true;
  for (const elem of clients.v) {
    const name = getItem(elem, 'username');
    if (!isStr(name)) continue;
    out.text(first ? 'Clients:   ' : '           ');
    first = false;
    out.bytes(cString(name));
    out.text('\n');
  }
}

function printRole(out: Out, response: JsonValue): void {
  const role = dataObject(response, 'role');
  if (role === undefined) return;
  const rolename = getItem(role, 'rolename');
  if (!isStr(rolename)) return writeErr(INVALID);
  out.text('Rolename: ');
  out.bytes(cString(rolename));
  out.text('\n');
  const acls = getItem(role, 'acls');
  if (!isArr(acls)) return;
  let first = true;
  for (const elem of acls.v) {
    const acltype = getItem(elem, 'acltype');
    if (!isStr(acltype)) continue;
    out.text(first ? 'ACLs:     ' : '          ');
    first = false;
    out.padded(cString(acltype), 20);
    const allow = getItem(elem, 'allow');
    if (isBool(allow)) out.text(allow.v ? ' : allow' : ' : deny ');
    const topic = getItem(elem, 'topic');
    if (isStr(topic)) (out.text(' : '), out.bytes(cString(topic)));
    priority(out, elem);
    out.text('\n');
  }
}

function printAnonymousGroup(out: Out, response: JsonValue): void {
  const group = dataObject(response, 'group');
  if (group === undefined) return;
  const groupname = getItem(group, 'groupname');
  if (!isStr(groupname)) return writeErr(INVALID);
  out.bytes(cString(groupname));
  out.text('\n');
}

function printDefaultAclAccess(out: Out, response: JsonValue): void {
  const data = getItem(response, 'data');
  if (!isObj(data)) return writeErr(INVALID);
  const acls = getItem(data, 'acls');
  if (!isArr(acls)) return writeErr(INVALID);
  for (const acl of acls.v) {
    const acltype = getItem(acl, 'acltype');
    const allow = getItem(acl, 'allow');
    if (!isStr(acltype) || !isBool(allow)) return writeErr(INVALID);
    out.padded(cString(acltype), 20);
    out.text(` : ${allow.v ? 'allow' : 'deny'}\n`);
  }
}

const PRINTERS: Record<string, (out: Out, response: JsonValue) => void> = {
  listclients: (out, r) => printList(out, r, 'clients', 'username'),
  listgroups: (out, r) => printList(out, r, 'groups', 'groupname'),
  listroles: (out, r) => printList(out, r, 'roles', 'rolename'),
  getclient: printClient,
  getgroup: printGroup,
  getrole: printRole,
  getdefaultaclaccess: printDefaultAclAccess,
  getanonymousgroup: printAnonymousGroup,
};

/** A member's text as printf("%s") shows it; "(null)" for what is not a string (glibc). */
function asText(v: JsonValue): Buffer {
  return isStr(v) ? cString(v) : Buffer.from('(null)');
}

/** Prints one dynsec response payload. */
export function printDynsecResponse(payload: Buffer): void {
  // cJSON_ParseWithLength: the first JSON value; whatever follows it is ignored.
  const tree = parseJsonPrefix(payload);
  if (tree === undefined) return writeErr('Error: Payload not JSON.\n');
  const responses = getItem(tree, 'responses');
  if (!isArr(responses)) return writeErr('Error: Payload missing data.\n');
  const response = responses.v[0];
  if (response === undefined) return writeErr('Error: Payload missing data.\n');
  const command = getItem(response, 'command');
  if (command === undefined) return writeErr('Error: Payload missing data.\n');
  const error = getItem(response, 'error');
  if (error !== undefined) {
    writeErr(Buffer.concat([asText(command), Buffer.from(': Error: '), asText(error), Buffer.from('\n')]));
    return;
  }
  // A command that is not a string names no table (Mosquitto would crash comparing it).
  if (!isStr(command)) return;
  const printer = PRINTERS[cString(command).toString('latin1').toLowerCase()];
  if (printer === undefined) return;
  const out = new Out();
  printer(out, response);
  out.flush();
}
