#!/usr/bin/env node
import { passwdMain } from '../apps/passwd/main.js';

process.exitCode = await passwdMain(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
