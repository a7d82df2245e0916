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
 *
 * "What it replaced" is the value the entry recorded — except in a draft where the entry was the
 * draft's first edit of that value: there it was the committed value, and the undo restores the
 * committed value as it is *now* (`restore`), so a change Bob committed meanwhile shows again.
 */
import { type WireValue } from '@dataloom/core';
import { fromWireValue, wireValueKey, type TranslateState } from '@dataloom/core/internals';
import type { UndoEntry } from './stacks.js';

/** The values `(e, a)` returns to, when the entry's change still stands. */
export type Restore = (e: string, a: string, recorded: WireValue[]) => WireValue[];

const recordedValues: Restore = (_e, _a, recorded) => recorded;

export function compensation(entry: UndoEntry, state: TranslateState, restore: Restore = recordedValues): unknown[] {
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
      const target = new Set(restore(e, a, removed).map(wireValueKey));
      const removedKeys = new Set(removed.map(wireValueKey));
      const addedKeys = new Set(added.map(wireValueKey));
      for (const v of added) {
        const k = wireValueKey(v);
        if (!removedKeys.has(k) && now.has(k) && !target.has(k)) forms.push([':db/retract', e, attr, js(v)]);
      }
      for (const v of removed) {
        const k = wireValueKey(v);
        if (!addedKeys.has(k) && !now.has(k) && target.has(k)) forms.push([':db/add', e, attr, js(v)]);
      }
      continue;
    }
    const after = added.length ? wireValueKey(added[added.length - 1]!) : null;
    const stands = after === null ? now.size === 0 : now.size === 1 && now.has(after);
    if (!stands) continue;
    const back = restore(e, a, removed.slice(0, 1));
    if (back.length) {
      if (wireValueKey(back[0]!) !== after) forms.push([':db/add', e, attr, js(back[0]!)]);
    } else if (after !== null) forms.push([':db/retract', e, attr]);
  }
  return forms;
}
