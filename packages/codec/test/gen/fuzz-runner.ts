/**
 * Starts a fuzz worker and watches it: resolves with its stats, or, when it sends no progress
 * for `stallSeconds`, terminates it and resolves with a failure carrying the input it was
 * stuck on (a hang in the decoder).
 */
import { Worker } from 'node:worker_threads';
import type { FuzzStats } from './fuzz.js';
import type { FuzzWorkerData } from './fuzz-worker.js';

export interface WatchedFuzzOptions extends Omit<FuzzWorkerData, 'input' | 'length'> {
  stallSeconds: number;
  onProgress?: (inputs: number) => void;
}

export interface WatchedFuzzResult {
  stats?: FuzzStats;
  /** Set when the worker stalled or died. */
  problem?: string;
  /** The input being decoded when it stalled, as hex. */
  stuckInputHex?: string;
}

const INPUT_CAPACITY = 1 << 20;

export function runWatchedFuzz(options: WatchedFuzzOptions): Promise<WatchedFuzzResult> {
  const input = new SharedArrayBuffer(INPUT_CAPACITY);
  const length = new SharedArrayBuffer(4);
  const { stallSeconds, onProgress, ...rest } = options;
  const data: FuzzWorkerData = { ...rest, input, length };
  const worker = new Worker(new URL('./fuzz-worker.js', import.meta.url), { workerData: data });
  return new Promise((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout;
    const finish = (result: WatchedFuzzResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(result);
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const n = Atomics.load(new Int32Array(length), 0);
        finish({
          problem: `the fuzz worker made no progress for ${stallSeconds} s (a hang?)`,
          stuckInputHex: Buffer.from(new Uint8Array(input, 0, n)).toString('hex'),
        });
      }, stallSeconds * 1000);
    };
    arm();
    worker.on('message', (m: { progress?: number; stats?: FuzzStats }) => {
      if (m.stats) finish({ stats: m.stats });
      else if (m.progress !== undefined) {
        arm();
        onProgress?.(m.progress);
      }
    });
    worker.on('error', (e) => finish({ problem: `the fuzz worker died: ${e.stack ?? String(e)}` }));
    worker.on('exit', (code) => finish({ problem: `the fuzz worker exited with code ${code} before reporting` }));
  });
}
