/**
 * The DataScript side of the benchmarks: the `datascript` npm package driven with real keyword
 * data (built once through the oracle's converter, `test/oracle/datascript.ts`), timing
 * DataScript's own work rather than the JS API's conversions:
 *
 * - transactions: `ds.db_with(db, tx)` where `tx` is a small JS array of raw CLJS values (the
 *   API's `js->clj` on it is cheap), or `withRaw(db, rawEntities)` for prepared entity maps (the
 *   API's `js->clj` copy is skipped);
 * - queries: `rawQ(queryString, db, ...inputs)` — DataScript reads the query string (its parsed
 *   query cache then applies) and the result is returned raw, with no `clj->js` deep copy;
 * - pull: `[:find (pull ?e pattern) . :in $ ?e]` through `rawQ`, the same pull implementation.
 */
import { parseEdn } from '@dataloom/core';
import { ds, dsKeyword, dsPrepareTx, rawQ, toCljs, withRaw } from '@dataloom/test/oracle/datascript.js';

export { ds, dsKeyword, rawQ, toCljs, withRaw };

/** Raw CLJS schema from an EDN string. */
export function rawSchema(edn: string): unknown {
  return toCljs(parseEdn(edn));
}

/** An empty DataScript db with `schemaEdn`. */
export function emptyDb(schemaEdn?: string): unknown {
  return ds.empty_db(schemaEdn ? rawSchema(schemaEdn) : undefined);
}

/** Raw CLJS entity maps for `entities` (our representation), in order. */
export function rawEntities(entities: unknown[]): unknown[] {
  return [...dsPrepareTx(entities)];
}

/** Number of elements of a raw CLJS collection (or 1 for a scalar, 0 for nil). */
export function rawCount(x: unknown): number {
  if (x === null || x === undefined) return 0;
  if (typeof x === 'object' && Symbol.iterator in (x as object)) {
    let n = 0;
    for (const _ of x as Iterable<unknown>) n++;
    return n;
  }
  return 1;
}

/** `(d/datoms db :aevt attr)` entity ids. */
export function aevtEids(db: unknown, attr: string): number[] {
  return ds.datoms(db, ':aevt', dsKeyword(attr)).map((d) => d.e);
}
