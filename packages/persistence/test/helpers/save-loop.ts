/**
 * Child process for the kill -9 test: saves a large generated state to argv[2] over and
 * over, printing "saved" after each complete save, until killed.
 */
import { stateToRecords, writeDbFile } from '../../src/index.js';
import { generateState } from './generate.js';

const path = process.argv[2]!;
const state = generateState(7, { messages: 20000, sessions: 500 });
for (let i = 0; i < 10000; i++) {
  await writeDbFile(path, stateToRecords(state), { batchSize: 16 * 1024 });
  process.stdout.write('saved\n');
}
