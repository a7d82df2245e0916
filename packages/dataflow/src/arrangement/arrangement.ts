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
import { type ValueKey as Key, colsKey, tupleKey } from '@dataloom/core';

export type Tuple = unknown[];
/**
 * Several tuples under one index key with their full keys, in two small parallel arrays (up to
 * {@link SMALL} entries; beyond, a map). A map per key costs ~250 bytes and a rehash as it grows
 * and shrinks; most keys of a closure index (a node's ancestors) hold a dozen tuples.
 */
export class ListBucket {
  constructor(
    readonly ts: Tuple[],
    readonly ks: Key[],
  ) {}
}
const SMALL = 16;

/** A hash bucket: one tuple, a few (list), or many keyed by their full key (map). */
export type Bucket = Tuple | ListBucket | Map<Key, Tuple>;

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

/**
 * Iterates a bucket. A list bucket is iterated over a snapshot (a callback may insert into or
 * remove from the same relation); a map bucket with the map's own iteration semantics.
 */
export function eachInBucket(b: Bucket | undefined, cb: (t: Tuple) => void): void {
  if (b === undefined) return;
  if (Array.isArray(b)) cb(b);
  else if (b instanceof ListBucket) {
    const ts = b.ts.length === 2 ? [b.ts[0]!, b.ts[1]!] : b.ts.slice();
    for (let i = 0; i < ts.length; i++) cb(ts[i]!);
  } else for (const t of b.values()) cb(t);
}

export function bucketAdd(map: Map<Key, Bucket>, sub: Key, k: Key, t: Tuple, keyOf: (t: Tuple) => Key): void {
  const b = map.get(sub);
  if (b === undefined) map.set(sub, t);
  else if (Array.isArray(b)) map.set(sub, new ListBucket([b, t], [keyOf(b), k]));
  else if (b instanceof ListBucket) {
    if (b.ts.length < SMALL) {
      b.ts.push(t);
      b.ks.push(k);
    } else {
      const m = new Map<Key, Tuple>();
      for (let i = 0; i < b.ts.length; i++) m.set(b.ks[i]!, b.ts[i]!);
      m.set(k, t);
      map.set(sub, m);
    }
  } else b.set(k, t);
}

export function bucketRemove(map: Map<Key, Bucket>, sub: Key, k: Key, keyOf: (t: Tuple) => Key): void {
  const b = map.get(sub);
  if (b === undefined) return;
  if (Array.isArray(b)) {
    if (keyOf(b) === k) map.delete(sub);
  } else if (b instanceof ListBucket) {
    const i = b.ks.indexOf(k);
    if (i < 0) return;
    const last = b.ts.length - 1;
    b.ts[i] = b.ts[last]!;
    b.ks[i] = b.ks[last]!;
    b.ts.pop();
    b.ks.pop();
    if (last === 1) map.set(sub, b.ts[0]!);
  } else {
    b.delete(k);
    if (b.size === 1) map.set(sub, b.values().next().value as Tuple);
    else if (b.size === 0) map.delete(sub);
  }
}

export function bucketSize(b: Bucket | undefined): number {
  return b === undefined ? 0 : Array.isArray(b) ? 1 : b instanceof ListBucket ? b.ts.length : b.size;
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
  readonly rows = new Map<Key, Tuple>();
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

  constructor(arity: number) {
    this.arity = arity;
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
    this.rows.set(k, t);
    for (const [, ix] of this.indexes) bucketAdd(ix.map, colsKey(t, ix.cols), k, t, this.keyOf);
    return true;
  }

  /** Removes a present tuple by key; returns it (undefined when absent). */
  remove(k: Key): Tuple | undefined {
    const t = this.rows.get(k);
    if (t === undefined) return undefined;
    this.rows.delete(k);
    for (const [, ix] of this.indexes) bucketRemove(ix.map, colsKey(t, ix.cols), k, this.keyOf);
    return t;
  }

  /** The index on the columns of `mask` (built on first use). */
  index(mask: number): Map<Key, Bucket> {
    let ix = this.indexes.get(mask);
    if (ix === undefined) {
      const cols = maskCols(mask);
      ix = { cols, map: new Map() };
      for (const [k, t] of this.rows) bucketAdd(ix.map, colsKey(t, cols), k, t, this.keyOf);
      this.indexes.set(mask, ix);
    }
    return ix.map;
  }

  /**
   * Expected rows per distinct key of the columns of `mask` (for the planner): exact from the
   * index when it exists, else estimated from up to 256 rows without building the index (an
   * index only a rejected plan would read costs a map entry per row for nothing).
   */
  fanout(mask: number): number {
    const n = this.rows.size;
    if (n === 0) return 0;
    const ix = this.indexes.get(mask);
    if (ix !== undefined) return n / Math.max(1, ix.map.size);
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
      if (mask === 0) {
        for (const t of this.rows.values()) cb(t);
      } else if (mask === fullMask) {
        const t = this.rows.get(sub);
        if (t !== undefined) cb(t);
      } else eachInBucket(this.index(mask).get(sub), cb);
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
        eachInBucket(this.index(mask).get(sub), cb);
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
    eachInBucket(this.index(mask).get(sub), skipAdded);
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
