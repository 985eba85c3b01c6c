/**
 * WebSockets listeners (`protocol websockets`, plain or over TLS) on the `ws` package: MQTT
 * packets travel in binary frames in either direction, split or joined across frames however the
 * client likes (the MQTT decoder sees one byte stream). Plain HTTP requests get the static files
 * of `http_dir`, never anything outside it.
 */
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, type Server, type Socket } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ListenerSettings } from '../settings.js';
import { displayAddress, tlsPeer, watchTlsFailures, type CertificateUsername, type TransportContext } from './listeners.js';
import type { ProxiedPeer } from './proxy-protocol.js';
import { listenerTlsOptions, registerTlsServer } from './tls.js';

/** Sockets of PROXY-protocol listeners: the client their header named (set before the HTTP request is read). */
export const proxiedPeers = new WeakMap<object, ProxiedPeer>();

/** 127.0.0.0/8 and ::1: a reverse proxy on this host. */
const isLoopback = (a: string): boolean => a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));

/**
 * The client address an `X-Forwarded-For` header gives, when it may be believed. Any client can
 * write the header, so (as the note in Mosquitto 2.1's websockets code demands before using it)
 * it is only trusted from a proxy we know: one on this host, connecting over loopback. The last
 * entry is the one that proxy appended itself (the address it saw); entries before it came from
 * further away and could be forged. Anything that is not an IP address leaves the socket's own.
 */
export function forwardedAddress(socketAddress: string, header: string | string[] | undefined): string | undefined {
  if (header === undefined || !isLoopback(socketAddress)) return undefined;
  const joined = Array.isArray(header) ? header.join(',') : header;
  const last = joined.split(',').pop()?.trim() ?? '';
  const plain = last.replace(/^::ffff:/i, '');
  return isIP(plain) !== 0 ? plain : undefined;
}

/** The subprotocols MQTT clients ask for: `mqtt` (3.1.1 and 5.0), `mqttv3.1` (3.1). */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'] as const;

/**
 * A WebSocket as the byte stream the protocol layer reads and writes. Each corked batch of MQTT
 * packets goes out as one binary frame.
 */
export class WebSocketStream extends Duplex {
  private readonly ws: WebSocket;

  constructor(ws: WebSocket) {
    super();
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // MQTT travels in binary frames only; any other data frame closes the connection [MQTT-6.0.0-1].
      if (!isBinary) {
        ws.terminate();
        return;
      }
      if (!this.push(data)) ws.pause();
    });
    ws.on('close', () => {
      this.push(null);
      this.destroy();
    });
    ws.on('error', () => this.destroy());
  }

  override _read(): void {
    this.ws.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.ws.send(chunk, { binary: true }, (e) => callback(e ?? null));
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.ws.send(Buffer.concat(chunks.map((c) => c.chunk)), { binary: true }, (e) => callback(e ?? null));
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.ws.close();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.CLOSED) this.ws.terminate();
    callback(error);
  }
}

/** The HTTP(S) server of one websockets listen socket. Throws after logging when TLS files fail to load. */
export function createWebSocketServer(listener: ListenerSettings, ctx: TransportContext): Server {
  const maxHeaderSize = listener.websocketsHeadersSize && listener.websocketsHeadersSize > 0 ? listener.websocketsHeadersSize : 1024;
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    // Packet sizes are the broker's business (max_packet_size), not the frame layer's.
    maxPayload: 0,
    handleProtocols: (offered: Set<string>) => SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => serveHttpDir(listener.httpDir, req, res);
  const usernames = new WeakMap<object, CertificateUsername | undefined>();
  let server: Server;
  if (listener.tls !== undefined) {
    const tlsOptions = listenerTlsOptions(listener, ctx.log);
    const https = createHttpsServer({ ...tlsOptions, maxHeaderSize, noDelay: true }, onRequest);
    https.on('secureConnection', (socket: TLSSocket) => {
      const peer = tlsPeer(socket, listener, ctx);
      if (peer) usernames.set(socket, peer.certificateUsername);
    });
    watchTlsFailures(https, listener, ctx);
    registerTlsServer(listener, https, tlsOptions);
    server = https;
  } else {
    server = createHttpServer({ maxHeaderSize, noDelay: true }, onRequest);
  }
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const proxied = proxiedPeers.get(socket);
    let address = proxied?.address ?? displayAddress(socket.remoteAddress);
    const port = proxied?.port ?? socket.remotePort ?? 0;
    // websockets_origin (Mosquitto 2.1): a handshake whose Origin is not one of the listed values
    // is dropped without an answer. Clients that send no Origin (anything but a browser) pass,
    // as in Mosquitto, which only checks the header when it is there. Values compare exactly.
    const origins = listener.websocketsOrigins;
    const origin = req.headers.origin;
    if (origins !== undefined && origins.length > 0 && origin !== undefined && !origins.includes(origin)) {
      if (ctx.connectionMessages()) ctx.log.notice('Bad socket read/write on client <unknown>: Bad http origin');
      socket.destroy();
      return;
    }
    address = forwardedAddress(address, req.headers['x-forwarded-for']) ?? address;
    const offered = req.headers['sec-websocket-protocol'];
    if (offered !== undefined && !offered.split(',').some((p) => (SUBPROTOCOLS as readonly string[]).includes(p.trim()))) {
      // No protocol we speak: refuse the handshake rather than open a socket nobody reads.
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.on('error', () => undefined);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = new WebSocketStream(ws);
      ctx.accept(
        {
          stream,
          address,
          port,
          localPort: socket.localPort ?? listener.port,
          certificateUsername: proxied?.certificateUsername ?? usernames.get(socket),
        },
        listener,
      );
    });
  });
  return server;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html',
  '.htm': 'text/html',
  '.js': 'application/javascript',
  '.mjs': 'application/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain',
};

function respond(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text), Connection: 'close' });
  res.end(text);
}

/**
 * The file under `dir` an HTTP path names, or undefined when there is none or the path would
 * leave `dir` (`..`, encoded or not, and symbolic links pointing outside are all refused).
 */
export function resolveHttpPath(dir: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0]!.split('#')[0]!);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  let root: string;
  try {
    root = realpathSync(dir);
  } catch {
    return undefined;
  }
  // Normalising "/" + path can never climb above "/": every ".." is spent inside the root.
  let file = join(root, normalize(`/${decoded}`));
  try {
    if (statSync(file).isDirectory()) file = join(file, 'index.html');
    const real = realpathSync(file);
    if (real !== root && !real.startsWith(root + sep)) return undefined;
    if (!statSync(real).isFile()) return undefined;
    return real;
  } catch {
    return undefined;
  }
}

/** Plain HTTP on a websockets listener: GET/HEAD of http_dir's files; 404 for anything else. */
function serveHttpDir(dir: string | undefined, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return respond(res, 405, 'Method Not Allowed\n');
  const file = dir === undefined ? undefined : resolveHttpPath(dir, req.url ?? '/');
  if (file === undefined) return respond(res, 404, 'Not Found\n');
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return respond(res, 404, 'Not Found\n');
  }
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': size,
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
