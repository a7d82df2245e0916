/**
 * When to re-plan. A plan's join order is chosen from the relations' sizes and fan-outs at
 * planning time; a plan made while a relation was empty (a recursive component before its first
 * evaluation, a view registered before the data arrived) can pick a lookup whose fan-out is the
 * whole relation. {@link SizeWatch} records the sizes plans were made at and says when some
 * relation has since grown or shrunk by more than a factor of two, so operators drop their plan
 * caches and plan again (amortised: a relation must double or halve between two re-plans).
 */
import type { RelSource } from '../ir/types.js';

export class SizeWatch {
  private readonly rels: RelSource[];
  private readonly at: number[];

  constructor(rels: Iterable<RelSource>) {
    this.rels = [...new Set(rels)];
    this.at = this.rels.map((r) => r.arr.size);
  }

  /** True (and the current sizes recorded) when some size left [at/2 − 16, 2·at + 16]. */
  changed(): boolean {
    const { rels, at } = this;
    let stale = false;
    for (let i = 0; i < rels.length; i++) {
      const n = rels[i]!.arr.size;
      const a = at[i]!;
      if (n > 2 * a + 16 || 2 * n + 32 < a) stale = true;
    }
    if (stale) for (let i = 0; i < rels.length; i++) at[i] = rels[i]!.arr.size;
    return stale;
  }
}
