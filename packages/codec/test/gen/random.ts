/**
 * A small seeded pseudo-random generator for the generated tests, so a failure can be replayed
 * from the seed printed with it. sfc32 (Chris Doty-Humphrey's Small Fast Chaotic generator):
 * 32-bit state words, good statistical quality, and fast enough for a few hundred thousand
 * packets per test run.
 */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  readonly seed: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = this.seed;
    // Mix the seed through the state before use so nearby seeds give unrelated streams.
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** An integer in [min, max], both inclusive (max - min < 2^32). */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  bool(): boolean {
    return (this.next() & 1) === 1;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** A length skewed towards small values: most draws are short, a few reach `max`. */
  length(max: number): number {
    const r = this.float();
    if (r < 0.15) return 0;
    if (r < 0.75) return this.int(0, Math.min(max, 16));
    if (r < 0.95) return this.int(0, Math.min(max, 256));
    return this.int(0, max);
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) out.writeUInt32LE(this.next(), i);
    for (; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }

  /** Shuffles a copy of `items`. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }
}

/** A seed from the environment (CODEC_TEST_SEED) so a failing run can be replayed, else `fallback`. */
export function seedFromEnv(fallback: number): number {
  const raw = process.env['CODEC_TEST_SEED'];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`CODEC_TEST_SEED must be an integer, got ${raw}`);
  return n >>> 0;
}
