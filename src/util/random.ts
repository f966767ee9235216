/**
 * Seeded randomness used everywhere in fairdiff: every random choice (data, init, noise,
 * shuffles, bootstrap) draws from an `Rng` built from an explicit seed, so a run is repeatable.
 *
 * The generator is xoshiro128** seeded through splitmix32: fast, 32-bit, no BigInt, and good
 * enough statistically for simulation (passes BigCrush per its authors).
 */

export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal draw (Box–Muller, cached pair). */
  normal(): number;
  /** A fresh 32-bit unsigned integer, e.g. a seed for a tfjs op. */
  uint32(): number;
  /** In-place Fisher–Yates shuffle; returns the same array. */
  shuffle<T>(items: T[]): T[];
  /** Index drawn from unnormalised non-negative weights. */
  categorical(weights: ArrayLike<number>): number;
  /** An independent stream derived from this seed and a label (does not advance this one). */
  fork(label: string | number): Rng;
  /** The seed this generator was built from. */
  readonly seed: number;
}

// Bound once: under jest's vm sandbox every global lookup in these hot paths costs ~40×.
const imul = Math.imul;
const floor = Math.floor;

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a hash of a label, used to derive forked streams. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function assertSeed(seed: number): void {
  if (!Number.isFinite(seed) || !Number.isInteger(seed)) {
    throw new Error(`seed must be a finite integer, got ${String(seed)}`);
  }
}

export function createRng(seed: number): Rng {
  assertSeed(seed);
  const init = splitmix32(seed >>> 0);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  if ((a | b | c | d) === 0) a = 1;
  let spareNormal: number | undefined;

  const uint32 = (): number => {
    const result = imul(rotl(imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const next = (): number => uint32() / 4294967296;

  const rng: Rng = {
    seed,
    next,
    uint32,
    int(n: number): number {
      if (!Number.isInteger(n) || n <= 0)
        throw new Error(`int(n) needs a positive integer, got ${n}`);
      return floor(next() * n);
    },
    normal(): number {
      if (spareNormal !== undefined) {
        const v = spareNormal;
        spareNormal = undefined;
        return v;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spareNormal = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = floor(next() * (i + 1));
        const tmp = items[i];
        items[i] = items[j];
        items[j] = tmp;
      }
      return items;
    },
    categorical(weights: ArrayLike<number>): number {
      let total = 0;
      for (let i = 0; i < weights.length; i++) {
        if (!(weights[i] >= 0)) throw new Error(`categorical weight ${i} is ${weights[i]}`);
        total += weights[i];
      }
      if (total <= 0) throw new Error("categorical weights sum to zero");
      let u = next() * total;
      for (let i = 0; i < weights.length; i++) {
        u -= weights[i];
        if (u < 0) return i;
      }
      return weights.length - 1;
    },
    fork(label: string | number): Rng {
      return createRng((imul(seed >>> 0, 0x27d4eb2d) ^ hashString(String(label))) | 0);
    },
  };
  return rng;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
