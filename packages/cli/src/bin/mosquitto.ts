#!/usr/bin/env node
import { runMosquitto } from '@skeeter/broker';

await runMosquitto(process.argv.slice(2));
