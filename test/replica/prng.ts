export { mulberry32 } from '../gen/prng.js';

export function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

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
export async function replayableAsync(seed: number, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    console.error(`replay with FUZZ_SEED=${seed}`);
    throw e;
  }
}
