/**
 * The default output of Mosquitto 2.0's db_dump (apps/db_dump/print.c), one block per chunk.
 * Quirks kept on purpose: the stored message's source id and username are not printed; a
 * payload is printed only when shorter than 256 bytes and valid MQTT UTF-8; binary property
 * bytes are printed through a signed char, so bytes >= 0x80 come out sign-extended
 * (`FFFFFFFE` for 0xFE); 32-bit fields printed with `%d` come out signed.
 */
import { isMosquittoUtf8, PropertyId, type ClientMsgRecord, type ClientRecord, type MsgStoreRecord, type Property, type SubRecord } from '@skeeter/persistence';
import { cString, int32, uint64 } from './output.js';

const NUMERIC_NAMES = new Map<number, string>([
  [PropertyId.PAYLOAD_FORMAT_INDICATOR, 'Payload format indicator'],
  [PropertyId.REQUEST_PROBLEM_INFORMATION, 'Request problem information'],
  [PropertyId.REQUEST_RESPONSE_INFORMATION, 'Request response information'],
  [PropertyId.MAXIMUM_QOS, 'Maximum QoS'],
  [PropertyId.RETAIN_AVAILABLE, 'Retain available'],
  [PropertyId.WILDCARD_SUB_AVAILABLE, 'Wildcard sub available'],
  [PropertyId.SUBSCRIPTION_ID_AVAILABLE, 'Subscription ID available'],
  [PropertyId.SHARED_SUB_AVAILABLE, 'Shared subscription available'],
  [PropertyId.SERVER_KEEP_ALIVE, 'Server keep alive'],
  [PropertyId.RECEIVE_MAXIMUM, 'Receive maximum'],
  [PropertyId.TOPIC_ALIAS_MAXIMUM, 'Topic alias maximum'],
  [PropertyId.TOPIC_ALIAS, 'Topic alias'],
  [PropertyId.MESSAGE_EXPIRY_INTERVAL, 'Message expiry interval'],
  [PropertyId.SESSION_EXPIRY_INTERVAL, 'Session expiry interval'],
  [PropertyId.WILL_DELAY_INTERVAL, 'Will delay interval'],
  [PropertyId.MAXIMUM_PACKET_SIZE, 'Maximum packet size'],
  [PropertyId.SUBSCRIPTION_IDENTIFIER, 'Subscription identifier'],
]);

const STRING_NAMES = new Map<number, string>([
  [PropertyId.CONTENT_TYPE, 'Content type'],
  [PropertyId.RESPONSE_TOPIC, 'Response topic'],
  [PropertyId.ASSIGNED_CLIENT_IDENTIFIER, 'Assigned client identifier'],
  [PropertyId.AUTHENTICATION_METHOD, 'Authentication method'],
  [PropertyId.RESPONSE_INFORMATION, 'Response information'],
  [PropertyId.SERVER_REFERENCE, 'Server reference'],
  [PropertyId.REASON_STRING, 'Reason string'],
]);

/** `%02X` of a `char` (signed on x86): bytes >= 0x80 are sign-extended to 8 hex digits. */
function signedHex(b: Buffer): string {
  let s = '';
  for (const byte of b) s += byte >= 0x80 ? 'FFFFFF' + byte.toString(16).toUpperCase() : byte.toString(16).toUpperCase().padStart(2, '0');
  return s;
}

