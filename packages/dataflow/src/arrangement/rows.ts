/**
 * A relation's rows by full tuple key, stored so that large relations of pairs stay cheap.
 *
 * A pair of small non-negative integers (the common case: entity ids, a graph's edges, a closure)
 * has a numeric key, `x·2^26 + y` (core's `pairKey`), which is a boxed double in a `Map`: a
 * million of them cost a heap number each plus a slot in one huge hash table, and building such a
 * map is several times slower than building many small ones. So an arity-2 store keeps those rows
 * under their first value `x` (a small integer key), in a bucket of the tuples with that `x`
 * identified by `y` — one tuple, a short list, or a map past {@link SMALL} entries. Everything else
 * (other arities, any pair with a non-integer, negative, large or non-numeric value: a string key)
 * lives in a plain map. Full keys come and go as before: a numeric key of an arity-2 store is
 * decoded into `x` and `y`; iteration rebuilds it.
 *
 * The per-`x` buckets double as the relation's index on its first column ({@link PairRows.bucketOf}):
 * the arrangement does not keep a second copy of that index for these rows.
 */
import type { ValueKey as Key } from '@dataloom/core';
import { PairSet } from './pairs.js';

export type Tuple = unknown[];

/** Entries per short list before a bucket becomes a map. */
export const SMALL = 16;
/**
 * The same for the pair store, whose sub-keys are small integers (a scan of 64 of them is cheaper
 * than a map's upkeep: a closure's per-node bucket holds the node's ancestors, a few dozen).
 */
const SMALL_PAIRS = 64;
const P = 67108864; // 2^26, as in core's pairKey

/**
 * Several tuples under one key with their identifying sub-keys, in two small parallel arrays (up
 * to {@link SMALL} entries; beyond, a map). A map per key costs ~250 bytes and a rehash as it grows
 * and shrinks; most keys of a closure index (a node's ancestors) hold a dozen tuples.
 */
export class ListBucket {
  constructor(
    readonly ts: Tuple[],
    readonly ks: Key[],
  ) {}
}

/** A hash bucket: one tuple, a few (list), or many keyed by their sub-key (map). */
export type Bucket = Tuple | ListBucket | Map<Key, Tuple>;

