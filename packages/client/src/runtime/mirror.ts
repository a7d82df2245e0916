/**
 * A watched query's result mirrored on the calling thread from compact diff batches.
 * Same interface as a dataflow `View`: `result()`, `rows()`, `kind`, `subscribe(fn)` (diffs
 * `[row, tx, ±1]`), `close()`; plus `ready` (resolves once the initial result arrived). The rows
 * are kept once, in a {@link RowSet} (the React hooks read them from here).
 */
import { type Diff, type FindKind } from '@dataloom/core';
import { resultOf, RowSet } from '@dataloom/core/internals';

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

/** The watched-query handle returned by `client.watch`. */
export interface WatchedQuery {
  /** Resolves when the initial result is known (rejects with the query's error). */
  readonly ready: Promise<void>;
  /** The query's find spec kind (`'rel'` until `ready`). */
  readonly kind: FindKind;
  /** The current result in `q`'s shape (`null`/empty before `ready`). */
  result(): unknown;
  /** The current rows as diffs carry them; a new array exactly when they change (empty before `ready`). */
  rows(): readonly unknown[];
  /** `fn` receives each later transaction's diffs; returns the unsubscribe function. */
  subscribe(fn: (diffs: Diff[]) => void): () => void;
  close(): void;
}

export class MirroredView implements WatchedQuery {
  private rowSet = new RowSet();
  /** Batches that arrived before the initial result (they come after it on the replica's side). */
  private early: Diff[][] | null = [];
  kind: FindKind = 'rel';
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
    this.rowSet = new RowSet(init.rows);
    for (const diffs of this.early ?? []) this.rowSet.apply(diffs);
    this.early = null;
    this.cached = undefined;
    this.resolveReady();
  }
  /** @internal */ fail(e: unknown): void {
    this.rejectReady(e);
  }
  /** @internal */ apply(batch: DiffBatch): void {
    if (this.closed) return;
    const diffs: Diff[] = [];
    for (let i = 0; i < batch.rows.length; i++) diffs.push([batch.rows[i], batch.tx, batch.mults[i]!]);
    if (this.early !== null) this.early.push(diffs);
    else if (this.rowSet.apply(diffs)) this.cached = undefined;
    for (const fn of [...this.subs]) fn(diffs);
  }

  rows(): readonly unknown[] {
    return this.rowSet.snapshot;
  }

  result(): unknown {
    if (this.cached === undefined) this.cached = resultOf(this.rowSet.snapshot, this.kind, this.asSet);
    return this.cached;
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
