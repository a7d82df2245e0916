/**
 * Seeded randomness for benchmark data: the test suites' mulberry32, plus the few Clojure helpers DataScript's
 * bench uses (`rand-int`, `rand-nth`, `shuffle`). Same seed → same data on every run and machine.
 */

/** A seeded PRNG returning floats in [0, 1). */
export type Rng = () => number;

export { mulberry32 } from '@dataloom/test/gen/prng.js';

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
