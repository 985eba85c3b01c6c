#!/usr/bin/env node
import { freshBundle } from '../clients/launch.js';

const bundle = freshBundle('mosquitto_pub', import.meta.url);
const { main } = bundle
  ? ((await import(bundle.href)) as typeof import('../clients/pub.js'))
  : await import('../clients/pub.js');
await main(process.argv.slice(2));
