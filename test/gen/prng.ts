/**
 * The one seeded PRNG of the test suites (mulberry32) and the helpers every seeded test uses.
 * `mulberry32(seed)` returns a function giving floats in [0, 1). Same seed, same sequence, on every
 * machine — print the seed on failure (`replay with FUZZ_SEED=<seed>`, see {@link replayable}).
 * Package tests import it by name: `@dataloom/test/gen/prng.js`.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One element of `xs`, chosen by `rnd`. */
export function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

/** Shuffles `xs` in place (Fisher–Yates) and returns it. */
export function shuffle<T>(rnd: () => number, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** Seeds for a test: FUZZ_SEED replays one; FUZZ_RUNS widens the hunt. */
export function seeds(defaultRuns: number, base = 1): number[] {
  if (process.env.FUZZ_SEED) return [Number(process.env.FUZZ_SEED)];
  const runs = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : defaultRuns;
  return Array.from({ length: runs }, (_, i) => base + i);
}

/** Runs `fn` and prints the replay hint when it throws. */
export function replayable(seed: number, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    console.error(`replay with FUZZ_SEED=${seed}`);
    throw e;
  }
}

/** {@link replayable} for an async `fn`. */
export async function replayableAsync(seed: number, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    console.error(`replay with FUZZ_SEED=${seed}`);
    throw e;
  }
}
