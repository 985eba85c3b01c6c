// A free TCP port on loopback for a broker a benchmark starts (the kernel picks it; the tiny
// window before the broker binds it is acceptable for benchmarks, which retry nothing).
import { createServer } from 'node:net';

export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
