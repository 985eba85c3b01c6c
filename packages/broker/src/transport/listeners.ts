/**
 * Opening listeners. Each listener kind turns its incoming connections into a byte stream plus
 * the peer's address and hands them to `accept`; the protocol layer never sees which kind it was.
 * `openListener` picks the kind from the settings: unix socket (unix.ts), or TCP carrying plain
 * MQTT, MQTT over TLS (tls.ts), or MQTT over WebSockets with or without TLS (websocket.ts).
 */
import { createServer, SocketAddress, type AddressInfo, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import type { ListenerSettings } from '../settings.js';
export { checkListenerFiles } from './tls.js';
import {
  certificateUsername,
  checkClientCertificate,
  isNotTls,
  ListenerOpenError,
  opensslErrorText,
  listenerTlsOptions,
  registerTlsServer,
} from './tls.js';
import { proxyListenerError, readProxyHeader } from './proxy-protocol.js';
import { forgetServerSecret, refuseWithAlert } from './tls-alert.js';
import { openUnixListener } from './unix.js';
import { createWebSocketServer, proxiedPeers } from './websocket.js';

/** A client connection as the protocol layer sees it. */
export interface Peer {
  /** The byte stream (a net.Socket, a TLS socket, or a WebSocket stream). */
  stream: Duplex;
  /** Remote address as logged (IPv4-mapped IPv6 addresses shown as IPv4). */
  address: string;
  port: number;
  /** The local port the client came in on, as "on port N" in the log. */
  localPort: number;
  /** The broker's own in-memory client (a bridge's local side): not logged as a connection. */
  internal?: boolean;
  /**
   * use_identity_as_username / use_subject_as_username on a TLS listener: the username the
   * client's certificate (or PSK identity) gives, or why it gives none; undefined when the
   * listener uses neither option (then the CONNECT's username and password apply).
   */
  certificateUsername?: CertificateUsername | undefined;
}

/**
 * What Mosquitto's CONNECT handling does with a certificate identity (reference 9.1 step 8):
 * the username replaces the CONNECT's and no password check is made; `no-certificate` (no
 * certificate or PSK identity) is refused as bad username or password (CONNACK 4 / 0x86),
 * `no-common-name` as not authorised (5 / 0x87).
 */
export type CertificateUsername = { username: string } | { refused: 'no-certificate' | 'no-common-name' };

export type AcceptPeer = (peer: Peer, listener: ListenerSettings) => void;

export interface BoundListener {
  listener: ListenerSettings;
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

export interface OpenedListeners {
  servers: Server[];
  bound: BoundListener[];
}

/** What a transport needs from the broker. */
export interface TransportContext {
  log: Logger;
  accept: AcceptPeer;
  /** connection_messages (read per connection: SIGHUP may change it). */
  connectionMessages: () => boolean;
}

export const displayAddress = (a: string | undefined): string => a?.replace(/^::ffff:/, '') ?? 'unknown';

/**
 * Opens one listener of any kind. Rejects with the listen error (already logged as Mosquitto
 * logs it); the broker then stops and exits 1.
 */
export async function openListener(
  listener: ListenerSettings,
  log: Logger,
  accept: AcceptPeer,
  into: OpenedListeners,
  connectionMessages: () => boolean = () => true,
): Promise<void> {
  const ctx: TransportContext = { log, accept, connectionMessages };
  if (listener.unixSocketPath !== undefined) return openUnixListener(listener, ctx, into);
  return openTcpListener(listener, ctx, into);
}

/** The remote end of a TCP connection as the log shows it. */
export const tcpPeer = (socket: Socket, listener: ListenerSettings): Peer => ({
  stream: socket,
  address: displayAddress(socket.remoteAddress),
  port: socket.remotePort ?? 0,
  localPort: socket.localPort ?? listener.port,
});

/** A server for one TCP listen socket of the listener's kind. Throws after logging when TLS files fail to load. */
function createListenerServer(listener: ListenerSettings, ctx: TransportContext): Server {
  if (listener.proxyProtocol !== undefined) return createProxiedServer(listener, ctx);
  if (listener.protocol === 'websockets') return createWebSocketServer(listener, ctx);
  const t = listener.tls;
  // Nagle's algorithm stays off whatever set_tcp_nodelay says: writes are already gathered
  // per tick, and Nagle would only add delayed-ACK latency to small packets.
  if (t === undefined) return createServer({ noDelay: true }, (socket) => ctx.accept(tcpPeer(socket, listener), listener));
  const tlsOptions = listenerTlsOptions(listener, ctx.log);
  const server = createTlsServer({ ...tlsOptions, noDelay: true }, (socket) => {
    const peer = tlsPeer(socket, listener, ctx);
    if (peer) ctx.accept(peer, listener);
  });
  watchTlsFailures(server, listener, ctx);
  registerTlsServer(listener, server, tlsOptions);
  return server;
}

/**
 * `enable_proxy_protocol`: a plain TCP server that reads each connection's PROXY header first,
 * then treats the client the header names as the peer (plain MQTT), or hands the socket to the
 * websockets HTTP server with that client remembered. TLS is terminated by the proxy.
 */
function createProxiedServer(listener: ListenerSettings, ctx: TransportContext): Server {
  const http = listener.protocol === 'websockets' ? createWebSocketServer(listener, ctx) : undefined;
  return createServer({ noDelay: true }, (socket) => {
    readProxyHeader(socket, listener, ctx, displayAddress(socket.remoteAddress), (proxied) => {
      if (http !== undefined) {
        proxiedPeers.set(socket, proxied);
        http.emit('connection', socket);
        socket.resume();
        return;
      }
      ctx.accept(
        {
          stream: socket,
          address: proxied.address,
          port: proxied.port,
          localPort: socket.localPort ?? listener.port,
          certificateUsername: proxied.certificateUsername,
        },
        listener,
      );
      // The header reader paused the socket (with what followed the header put back); the
      // connection has its 'data' handler now.
      socket.resume();
    });
  });
}

/**
 * A finished handshake becomes a Peer, or is refused with Mosquitto's lines and OpenSSL's alert
 * when the client's certificate does not pass (missing while required, unknown CA, expired,
 * revoked in the CRL). Runs in the 'secureConnection' callback: the alert must go out first.
 */
export function tlsPeer(socket: TLSSocket, listener: ListenerSettings, ctx: TransportContext): Peer | undefined {
  const t = listener.tls!;
  const peer: Peer = {
    stream: socket,
    address: displayAddress(socket.remoteAddress),
    port: socket.remotePort ?? 0,
    localPort: socket.localPort ?? listener.port,
  };
  const refusal = checkClientCertificate(socket, listener);
  if (refusal !== undefined) {
    logHandshakeFailure(ctx, peer.address, peer.port, peer.localPort, refusal.error);
    // The alert OpenSSL would have sent in the handshake (expired, revoked, unknown CA...).
    refuseWithAlert(socket, refusal.alert);
    return undefined;
  }
  forgetServerSecret(socket);
  peer.certificateUsername = certificateUsername(socket, t);
  return peer;
}

/**
 * Mosquitto logs a failed handshake in one of two ways: bytes that are not TLS at all fail at
 * accept ("Client connection from X failed: ..."); a failure later in the handshake comes after
 * the "New connection" line, as the OpenSSL error and a protocol-error disconnect.
 */
function logHandshakeFailure(ctx: TransportContext, address: string, port: number, localPort: number, error: string): void {
  if (ctx.connectionMessages()) ctx.log.notice(`New connection from ${address}:${port} on port ${localPort}.`);
  ctx.log.error(`OpenSSL Error[0]: ${error}`);
  if (ctx.connectionMessages()) ctx.log.notice('Client <unknown> disconnected: Protocol error.');
}

/** Logs handshakes that fail inside OpenSSL (the client refused our certificate, bad versions or ciphers). */
export function watchTlsFailures(server: Server, listener: ListenerSettings, ctx: TransportContext): void {
  // The TLS socket may already be torn down when the error is reported: remember addresses.
  const addresses = new WeakMap<object, { address: string; port: number; localPort: number }>();
  server.on('connection', (socket: Socket) => {
    addresses.set(socket, {
      address: displayAddress(socket.remoteAddress),
      port: socket.remotePort ?? 0,
      localPort: socket.localPort ?? listener.port,
    });
  });
  server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
    const parent = (socket as TLSSocket & { _parent?: object })._parent;
    const a = (parent && addresses.get(parent)) ?? {
      address: displayAddress(socket.remoteAddress),
      port: socket.remotePort ?? 0,
      localPort: socket.localPort ?? listener.port,
    };
    if (isNotTls(err)) ctx.log.notice(`Client connection from ${a.address} failed: ${opensslErrorText(err)}.`);
    else logHandshakeFailure(ctx, a.address, a.port, a.localPort, opensslErrorText(err));
  });
}

