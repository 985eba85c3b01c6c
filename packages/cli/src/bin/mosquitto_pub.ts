#!/usr/bin/env node
import { main } from '../clients/pub.js';

await main(process.argv.slice(2));
