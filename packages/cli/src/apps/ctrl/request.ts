/**
 * client_request_response() of apps/mosquitto_ctrl/client.c, on @skeeter/client: connect
 * (keepalive 60, clean start, the configured protocol), subscribe to the response topic, publish
 * the request once the SUBACK is in, hand the first message that arrives to `onPayload`, close.
 *
 * What Mosquitto does and scripts see:
 * - the warning about running without encryption (no --cafile/--capath) comes first, on stderr;
 * - a missing -P with -u is asked for (`Password for <user>: `);
 * - the set-up checks of client_opts_set() and client_connect() print their texts and end the
 *   run with their error number (1, or the connect error: 3 invalid arguments, 14 errno, 15
 *   lookup, 8 TLS);
 * - everything after the connection is open exits 0: a refused CONNACK, a refused
 *   subscription, a failed publish (their texts are printed), the response, and no response
 *   at all (the wait ends at the 10th second boundary after the start, as `time(NULL)` counts,
 *   also when the connection was lost meanwhile);
 * - the socket is closed without DISCONNECT: libmosquitto queues the DISCONNECT asked for inside
 *   a callback and the loop ends before writing it.
 */
import { closeSync, openSync } from 'node:fs';
import { MosqErr, MosquittoClient, isValidMqttUtf8, mosquittoStrerror, reasonString, type ConnectOptions, type TlsSettings } from '@skeeter/client';
import type { ClientConfig } from '../../clients/config.js';
import { writeErr } from '../../clients/output.js';
import { connackRefusal, connectClient } from '../../clients/session.js';
import type { Prompts } from './prompt.js';

export interface Request {
  readonly requestTopic: string;
  readonly responseTopic: string;
  readonly payload: Buffer;
  readonly onPayload: (payload: Buffer) => void;
}

const NO_TLS_WARNING =
  'Warning: You are running mosquitto_ctrl without encryption.\n' +
  'This means all of the configuration changes you are making are visible on the network, including passwords.\n\n';

/** How long mosquitto_ctrl waits for the answer: while `start + 10 > time(NULL)`. */
const WAIT_SECONDS = 10;

/** libmosquitto's mosquitto_strerror(): 2.0.20's wording for the codes mosquitto_ctrl prints. */
export function ctrlStrerror(rc: number): string {
  // 2.0.11, whose texts @skeeter/client has, said "Invalid function arguments provided."
  return rc === MosqErr.INVAL ? 'Invalid arguments provided.' : mosquittoStrerror(rc);
}

/** fopen(path, "rt") succeeds (a directory opens too). */
function readable(path: string): boolean {
  try {
    closeSync(openSync(path, 'r'));
    return true;
  } catch {
    return false;
  }
}

/** mosquitto_username_pw_set()'s checks. */
function credentialsValid(cfg: ClientConfig): boolean {
  if (cfg.protocolVersion !== 5 && cfg.password !== undefined && cfg.username === undefined) return false;
  if (cfg.username !== undefined && !isValidMqttUtf8(cfg.username)) return false;
  if (cfg.password !== undefined && Buffer.byteLength(cfg.password) > 65535) return false;
  return true;
}

/**
 * client_opts_set(): the libmosquitto option calls in Mosquitto's order; the first that fails
 * prints its text and the run ends with 1 (a bad proxy ends it with libmosquitto's error, silently).
 */
async function optsSet(cfg: ClientConfig, prompts: Prompts, idValid: boolean): Promise<number> {
  if (cfg.username !== undefined && cfg.password === undefined) {
    const r = await prompts.ask(`Password for ${cfg.username}: `, undefined, false, 1000);
    if (r.rc !== 0) {
      writeErr('Error getting password.\n');
      return 1;
    }
    cfg.password = r.password.toString('utf8');
  }
  // mosquitto_new() refused the id: Mosquitto goes on with no client and fails here.
  if ((cfg.username !== undefined || cfg.password !== undefined) && (!idValid || !credentialsValid(cfg))) {
    writeErr('Error: Problem setting username and/or password.\n');
    return 1;
  }
  if (!idValid) {
    // Mosquitto 2.0.20 crashes (SIGSEGV) here; say what mosquitto_pub says for the same id.
    writeErr('Error: Invalid id and/or clean_session.\n');
    return 1;
  }
  if (cfg.keyform !== undefined && cfg.keyform !== 'pem' && cfg.keyform !== 'engine') {
    writeErr("Error: Problem setting key form, it must be one of 'pem' or 'engine'.\n");
    return 1;
  }
  if (cfg.cafile !== undefined || cfg.capath !== undefined) {
    // mosquitto_tls_set(): cafile, certfile and keyfile must open; both or neither of the pair.
    const bad =
      (cfg.certfile !== undefined) !== (cfg.keyfile !== undefined) ||
      (cfg.cafile !== undefined && !readable(cfg.cafile)) ||
      (cfg.certfile !== undefined && !readable(cfg.certfile)) ||
      (cfg.keyfile !== undefined && !readable(cfg.keyfile));
    if (bad) {
      writeErr('Error: Problem setting TLS options: File not found.\n');
      return 1;
    }
  }
  if (cfg.tlsEngine !== undefined) {
    // No OpenSSL engines here: every engine id is one OpenSSL does not know.
    writeErr(`Error: Problem setting TLS engine, is ${cfg.tlsEngine} a valid engine?\n`);
    return 1;
  }
  if (cfg.psk !== undefined && (cfg.pskIdentity === undefined || !/^[0-9a-fA-F]*$/.test(cfg.psk))) {
    writeErr('Error: Problem setting TLS-PSK options.\n');
    return 1;
  }
  if (cfg.tlsVersion !== undefined && !['tlsv1.3', 'tlsv1.2', 'tlsv1.1'].includes(cfg.tlsVersion.toLowerCase())) {
    writeErr('Error: Problem setting TLS options, check the options are valid.\n');
    return 1;
  }
  if (cfg.socks5Host !== undefined && Buffer.byteLength(cfg.socks5Host) > 256) return MosqErr.INVAL;
  return 0;
}

