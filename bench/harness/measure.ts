/**
 * Timing: warm up, then take samples until a time budget is spent (at least `minSamples`), and
 * report the median time per call. Very fast functions are batched so one sample lasts at least
 * ~1 ms (the way DataScript's bench batches iterations), which keeps timer resolution out of the
 * result. Budgets come from env: `BENCH_WARMUP_MS` (default 500), `BENCH_TIME_MS` (default 1500).
 */
import { performance } from 'node:perf_hooks';

export interface MeasureOptions {
  warmupMs?: number;
  timeMs?: number;
  minSamples?: number;
  maxSamples?: number;
}

export interface Measurement {
  /** Median ms per call. */
  median: number;
  /** Per-call ms of each sample. */
  samples: number[];
  /** Calls per sample. */
  batch: number;
  /** The last call's return value (for sanity checks). */
  result: unknown;
}

export function envNumber(name: string, dflt: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? dflt : Number(v);
}

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Measures `fn` (see module doc). */
export function measure(fn: () => unknown, opts: MeasureOptions = {}): Measurement {
  const warmupMs = opts.warmupMs ?? envNumber('BENCH_WARMUP_MS', 500);
  const timeMs = opts.timeMs ?? envNumber('BENCH_TIME_MS', 1500);
  const minSamples = opts.minSamples ?? 3;
  const maxSamples = opts.maxSamples ?? 50;
  gc?.();
  let result: unknown;
  // Warm-up: at least one call, then until warmupMs.
  let calls = 0;
  const w0 = performance.now();
  do {
    result = fn();
    calls++;
  } while (performance.now() - w0 < warmupMs);
  const perCall = (performance.now() - w0) / calls;
  const batch = Math.max(1, Math.ceil(1 / Math.max(perCall, 1e-6)));
  const samples: number[] = [];
  const s0 = performance.now();
  while (samples.length < maxSamples && (samples.length < minSamples || performance.now() - s0 < timeMs)) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) result = fn();
    samples.push((performance.now() - t0) / batch);
  }
  return { median: median(samples), samples, batch, result };
}

/** `f`'s value, computed on first call and kept (data sets built once per size, only when a row runs). */
export function lazy<T>(f: () => T): () => T {
  let done = false;
  let v: T;
  return () => {
    if (!done) {
      v = f();
      done = true;
    }
    return v;
  };
}
