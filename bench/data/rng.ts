/**
 * Seeded randomness for benchmark data: mulberry32, plus the few Clojure helpers DataScript's
 * bench uses (`rand-int`, `rand-nth`, `shuffle`). Same seed → same data on every run and machine.
 */

/** A seeded PRNG returning floats in [0, 1). */
export type Rng = () => number;

/** mulberry32: small, fast, good enough for test data. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Clojure's `(rand-int n)`: an integer in [0, n). */
export function randInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** Clojure's `(rand-nth xs)`. */
export function randNth<T>(rng: Rng, xs: readonly T[]): T {
  return xs[randInt(rng, xs.length)] as T;
}

/** Clojure's `(shuffle xs)`: a new array, Fisher–Yates. */
export function shuffle<T>(rng: Rng, xs: readonly T[]): T[] {
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = randInt(rng, i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
