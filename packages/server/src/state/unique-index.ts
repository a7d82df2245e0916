/**
 * Who holds each value of the `:db.unique/value` attributes in a merged state, kept up to date
 * from the state's change stream. The server judges uniqueness on the merged result of a
 * transaction (any cardinality, any arrival order), so two entities never both hold a value the
 * server acknowledged — the merge itself does not enforce it (MERGE.md).
 */
import { type DatomChange, type GlobalId, type VisibleDatom, type WireValue } from '@dataloom/core';
import { attrValueKey, type MergeSchema, type MergeState } from '@dataloom/core/internals';

export class UniqueIndex {
  private readonly held = new Map<string, Set<GlobalId>>();

  constructor(private readonly schema: MergeSchema) {}

  /** The index of every visible datom of `state`. */
  static of(state: MergeState): UniqueIndex {
    const idx = new UniqueIndex(state.schema);
    for (const d of state.datoms()) idx.add(d);
    return idx;
  }

  private add(d: VisibleDatom): void {
    if (!this.schema.get(d.a).uniqueValue) return;
    const k = attrValueKey(d.a, d.v);
    let s = this.held.get(k);
    if (!s) this.held.set(k, (s = new Set()));
    s.add(d.e);
  }

  /** Follow a batch of changes of the indexed state. */
  update(changes: readonly DatomChange[]): void {
    for (const c of changes) {
      if (!this.schema.get(c.a).uniqueValue) continue;
      if (c.added) {
        this.add(c);
        continue;
      }
      const k = attrValueKey(c.a, c.v);
      const s = this.held.get(k);
      if (!s) continue;
      s.delete(c.e);
      if (s.size === 0) this.held.delete(k);
    }
  }

  /** The first value added by `changes` that more than one entity now holds, or null. */
  conflict(changes: readonly DatomChange[]): { a: string; v: WireValue; holders: GlobalId[] } | null {
    for (const c of changes) {
      if (!c.added || !this.schema.get(c.a).uniqueValue) continue;
      const s = this.held.get(attrValueKey(c.a, c.v));
      if (s && s.size > 1) return { a: c.a, v: c.v, holders: [...s] };
    }
    return null;
  }
}
