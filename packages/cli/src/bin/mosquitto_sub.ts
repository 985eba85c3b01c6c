#!/usr/bin/env node
import { freshBundle } from '../clients/launch.js';

const bundle = freshBundle('mosquitto_sub', import.meta.url);
const { main } = bundle
  ? ((await import(bundle.href)) as typeof import('../clients/sub.js'))
  : await import('../clients/sub.js');
await main(process.argv.slice(2));