/**
 * Opens one listener's TCP sockets (IPv4 and IPv6 unless bound to one address or domain),
 * logging Mosquitto's "Opening ipv4 listen socket on port N." lines.
 */
export async function openTcpListener(listener: ListenerSettings, ctx: TransportContext, into: OpenedListeners): Promise<void> {
  const log = ctx.log;
  const proxyError = listener.proxyProtocol && proxyListenerError(listener.proxyProtocol);
  if (proxyError) {
    log.error(proxyError);
    throw new ListenerOpenError(proxyError);
  }
  const hosts: Array<{ host: string; family: 'IPv4' | 'IPv6' }> = [];
  if (listener.host !== undefined) {
    hosts.push({ host: listener.host, family: listener.host.includes(':') ? 'IPv6' : 'IPv4' });
  } else {
    if (listener.socketDomain !== 'ipv6') hosts.push({ host: '0.0.0.0', family: 'IPv4' });
    if (listener.socketDomain !== 'ipv4') hosts.push({ host: '::', family: 'IPv6' });
  }
  let boundAny = false;
  // libwebsockets opens its own sockets: Mosquitto logs one line for them, not one per family.
  if (listener.protocol === 'websockets') log.notice(`Opening websockets listen socket on port ${listener.port}.`);
  for (const { host, family } of hosts) {
    if (listener.protocol !== 'websockets') {
      log.notice(`Opening ${family === 'IPv4' ? 'ipv4' : 'ipv6'} listen socket on port ${listener.port}.`);
    }
    let bindHost = host;
    if (listener.bindInterface !== undefined) {
      const found = interfaceAddress(listener.bindInterface, family);
      if (found.kind === 'missing') {
        log.error(`Error: Interface ${listener.bindInterface} does not exist.`);
        continue;
      }
      if (found.kind === 'no-family') {
        log.warning(`Warning: Interface ${listener.bindInterface} does not support ${family} configuration.`);
        continue;
      }
      if (listener.host !== undefined && !sameAddress(listener.host, found.address)) {
        // Worded as a warning (as Debian's 2.0.11 prints it) but fatal: the broker exits 1.
        const line = `Warning: Interface address for ${listener.bindInterface} does not match specified listener address (${listener.host}).`;
        log.warning(line);
        throw new ListenerOpenError(line);
      }
      bindHost = found.address;
    }
    const server = createListenerServer(listener, ctx);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: bindHost, port: listener.port, ipv6Only: family === 'IPv6' }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      // A machine without IPv6 still serves IPv4, as Mosquitto does.
      if (family === 'IPv6' && (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT')) continue;
      log.error(`Error: ${err.code === 'EADDRINUSE' ? 'Address already in use' : err.message}`);
      throw e;
    }
    const addr = server.address() as AddressInfo;
    into.bound.push({ listener, address: addr.address, port: addr.port, family });
    into.servers.push(server);
    boundAny = true;
  }
  // bind_interface must find the interface for at least one family, or the listener fails
  // (after the lines above, as Mosquitto exits 1 with nothing more).
  if (listener.bindInterface !== undefined && !boundAny) throw new ListenerOpenError(undefined);
}

