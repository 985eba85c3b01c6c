/**
 * What the three tools share after option parsing: client id generation, mapping the options
 * to a connection (client_opts_set + client_connect), the -d log printer, and the texts for a
 * refused connection.
 */
import { existsSync } from 'node:fs';
import {
  MosquittoClient,
  TransportError,
  connackString,
  mosquittoStrerror,
  reasonString,
  strerror,
  toMqttJsProperties,
  MosqErr,
  type ConnectOptions,
  type TlsSettings,
} from '@skeeter/client';
import type { ClientConfig } from './config.js';
import { writeErr, writeOut } from './output.js';

/** err_printf(): runtime errors, silenced by --quiet. */
export function errPrintf(cfg: ClientConfig, text: string): void {
  if (!cfg.quiet) writeErr(text);
}

/** client_id_generate(): -I prefix + pid. */
export function clientId(cfg: ClientConfig): string | undefined {
  if (cfg.idPrefix !== undefined) return `${cfg.idPrefix}${process.pid}`;
  return cfg.id;
}

function tlsSettings(cfg: ClientConfig, port: number): TlsSettings | undefined {
  if (cfg.noTls) return undefined;
  const useOs = cfg.tlsUseOsCerts || (cfg.cafile === undefined && cfg.capath === undefined && cfg.psk === undefined && port === 8883);
  if (cfg.cafile === undefined && cfg.capath === undefined && cfg.psk === undefined && !useOs) return undefined;
  return {
    cafile: cfg.cafile,
    capath: cfg.capath,
    certfile: cfg.certfile,
    keyfile: cfg.keyfile,
    ciphers: cfg.ciphers,
    tlsVersion: cfg.tlsVersion,
    alpn: cfg.tlsAlpn,
    insecure: cfg.insecure,
    useOsCerts: useOs,
    psk: cfg.psk,
    pskIdentity: cfg.pskIdentity,
  };
}

export type SetupResult = { ok: true; options: ConnectOptions } | { ok: false; rc: number };

/** client_opts_set(): the checks libmosquitto makes when options are applied. */
export function connectOptions(cfg: ClientConfig, receiveMaximum?: number): SetupResult {
  // mosquitto_new() refuses an empty client id (EINVAL) before any option is applied; each tool
  // words that its own way.
  if (clientId(cfg) === '') {
    errPrintf(cfg, cfg.tool === 'mosquitto_pub' ? 'Error: Invalid id.\n' : 'Error: Invalid id and/or clean_session.\n');
    return { ok: false, rc: 1 };
  }
  // MQTT 3.x cannot send a password without a user name [MQTT-3.1.2-22].
  if (cfg.password !== undefined && cfg.username === undefined && cfg.protocolVersion !== 5) {
    errPrintf(cfg, 'Error: Problem setting username and/or password.\n');
    return { ok: false, rc: 1 };
  }
  if (cfg.cafile !== undefined || cfg.capath !== undefined) {
    if ((cfg.cafile !== undefined && !existsSync(cfg.cafile)) || (cfg.capath !== undefined && !existsSync(cfg.capath))) {
      errPrintf(cfg, 'Error: Problem setting TLS options: File not found.\n');
      return { ok: false, rc: 1 };
    }
  }
  if (cfg.tlsVersion !== undefined && !['tlsv1.3', 'tlsv1.2', 'tlsv1.1'].includes(cfg.tlsVersion)) {
    errPrintf(cfg, 'Error: Problem setting TLS options, check the options are valid.\n');
    return { ok: false, rc: 1 };
  }
  if (cfg.keyform !== undefined && cfg.keyform !== 'pem' && cfg.keyform !== 'engine') {
    errPrintf(cfg, "Error: Problem setting key form, it must be one of 'pem' or 'engine'.\n");
    return { ok: false, rc: 1 };
  }
  const port = cfg.port ?? (cfg.cafile !== undefined || cfg.capath !== undefined || cfg.psk !== undefined ? 8883 : 1883);
  const connectProps = [...cfg.props.connect];
  const props = toMqttJsProperties(connectProps) ?? {};
  // libmosquitto sends its receive maximum (20, or -C's count when lower) on every MQTT 5
  // CONNECT that does not carry one from -D, after the given properties.
  if (cfg.protocolVersion === 5 && props.receiveMaximum === undefined) props.receiveMaximum = receiveMaximum ?? 20;
  const willProps = toMqttJsProperties(cfg.props.will);
  const options: ConnectOptions = {
    host: cfg.host ?? 'localhost',
    port,
    bindAddress: cfg.bindAddress,
    noDelay: cfg.tcpNoDelay,
    tls: tlsSettings(cfg, port),
    proxy:
      cfg.socks5Host !== undefined
        ? { host: cfg.socks5Host, port: cfg.socks5Port, username: cfg.socks5Username, password: cfg.socks5Password }
        : undefined,
    websockets: cfg.transport === 'websockets' ? { protocolVersion: cfg.protocolVersion } : undefined,
    protocolVersion: cfg.protocolVersion,
    clientId: clientId(cfg),
    keepalive: cfg.keepalive,
    cleanSession: cfg.cleanSession,
    username: cfg.username,
    password: cfg.password,
    will:
      cfg.willTopic !== undefined
        ? {
            topic: cfg.willTopic,
            payload: Buffer.from(cfg.willPayload ?? '', 'utf8'),
            qos: cfg.willQos,
            retain: cfg.willRetain,
            properties: cfg.protocolVersion === 5 ? willProps : undefined,
          }
        : undefined,
    properties: cfg.protocolVersion === 5 && Object.keys(props).length > 0 ? props : undefined,
  };
  return { ok: true, options };
}

