/**
 * Time travel over the op set: the database as of an HLC (`asOf`), the datoms decided after one
 * (`since`), and the history rows `[e a v tx added]` of every visible-state transition (queried
 * with `history-query.ts`). All three are answered from the merge state's full op set.
 */
import { kw, type Db, type HlcString, type Op } from '@dataloom/core';
import { MergeState, type Interner } from '@dataloom/core/internals';

/** One history row: `[e, a, v, tx, added]`, `tx` the HLC string of the op that caused it. */
export type HistoryRow = [number, unknown, unknown, HlcString, boolean];

/** What history reads from the replica (both may be replaced when the replica loads). */
export interface HistorySource {
  merge(): MergeState;
  /** The effective schema input (for the databases built). */
  schema(): unknown;
}

export class History {
  /** Bumped whenever the op set may have changed (rows are cached per version). */
  private version = 0;
  private cache: { version: number; rows: HistoryRow[] } | null = null;

  constructor(
    private readonly source: HistorySource,
    private readonly ids: Interner,
  ) {}

  /** The op set may have changed: the cached rows are stale. */
  invalidate(): void {
    this.version++;
  }

  /** The merge of every op with `tx ≤ t` (an HLC string, or a wall-clock `Date`/ms: the whole millisecond). */
  asOf(t: HlcString | Date | number): Db {
    const b = hlcBound(t);
    return this.dbOf([...this.source.merge().allOps()].filter((o) => o.tx <= b));
  }

  /** The datoms whose deciding op is newer than `t` (Datomic's `since`). */
  since(t: HlcString | Date | number): Db {
    const b = hlcBound(t);
    return this.ids.db(
      [...this.source.merge().datoms()].filter((d) => d.tx > b),
      this.source.schema(),
    );
  }

  /** Every visible-state transition, oldest first (see `Replica.history`). */
  rows(): HistoryRow[] {
    if (this.cache && this.cache.version === this.version) return this.cache.rows.slice();
    const merge = this.source.merge();
    const ops = [...merge.allOps()].sort((x, y) => (x.tx < y.tx ? -1 : x.tx > y.tx ? 1 : x.id < y.id ? -1 : 1));
    const replay = new MergeState(merge.schema);
    const rows: HistoryRow[] = [];
    let i = 0;
    while (i < ops.length) {
      const tx = ops[i]!.tx;
      let j = i;
      while (j < ops.length && ops[j]!.tx === tx) j++;
      for (const c of replay.apply(ops.slice(i, j))) {
        rows.push([this.ids.eid(c.e), kw(c.a), this.ids.value(c), tx, c.added]);
      }
      i = j;
    }
    this.cache = { version: this.version, rows };
    return rows.slice();
  }

  private dbOf(ops: Op[]): Db {
    const s = new MergeState(this.source.merge().schema);
    s.apply(ops);
    return this.ids.db(s.datoms(), this.source.schema());
  }
}

/** An HLC bound: strings as they are; a `Date`/ms as the greatest stamp within that millisecond. */
export function hlcBound(t: HlcString | Date | number): string {
  if (typeof t === 'string') return t;
  const ms = typeof t === 'number' ? t : t.getTime();
  return ms.toString(36).padStart(12, '0') + '-zzzz-~';
}
