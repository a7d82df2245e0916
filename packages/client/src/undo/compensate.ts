/**
 * The compensating transaction of an undo entry — the rule, per value the entry changed:
 *
 * - **cardinality one and text** `(e, a)`: if the value now is exactly what the entry left there,
 *   put back what it replaced (or retract, if there was nothing); if anyone changed it since, leave
 *   it alone;
 * - **cardinality many** `(e, a, v)`: a value the entry added is retracted if still there; a value
 *   it removed is added back if still absent; other values of the attribute are never touched.
 *
 * So an undo only ever reverts this user's own change, and only where that change still stands:
 * a collaborator's later change to a value wins over the undo. Reading "now" from the scope's
 * state (the committed database, or a draft's view) makes the same rule work inside drafts.
 */
import { fromWireValue, wireValueKey, type TranslateState, type WireValue } from '@dataloom/core';
import type { UndoEntry } from './stacks.js';

export function compensation(entry: UndoEntry, state: TranslateState): unknown[] {
  const groups = new Map<string, { e: string; a: string; added: WireValue[]; removed: WireValue[] }>();
  for (const c of entry.changes) {
    const k = c.e + '\u0000' + c.a;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { e: c.e, a: c.a, added: [], removed: [] }));
    (c.added ? g.added : g.removed).push(c.v);
  }
  const forms: unknown[] = [];
  for (const { e, a, added, removed } of groups.values()) {
    const s = state.schema.get(a);
    const now = new Set(state.values(e, a).map(wireValueKey));
    const attr = ':' + a;
    const js = (v: WireValue) => (s.text ? v : fromWireValue(v));
    if (s.many && !s.text) {
      const removedKeys = new Set(removed.map(wireValueKey));
      const addedKeys = new Set(added.map(wireValueKey));
      for (const v of added) if (!removedKeys.has(wireValueKey(v)) && now.has(wireValueKey(v))) forms.push([':db/retract', e, attr, js(v)]);
      for (const v of removed) if (!addedKeys.has(wireValueKey(v)) && !now.has(wireValueKey(v))) forms.push([':db/add', e, attr, js(v)]);
      continue;
    }
    const after = added.length ? wireValueKey(added[added.length - 1]!) : null;
    const stands = after === null ? now.size === 0 : now.size === 1 && now.has(after);
    if (!stands) continue;
    if (removed.length) forms.push([':db/add', e, attr, js(removed[0]!)]);
    else if (after !== null) forms.push([':db/retract', e, attr]);
  }
  return forms;
}
