/**
 * Unix socket listeners (`listener 0 /path`). As Mosquitto: whatever is at the path is removed
 * first, the socket is made rw for owner and group only (0770), clients are logged with the path
 * as their address and port 0, and closing the server (at shutdown) removes the socket file.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import type { ListenerSettings } from '../settings.js';
import type { OpenedListeners, TransportContext } from './listeners.js';
import { proxyListenerError, readProxyHeader } from './proxy-protocol.js';
import { ListenerOpenError } from './tls.js';

export async function openUnixListener(listener: ListenerSettings, ctx: TransportContext, into: OpenedListeners): Promise<void> {
  const path = listener.unixSocketPath!;
  const proxyError = listener.proxyProtocol && proxyListenerError(listener.proxyProtocol);
  if (proxyError) {
    ctx.log.error(proxyError);
    throw new ListenerOpenError(proxyError);
  }
  ctx.log.notice(`Opening unix listen socket on path ${path}.`);
  try {
    unlinkSync(path);
  } catch {
    // Nothing there yet (or not ours to remove): listen() reports any real problem.
  }
  const server = createServer((socket) => {
    if (listener.proxyProtocol === undefined) return ctx.accept({ stream: socket, address: path, port: 0, localPort: 0 }, listener);
    // A load balancer on this host may front the broker through the socket (enable_proxy_protocol):
    // the header names the client; "PROXY UNKNOWN" leaves the socket path.
    readProxyHeader(socket, listener, ctx, path, (p) => {
      ctx.accept({ stream: socket, address: p.address, port: p.port, localPort: 0, certificateUsername: p.certificateUsername }, listener);
      socket.resume();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ path }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    ctx.log.error(`Error: ${err.code === 'EADDRINUSE' ? 'Address already in use' : err.message}`);
    throw e;
  }
  try {
    chmodSync(path, 0o770);
  } catch {
    // Permissions are a convenience; the listener works without them.
  }
  into.servers.push(server);
}
