/**
 * `--json`: the output of Mosquitto 2.1's `db_dump --json`, one JSON object with five arrays
 * (see ARCHITECTURE.md for the fields), printed in cJSON's formatted style (tab indentation,
 * `"key":<TAB>value`). Differences from 2.1 on purpose: a client message's `storeid` is its
 * store id (2.1 fills it with the subscription identifier), and 64-bit numbers are printed
 * exactly rather than through a double.
 */
import { PropertyId, type ClientMsgRecord, type ClientRecord, type MsgStoreRecord, type Property, type SubRecord } from '@skeeter/persistence';
import { uint64 } from './output.js';

/** cJSON's string escaping over the C string (bytes up to the first NUL), bytes >= 0x80 raw. */
export function jsonString(b: Buffer | null): string {
  if (b === null) return 'null';
  let s = '"';
  for (const byte of b) {
    if (byte === 0) break;
    if (byte === 0x22) s += '\\"';
    else if (byte === 0x5c) s += '\\\\';
    else if (byte === 0x08) s += '\\b';
    else if (byte === 0x0c) s += '\\f';
    else if (byte === 0x0a) s += '\\n';
    else if (byte === 0x0d) s += '\\r';
    else if (byte === 0x09) s += '\\t';
    else if (byte < 0x20) s += '\\u' + byte.toString(16).padStart(4, '0');
    else s += String.fromCharCode(byte);
  }
  return s + '"';
}

const ascii = (s: string): string => jsonString(Buffer.from(s, 'latin1'));

/** Property names as mosquitto_property_identifier_to_string gives them. */
const PROPERTY_NAMES = new Map<number, string>([
  [1, 'payload-format-indicator'], [2, 'message-expiry-interval'], [3, 'content-type'], [8, 'response-topic'],
  [9, 'correlation-data'], [11, 'subscription-identifier'], [17, 'session-expiry-interval'],
  [18, 'assigned-client-identifier'], [19, 'server-keep-alive'], [21, 'authentication-method'],
  [22, 'authentication-data'], [23, 'request-problem-information'], [24, 'will-delay-interval'],
  [25, 'request-response-information'], [26, 'response-information'], [28, 'server-reference'],
  [31, 'reason-string'], [33, 'receive-maximum'], [34, 'topic-alias-maximum'], [35, 'topic-alias'],
  [36, 'maximum-qos'], [37, 'retain-available'], [38, 'user-property'], [39, 'maximum-packet-size'],
  [40, 'wildcard-subscription-available'], [41, 'subscription-identifier-available'],
  [42, 'shared-subscription-available'],
]);

/** An object as cJSON_Print lays it out at nesting `depth` (1 = top-level member). */
function object(members: Array<[string, string]>, depth: number): string {
  const indent = '\t'.repeat(depth);
  let s = '{\n';
  members.forEach(([k, v], i) => {
    s += `${indent}"${k}":\t${v}${i < members.length - 1 ? ',' : ''}\n`;
  });
  return s + '\t'.repeat(depth - 1) + '}';
}

function propertiesJson(props: readonly Property[], depth: number): string {
  const items = props.map((p) => {
    const members: Array<[string, string]> = [['identifier', ascii(PROPERTY_NAMES.get(p.identifier) ?? String(p.identifier))]];
    if (p.identifier === PropertyId.USER_PROPERTY && 'name' in p && p.name) members.push(['name', jsonString(p.name)]);
    const v = p.value;
    if (typeof v === 'number') members.push(['value', String(v)]);
    else if (p.identifier === PropertyId.CORRELATION_DATA || p.identifier === PropertyId.AUTHENTICATION_DATA) {
      members.push(['value', `"${v.toString('hex').toUpperCase()}"`]);
    } else members.push(['value', jsonString(v)]);
    return object(members, depth + 1);
  });
  return `[${items.join(', ')}]`;
}

/** Objects inside the top-level arrays sit at depth 3 (object 1, array 2, element 3). */
const DEPTH = 3;

export function baseMessageJson(r: MsgStoreRecord): string {
  const m: Array<[string, string]> = [
    ['storeid', uint64(r.storeId)],
    ['expiry-time', r.expiryTime.toString()],
    ['source-mid', String(r.sourceMid)],
    ['source-port', String(r.sourcePort)],
    ['qos', String(r.qos)],
    ['retain', String(r.retain)],
    ['topic', jsonString(r.topic)],
  ];
  if (r.sourceId) m.push(['clientid', jsonString(r.sourceId)]);
  if (r.sourceUsername) m.push(['username', jsonString(r.sourceUsername)]);
  if (r.payload.length > 0) m.push(['payload', `"${r.payload.toString('base64')}"`]);
  if (r.properties) m.push(['properties', propertiesJson(r.properties, DEPTH + 1)]);
  return object(m, DEPTH);
}

export function clientJson(r: ClientRecord): string {
  const m: Array<[string, string]> = [['clientid', jsonString(r.clientId)]];
  if (r.username) m.push(['username', jsonString(r.username)]);
  m.push(
    ['session-expiry-time', r.sessionExpiryTime.toString()],
    ['session-expiry-interval', String(r.sessionExpiryInterval >>> 0)],
    ['last-mid', String(r.lastMid)],
    ['listener-port', String(r.listenerPort)],
  );
  return object(m, DEPTH);
}

export function clientMessageJson(r: ClientMsgRecord): string {
  const subId = r.properties?.find((p) => p.identifier === PropertyId.SUBSCRIPTION_IDENTIFIER)?.value;
  return object(
    [
      ['clientid', jsonString(r.clientId)],
      ['storeid', uint64(r.storeId)],
      ['mid', String(r.mid)],
      ['qos', String(r.qos)],
      ['state', String(r.state)],
      ['retain-dup', String(((r.retain & 0x0f) << 4) | (r.dup & 0x0f))],
      ['direction', String(r.direction)],
      ['subscription-identifier', String(typeof subId === 'number' ? subId : 0)],
    ],
    DEPTH,
  );
}

export function retainedJson(storeId: bigint): string {
  return object([['storeid', uint64(storeId)]], DEPTH);
}

export function subscriptionJson(r: SubRecord): string {
  return object(
    [
      ['clientid', jsonString(r.clientId)],
      ['topic', jsonString(r.topic)],
      ['qos', String(r.qos)],
      ['options', String(r.options)],
      ['identifier', String(r.identifier >>> 0)],
    ],
    DEPTH,
  );
}

/** The five arrays in the order 2.1 prints them, with the record kind each one lists. */
export const JSON_SECTIONS = [
  ['base-messages', 'msg_store'],
  ['clients', 'client'],
  ['client-messages', 'client_msg'],
  ['retained-messages', 'retain'],
  ['subscriptions', 'sub'],
] as const;