function properties(props: readonly Property[] | null): string {
  if (props === null) return '';
  let s = '\tProperties:\n';
  for (const p of props) {
    const id = p.identifier;
    const v = p.value;
    if (typeof v === 'number') {
      const name = NUMERIC_NAMES.get(id);
      s += name ? `\t\t${name}: ${int32(v)}\n` : `\t\tInvalid property type: ${id}\n`;
    } else if (STRING_NAMES.has(id)) {
      s += `\t\t${STRING_NAMES.get(id)!}: ${cString(v)}\n`;
    } else if (id === PropertyId.CORRELATION_DATA) {
      s += `\t\tCorrelation data: ${signedHex(v)}\n`;
    } else if (id === PropertyId.AUTHENTICATION_DATA) {
      s += `\t\tAuthentication data: ${signedHex(v)}\n`;
    } else if (id === PropertyId.USER_PROPERTY) {
      const name = 'name' in p && p.name ? p.name : null;
      s += `\t\tUser property: ${cString(name)} , ${cString(v)}\n`;
    } else {
      s += `\t\tInvalid property type: ${id}\n`;
    }
  }
  return s;
}

export function cfgText(length: number, shutdown: number, dbidSize: number): string {
  return `DB_CHUNK_CFG:\n\tLength: ${int32(length)}\n\tShutdown: ${shutdown}\n\tDB ID size: ${dbidSize}\n`;
}

export function lastDbIdText(lastDbId: bigint): string {
  return `\tLast DB ID: ${uint64(lastDbId)}\n`;
}

export function msgStoreText(r: MsgStoreRecord, length: number): string {
  let s =
    `DB_CHUNK_MSG_STORE:\n\tLength: ${int32(length)}\n\tStore ID: ${uint64(r.storeId)}\n` +
    `\tSource Port: ${r.sourcePort}\n\tSource MID: ${r.sourceMid}\n\tTopic: ${cString(r.topic)}\n` +
    `\tQoS: ${r.qos}\n\tRetain: ${r.retain}\n\tPayload Length: ${int32(r.payload.length)}\n` +
    `\tExpiry Time: ${uint64(r.expiryTime)}\n`;
  // An empty payload is a NULL pointer in Mosquitto, which its UTF-8 check rejects.
  if (r.payload.length > 0 && r.payload.length < 256 && isMosquittoUtf8(r.payload)) {
    s += `\tPayload: ${r.payload.toString('latin1')}\n`;
  }
  return s + properties(r.properties);
}

export function clientText(r: ClientRecord, length: number): string {
  let s = `DB_CHUNK_CLIENT:\n\tLength: ${int32(length)}\n\tClient ID: ${cString(r.clientId)}\n`;
  if (r.username !== null) s += `\tUsername: ${cString(r.username)}\n`;
  if (r.listenerPort > 0) s += `\tListener port: ${r.listenerPort}\n`;
  return (
    s +
    `\tLast MID: ${r.lastMid}\n\tSession expiry time: ${uint64(r.sessionExpiryTime)}\n` +
    `\tSession expiry interval: ${r.sessionExpiryInterval >>> 0}\n`
  );
}

export function clientMsgText(r: ClientMsgRecord, length: number): string {
  return (
    `DB_CHUNK_CLIENT_MSG:\n\tLength: ${int32(length)}\n\tClient ID: ${cString(r.clientId)}\n` +
    `\tStore ID: ${uint64(r.storeId)}\n\tMID: ${r.mid}\n\tQoS: ${r.qos}\n\tRetain: ${r.retain}\n` +
    `\tDirection: ${r.direction}\n\tState: ${r.state}\n\tDup: ${r.dup}\n` +
    properties(r.properties)
  );
}

export function retainHeadText(length: number): string {
  return `DB_CHUNK_RETAIN:\n\tLength: ${int32(length)}\n`;
}

export function retainBodyText(storeId: bigint): string {
  return `\tStore ID: ${uint64(storeId)}\n`;
}

export function subText(r: SubRecord, length: number): string {
  return (
    `DB_CHUNK_SUB:\n\tLength: ${length >>> 0}\n\tClient ID: ${cString(r.clientId)}\n\tTopic: ${cString(r.topic)}\n` +
    `\tQoS: ${r.qos}\n\tSubscription ID: ${int32(r.identifier)}\n` +
    `\tOptions: 0x${r.options.toString(16).toUpperCase().padStart(2, '0')}\n`
  );
}
