/**
 * A set of pairs of small non-negative integers `(x, y)` stored as integers only, no tuple per
 * pair: under each first value `x` (a small-integer `Map` key, shared by all of `x`'s pairs) the
 * second values, as one number, a short array of numbers (up to {@link SHORT}, scanned), or a
 * `Set` beyond. A closure of 1.09M pairs (the ancestors of a 100k-node tree) is ~10 bytes per pair
 * here against ~125 as tuples in buckets.
 *
 * Readers that need tuples get fresh `[x, y]` arrays (young-generation garbage unless kept); the
 * set never hands out its own storage. {@link PairSet.eachWithFirst} iterates a snapshot, so a
 * callback may add to or remove from the same set.
 */

/** Second values per first value kept in a scanned array before it becomes a `Set`. */
const SHORT = 32;

type Seconds = number | number[] | Set<number>;

export class PairSet {
  private readonly byFirst = new Map<number, Seconds>();
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** Distinct first values. */
  get firsts(): number {
    return this.byFirst.size;
  }

  has(x: number, y: number): boolean {
    const s = this.byFirst.get(x);
    if (s === undefined) return false;
    if (typeof s === 'number') return s === y;
    if (Array.isArray(s)) return s.indexOf(y) >= 0;
    return s.has(y);
  }

  /** Adds `(x, y)`; returns false (doing nothing) when present. */
  add(x: number, y: number): boolean {
    const s = this.byFirst.get(x);
    if (s === undefined) this.byFirst.set(x, y);
    else if (typeof s === 'number') {
      if (s === y) return false;
      this.byFirst.set(x, [s, y]);
    } else if (Array.isArray(s)) {
      if (s.indexOf(y) >= 0) return false;
      if (s.length < SHORT) s.push(y);
      else {
        const set = new Set(s);
        set.add(y);
        this.byFirst.set(x, set);
      }
    } else {
      if (s.has(y)) return false;
      s.add(y);
    }
    this.n++;
    return true;
  }

  /** Removes `(x, y)`; returns whether it was present. */
  delete(x: number, y: number): boolean {
    const s = this.byFirst.get(x);
    if (s === undefined) return false;
    if (typeof s === 'number') {
      if (s !== y) return false;
      this.byFirst.delete(x);
    } else if (Array.isArray(s)) {
      const i = s.indexOf(y);
      if (i < 0) return false;
      s[i] = s[s.length - 1]!;
      s.pop();
      if (s.length === 1) this.byFirst.set(x, s[0]!);
    } else {
      if (!s.delete(y)) return false;
      if (s.size <= SHORT / 2) this.byFirst.set(x, [...s]);
    }
    this.n--;
    return true;
  }

  /** Re-allocates every short array at its exact length (after a bulk load: growth leaves slack). */
  trim(): void {
    for (const [x, s] of this.byFirst) if (Array.isArray(s)) this.byFirst.set(x, s.slice());
  }

  /** Number of pairs with first value `x`. */
  count(x: number): number {
    const s = this.byFirst.get(x);
    return s === undefined ? 0 : typeof s === 'number' ? 1 : Array.isArray(s) ? s.length : s.size;
  }

  /** Calls `cb` with a fresh tuple `[x, y]` for each pair with first value `x` (over a snapshot). */
  eachWithFirst(x: number, cb: (t: [number, number]) => void): void {
    const s = this.byFirst.get(x);
    if (s === undefined) return;
    if (typeof s === 'number') cb([x, s]);
    else {
      const ys = Array.isArray(s) ? s.slice() : [...s];
      for (let i = 0; i < ys.length; i++) cb([x, ys[i]!]);
    }
  }

  /** Calls `cb` with each second value paired with `x` (over a snapshot). */
  eachSecond(x: number, cb: (y: number) => void): void {
    const s = this.byFirst.get(x);
    if (s === undefined) return;
    if (typeof s === 'number') cb(s);
    else {
      const ys = Array.isArray(s) ? s.slice() : [...s];
      for (let i = 0; i < ys.length; i++) cb(ys[i]!);
    }
  }

  /** Calls `cb` with every pair as a fresh tuple (each first value's pairs over a snapshot). */
  eachPair(cb: (t: [number, number]) => void): void {
    for (const [x, s] of this.byFirst) {
      if (typeof s === 'number') cb([x, s]);
      else {
        const ys = Array.isArray(s) ? s.slice() : [...s];
        for (let i = 0; i < ys.length; i++) cb([x, ys[i]!]);
      }
    }
  }

  /** Every pair, as fresh tuples (the set must not change meanwhile). */
  *tuples(): IterableIterator<[number, number]> {
    for (const [x, s] of this.byFirst) {
      if (typeof s === 'number') yield [x, s];
      else for (const y of Array.isArray(s) ? s.slice() : s) yield [x, y];
    }
  }
}
