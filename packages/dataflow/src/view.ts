/**
 * A registered query: its current result in `q`'s shape, and per-transaction diffs.
 *
 * Invariants:
 * - `result()` always equals what one-shot `q` returns on the connection's current database
 *   (up to order; `rand`/`sample` aside).
 * - Subscribers get one call per transaction that changed the result, with `[row, tx, +1|-1]`
 *   diffs whose rows have the same form as the rows of `result()`; applying them to the previous
 *   result gives the new one. A row whose pulled entity changed is re-emitted (`-old`, `+new`):
 *   flat patterns are re-pulled when the root entity was touched; nested patterns (maps, `*`) are
 *   re-pulled for every row after each transaction (correct, O(rows) per transaction).
 * - After `close()` no subscriber is called and the query's state is released (shared operators
 *   stay while other queries use them).
 */
import {
  type Db,
  type Datom,
  type Diff,
  type FindKind,
  Keyword,
  kw,
  pull,
  printEdn,
  sym,
  type ValueKey as Key,
  valueKey,
} from '@dataloom/core';
import { resultOf, RowSet, tupleKey } from '@dataloom/core/internals';
import type { FindSpec, ReturnMap } from '@dataloom/query';
import type { OutputOperator } from './operators/reduce.js';
import type { Tuple } from './arrangement/arrangement.js';

export interface ViewSpec {
  readonly find: FindSpec;
  readonly returnMap: ReturnMap | null;
  readonly pulls: readonly (unknown | null)[];
  readonly hasWith: boolean;
  readonly hasAgg: boolean;
}

export class View {
  private readonly subs = new Set<(diffs: Diff[]) => void>();
  private closed = false;
  /** Shaped rows by raw row key (so a `-1` carries the very row emitted with `+1`). */
  private readonly shaped = new Map<Key, { row: unknown; pullKey: string | null }>();
  readonly hasPull: boolean;
  /** A pull pattern reaches beyond the root entity (nested maps or `*` with components). */
  private readonly deepPull: boolean;
  private rowSet: RowSet | null = null;

  constructor(
    readonly name: string,
    readonly out: OutputOperator,
    private readonly spec: ViewSpec,
    private readonly db: () => Db,
    private readonly onClose: (v: View) => void,
  ) {
    this.hasPull = spec.pulls.some((p) => p !== null);
    this.deepPull = spec.pulls.some((p) => {
      if (p === null || p === undefined) return false;
      const text = typeof p === 'string' ? p : printEdn(p as never);
      return text.includes('{') || text.includes('*');
    });
  }

  private shape(raw: Tuple): { row: unknown; pullKey: string | null } {
    let vals: unknown[] = raw;
    let pullKey: string | null = null;
    if (this.hasPull) {
      const db = this.db();
      vals = raw.map((v, i) => {
        const p = this.spec.pulls[i];
        return p === null || p === undefined ? v : pull(db, p, v);
      });
      pullKey = vals.map((v, i) => (this.spec.pulls[i] != null ? printEdn(v as never) : '')).join('\u0001');
    }
    const rm = this.spec.returnMap;
    if (rm !== null) {
      const m = new Map<unknown, unknown>();
      rm.names.forEach((n, i) => m.set(rm.kind === 'keys' ? kw(n) : rm.kind === 'syms' ? sym(n) : n, vals[i]));
      return { row: m, pullKey };
    }
    return { row: vals, pullKey };
  }

  private rowOf(raw: Tuple): unknown {
    if (!this.hasPull && this.spec.returnMap === null) return raw;
    const k = tupleKey(raw);
    let s = this.shaped.get(k);
    if (s === undefined) {
      s = this.shape(raw);
      this.shaped.set(k, s);
    }
    return s.row;
  }

  /** The current result, shaped like `q`'s (see docs/CONTRACTS.md). */
  result(): unknown {
    const rows: unknown[] = [];
    for (const [t, n] of this.out.rows()) {
      const r = this.rowOf(t);
      for (let i = 0; i < n; i++) rows.push(r);
    }
    return resultOf(rows, this.kind, !(this.spec.hasWith || this.spec.hasAgg || this.hasPull));
  }

