/**
 * An arrangement: the integrated state of one relation (a set of tuples), indexed on demand by any
 * subset of its columns, plus the relation's change in the current transaction.
 *
 * Invariants:
 * - `rows` holds exactly the tuples present now ("new" state); a tuple is present at most once
 *   (set semantics — multiplicities live in the operators that need them).
 * - Every index built by {@link Arrangement.index} is kept in step with `rows` by `insert`/`remove`.
 * - `delta` is this transaction's net change: `+1` for a tuple inserted, `-1` for one removed,
 *   never both for one tuple. The "old" state is `rows − {+1} + {−1}`; {@link Arrangement.each}
 *   answers lookups against either state without copying.
 * - `clearDelta` is called by the engine before the next transaction touches the relation.
 */
import { type ValueKey as Key } from '@dataloom/core';
import { colsKey, tupleKey } from '@dataloom/core/internals';
import { type Bucket, type Tuple, RowStore, bucketAdd, bucketRemove, eachInBucket, isSmallPair } from './rows.js';

export type { Tuple } from './rows.js';
export { ListBucket, type Bucket, bucketSize, eachInBucket } from './rows.js';

/** One entry of a relation's change: tuple and weight (+1 inserted / −1 removed). */
export interface DeltaEntry {
  readonly t: Tuple;
  readonly w: number;
  readonly k: Key;
}

interface Index {
  readonly cols: number[];
  readonly map: Map<Key, Bucket>;
}

/** Columns of a bit mask, ascending. */
export function maskCols(mask: number): number[] {
  const out: number[] = [];
  for (let i = 0; mask !== 0; i++, mask >>>= 1) if (mask & 1) out.push(i);
  return out;
}

export class Arrangement {
  /** Number of key columns; tuples may carry extra payload columns after them (e.g. a datom's tx). */
  readonly arity: number;
  readonly rows: RowStore;
  private readonly indexes = new Map<number, Index>();
  /** This transaction's net change (see the class invariants). */
  delta: DeltaEntry[] = [];
  private deltaByKey: Map<Key, DeltaEntry> | null = null;
  /** Insertions in `delta` (none: the old state is the rows plus the removed tuples). */
  private adds = 0;
  private deltaIdx: Map<number, Map<Key, DeltaEntry[]>> | null = null;
  /** Engine bookkeeping: the transaction sequence number `delta` belongs to. */
  deltaEpoch = -1;
  readonly keyOf: (t: Tuple) => Key;

  /** `compact`: pairs of small integers are stored as integers only (see `pairs.ts`); rows of exactly `arity` values. */
  constructor(arity: number, compact = false) {
    this.arity = arity;
    this.rows = new RowStore(arity, compact);
    this.keyOf = (t) => tupleKey(t, arity);
  }

  get size(): number {
    return this.rows.size;
  }

  has(k: Key): boolean {
    return this.rows.has(k);
  }

  /** Inserts a tuple not present yet (returns false, doing nothing, when it is). */
  insert(t: Tuple, k: Key = this.keyOf(t)): boolean {
    if (this.rows.has(k)) return false;
    const paired = this.rows.add(k, t);
    for (const [mask, ix] of this.indexes) {
      if (paired && mask === 1) continue; // the pair store is that index
      bucketAdd(ix.map, colsKey(t, ix.cols), k, t, this.keyOf);
    }
    return true;
  }

  /**
   * {@link insert} without a key at hand: a pair of small integers in an arity-2 relation is
   * added without building its (boxed) full key.
   */
  insertTuple(t: Tuple): boolean {
    if (!this.rows.pairsByFirst || !isSmallPair(t[0], t[1]) || !this.rows.paired(0, t)) return this.insert(t);
    if (!this.rows.addPair(t)) return false;
    if (this.indexes.size > 0) {
      const k = this.keyOf(t);
      for (const [mask, ix] of this.indexes) if (mask !== 1) bucketAdd(ix.map, colsKey(t, ix.cols), k, t, this.keyOf);
    }
    return true;
  }

