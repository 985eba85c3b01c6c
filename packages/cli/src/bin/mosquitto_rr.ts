#!/usr/bin/env node
import { freshBundle } from '../clients/launch.js';

const bundle = freshBundle('mosquitto_rr', import.meta.url);
const { main } = bundle
  ? ((await import(bundle.href)) as typeof import('../clients/rr.js'))
  : await import('../clients/rr.js');
await main(process.argv.slice(2));
