/**
 * DataScript's value order (`datascript.db/value-compare` as compiled in the `datascript` npm
 * package), used by every index and exported for query engines (`<`, sorting, min/max).
 *
 * Within a type: numbers numerically, strings by UTF-16 code units, booleans false < true, dates
 * by time, keywords/symbols by namespace (none first) then name, arrays (tuples) by length then
 * element-wise. Across types DataScript orders by the (minified) class name, which in
 * datascript 1.8.1 gives: Keyword < Boolean < Date < Sym < Number < String < Uuid < Array (tuple) <
 * anything else. Verified empirically against the npm package (see compare.test.ts).
 */
import { Keyword, Sym, Uuid } from '../edn/types.js';

/** Rank of a value's type in DataScript's cross-type order. */
export function typeRank(x: unknown): number {
  switch (typeof x) {
    case 'number':
      return 4;
    case 'string':
      return 5;
    case 'boolean':
      return 1;
    case 'bigint':
      return 4;
    default:
  }
  if (x instanceof Keyword) return 0;
  if (x instanceof Date) return 2;
  if (x instanceof Sym) return 3;
  if (x instanceof Uuid) return 6;
  if (Array.isArray(x)) return 7;
  if (x === null || x === undefined) return -1;
  return 8;
}

/** Compares two keywords (or symbols) like Clojure: namespace (none first), then name. */
export function compareKeywords(a: Keyword | Sym, b: Keyword | Sym): number {
  if (a === b) return 0;
  const an = a.ns;
  const bn = b.ns;
  if (an !== bn) {
    if (an === null) return -1;
    if (bn === null) return 1;
    if (an < bn) return -1;
    if (an > bn) return 1;
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Total order over datom values, identical to DataScript's `value-compare` (index order and the
 * query predicates `<`, `>`, `<=`, `>=`). Returns negative, 0 or positive. `null`/`undefined`
 * sort first.
 */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const ta = typeof a;
  if (ta === 'number' && typeof b === 'number') {
    return (a as number) < b ? -1 : (a as number) > b ? 1 : 0;
  }
  if (ta === 'string' && typeof b === 'string') {
    return (a as string) < b ? -1 : 1;
  }
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
    case 3:
      return compareKeywords(a as Keyword, b as Keyword);
    case 1:
      return a === b ? 0 : a ? 1 : -1;
    case 2: {
      const x = (a as Date).getTime();
      const y = (b as Date).getTime();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 4:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 6: {
      const x = (a as Uuid).value;
      const y = (b as Uuid).value;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 7: {
      const x = a as unknown[];
      const y = b as unknown[];
      if (x.length !== y.length) return x.length - y.length;
      for (let i = 0; i < x.length; i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return 0;
    }
    case -1:
      return 0;
    default: {
      const x = String(a);
      const y = String(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}
