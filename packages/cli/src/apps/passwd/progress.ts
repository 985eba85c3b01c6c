/**
 * Progress of a long `-U` run, on stderr and only when stderr is a terminal (so scripts and
 * logs see nothing). One line rewritten in place, at most every 100 ms, ended by a newline.
 */
import type { Writable } from 'node:stream';

/** Fewer passwords than this hash quickly enough that no progress is shown. */
export const PROGRESS_THRESHOLD = 10;

export interface ProgressOutput extends Writable {
  isTTY?: boolean;
}

export class HashProgress {
  readonly #out: ProgressOutput | undefined;
  readonly #total: number;
  #done = 0;
  #lastShown = 0;

  constructor(stderr: ProgressOutput, total: number) {
    this.#out = stderr.isTTY === true && total >= PROGRESS_THRESHOLD ? stderr : undefined;
    this.#total = total;
    this.#show();
  }

  step(): void {
    this.#done++;
    const now = Date.now();
    if (this.#done === this.#total || now - this.#lastShown >= 100) this.#show();
  }

  finish(): void {
    this.#out?.write('\n');
  }

  #show(): void {
    this.#lastShown = Date.now();
    this.#out?.write(`\rHashing passwords: ${this.#done}/${this.#total}`);
  }
}