export function bucketAdd(map: Map<Key, Bucket>, sub: Key, k: Key, t: Tuple, keyOf: (t: Tuple) => Key, small: number = SMALL): void {
  const b = map.get(sub);
  if (b === undefined) map.set(sub, t);
  else if (Array.isArray(b)) map.set(sub, new ListBucket([b, t], [keyOf(b), k]));
  else if (b instanceof ListBucket) {
    if (b.ts.length < small) {
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

/** Removes the tuple with sub-key `k` from the bucket under `sub`; returns it (undefined when absent). */
export function bucketRemove(map: Map<Key, Bucket>, sub: Key, k: Key, keyOf: (t: Tuple) => Key): Tuple | undefined {
  const b = map.get(sub);
  if (b === undefined) return undefined;
  if (Array.isArray(b)) {
    if (keyOf(b) !== k) return undefined;
    map.delete(sub);
    return b;
  }
  if (b instanceof ListBucket) {
    const i = b.ks.indexOf(k);
    if (i < 0) return undefined;
    const t = b.ts[i]!;
    const last = b.ts.length - 1;
    b.ts[i] = b.ts[last]!;
    b.ks[i] = b.ks[last]!;
    b.ts.pop();
    b.ks.pop();
    if (last === 1) map.set(sub, b.ts[0]!);
    return t;
  }
  const t = b.get(k);
  if (t === undefined) return undefined;
  b.delete(k);
  if (b.size === 1) map.set(sub, b.values().next().value as Tuple);
  else if (b.size === 0) map.delete(sub);
  return t;
}

/** The tuple with sub-key `k` in bucket `b`. */
export function bucketGet(b: Bucket | undefined, k: Key, keyOf: (t: Tuple) => Key): Tuple | undefined {
  if (b === undefined) return undefined;
  if (Array.isArray(b)) return keyOf(b) === k ? b : undefined;
  if (b instanceof ListBucket) {
    const i = b.ks.indexOf(k);
    return i < 0 ? undefined : b.ts[i];
  }
  return b.get(k);
}

export function bucketSize(b: Bucket | undefined): number {
  return b === undefined ? 0 : Array.isArray(b) ? 1 : b instanceof ListBucket ? b.ts.length : b.size;
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

const second = (t: Tuple): Key => t[1] as number;

/** Whether `x` and `y` make a numeric pair key (core's `pairKey`: small non-negative integers). */
export function isSmallPair(x: unknown, y: unknown): boolean {
  return typeof x === 'number' && typeof y === 'number' && x >= 0 && y >= 0 && x < P && y < P && Number.isInteger(x) && Number.isInteger(y);
}

/** Whether `k` is the numeric key of a pair stored under its first value (see the module comment). */
function isPairKey(k: Key): k is number {
  return typeof k === 'number';
}

/**
 * Rows by full key (a read-only `Map` to readers: `get`, `has`, `size`, iteration of entries,
 * keys and values). Written only by its arrangement.
 *
 * An arity-2 store keeps pairs of small integers under their first value: as tuples in buckets
 * (base relations, whose tuples carry a payload column after the pair), or, when `compact`, as
 * integers only in a {@link PairSet} (derived relations: closures), handing out fresh `[x, y]`
 * tuples to readers.
 */
export class RowStore {
  private readonly plain = new Map<Key, Tuple>();
  /** Arity-2 stores: numeric-keyed pairs under their first value (buckets keyed by the second). */
  private readonly pairs: Map<Key, Bucket> | null;
  /** Compact arity-2 stores: numeric-keyed pairs of exactly two values, as integers. */
  private readonly ints: PairSet | null;
  private nPairs = 0;

  constructor(arity: number, compact = false) {
    this.pairs = arity === 2 && !compact ? new Map() : null;
    this.ints = arity === 2 && compact ? new PairSet() : null;
  }

  get size(): number {
    return this.plain.size + this.nPairs + (this.ints?.size ?? 0);
  }

  /** Whether numeric keys are pairs stored by first value (arity 2). */
  get pairsByFirst(): boolean {
    return this.pairs !== null || this.ints !== null;
  }

  /** Whether the row `t` with key `k` is (or would be) kept in the pair store. */
  paired(k: Key, t: Tuple): boolean {
    return isPairKey(k) && (this.pairs !== null || (this.ints !== null && t.length === 2));
  }

  get(k: Key): Tuple | undefined {
    if (isPairKey(k)) {
      const x = Math.floor(k / P);
      if (this.pairs !== null) return bucketGet(this.pairs.get(x), k - x * P, second);
      if (this.ints !== null && this.ints.has(x, k - x * P)) return [x, k - x * P];
    }
    return this.plain.get(k);
  }

  has(k: Key): boolean {
    if (isPairKey(k)) {
      const x = Math.floor(k / P);
      if (this.pairs !== null) return bucketGet(this.pairs.get(x), k - x * P, second) !== undefined;
      if (this.ints !== null && this.ints.has(x, k - x * P)) return true;
    }
    return this.plain.has(k);
  }

  /** Adds a tuple known to be absent; returns whether it went to the pair store. */
  add(k: Key, t: Tuple): boolean {
    if (this.paired(k, t)) {
      if (this.ints !== null) this.ints.add(t[0] as number, t[1] as number);
      else {
        bucketAdd(this.pairs!, t[0] as number, t[1] as number, t, second, SMALL_PAIRS);
        this.nPairs++;
      }
      return true;
    }
    this.plain.set(k, t);
    return false;
  }

  /**
   * Adds pair tuple `t` (arity-2 store, `isSmallPair(t[0], t[1])`) unless a tuple with its values
   * is present; returns whether it was added. No full key is built.
   */
  addPair(t: Tuple): boolean {
    const x = t[0] as number;
    const y = t[1] as number;
    if (this.ints !== null && t.length === 2) return this.ints.add(x, y);
    const pairs = this.pairs!;
    if (bucketGet(pairs.get(x), y, second) !== undefined) return false;
    bucketAdd(pairs, x, y, t, second, SMALL_PAIRS);
    this.nPairs++;
    return true;
  }

  /** Whether pairs of small integers are kept as integers only. */
  get compactPairs(): boolean {
    return this.ints !== null;
  }

  /** Adds the pair `(x, y)` of small integers to a compact store; returns whether it was absent. */
  addInts(x: number, y: number): boolean {
    return this.ints!.add(x, y);
  }

  /** Removes the tuple with key `k`; returns it (undefined when absent). */
  delete(k: Key): Tuple | undefined {
    if (isPairKey(k)) {
      const x = Math.floor(k / P);
      if (this.pairs !== null) {
        const t = bucketRemove(this.pairs, x, k - x * P, second);
        if (t !== undefined) this.nPairs--;
        return t;
      }
      if (this.ints !== null && this.ints.delete(x, k - x * P)) return [x, k - x * P];
    }
    const t = this.plain.get(k);
    if (t !== undefined) this.plain.delete(k);
    return t;
  }

  /** Calls `cb` for each pair row whose first value has key `x` (the first-column index of the pair rows). */
  eachWithFirst(x: Key, cb: (t: Tuple) => void): void {
    if (typeof x !== 'number') return;
    if (this.ints !== null) this.ints.eachWithFirst(x, cb);
    else if (this.pairs !== null) eachInBucket(this.pairs.get(x), cb);
  }

  /** Drops spare capacity left by a bulk load (compact stores). */
  trim(): void {
    this.ints?.trim();
  }

  /** Calls `cb` with the second value of each integer pair with first value `x` (compact stores). */
  eachSecondInt(x: number, cb: (y: number) => void): void {
    this.ints?.eachSecond(x, cb);
  }

  /** Distinct first values among the pair rows. */
  get pairKeys(): number {
    return this.pairs !== null ? this.pairs.size : this.ints !== null ? this.ints.firsts : 0;
  }

  /** Iterates the rows that are not pairs stored by first value. */
  plainRows(): Map<Key, Tuple> {
    return this.plain;
  }

  /** Calls `cb` with every row ({@link values} without generators; compact pairs as fresh tuples). */
  eachRow(cb: (t: Tuple) => void): void {
    for (const t of this.plain.values()) cb(t);
    if (this.ints !== null) this.ints.eachPair(cb);
    else if (this.pairs !== null) for (const b of this.pairs.values()) eachInBucket(b, cb);
  }

  *values(): IterableIterator<Tuple> {
    yield* this.plain.values();
    yield* this.pairValues();
  }

  *entries(): IterableIterator<[Key, Tuple]> {
    yield* this.plain.entries();
    for (const t of this.pairValues()) yield [(t[0] as number) * P + (t[1] as number), t];
  }

  *keys(): IterableIterator<Key> {
    for (const [k] of this.entries()) yield k;
  }

  [Symbol.iterator](): IterableIterator<[Key, Tuple]> {
    return this.entries();
  }

  private *pairValues(): IterableIterator<Tuple> {
    if (this.ints !== null) {
      yield* this.ints.tuples();
      return;
    }
    if (this.pairs === null) return;
    for (const b of this.pairs.values()) {
      if (Array.isArray(b)) yield b;
      else if (b instanceof ListBucket) yield* b.ts.slice();
      else yield* b.values();
    }
  }
}
