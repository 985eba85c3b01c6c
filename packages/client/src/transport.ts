/**
 * Opens the byte stream a client speaks MQTT over: TCP (optionally bound to a local address,
 * with TCP_NODELAY), a unix socket (Mosquitto's `port 0`), TLS over either, and a SOCKS5 proxy
 * underneath. The stream is fully established (and TLS handshaken) before MQTT.js sees it,
 * which is how libmosquitto's blocking connect behaves: connection errors are reported before
 * any MQTT traffic.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';

export interface TlsSettings {
  cafile?: string | undefined;
  capath?: string | undefined;
  certfile?: string | undefined;
  keyfile?: string | undefined;
  ciphers?: string | undefined;
  /** 'tlsv1.3' | 'tlsv1.2' | 'tlsv1.1' */
  tlsVersion?: string | undefined;
  alpn?: string | undefined;
  /** Skip the server host name check (the chain is still verified, as in Mosquitto 2.0). */
  insecure?: boolean | undefined;
  useOsCerts?: boolean | undefined;
  psk?: string | undefined;
  pskIdentity?: string | undefined;
}

export interface ProxySettings {
  host: string;
  port: number;
  username?: string | undefined;
  password?: string | undefined;
}

export interface WebsocketSettings {
  /** HTTP path of the upgrade request; libmosquitto uses /mqtt. */
  path?: string | undefined;
  /** Picks the subprotocol: mqttv3.1 for MQTT 3.1, mqtt otherwise. */
  protocolVersion: number;
}

export interface TransportOptions {
  host: string;
  /** 0 means `host` is the path of a unix socket, as in libmosquitto. */
  port: number;
  bindAddress?: string | undefined;
  noDelay?: boolean | undefined;
  tls?: TlsSettings | undefined;
  proxy?: ProxySettings | undefined;
  /** MQTT over websockets (2.1's ws:// and wss:// URLs and --ws). */
  websockets?: WebsocketSettings | undefined;
}

/** A connection failure with the errno name Node reports (`ECONNREFUSED`, ...) or our own kind. */
export class TransportError extends Error {
  readonly code: string;
  readonly kind: 'errno' | 'lookup' | 'tls' | 'proxy';
  /** For TLS failures: the OpenSSL error text libmosquitto prints, when known. */
  opensslError: string | undefined;
  constructor(message: string, code: string, kind: TransportError['kind']) {
    super(message);
    this.code = code;
    this.kind = kind;
  }
}

function toTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? 'UNKNOWN';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME') {
    return new TransportError(e.message, code, 'lookup');
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /certificate|SSL|TLS/i.test(e.message ?? '')) {
    return new TransportError(e.message, code, 'tls');
  }
  return new TransportError(e.message, code, 'errno');
}

function rawConnect(host: string, port: number, opts: TransportOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      port === 0
        ? netConnect({ path: host })
        : netConnect({ host, port, ...(opts.bindAddress ? { localAddress: opts.bindAddress } : {}) });
    const onError = (err: Error): void => {
      socket.destroy();
      reject(toTransportError(err));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      if (opts.noDelay) socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** Reads exactly `n` bytes from a socket during a handshake. */
function readBytes(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= n) {
        cleanup();
        if (buf.length > n) socket.unshift(buf.subarray(n));
        resolve(buf.subarray(0, n));
      }
    };
    const onEnd = (): void => {
      cleanup();
      reject(new TransportError('proxy closed the connection', 'EPROXY', 'proxy'));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(toTransportError(err));
    };
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.pause();
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onError);
    socket.resume();
  });
}

/**
 * SOCKS5 (RFC 1928) CONNECT with the host name resolved by the proxy ("socks5h"), offering
 * "no authentication" and, when a username is given, username/password (RFC 1929) — the two
 * methods libmosquitto supports.
 */
async function socks5Connect(proxy: ProxySettings, host: string, port: number, opts: TransportOptions): Promise<Socket> {
  const socket = await rawConnect(proxy.host, proxy.port, opts);
  const fail = (): never => {
    socket.destroy();
    throw new TransportError('proxy error', 'EPROXY', 'proxy');
  };
  const methods = proxy.username !== undefined ? [0x00, 0x02] : [0x00];
  socket.write(Buffer.from([0x05, methods.length, ...methods]));
  const choice = await readBytes(socket, 2);
  if (choice[0] !== 0x05) fail();
  if (choice[1] === 0x02) {
    const user = Buffer.from(proxy.username ?? '', 'utf8');
    const pass = Buffer.from(proxy.password ?? '', 'utf8');
    socket.write(Buffer.concat([Buffer.from([0x01, user.length]), user, Buffer.from([pass.length]), pass]));
    const auth = await readBytes(socket, 2);
    if (auth[1] !== 0x00) fail();
  } else if (choice[1] !== 0x00) {
    fail();
  }
  const name = Buffer.from(host, 'utf8');
  const req = Buffer.concat([Buffer.from([0x05, 0x01, 0x00, 0x03, name.length]), name, Buffer.from([port >> 8, port & 0xff])]);
  socket.write(req);
  const head = await readBytes(socket, 4);
  if (head[0] !== 0x05 || head[1] !== 0x00) fail();
  const atyp = head[3];
  const addrLen = atyp === 0x01 ? 4 : atyp === 0x04 ? 16 : atyp === 0x03 ? ((await readBytes(socket, 1))[0] ?? 0) : fail();
  await readBytes(socket, addrLen + 2);
  socket.resume();
  return socket;
}