function tlsSettings(cfg: ClientConfig): TlsSettings | undefined {
  if (cfg.cafile === undefined && cfg.capath === undefined && cfg.psk === undefined) return undefined;
  return {
    cafile: cfg.cafile,
    capath: cfg.capath,
    certfile: cfg.certfile,
    keyfile: cfg.keyfile,
    ciphers: cfg.ciphers,
    tlsVersion: cfg.tlsVersion?.toLowerCase(),
    alpn: cfg.tlsAlpn,
    insecure: cfg.insecure,
    psk: cfg.psk,
    pskIdentity: cfg.pskIdentity,
  };
}

export async function requestResponse(cfg: ClientConfig, request: Request, prompts: Prompts): Promise<number> {
  if (cfg.cafile === undefined && cfg.capath === undefined) writeErr(NO_TLS_WARNING);
  // mosquitto_new(): an id must be non-empty valid UTF-8.
  const idValid = cfg.id === undefined || (cfg.id !== '' && isValidMqttUtf8(cfg.id));
  const rc = await optsSet(cfg, prompts, idValid);
  if (rc !== 0) return rc;

  // client_connect(): 8883 by default when TLS is configured.
  const port = cfg.port ?? (cfg.cafile !== undefined || cfg.capath !== undefined || cfg.psk !== undefined ? 8883 : 1883);
  if (cfg.host === undefined || port < 0 || port > 65535) {
    writeErr(`Unable to connect (${ctrlStrerror(MosqErr.INVAL)}).\n`);
    return MosqErr.INVAL;
  }
  const options: ConnectOptions = {
    host: cfg.host,
    port,
    bindAddress: cfg.bindAddress,
    tls: tlsSettings(cfg),
    proxy:
      cfg.socks5Host !== undefined
        ? { host: cfg.socks5Host, port: cfg.socks5Port, username: cfg.socks5Username, password: cfg.socks5Password }
        : undefined,
    protocolVersion: cfg.protocolVersion,
    clientId: cfg.id,
    keepalive: 60,
    cleanSession: true,
    username: cfg.username,
    password: cfg.password,
    // libmosquitto puts its receive maximum (20) on every MQTT 5 CONNECT.
    properties: cfg.protocolVersion === 5 ? { receiveMaximum: 20 } : undefined,
  };
  const start = Math.floor(Date.now() / 1000);
  const client = new MosquittoClient();
  // mosquitto_ctrl's errors are printed whatever --quiet says.
  const loud: ClientConfig = { ...cfg, quiet: false };
  const qos = cfg.qos;

  return new Promise<number>((resolve) => {
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    /** `run = 0`: the loop ends and the socket is closed. */
    const finish = (): void => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      client.close();
      resolve(0);
    };

    client.onConnect = (reason) => {
      if (reason === 0) {
        client.subscribe([request.responseTopic], qos);
        return;
      }
      connackRefusal(loud, reason);
      finish();
    };
    client.onSubscribe = (_mid, granted) => {
      if (granted.length !== 1) return finish();
      const g = granted[0] as number;
      if (g < 128) {
        client.publish(request.requestTopic, request.payload, qos, false);
        return;
      }
      writeErr(cfg.protocolVersion === 5 ? `Subscribe error: ${reasonString(g)}\n` : 'Subscribe error: Subscription refused.\n');
      finish();
    };
    client.onPublish = (_mid, reason) => {
      if (reason > 127) {
        writeErr(`Publish error: ${reasonString(reason)}\n`);
        finish();
      }
    };
    client.onMessage = (message) => {
      if (finished) return;
      request.onPayload(message.payload);
      finish();
    };
    // A lost connection is not noticed: the loop goes on until the time is up.
    client.onDisconnect = () => undefined;

    void connectClient(loud, client, options, false).then((connectRc) => {
      if (connectRc !== 0) {
        finished = true;
        resolve(connectRc);
        return;
      }
      const deadline = (start + WAIT_SECONDS) * 1000;
      timer = setTimeout(finish, Math.max(0, deadline - Date.now()));
    });
  });
}
