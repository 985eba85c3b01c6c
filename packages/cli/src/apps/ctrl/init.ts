/**
 * `mosquitto_ctrl dynsec init <file> <admin-user> [admin-password]`: writes a new dynamic
 * security configuration with one admin client and its `admin` role, laid out as 2.0.20's
 * (cJSON_Print: tabs, `"key":\tvalue`, no final newline). The password is hashed like
 * Mosquitto 2.0's pw__hash(): PBKDF2-HMAC-SHA512, 101 iterations, a 12-byte random salt,
 * 64-byte hash, both base64. The file is created with O_CREAT|O_EXCL and mode 0640 (less the
 * umask), so an existing file is never overwritten, without a race.
 *
 * Every outcome returns -1 (exit status 0, no connection), as in Mosquitto, except argument
 * errors (MOSQ_ERR_INVAL).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { MosqErr } from '@skeeter/client';
import { printJson, type JsonValue } from '../../clients/json.js';
import { writeErr, writeOut } from '../../clients/output.js';
import { strerror } from '../passwd/strerror.js';
import { jarr, jbool, jnum, jobj, jstr } from './json-build.js';
import type { Prompts } from './prompt.js';

/** Mosquitto 2.0's PW_DEFAULT_ITERATIONS and salt length. */
const ITERATIONS = 101;
const SALT_LENGTH = 12;
const HASH_LENGTH = 64;

function acl(acltype: string, topic: string): JsonValue {
  return jobj([
    ['acltype', jstr(acltype)],
    ['topic', jstr(topic)],
    ['allow', jbool(true)],
  ]);
}

/** The configuration file's tree, in init_create()'s order. */
export function initialConfig(username: string, password: Buffer, salt: Buffer = randomBytes(SALT_LENGTH)): JsonValue {
  const hash = pbkdf2Sync(password, salt, ITERATIONS, HASH_LENGTH, 'sha512');
  const rolename = 'admin';
  const client = jobj([
    ['username', jstr(username)],
    ['textName', jstr('Dynsec admin user')],
    ['password', jstr(hash.toString('base64'))],
    ['salt', jstr(salt.toString('base64'))],
    ['iterations', jnum(ITERATIONS)],
    ['roles', jarr([jobj([['rolename', jstr(rolename)]])])],
  ]);
  const role = jobj([
    ['rolename', jstr(rolename)],
    [
      'acls',
      jarr([
        acl('publishClientSend', '$CONTROL/dynamic-security/#'),
        acl('publishClientReceive', '$CONTROL/dynamic-security/#'),
        acl('subscribePattern', '$CONTROL/dynamic-security/#'),
        acl('publishClientReceive', '$SYS/#'),
        acl('subscribePattern', '$SYS/#'),
        acl('publishClientReceive', '#'),
        acl('subscribePattern', '#'),
        acl('unsubscribePattern', '#'),
      ]),
    ],
  ]);
  // Clients may not publish or subscribe by default; the broker may deliver and clients may
  // unsubscribe.
  const defaults = jobj([
    ['publishClientSend', jbool(false)],
    ['publishClientReceive', jbool(true)],
    ['subscribe', jbool(false)],
    ['unsubscribe', jbool(true)],
  ]);
  return jobj([
    ['clients', jarr([client])],
    ['roles', jarr([role])],
    ['defaultACLAccess', defaults],
  ]);
}

const NEXT_STEPS = (user: string, file: string): string =>
  `The client '${user}' has been created in the file '${file}'.\n` +
  'This client is configured to allow you to administer the dynamic security plugin only.\n' +
  'It does not have access to publish messages to normal topics.\n' +
  'You should create your application clients to do that, for example:\n' +
  '   mosquitto_ctrl <connect options> dynsec createClient <username>\n' +
  '   mosquitto_ctrl <connect options> dynsec createRole <rolename>\n' +
  '   mosquitto_ctrl <connect options> dynsec addRoleACL <rolename> publishClientSend my/topic [priority]\n' +
  '   mosquitto_ctrl <connect options> dynsec addClientRole <username> <rolename> [priority]\n' +
  'See https://mosquitto.org/documentation/dynamic-security/ for details of all commands.\n';

export async function dynsecInit(args: readonly string[], prompts: Prompts): Promise<number> {
  if (args.length < 2) {
    writeErr('dynsec init: Not enough arguments - filename, or admin-user missing.\n');
    return MosqErr.INVAL;
  }
  if (args.length > 3) {
    writeErr('dynsec init: Too many arguments.\n');
    return MosqErr.INVAL;
  }
  const [filename, user] = args as [string, string];
  let password: Buffer;
  if (args.length === 3) {
    password = Buffer.from(args[2] as string, 'utf8');
  } else {
    const r = await prompts.ask(`New password for ${user}: `, `Reenter password for ${user}: `, false, 200);
    if (r.rc !== 0) return -1;
    password = r.password;
  }
  const text = printJson(initialConfig(user, password), true);
  let fd: number;
  try {
    fd = openSync(filename, 'wx', 0o640);
  } catch (err) {
    writeErr(`dynsec init: Unable to open '${filename}' for writing (${strerror(err)}).\n`);
    return -1;
  }
  try {
    let off = 0;
    while (off < text.length) off += writeSync(fd, text, off);
  } catch {
    // Mosquitto does not check its fprintf(); rather than claim success, say the file could
    // not be written, in the words it uses when fdopen() fails.
    closeSync(fd);
    writeErr(`dynsec init: Unable to open '${filename}' for writing.\n`);
    return -1;
  }
  closeSync(fd);
  writeOut(NEXT_STEPS(user, filename));
  return -1;
}
