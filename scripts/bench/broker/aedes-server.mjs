// Serves aedes (the `test` workspace's dev dependency) over node:net on 127.0.0.1:<port>, so the
// benchmark can run it as a process pinned to one core like the other brokers.
// Usage: node aedes-server.mjs <port>. Prints "ready" once listening; SIGTERM stops it.
import { createServer } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { realpathSync } from 'node:fs';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const entry = realpathSync(join(root, 'test/node_modules/aedes/aedes.js'));
const { Aedes } = await import(pathToFileURL(entry).href);

const port = Number(process.argv[2]);
const aedes = await Aedes.createBroker();
const server = createServer(aedes.handle);
server.listen(port, '127.0.0.1', () => console.log('ready'));

function stop() {
  server.close();
  aedes.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
