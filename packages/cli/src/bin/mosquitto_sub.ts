#!/usr/bin/env node
import { main } from '../clients/sub.js';

await main(process.argv.slice(2));
