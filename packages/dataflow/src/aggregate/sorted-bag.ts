/**
 * A multiset kept in DataScript `compare` order (a sorted array with duplicates), for the
 * order-based aggregates: min, max, median, min n, max n, distinct, count-distinct, sample, rand.
 * Insert and remove are a binary search plus a splice.
 */
import { compareValues } from '../eval/compare.js';
import { valueEquals, valueKey } from '@dataloom/core';

export class SortedBag {
  readonly items: unknown[] = [];
  private readonly distinctCounts = new Map<string | number, number>();

  get size(): number {
    return this.items.length;
  }
  get distinctSize(): number {
    return this.distinctCounts.size;
  }

  private lowerBound(v: unknown): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareValues(this.items[mid], v) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(v: unknown): void {
    this.items.splice(this.lowerBound(v), 0, v);
    const k = valueKey(v);
    this.distinctCounts.set(k, (this.distinctCounts.get(k) ?? 0) + 1);
  }

  remove(v: unknown): void {
    let i = this.lowerBound(v);
    while (i < this.items.length && !valueEquals(this.items[i], v) && compareValues(this.items[i], v) === 0) i++;
    if (i < this.items.length && valueEquals(this.items[i], v)) this.items.splice(i, 1);
    const k = valueKey(v);
    const n = (this.distinctCounts.get(k) ?? 0) - 1;
    if (n <= 0) this.distinctCounts.delete(k);
    else this.distinctCounts.set(k, n);
  }

  distinct(): unknown[] {
    const out: unknown[] = [];
    let prev: string | number | undefined;
    for (const x of this.items) {
      const k = valueKey(x);
      if (k !== prev) out.push(x);
      prev = k;
    }
    return out;
  }
}
