#!/usr/bin/env node
import { freshBundle } from '../clients/launch.js';

const bundle = freshBundle('mosquitto_ctrl', import.meta.url);
const { main } = bundle
  ? ((await import(bundle.href)) as typeof import('../apps/ctrl/main.js'))
  : await import('../apps/ctrl/main.js');
await main(process.argv.slice(2));
