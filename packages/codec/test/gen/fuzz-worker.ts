/**
 * Runs `runFuzz` in a worker thread, so the parent can stop a decoder that hangs (a busy loop
 * cannot be interrupted from its own thread) and print the input it was working on, which the
 * worker mirrors into shared memory before each decode.
 *
 * workerData: { seed, iterations?, seconds?, versions?, input: SharedArrayBuffer,
 * length: SharedArrayBuffer }. Posts { progress: n } while running and { stats } at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ProtocolVersion } from '../../src/constants.js';
import { runFuzz } from './fuzz.js';

export interface FuzzWorkerData {
  seed: number;
  iterations?: number;
  seconds?: number;
  versions?: ProtocolVersion[];
  maxFailures?: number;
  input: SharedArrayBuffer;
  length: SharedArrayBuffer;
}

const data = workerData as FuzzWorkerData;
const stats = runFuzz({
  seed: data.seed,
  ...(data.iterations === undefined ? {} : { iterations: data.iterations }),
  ...(data.seconds === undefined ? {} : { deadline: Date.now() + data.seconds * 1000 }),
  ...(data.versions === undefined ? {} : { versions: data.versions }),
  ...(data.maxFailures === undefined ? {} : { maxFailures: data.maxFailures }),
  currentInput: new Uint8Array(data.input),
  currentLength: new Int32Array(data.length),
  progressEvery: 2000,
  onProgress: (inputs) => parentPort?.postMessage({ progress: inputs }),
});
parentPort?.postMessage({ stats });
