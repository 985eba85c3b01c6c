#!/usr/bin/env node
import { dbDumpMain } from '../apps/db-dump/main.js';

// `db_dump big.db | head`: Mosquitto's tool dies of SIGPIPE silently (a shell reports 141).
// Node ignores SIGPIPE and reports EPIPE as an error instead; end the same quiet way.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(128 + 13);
  throw e;
});

process.exitCode = await dbDumpMain(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