  /** The query's find spec kind (how {@link result} is shaped from rows). */
  get kind(): FindKind {
    return this.spec.find.kind;
  }

  /**
   * The current rows as diffs carry them, a new array exactly when they change (a {@link RowSet},
   * kept from the first call on: views nobody reads rows of keep no copy).
   */
  rows(): readonly unknown[] {
    if (this.rowSet === null) this.rowSet = new RowSet(this.initialDiffs(null).map((d) => d[0]));
    return this.rowSet.snapshot;
  }

  /** Calls `fn` with each later transaction's diffs; returns the unsubscribe function. */
  subscribe(fn: (diffs: Diff[]) => void): () => void {
    this.subs.add(fn);
    return () => {
      this.subs.delete(fn);
    };
  }

  /** Current rows as `+1` diffs (used to start business rules). */
  initialDiffs(tx: unknown): Diff[] {
    const out: Diff[] = [];
    for (const [t, n] of this.out.rows()) {
      const r = this.rowOf(t);
      for (let i = 0; i < n; i++) out.push([r, tx, 1]);
    }
    return out;
  }

  /**
   * Collects this transaction's diffs: the output operator's row changes, plus re-emitted rows whose
   * pulled entities changed (`touched` = entities in the transaction's datoms, refs included).
   */
  collect(tx: unknown, changed: boolean, touched: Set<Key> | null): Diff[] {
    if (this.closed) return [];
    const diffs: Diff[] = [];
    if (changed) {
      if (!this.hasPull && this.spec.returnMap === null) {
        for (const [t, w] of this.out.diffs) diffs.push([t, tx, w > 0 ? 1 : -1]);
      } else {
        for (const [t, w] of this.out.diffs) {
          const k = tupleKey(t);
          if (w > 0) diffs.push([this.rowOf(t), tx, 1]);
          else {
            const s = this.shaped.get(k);
            diffs.push([s !== undefined ? s.row : this.shape(t).row, tx, -1]);
          }
        }
        // Forget shapes of rows that are gone.
        for (const [t, w] of this.out.diffs) if (w < 0 && !this.out.out.arr.has(tupleKey(t))) this.shaped.delete(tupleKey(t));
      }
    }
    if (this.hasPull && touched !== null && touched.size > 0) {
      const gone = new Set(changed ? this.out.diffs.map(([t]) => tupleKey(t)) : []);
      for (const [t, n] of this.out.rows()) {
        const k = tupleKey(t);
        if (gone.has(k)) continue;
        if (!this.deepPull && !t.some((v, i) => this.spec.pulls[i] != null && touched.has(valueKey(v)))) continue;
        const old = this.shaped.get(k);
        const fresh = this.shape(t);
        if (old !== undefined && old.pullKey === fresh.pullKey) continue;
        this.shaped.set(k, fresh);
        for (let i = 0; i < n; i++) {
          if (old !== undefined) diffs.push([old.row, tx, -1]);
          diffs.push([fresh.row, tx, 1]);
        }
      }
    }
    return diffs;
  }

  /** Delivers diffs to subscribers; returns the errors they threw. */
  deliver(diffs: Diff[]): unknown[] {
    const errors: unknown[] = [];
    if (this.closed || diffs.length === 0) return errors;
    this.rowSet?.apply(diffs);
    for (const fn of [...this.subs]) {
      try {
        fn(diffs);
      } catch (e) {
        errors.push(e);
      }
    }
    return errors;
  }

  /** Unregisters the query and frees its state. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.subs.clear();
    this.shaped.clear();
    this.rowSet = null;
    this.onClose(this);
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/** Entities a transaction touched (as entity and, for refs, as value). */
export function touchedEntities(datoms: readonly Datom[]): Set<Key> {
  const s = new Set<Key>();
  for (const d of datoms) {
    s.add(valueKey(d.e));
    if (typeof d.v === 'number') s.add(valueKey(d.v));
  }
  return s;
}

export { Keyword };
