/**
 * The query output operator: projects the distinct find∪with tuples onto the `:find` elements and,
 * when there are aggregates, reduces each group (the non-aggregate find elements) with incremental
 * aggregate states.
 *
 * Emits, per transaction, the row changes of the result: for aggregates `-old`/`+new` only for
 * groups whose value actually changed (a group that empties emits `-old` alone); for `:with`
 * queries one `±1` per copy (the result is a bag). The output relation `out` holds the distinct
 * current rows, so a registered query can be read by other queries as a relation.
 */
import { type Tuple } from '../arrangement/arrangement.js';
import { type AggState, makeAggState } from '../aggregate/aggregates.js';
import type { RelSource } from '../ir/types.js';
import { type ValueKey as Key, valueKey } from '@dataloom/core';
import { colsKey, tupleKey } from '@dataloom/core/internals';
import { DerivedRel } from './derived.js';
import { type Operator, freshId } from './operator.js';

/** One `:find` element, as a column of the input relation or an aggregate over one. */
export type FindCol =
  | { readonly kind: 'col'; readonly col: number }
  | {
      readonly kind: 'agg';
      readonly col: number;
      readonly name: string | null;
      readonly params: readonly unknown[];
      readonly custom?: (...args: unknown[]) => unknown;
    };

interface Group {
  readonly vals: unknown[];
  readonly states: AggState[];
  n: number;
  row: Tuple | null;
}

/** A row change: `[row, +1 | -1]`. */
export type RowDiff = [Tuple, number];

export class OutputOperator implements Operator {
  readonly id = freshId();
  readonly kind = 'output';
  readonly inputs: RelSource[];
  readonly outputs: RelSource[];
  readonly out: DerivedRel;
  level = 0;
  /** This transaction's row changes (consumed by views). */
  diffs: RowDiff[] = [];
  /** Copies beyond the first of rows present more than once (`:with` bags); see `rows()`. */
  private readonly extra = new Map<Key, number>();
  private readonly groups = new Map<Key, Group>();
  private readonly hasAgg: boolean;
  private readonly groupCols: number[];
  /** The find columns are the input's columns in order (no aggregate): rows and keys are reused. */
  private readonly identity: boolean;
  /** `out` shares the input's arrangement (identity over a derived relation: no copy, no counts). */
  private readonly shared: boolean;

  constructor(
    readonly input: RelSource,
    readonly cols: readonly FindCol[],
    readonly label: string,
  ) {
    this.inputs = [input];
    this.hasAgg = cols.some((c) => c.kind === 'agg');
    this.groupCols = cols.filter((c) => c.kind === 'col').map((c) => c.col);
    this.identity = !this.hasAgg && cols.length === input.arr.arity && cols.every((c, i) => c.col === i);
    // The find columns are a derived set relation's own columns: its rows are the result (stored once).
    this.shared = this.identity && input instanceof DerivedRel;
    this.out = new DerivedRel(label, cols.length, false, this.shared ? input.arr : undefined);
    this.outputs = [this.out];
  }

  /** Current rows with multiplicity (a bag for `:with`). */
  rows(): Array<[Tuple, number]> {
    const out: Array<[Tuple, number]> = [];
    for (const [k, t] of this.out.arr.rows) out.push([t, 1 + (this.extra.get(k) ?? 0)]);
    return out;
  }

  init(): void {
    if (this.shared) return;
    this.input.arr.rows.eachRow((t) => this.apply(t, 1, false, null));
    if (this.hasAgg) for (const g of this.groups.values()) this.refreshGroup(g, false);
  }

  step(): void {
    this.diffs = [];
    const touched = this.hasAgg ? new Map<Key, Group>() : null;
    if (this.shared) {
      for (const d of this.input.arr.delta) this.diffs.push([d.t, d.w]);
      return;
    }
    if (this.identity) {
      for (const d of this.input.arr.delta) this.bump(d.t.length === this.cols.length ? d.t : this.project(d.t), d.w, true, d.t.length === this.cols.length ? d.k : undefined);
    } else for (const d of this.input.arr.delta) this.apply(d.t, d.w, true, touched);
    if (touched !== null) for (const [k, g] of touched) this.refreshGroup(g, true, k);
  }

  private project(t: Tuple): Tuple {
    return this.cols.map((c) => t[c.col]);
  }

  private bump(row: Tuple, w: number, emit: boolean, key?: Key): void {
    const arr = this.out.arr;
    const k = key ?? tupleKey(row);
    const present = arr.rows.get(k);
    const before = present === undefined ? 0 : 1 + (this.extra.get(k) ?? 0);
    const after = before + w;
    const t = present ?? row;
    if (emit) for (let i = 0; i < Math.abs(w); i++) this.diffs.push([t, Math.sign(w)]);
    if (after > 1) this.extra.set(k, after - 1);
    else this.extra.delete(k);
    if (before === 0 && after > 0) {
      arr.insert(t, k);
      if (emit) arr.pushDelta(t, 1, k);
    } else if (before > 0 && after <= 0) {
      arr.remove(k);
      if (emit) arr.pushDelta(t, -1, k);
    }
  }

  private apply(t: Tuple, w: number, emit: boolean, touched: Map<Key, Group> | null): void {
    if (!this.hasAgg) {
      this.bump(this.project(t), w, emit);
      return;
    }
    const gk = this.groupCols.length === 0 ? '' : colsKey(t, this.groupCols);
    let g = this.groups.get(gk);
    if (g === undefined) {
      g = {
        vals: this.groupCols.map((c) => t[c]),
        states: this.cols.filter((c) => c.kind === 'agg').map((c) => (c.kind === 'agg' ? makeAggState(c.name, c.params, c.custom) : null!)),
        n: 0,
        row: null,
      };
      this.groups.set(gk, g);
    }
    if (touched !== null && !touched.has(gk)) touched.set(gk, g);
    g.n += w;
    let ai = 0;
    for (const c of this.cols) {
      if (c.kind !== 'agg') continue;
      const st = g.states[ai++]!;
      if (w > 0) st.add(t[c.col]);
      else st.remove(t[c.col]);
    }
  }

  private refreshGroup(g: Group, emit: boolean, k?: Key): void {
    let row: Tuple | null = null;
    if (g.n > 0) {
      row = [];
      let gi = 0;
      let ai = 0;
      for (const c of this.cols) row.push(c.kind === 'agg' ? g.states[ai++]!.result() : g.vals[gi++]);
    }
    const old = g.row;
    if (old !== null && row !== null && rowsEqual(old, row)) return;
    if (old !== null) this.bump(old, -1, emit);
    if (row !== null) this.bump(row, 1, emit);
    g.row = row;
    if (g.n === 0 && k !== undefined) this.groups.delete(k);
  }

  dispose(): void {
    this.groups.clear();
    this.extra.clear();
  }

  approxBytes(): number {
    return this.out.arr.approxBytes() + this.extra.size * 60 + this.groups.size * 200;
  }
}

function rowsEqual(a: Tuple, b: Tuple): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (valueKey(a[i]) !== valueKey(b[i])) return false;
  return true;
}