/** Creates the client with -d logging wired to stdout. */
export function createClient(cfg: ClientConfig): MosquittoClient {
  const client = new MosquittoClient();
  if (cfg.debug) client.onLog = (line) => writeOut(`${line}\n`);
  return client;
}

/**
 * client_connect(): opens the connection. On failure prints Mosquitto's text and returns the
 * libmosquitto error number (the tools exit 1 for these, as Mosquitto's do).
 */
export async function connectClient(
  cfg: ClientConfig,
  client: MosquittoClient,
  options: ConnectOptions,
  /** Whether libmosquitto has a log callback to print its OpenSSL error line (mosquitto_ctrl has none). */
  opensslLine = true,
): Promise<number> {
  try {
    await client.connect(options);
    return 0;
  } catch (err) {
    if (err instanceof TransportError) {
      if (err.kind === 'errno') {
        errPrintf(cfg, `Error: ${strerror(err.code)}\n`);
        return MosqErr.ERRNO;
      }
      if (err.kind === 'lookup') {
        errPrintf(cfg, `Unable to connect (${mosquittoStrerror(MosqErr.EAI)}).\n`);
        return MosqErr.EAI;
      }
      if (err.kind === 'proxy') {
        errPrintf(cfg, `Unable to connect (${mosquittoStrerror(MosqErr.PROXY)}).\n`);
        return MosqErr.PROXY;
      }
      // libmosquitto's TLS log line goes to stdout (it is a log line), before the error.
      if (err.opensslError && opensslLine) writeOut(`OpenSSL Error[0]: ${err.opensslError}\n`);
      errPrintf(cfg, `Unable to connect (${mosquittoStrerror(MosqErr.TLS)}).\n`);
      return MosqErr.TLS;
    }
    errPrintf(cfg, `Error: ${(err as Error).message}\n`);
    return MosqErr.UNKNOWN;
  }
}

/** The "Connection error: ..." line for a refused CONNACK. */
export function connackRefusal(cfg: ClientConfig, rc: number): void {
  if (cfg.protocolVersion === 5) {
    if (rc === 0x84) {
      errPrintf(cfg, `Connection error: ${reasonString(rc)}. Try connecting to an MQTT v5 broker, or use MQTT v3.x mode.\n`);
    } else {
      errPrintf(cfg, `Connection error: ${reasonString(rc)}\n`);
    }
  } else {
    errPrintf(cfg, `Connection error: ${connackString(rc)}\n`);
  }
}
