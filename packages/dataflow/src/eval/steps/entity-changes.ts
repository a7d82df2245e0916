/**
 * Changes of the per-entity functions `get-else`, `get-some` and `missing?`. These read a base
 * attribute relation at one entity, so they change exactly at entities whose attribute changed; the
 * change is the difference between the function's old and new results there (a Z-set over the
 * output). Used when such a step is the "delta" position of a plan.
 */
import { valueKey } from '@dataloom/core';
import type { Step } from '../../ir/types.js';

type EntityStep = Extract<Step, { kind: 'get-else' | 'get-some' | 'missing' }>;

function resultsAt(s: EntityStep, e: unknown, old: boolean): unknown[] {
  const ek = valueKey(e);
  switch (s.kind) {
    case 'get-else': {
      const out: unknown[] = [];
      s.src.arr.each(1, ek, old, (t) => out.push(t[1]));
      if (out.length === 0) out.push(s.dflt.kind === 'const' ? s.dflt.value : undefined);
      return out;
    }
    case 'missing': {
      let any = false;
      s.src.arr.each(1, ek, old, () => {
        any = true;
      });
      return any ? [] : [true];
    }
    case 'get-some': {
      for (let i = 0; i < s.srcs.length; i++) {
        let found: unknown = undefined;
        s.srcs[i]!.arr.each(1, ek, old, (t) => {
          if (found === undefined) found = t[1];
        });
        if (found !== undefined) return [[s.attrs[i], found]];
      }
      return [];
    }
  }
}

/** Calls `cb(e, output, ±1)` for every change of the step's result over this transaction. */
export function entityChanges(s: EntityStep, cb: (e: unknown, out: unknown, w: number) => void): void {
  const srcs = s.kind === 'get-some' ? s.srcs : [s.src];
  const touched = new Map<unknown, unknown>();
  for (const src of srcs) for (const d of src.arr.delta) touched.set(valueKey(d.t[0]), d.t[0]);
  for (const e of touched.values()) {
    const before = resultsAt(s, e, true);
    const after = resultsAt(s, e, false);
    const bk = new Map(before.map((x) => [valueKey(x), x]));
    const ak = new Map(after.map((x) => [valueKey(x), x]));
    for (const [k, x] of bk) if (!ak.has(k)) cb(e, x, -1);
    for (const [k, x] of ak) if (!bk.has(k)) cb(e, x, 1);
  }
}
