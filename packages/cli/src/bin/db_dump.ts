#!/usr/bin/env node
import { dbDumpMain } from '../apps/db-dump/main.js';

process.exitCode = await dbDumpMain(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