  /**
   * {@link insertTuple} of the pair `(x, y)` of small non-negative integers: a compact store
   * builds no tuple for it (unless an index on other columns needs one).
   */
  insertPair(x: number, y: number): boolean {
    if (!this.rows.compactPairs) return this.insertTuple([x, y]);
    if (!this.rows.addInts(x, y)) return false;
    if (this.indexes.size > 0) {
      const t = [x, y];
      const k = this.keyOf(t);
      for (const [mask, ix] of this.indexes) if (mask !== 1) bucketAdd(ix.map, colsKey(t, ix.cols), k, t, this.keyOf);
    }
    return true;
  }

  /** Removes a present tuple by key; returns it (undefined when absent). */
  remove(k: Key): Tuple | undefined {
    const t = this.rows.delete(k);
    if (t === undefined) return undefined;
    const paired = this.rows.paired(k, t);
    for (const [mask, ix] of this.indexes) {
      if (paired && mask === 1) continue;
      bucketRemove(ix.map, colsKey(t, ix.cols), k, this.keyOf);
    }
    return t;
  }

  /**
   * The index on the columns of `mask` (built on first use). For an arity-2 relation the index on
   * the first column (`mask` 1) covers only the rows outside the pair store, whose own buckets
   * index the rest: read it through {@link eachIndexed}.
   */
  private index(mask: number): Map<Key, Bucket> {
    let ix = this.indexes.get(mask);
    if (ix === undefined) {
      const cols = maskCols(mask);
      ix = { cols, map: new Map() };
      const all = !(mask === 1 && this.rows.pairsByFirst);
      for (const [k, t] of all ? this.rows : this.rows.plainRows()) bucketAdd(ix.map, colsKey(t, cols), k, t, this.keyOf);
      this.indexes.set(mask, ix);
    }
    return ix.map;
  }

  /** Calls `cb` for each present tuple whose `mask` columns have key `sub` (0 < mask < full). */
  private eachIndexed(mask: number, sub: Key, cb: (t: Tuple) => void): void {
    if (mask === 1 && this.rows.pairsByFirst) {
      this.rows.eachWithFirst(sub, cb);
      if (this.rows.plainRows().size === 0) return;
    }
    eachInBucket(this.index(mask).get(sub), cb);
  }

  /** Distinct keys of the columns of `mask` among the present tuples, when an index knows them. */
  private distinctKeys(mask: number): number | undefined {
    if (mask === 1 && this.rows.pairsByFirst) {
      const plain = this.rows.plainRows().size;
      if (plain === 0) return this.rows.pairKeys;
      const ix = this.indexes.get(mask);
      return ix === undefined ? undefined : this.rows.pairKeys + ix.map.size;
    }
    return this.indexes.get(mask)?.map.size;
  }

  /**
   * Expected rows per distinct key of the columns of `mask` (for the planner): exact from the
   * index when it exists, else estimated from up to 256 rows without building the index (an
   * index only a rejected plan would read costs a map entry per row for nothing).
   */
  fanout(mask: number): number {
    const n = this.rows.size;
    if (n === 0) return 0;
    const d = this.distinctKeys(mask);
    if (d !== undefined) return n / Math.max(1, d);
    const cols = maskCols(mask);
    const seen = new Set<Key>();
    let sampled = 0;
    for (const t of this.rows.values()) {
      seen.add(colsKey(t, cols));
      if (++sampled === 256) break;
    }
    // All distinct in the sample: assume unique keys; else the sample's rows per key.
    return seen.size === sampled ? 1 : sampled / seen.size;
  }

  /** Records a change for this transaction (the caller has already applied it to `rows`). */
  pushDelta(t: Tuple, w: number, k: Key): void {
    this.delta.push({ t, w, k });
    if (w > 0) this.adds++;
    this.deltaByKey = null;
    this.deltaIdx = null;
  }

  clearDelta(): void {
    if (this.delta.length > 0) this.delta = [];
    this.adds = 0;
    this.deltaByKey = null;
    this.deltaIdx = null;
  }

  private deltaKeys(): Map<Key, DeltaEntry> {
    if (this.deltaByKey === null) {
      this.deltaByKey = new Map();
      for (const d of this.delta) this.deltaByKey.set(d.k, d);
    }
    return this.deltaByKey;
  }

