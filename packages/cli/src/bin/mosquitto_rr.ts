#!/usr/bin/env node
import { main } from '../clients/rr.js';

await main(process.argv.slice(2));
