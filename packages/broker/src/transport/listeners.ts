/**
 * Opening listeners. Each listener kind turns its incoming connections into a byte stream plus
 * the peer's address and hands them to `accept`; the protocol layer never sees which kind it was.
 * Plain TCP lives here; TLS, WebSockets and unix sockets plug in beside it (transports issue).
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import type { ListenerSettings } from '../settings.js';

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
}

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

export const displayAddress = (a: string | undefined): string => a?.replace(/^::ffff:/, '') ?? 'unknown';

/**
 * Opens one listener's sockets (IPv4 and IPv6 unless bound to one address or domain), logging
 * Mosquitto's "Opening ipv4 listen socket on port N." lines. Rejects with the listen error.
 */
export async function openTcpListener(
  listener: ListenerSettings,
  log: Logger,
  accept: (peer: Peer, listener: ListenerSettings) => void,
  into: OpenedListeners,
): Promise<void> {
  const hosts: Array<{ host: string; family: 'IPv4' | 'IPv6' }> = [];
  if (listener.host !== undefined) {
    hosts.push({ host: listener.host, family: listener.host.includes(':') ? 'IPv6' : 'IPv4' });
  } else {
    if (listener.socketDomain !== 'ipv6') hosts.push({ host: '0.0.0.0', family: 'IPv4' });
    if (listener.socketDomain !== 'ipv4') hosts.push({ host: '::', family: 'IPv6' });
  }
  for (const { host, family } of hosts) {
    log.notice(`Opening ${family === 'IPv4' ? 'ipv4' : 'ipv6'} listen socket on port ${listener.port}.`);
    // Nagle's algorithm stays off whatever set_tcp_nodelay says: writes are already gathered
    // per tick, and Nagle would only add delayed-ACK latency to small packets.
    const server = createServer({ noDelay: true }, (socket) =>
      accept({ stream: socket, address: displayAddress(socket.remoteAddress), port: socket.remotePort ?? 0, localPort: socket.localPort ?? listener.port }, listener),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port: listener.port, ipv6Only: family === 'IPv6' }, () => {
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
  }
}
