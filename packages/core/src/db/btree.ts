/**
 * A persistent (immutable, structurally shared) B+tree set, specialised for the datom indexes.
 *
 * - {@link PSet} values never change. {@link PSet.transient} gives a {@link TSet} that batches many
 *   inserts/removes: nodes created by that transient carry its edit token and are mutated in place;
 *   nodes shared with older sets are copied first (path copying). {@link TSet.persistent} seals it.
 *   This is how one transaction touches O(changes · log n) nodes and leaves the old db intact.
 * - Branch keys are the *largest* key of each child.
 * - A key equal (cmp === 0) to a present key is not inserted twice.
 * - Range reads take a probe `(key) => number` (negative: key before the range start), so callers
 *   can seek on a prefix of the key's components without building a key.
 *
 * Written for Dataloom (no dependency) because the indexes need bulk loading from sorted arrays,
 * batched copy-on-write per transaction and allocation-free prefix scans.
 */

/** Maximum keys per node. */
const MAX = 64;
/** Nodes smaller than this try to merge with a sibling after a removal. */
const MIN = 16;

/** @internal */
export class BNode<T> {
  constructor(
    public keys: T[],
    /** null for a leaf */
    public children: BNode<T>[] | null,
    public edit: object | null,
  ) {}
}

export type Cmp<T> = (a: T, b: T) => number;
/** Compares a stored key with some target: negative when the key sorts before it. */
export type Probe<T> = (key: T) => number;

