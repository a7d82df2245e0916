/**
 * Incremental aggregate states, one per (group, aggregate column). Each takes the bag of values of
 * the aggregated variable over the group's distinct find∪with tuples (DataScript's semantics) one
 * value at a time, in either direction, and answers the current result.
 *
 * Accumulators (O(1) per change): count, sum, avg, variance, stddev — compensated sums.
 * Ordered multisets (O(log n) search + splice): min, max, median, min n, max n, distinct,
 * count-distinct, sample, rand, and custom aggregate functions (recomputed from the multiset).
 */
import { DataloomError } from '@dataloom/core';
import { CompensatedSum } from './compensated.js';
import { SortedBag } from './sorted-bag.js';

export interface AggState {
  add(v: unknown): void;
  remove(v: unknown): void;
  /** The aggregate of the current bag (only called when the bag is not empty). */
  result(): unknown;
}

class Count implements AggState {
  n = 0;
  add(): void {
    this.n++;
  }
  remove(): void {
    this.n--;
  }
  result(): unknown {
    return this.n;
  }
}

class Sum implements AggState {
  private s = new CompensatedSum();
  add(v: unknown): void {
    this.s.add(v as number);
  }
  remove(v: unknown): void {
    this.s.add(-(v as number));
  }
  result(): unknown {
    return this.s.value;
  }
}

class Avg implements AggState {
  private s = new CompensatedSum();
  private n = 0;
  add(v: unknown): void {
    this.s.add(v as number);
    this.n++;
  }
  remove(v: unknown): void {
    this.s.add(-(v as number));
    this.n--;
  }
  result(): unknown {
    return this.s.value / this.n;
  }
}

class Variance implements AggState {
  private s = new CompensatedSum();
  private s2 = new CompensatedSum();
  private n = 0;
  constructor(private readonly sqrt: boolean) {}
  add(v: unknown): void {
    const x = v as number;
    this.s.add(x);
    this.s2.add(x * x);
    this.n++;
  }
  remove(v: unknown): void {
    const x = v as number;
    this.s.add(-x);
    this.s2.add(-x * x);
    this.n--;
  }
  result(): unknown {
    const mean = this.s.value / this.n;
    let v = this.s2.value / this.n - mean * mean;
    if (v < 0 || Math.abs(v) < 1e-12 * Math.abs(mean * mean)) v = Math.max(0, v < 0 ? 0 : v);
    return this.sqrt ? Math.sqrt(v) : v;
  }
}

class Ordered implements AggState {
  readonly bag = new SortedBag();
  constructor(private readonly f: (bag: SortedBag) => unknown) {}
  add(v: unknown): void {
    this.bag.add(v);
  }
  remove(v: unknown): void {
    this.bag.remove(v);
  }
  result(): unknown {
    return this.f(this.bag);
  }
}

function median(b: SortedBag): unknown {
  const xs = b.items;
  const n = xs.length;
  const h = n >>> 1;
  if (n % 2 === 1) return xs[h];
  return ((xs[h - 1] as number) + (xs[h] as number)) / 2;
}

/** Whether `name` is a built-in aggregate. */
export function isBuiltinAggregate(name: string): boolean {
  return BUILTINS.has(name);
}

const BUILTINS = new Set(['count', 'count-distinct', 'sum', 'avg', 'median', 'variance', 'stddev', 'min', 'max', 'distinct', 'sample', 'rand']);

/**
 * A fresh state for aggregate `name` with its leading constant arguments (`n` of `(max n ?x)`),
 * or for a custom aggregate function `custom` (called with the array of values).
 */
export function makeAggState(name: string | null, params: readonly unknown[], custom?: (...args: unknown[]) => unknown): AggState {
  if (custom !== undefined) return new Ordered((b) => custom(...params, [...b.items]));
  switch (name) {
    case 'count':
      return new Count();
    case 'sum':
      return new Sum();
    case 'avg':
      return new Avg();
    case 'variance':
      return new Variance(false);
    case 'stddev':
      return new Variance(true);
    case 'median':
      return new Ordered(median);
    case 'count-distinct':
      return new Ordered((b) => b.distinctSize);
    case 'distinct':
      return new Ordered((b) => new Set(b.distinct()));
    case 'min':
      if (params.length === 0) return new Ordered((b) => b.items[0]);
      return new Ordered((b) => b.items.slice(0, params[0] as number));
    case 'max':
      if (params.length === 0) return new Ordered((b) => b.items[b.items.length - 1]);
      return new Ordered((b) => b.items.slice(Math.max(0, b.items.length - (params[0] as number))));
    case 'sample':
      // Deterministic stand-in for DataScript's random sample: the first n distinct values in order.
      return new Ordered((b) => b.distinct().slice(0, params[0] as number));
    case 'rand':
      // Deterministic stand-in for DataScript's random element: the smallest value.
      if (params.length === 0) return new Ordered((b) => b.items[0]);
      return new Ordered((b) => b.items.slice(0, params[0] as number));
    default:
      throw new DataloomError('query/unknown-aggregate', `Unknown aggregate function ${String(name)}`, { form: name });
  }
}