/**
 * bind_interface: the interface's first address of the family, found the way Mosquitto does
 * with getifaddrs (names compared case-insensitively), since binding to a device itself needs
 * root. IPv6 link-local addresses get the interface as their scope.
 */
export function interfaceAddress(
  name: string,
  family: 'IPv4' | 'IPv6',
): { kind: 'found'; address: string } | { kind: 'missing' } | { kind: 'no-family' } {
  const all = networkInterfaces();
  const key = Object.keys(all).find((k) => k.toLowerCase() === name.toLowerCase());
  const list = key === undefined ? undefined : all[key];
  if (key === undefined || list === undefined || list.length === 0) return { kind: 'missing' };
  const a = list.find((x) => x.family === family);
  if (a === undefined) return { kind: 'no-family' };
  return { kind: 'found', address: family === 'IPv6' && a.scopeid ? `${a.address}%${key}` : a.address };
}

/** Address equality as Mosquitto's memcmp of the binary forms (so "::1" equals "0:0::1"). */
function sameAddress(a: string, b: string): boolean {
  const canonical = (x: string): string => {
    const plain = x.replace(/%.*$/, '');
    try {
      return new SocketAddress({ address: plain, family: plain.includes(':') ? 'ipv6' : 'ipv4' }).address;
    } catch {
      return plain;
    }
  };
  return canonical(a) === canonical(b);
}
