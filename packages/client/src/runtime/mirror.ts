/**
 * A watched query's result mirrored on the calling thread from compact diff batches.
 * Same interface as a dataflow `View`: `result()`, `subscribe(fn)` (diffs `[row, tx, ±1]`),
 * `close()`; plus `ready` (resolves once the initial result arrived).
 */
import { valueKey, type ValueKey } from '@dataloom/core';

export type FindKind = 'rel' | 'scalar' | 'coll' | 'tuple';

/** What the replica side sends when a watch starts. */
export interface WatchInit {
  kind: FindKind;
  /** `rel` results as a Set (plain relations) rather than an Array (`:with`, aggregates, pull). */
  asSet: boolean;
  rows: unknown[];
}

/** One transaction's diffs, compact: rows and multiplicities in parallel arrays. */
export interface DiffBatch {
  tx: unknown;
  rows: unknown[];
  mults: Array<1 | -1>;
}

export type Diff = [row: unknown, tx: unknown, mult: 1 | -1];

/** The watched-query handle returned by `client.watch`. */
export interface WatchedQuery {
  /** Resolves when the initial result is known (rejects with the query's error). */
  readonly ready: Promise<void>;
  /** The current result in `q`'s shape (`null`/empty before `ready`). */
  result(): unknown;
  /** `fn` receives each later transaction's diffs; returns the unsubscribe function. */
  subscribe(fn: (diffs: Diff[]) => void): () => void;
  close(): void;
}

export class MirroredView implements WatchedQuery {
  private readonly rows = new Map<ValueKey, { row: unknown; n: number }>();
  private kind: FindKind = 'rel';
  private asSet = true;
  private readonly subs = new Set<(d: Diff[]) => void>();
  private closed = false;
  private cached: unknown = undefined;
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (e: unknown) => void;

  constructor(private readonly onClose: () => void) {
    this.ready = new Promise((res, rej) => {
      this.resolveReady = res;
      this.rejectReady = rej;
    });
    this.ready.catch(() => {});
  }

  /** @internal */ init(init: WatchInit): void {
    this.kind = init.kind;
    this.asSet = init.asSet;
    for (const r of init.rows) this.add(r, 1);
    this.cached = undefined;
    this.resolveReady();
  }
  /** @internal */ fail(e: unknown): void {
    this.rejectReady(e);
  }
  /** @internal */ apply(batch: DiffBatch): void {
    if (this.closed) return;
    const diffs: Diff[] = [];
    for (let i = 0; i < batch.rows.length; i++) {
      this.add(batch.rows[i], batch.mults[i]!);
      diffs.push([batch.rows[i], batch.tx, batch.mults[i]!]);
    }
    this.cached = undefined;
    for (const fn of [...this.subs]) fn(diffs);
  }

  /**
   * Multiset update. Counts may go negative for a moment: a diff can overtake the initial result
   * across the thread boundary, so a `-1` may arrive before the `+1` it cancels.
   */
  private add(row: unknown, m: number): void {
    const k = valueKey(row);
    const cur = this.rows.get(k);
    const n = (cur?.n ?? 0) + m;
    if (n === 0) this.rows.delete(k);
    else this.rows.set(k, { row: cur?.row ?? row, n });
  }

  result(): unknown {
    if (this.cached !== undefined) return this.cached;
    const rows: unknown[] = [];
    for (const { row, n } of this.rows.values()) for (let i = 0; i < n; i++) rows.push(row);
    const first = (r: unknown) => (Array.isArray(r) ? r[0] : r);
    let out: unknown;
    switch (this.kind) {
      case 'scalar':
        out = rows.length === 0 ? null : first(rows[0]);
        break;
      case 'tuple':
        out = rows.length === 0 ? null : rows[0];
        break;
      case 'coll':
        out = rows.map(first);
        break;
      default:
        out = this.asSet ? new Set(rows) : rows;
    }
    this.cached = out;
    return out;
  }

  subscribe(fn: (diffs: Diff[]) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.subs.clear();
    this.onClose();
  }
}

/**
 * A {@link WatchedQuery} mirrored from a watch on the replica's side: `start(sink)` registers it
 * there (its diff batches go to `sink`), `stop(id)` ends it when the handle closes — also when it
 * closes before `start` answered.
 */
export function mirrorWatch(start: (sink: (b: DiffBatch) => void) => Promise<{ id: number; init: WatchInit }>, stop: (id: number) => void): WatchedQuery {
  let id: number | null = null;
  let closed = false;
  const view = new MirroredView(() => {
    closed = true;
    if (id !== null) stop(id);
  });
  start((b) => view.apply(b))
    .then((r) => {
      id = r.id;
      if (closed) stop(r.id);
      else view.init(r.init);
    })
    .catch((e) => view.fail(e));
  return view;
}

/**
 * Listens to a stream on the replica's side: `start(sink)` registers it there and resolves to its
 * id, `stop(id)` ends it; the returned function stops listening — also before `start` answered.
 */
export function listenRemote<T>(start: (sink: (value: T) => void) => Promise<number>, stop: (id: number) => void, fn: (value: T) => void): () => void {
  let id: number | null = null;
  let stopped = false;
  start((v) => {
    if (!stopped) fn(v);
  }).then(
    (w) => {
      id = w;
      if (stopped) stop(w);
    },
    () => {},
  );
  return () => {
    stopped = true;
    if (id !== null) stop(id);
  };
}