function lowerBound<T>(keys: T[], key: T, cmp: Cmp<T>): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp(keys[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lowerBoundProbe<T>(keys: T[], probe: Probe<T>): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (probe(keys[mid]!) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** first index with probe(key) > 0 */
function upperBoundProbe<T>(keys: T[], probe: Probe<T>): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (probe(keys[mid]!) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const EMPTY_LEAF = new BNode<never>([], null, null);

/** An immutable sorted set. */
export class PSet<T> {
  /** @internal */
  constructor(
    readonly root: BNode<T>,
    readonly size: number,
    readonly cmp: Cmp<T>,
  ) {}

  static empty<T>(cmp: Cmp<T>): PSet<T> {
    return new PSet<T>(EMPTY_LEAF as BNode<T>, 0, cmp);
  }

  /**
   * Builds a set from keys already sorted by `cmp` and free of duplicates (not checked).
   * O(n), nodes filled to 3/4 so that following inserts rarely split.
   */
  static fromSorted<T>(sorted: readonly T[], cmp: Cmp<T>): PSet<T> {
    const n = sorted.length;
    if (n === 0) return PSet.empty(cmp);
    const fill = (MAX * 3) >> 2;
    let level: BNode<T>[] = [];
    for (let i = 0; i < n; i += fill) level.push(new BNode(sorted.slice(i, Math.min(n, i + fill)), null, null));
    fixLastUnderflow(level);
    while (level.length > 1) {
      const next: BNode<T>[] = [];
      for (let i = 0; i < level.length; i += fill) {
        const children = level.slice(i, Math.min(level.length, i + fill));
        next.push(new BNode(children.map(lastKey), children, null));
      }
      fixLastUnderflow(next);
      level = next;
    }
    return new PSet(level[0]!, n, cmp);
  }

  /** A batch editor starting from this set. */
  transient(): TSet<T> {
    return new TSet(this.root, this.size, this.cmp);
  }

  /** The stored key equal to `key`, or undefined. */
  get(key: T): T | undefined {
    const cmp = this.cmp;
    let node = this.root;
    for (;;) {
      const keys = node.keys;
      const i = lowerBound(keys, key, cmp);
      if (i === keys.length) return undefined;
      if (node.children === null) return cmp(keys[i]!, key) === 0 ? keys[i] : undefined;
      node = node.children[i]!;
    }
  }

  has(key: T): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Calls `fn` on each key `k` with `probe(k) >= 0`, in order, until `fn` returns false.
   */
  forEachFrom(probe: Probe<T>, fn: (key: T) => boolean | void): void {
    walkFrom(this.root, probe, fn);
  }

  /** Calls `fn` on each key with `probe(k) === 0` (a contiguous range), in order. */
  forRange(probe: Probe<T>, fn: (key: T) => void): void {
    walkFrom(this.root, probe, (k) => {
      if (probe(k) !== 0) return false;
      fn(k);
      return true;
    });
  }

  /** Keys with `probe(k) === 0`, in order. */
  range(probe: Probe<T>): T[] {
    const out: T[] = [];
    walkFrom(this.root, probe, (k) => {
      if (probe(k) !== 0) return false;
      out.push(k);
      return true;
    });
    return out;
  }

  /** The first key with `probe(k) >= 0`, if `probe(k) === 0`; else undefined. */
  first(probe: Probe<T>): T | undefined {
    return firstIn(this.root, probe);
  }

  /** Counts keys with `probe(k) === 0` (walks them). */
  count(probe: Probe<T>): number {
    let n = 0;
    this.forRange(probe, () => {
      n++;
    });
    return n;
  }

  /** Calls `fn` on each key `k` with `probe(k) <= 0`, in descending order, until `fn` returns false. */
  forEachBackFrom(probe: Probe<T>, fn: (key: T) => boolean | void): void {
    walkBack(this.root, probe, fn);
  }

  /** Lazy ascending iteration from the first key with `probe(k) >= 0`. */
  *iterateFrom(probe: Probe<T>): Generator<T> {
    const stack: BNode<T>[] = [];
    const idx: number[] = [];
    let node = this.root;
    for (;;) {
      const i = lowerBoundProbe(node.keys, probe);
      if (node.children === null) {
        for (let j = i; j < node.keys.length; j++) yield node.keys[j]!;
        break;
      }
      if (i === node.keys.length) break;
      stack.push(node);
      idx.push(i);
      node = node.children[i]!;
    }
    // climb and continue with the next subtrees
    while (stack.length > 0) {
      const parent = stack[stack.length - 1]!;
      const i = idx[idx.length - 1]! + 1;
      if (i >= parent.children!.length) {
        stack.pop();
        idx.pop();
        continue;
      }
      idx[idx.length - 1] = i;
      let n = parent.children![i]!;
      while (n.children !== null) {
        stack.push(n);
        idx.push(0);
        n = n.children[0]!;
      }
      for (let j = 0; j < n.keys.length; j++) yield n.keys[j]!;
    }
  }

  /** Every key, ascending. */
  toArray(): T[] {
    const out: T[] = [];
    walkAll(this.root, (k) => {
      out.push(k);
    });
    return out;
  }

  forEach(fn: (key: T) => void): void {
    walkAll(this.root, (k) => {
      fn(k);
    });
  }
}

/** In-place insert without the garbage array `splice` returns. */
function insertAt<T>(arr: T[], i: number, x: T): void {
  let j = arr.length;
  arr.push(x);
  for (; j > i; j--) arr[j] = arr[j - 1]!;
  arr[i] = x;
}

function removeAt<T>(arr: T[], i: number): void {
  const n = arr.length - 1;
  for (let j = i; j < n; j++) arr[j] = arr[j + 1]!;
  arr.pop();
}

function lastKey<T>(n: BNode<T>): T {
  return n.keys[n.keys.length - 1]!;
}

function fixLastUnderflow<T>(level: BNode<T>[]): void {
  // rebalance the last two nodes so that the last is not tiny
  if (level.length < 2) return;
  const last = level[level.length - 1]!;
  if (last.keys.length >= MIN) return;
  const prev = level[level.length - 2]!;
  const keys = prev.keys.concat(last.keys);
  const half = keys.length >> 1;
  if (prev.children === null) {
    level[level.length - 2] = new BNode(keys.slice(0, half), null, null);
    level[level.length - 1] = new BNode(keys.slice(half), null, null);
  } else {
    const ch = prev.children.concat(last.children!);
    level[level.length - 2] = new BNode(keys.slice(0, half), ch.slice(0, half), null);
    level[level.length - 1] = new BNode(keys.slice(half), ch.slice(half), null);
  }
}

function firstIn<T>(root: BNode<T>, probe: Probe<T>): T | undefined {
  let node = root;
  for (;;) {
    const keys = node.keys;
    const i = lowerBoundProbe(keys, probe);
    if (i === keys.length) return undefined;
    if (node.children === null) return probe(keys[i]!) === 0 ? keys[i] : undefined;
    node = node.children[i]!;
  }
}

function walkAll<T>(node: BNode<T>, fn: (k: T) => boolean | void): boolean {
  if (node.children === null) {
    const keys = node.keys;
    for (let i = 0; i < keys.length; i++) if (fn(keys[i]!) === false) return false;
    return true;
  }
  const ch = node.children;
  for (let i = 0; i < ch.length; i++) if (!walkAll(ch[i]!, fn)) return false;
  return true;
}

function walkFrom<T>(node: BNode<T>, probe: Probe<T>, fn: (k: T) => boolean | void): boolean {
  const keys = node.keys;
  let i = lowerBoundProbe(keys, probe);
  if (node.children === null) {
    for (; i < keys.length; i++) if (fn(keys[i]!) === false) return false;
    return true;
  }
  if (i === keys.length) return true;
  const ch = node.children;
  if (!walkFrom(ch[i]!, probe, fn)) return false;
  for (i++; i < ch.length; i++) if (!walkAll(ch[i]!, fn)) return false;
  return true;
}

function walkAllBack<T>(node: BNode<T>, fn: (k: T) => boolean | void): boolean {
  if (node.children === null) {
    const keys = node.keys;
    for (let i = keys.length - 1; i >= 0; i--) if (fn(keys[i]!) === false) return false;
    return true;
  }
  const ch = node.children;
  for (let i = ch.length - 1; i >= 0; i--) if (!walkAllBack(ch[i]!, fn)) return false;
  return true;
}

function walkBack<T>(node: BNode<T>, probe: Probe<T>, fn: (k: T) => boolean | void): boolean {
  const keys = node.keys;
  // last index with probe <= 0 is upperBound - 1; in a branch the child holding it is upperBound
  let i = upperBoundProbe(keys, probe);
  if (node.children === null) {
    for (i--; i >= 0; i--) if (fn(keys[i]!) === false) return false;
    return true;
  }
  const ch = node.children;
  if (i < ch.length && !walkBack(ch[i]!, probe, fn)) return false;
  for (i--; i >= 0; i--) if (!walkAllBack(ch[i]!, fn)) return false;
  return true;
}

/** A batch editor over a {@link PSet}; see the module comment. Not usable after {@link persistent}. */
export class TSet<T> {
  private edit: object | null = {};
  private split: BNode<T> | null = null;
  private found = false;
  constructor(
    private root: BNode<T>,
    public size: number,
    readonly cmp: Cmp<T>,
  ) {}

  private editable(n: BNode<T>): BNode<T> {
    if (n.edit === this.edit) return n;
    return new BNode(n.keys.slice(), n.children === null ? null : n.children.slice(), this.edit);
  }

  /** Adds `key`; returns false (and changes nothing) when an equal key is present. */
  add(key: T): boolean {
    if (this.edit === null) throw new Error('transient used after persistent()');
    this.found = false;
    const r = this.ins(this.root, key);
    if (this.found) return false;
    if (this.split !== null) {
      const right = this.split;
      this.split = null;
      this.root = new BNode([lastKey(r), lastKey(right)], [r, right], this.edit);
    } else {
      this.root = r;
    }
    this.size++;
    return true;
  }

  private ins(node: BNode<T>, key: T): BNode<T> {
    const cmp = this.cmp;
    const keys = node.keys;
    if (node.children === null) {
      const i = lowerBound(keys, key, cmp);
      if (i < keys.length && cmp(keys[i]!, key) === 0) {
        this.found = true;
        return node;
      }
      const n = this.editable(node);
      insertAt(n.keys, i, key);
      if (n.keys.length > MAX) this.split = new BNode(n.keys.splice(n.keys.length >> 1), null, this.edit);
      return n;
    }
    let i = lowerBound(keys, key, cmp);
    if (i === keys.length) i--;
    const child = node.children[i]!;
    const nc = this.ins(child, key);
    if (this.found) return node;
    const n = this.editable(node);
    const ch = n.children!;
    ch[i] = nc;
    n.keys[i] = lastKey(nc);
    if (this.split !== null) {
      const right = this.split;
      this.split = null;
      insertAt(ch, i + 1, right);
      insertAt(n.keys, i + 1, lastKey(right));
      if (ch.length > MAX) {
        const half = ch.length >> 1;
        this.split = new BNode(n.keys.splice(half), ch.splice(half), this.edit);
      }
    }
    return n;
  }

  /** Removes the key equal to `key`; returns false when absent. */
  delete(key: T): boolean {
    if (this.edit === null) throw new Error('transient used after persistent()');
    this.found = false;
    const r = this.rem(this.root, key);
    if (!this.found) return false;
    let root = r;
    while (root.children !== null && root.children.length === 1) root = root.children[0]!;
    if (root.children !== null && root.children.length === 0) root = new BNode<T>([], null, this.edit);
    this.root = root;
    this.size--;
    return true;
  }

  private rem(node: BNode<T>, key: T): BNode<T> {
    const cmp = this.cmp;
    const keys = node.keys;
    const i = lowerBound(keys, key, cmp);
    if (i === keys.length) return node;
    if (node.children === null) {
      if (cmp(keys[i]!, key) !== 0) return node;
      this.found = true;
      const n = this.editable(node);
      removeAt(n.keys, i);
      return n;
    }
    const nc = this.rem(node.children[i]!, key);
    if (!this.found) return node;
    const n = this.editable(node);
    const ch = n.children!;
    if (nc.keys.length === 0) {
      ch.splice(i, 1);
      n.keys.splice(i, 1);
      return n;
    }
    ch[i] = nc;
    n.keys[i] = lastKey(nc);
    if (nc.keys.length < MIN) {
      if (i > 0 && ch[i - 1]!.keys.length + nc.keys.length <= MAX) {
        const left = this.editable(ch[i - 1]!);
        left.keys.push(...nc.keys);
        if (left.children !== null) left.children.push(...nc.children!);
        ch[i - 1] = left;
        n.keys[i - 1] = lastKey(left);
        ch.splice(i, 1);
        n.keys.splice(i, 1);
      } else if (i + 1 < ch.length && ch[i + 1]!.keys.length + nc.keys.length <= MAX) {
        const right = ch[i + 1]!;
        const merged = this.editable(nc);
        merged.keys.push(...right.keys);
        if (merged.children !== null) merged.children.push(...right.children!);
        ch[i] = merged;
        n.keys[i] = lastKey(merged);
        ch.splice(i + 1, 1);
        n.keys.splice(i + 1, 1);
      }
    }
    return n;
  }

  /** Seals the edits into an immutable set; this transient becomes unusable. */
  persistent(): PSet<T> {
    this.edit = null;
    return new PSet(this.root, this.size, this.cmp);
  }

  /** First key with `probe(k) === 0` in the current state. */
  first(probe: Probe<T>): T | undefined {
    return firstIn(this.root, probe);
  }

  /**
   * An immutable set of the current state that later edits will not touch: this transient
   * continues with a fresh edit token, so nodes it owned so far are copied before being changed.
   */
  snapshot(): PSet<T> {
    if (this.edit === null) throw new Error('transient used after persistent()');
    this.edit = {};
    return new PSet(this.root, this.size, this.cmp);
  }

  /** A read view of the current state (valid until the next edit). */
  peek(): PSet<T> {
    return new PSet(this.root, this.size, this.cmp);
  }
}
