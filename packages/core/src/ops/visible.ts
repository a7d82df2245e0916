/**
 * A visible datom's identity, and the difference between two visible states. Used where a whole
 * state is compared with another rather than merged op by op: the server and the replica when a
 * schema change re-merges every op, the replica when a cold start corrects the snapshot it opened
 * with, a source comparing what it wants with what the log holds.
 */
import type { MergeState } from './state.js';
import type { DatomChange, GlobalId, VisibleDatom, WireValue } from './types.js';
import { attrValueKey, wireValueKey } from './value.js';

/** The key of the datom `[e a v]`: equal datoms ⇔ equal keys (values by {@link wireValueKey}). */
export function datomKey(e: GlobalId, a: string, v: WireValue): string {
  return e + '\u0000' + attrValueKey(a, v);
}

/** The visible datoms of `m`, by {@link datomKey}. */
export function visibleByKey(m: MergeState): Map<string, VisibleDatom> {
  const out = new Map<string, VisibleDatom>();
  for (const d of m.datoms()) out.set(datomKey(d.e, d.a, d.v), d);
  return out;
}

/** The changes from the visible datoms `before` (of {@link visibleByKey}) to `after`'s, retractions first. */
export function visibleChanges(before: ReadonlyMap<string, VisibleDatom>, after: MergeState): DatomChange[] {
  const removed: DatomChange[] = [];
  const added: DatomChange[] = [];
  const now = new Set<string>();
  for (const d of after.datoms()) {
    const k = datomKey(d.e, d.a, d.v);
    now.add(k);
    if (!before.has(k)) added.push({ e: d.e, a: d.a, v: d.v, tx: d.tx, added: true });
  }
  for (const [k, d] of before) if (!now.has(k)) removed.push({ e: d.e, a: d.a, v: d.v, tx: d.tx, added: false });
  return [...removed, ...added];
}