  private deltaIndex(mask: number): Map<Key, DeltaEntry[]> {
    if (this.deltaIdx === null) this.deltaIdx = new Map();
    let m = this.deltaIdx.get(mask);
    if (m === undefined) {
      m = new Map();
      const cols = maskCols(mask);
      for (const d of this.delta) {
        const sk = colsKey(d.t, cols);
        const l = m.get(sk);
        if (l === undefined) m.set(sk, [d]);
        else l.push(d);
      }
      this.deltaIdx.set(mask, m);
    }
    return m;
  }

  /**
   * Calls `cb` for every tuple whose `mask` columns have key `sub`, in the new state or (`old`)
   * the state before this transaction. `mask === 0` scans everything.
   */
  each(mask: number, sub: Key, old: boolean, cb: (t: Tuple) => void): void {
    const fullMask = (1 << this.arity) - 1;
    if (!old || this.delta.length === 0) {
      if (mask === 0) this.rows.eachRow(cb);
      else if (mask === fullMask) {
        const t = this.rows.get(sub);
        if (t !== undefined) cb(t);
      } else this.eachIndexed(mask, sub, cb);
      return;
    }
    if (this.adds === 0) {
      // Only removals this transaction: the old state is the rows plus the removed tuples.
      if (mask === 0) {
        for (const t of this.rows.values()) cb(t);
        for (const d of this.delta) cb(d.t);
      } else if (mask === fullMask) {
        const t = this.rows.get(sub);
        if (t !== undefined) cb(t);
        else {
          const d = this.deltaKeys().get(sub);
          if (d !== undefined) cb(d.t);
        }
      } else {
        this.eachIndexed(mask, sub, cb);
        const l = this.deltaIndex(mask).get(sub);
        if (l !== undefined) for (const d of l) cb(d.t);
      }
      return;
    }
    const dk = this.deltaKeys();
    const skipAdded = (t: Tuple) => {
      const d = dk.get(this.keyOf(t));
      if (d === undefined || d.w < 0) cb(t);
    };
    if (mask === 0) {
      for (const [k, t] of this.rows) {
        const d = dk.get(k);
        if (d === undefined || d.w < 0) cb(t);
      }
      for (const d of this.delta) if (d.w < 0) cb(d.t);
      return;
    }
    if (mask === fullMask) {
      const t = this.rows.get(sub);
      if (t !== undefined) skipAdded(t);
      const d = dk.get(sub);
      if (d !== undefined && d.w < 0) cb(d.t);
      return;
    }
    this.eachIndexed(mask, sub, skipAdded);
    const l = this.deltaIndex(mask).get(sub);
    if (l !== undefined) for (const d of l) if (d.w < 0) cb(d.t);
  }

  /**
   * {@link each} over the tuples present both before and after this transaction (the new state
   * without this transaction's insertions).
   */
  eachKept(mask: number, sub: Key, cb: (t: Tuple) => void): void {
    if (this.adds === 0) {
      this.each(mask, sub, false, cb);
      return;
    }
    const dk = this.deltaKeys();
    this.each(mask, sub, false, (t) => {
      if (!dk.has(this.keyOf(t))) cb(t);
    });
  }

  /** Whether the tuple with full key `k` is present in the new (or `old`) state. */
  contains(k: Key, old: boolean): boolean {
    if (!old || this.delta.length === 0) return this.rows.has(k);
    const d = this.deltaKeys().get(k);
    if (d !== undefined) return d.w < 0;
    return this.rows.has(k);
  }

  /** Delta entries whose `mask` columns have key `sub`. */
  deltaMatching(mask: number, sub: Key): readonly DeltaEntry[] {
    if (this.delta.length === 0) return [];
    if (mask === 0) return this.delta;
    return this.deltaIndex(mask).get(sub) ?? [];
  }

  /** Rough heap estimate in bytes (rows and indexes), for benchmarks. */
  approxBytes(): number {
    let n = this.rows.size * (80 + 16 * this.arity);
    for (const ix of this.indexes.values()) n += ix.map.size * 60 + this.rows.size * 20;
    return n;
  }
}

/** Removes every row (indexes kept, emptied); used by full recomputation. */
export function clearArrangement(a: Arrangement): Map<Key, Tuple> {
  const old = new Map(a.rows);
  for (const k of old.keys()) a.remove(k);
  return old;
}