function readCaPath(dir: string): string[] {
  const out: string[] = [];
  // OpenSSL looks certificates up by subject hash: only `<hash>.<n>` names count
  // (what c_rehash / openssl rehash create).
  for (const name of readdirSync(dir)) {
    if (!/^[0-9a-f]{8}\.\d+$/i.test(name)) continue;
    try {
      const text = readFileSync(join(dir, name), 'utf8');
      if (text.includes('-----BEGIN CERTIFICATE-----')) out.push(text);
    } catch {
      // Not a readable file (sub-directory, dangling hash link): OpenSSL skips these too.
    }
  }
  return out;
}

const CHAIN_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

const TLS_VERSIONS: Record<string, 'TLSv1.3' | 'TLSv1.2' | 'TLSv1.1'> = {
  'tlsv1.3': 'TLSv1.3',
  'tlsv1.2': 'TLSv1.2',
  'tlsv1.1': 'TLSv1.1',
};

async function tlsWrap(socket: Socket, host: string, tlsOpts: TlsSettings): Promise<Duplex> {
  // Loaded only when TLS is asked for: plain connections never pay for it.
  // Loaded on demand. In the tools' CommonJS bundles `require` exists and is used: their
  // loader compiles the bundle with a code cache (vm.Script), where import() is unavailable.
  const tls: typeof import('node:tls') = typeof require === 'function' ? require('node:tls') : await import('node:tls');
  const ca: string[] = [];
  if (tlsOpts.cafile) ca.push(readFileSync(tlsOpts.cafile, 'utf8'));
  if (tlsOpts.capath) ca.push(...readCaPath(tlsOpts.capath));
  if (ca.length > 0 && tlsOpts.useOsCerts) ca.push(...tls.rootCertificates);
  const version = tlsOpts.tlsVersion ? TLS_VERSIONS[tlsOpts.tlsVersion] : undefined;
  const isIp = /^[0-9.]+$/.test(host) || host.includes(':');
  const options: import('node:tls').ConnectionOptions = {
    socket,
    ...(ca.length > 0 ? { ca } : {}),
    ...(tlsOpts.certfile ? { cert: readFileSync(tlsOpts.certfile) } : {}),
    ...(tlsOpts.keyfile ? { key: readFileSync(tlsOpts.keyfile) } : {}),
    ...(tlsOpts.ciphers ? { ciphers: tlsOpts.ciphers } : {}),
    ...(tlsOpts.alpn ? { ALPNProtocols: [tlsOpts.alpn] } : {}),
    ...(isIp ? {} : { servername: host }),
    minVersion: version ?? 'TLSv1.2',
    ...(version ? { maxVersion: version } : {}),
    ...(tlsOpts.insecure ? { checkServerIdentity: () => undefined } : {}),
  };
  if (tlsOpts.psk) {
    const key = Buffer.from(tlsOpts.psk, 'hex');
    const identity = tlsOpts.pskIdentity ?? '';
    options.pskCallback = () => ({ psk: key, identity });
    // TLS-PSK forces PSK ciphers and TLS <= 1.2, as Mosquitto 2.0.12+ does.
    options.ciphers = tlsOpts.ciphers ?? 'PSK';
    options.maxVersion = 'TLSv1.2';
    options.checkServerIdentity = () => undefined;
  }
  return new Promise((resolve, reject) => {
    const secure = tls.connect(options);
    secure.once('error', (err) => {
      secure.destroy();
      const code = (err as NodeJS.ErrnoException).code ?? 'ETLS';
      const e = new TransportError(err.message, code, 'tls');
      // The OpenSSL error libmosquitto logs for a chain that does not verify.
      if (CHAIN_ERRORS.has(code)) e.opensslError = 'error:0A000086:SSL routines::certificate verify failed';
      reject(e);
    });
    secure.once('secureConnect', () => resolve(secure));
  });
}

/**
 * Websockets through MQTT.js's own stream builder (it brings the `ws` package), loaded only
 * for ws:// / wss://. As libmosquitto does, the TCP connection (with bind address, proxy and
 * TLS, all as for plain MQTT) is made first, so a refused or failed connection is reported
 * exactly as without websockets ("Error: Connection refused"); `ws` then runs its upgrade
 * over that stream (`createConnection`). A failed upgrade surfaces as a lost connection.
 */
async function openWebsocket(opts: TransportOptions, ws: WebsocketSettings): Promise<Duplex> {
  const base = await openTransport({ ...opts, websockets: undefined });
  const mod = (await import('mqtt/lib/connect/ws')) as unknown as {
    streamBuilder?: (client: unknown, o: Record<string, unknown>) => Duplex;
    default?: { streamBuilder: (client: unknown, o: Record<string, unknown>) => Duplex };
  };
  const streamBuilder = mod.streamBuilder ?? mod.default?.streamBuilder;
  if (!streamBuilder) {
    base.destroy();
    throw new TransportError('websockets unavailable', 'ENOSYS', 'errno');
  }
  return streamBuilder(undefined, {
    protocol: opts.tls ? 'wss' : 'ws',
    hostname: opts.host,
    port: opts.port,
    path: ws.path ?? '/mqtt',
    protocolId: ws.protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion: ws.protocolVersion,
    wsOptions: { createConnection: () => base },
  });
}

/** Opens and fully establishes the stream for one connection attempt. */
export async function openTransport(opts: TransportOptions): Promise<Duplex> {
  if (opts.websockets) return openWebsocket(opts, opts.websockets);
  let socket: Socket;
  try {
    socket = opts.proxy ? await socks5Connect(opts.proxy, opts.host, opts.port, opts) : await rawConnect(opts.host, opts.port, opts);
  } catch (err) {
    throw toTransportError(err);
  }
  if (opts.tls) return tlsWrap(socket, opts.host, opts.tls);
  return socket;
}
