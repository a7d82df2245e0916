/**
 * Hash keys for values and tuples. Every relation in the engine is keyed by these, so two values
 * get the same key exactly when DataScript's `=` holds for them (numbers by value, strings by
 * content, keywords/symbols by name, dates by time, uuids by text, tuples element-wise).
 *
 * Invariant: a single value's key is a `number` (for numbers: the number itself, so entity ids
 * key `Map`s without allocation) or a `string` starting with a type tag that no other type uses.
 * Tuple keys join element keys with U+0001; strings that contain U+0001 are JSON-escaped so the
 * join is unambiguous.
 */
import { Keyword, Sym, Uuid, printEdn } from '@dataloom/core';

/** A value or tuple key. */
export type Key = string | number;

/** The key of one value. */
export function valueKey(v: unknown): Key {
  switch (typeof v) {
    case 'number':
      return v;
    case 'string':
      return v.indexOf('\u0001') < 0 ? '"' + v : 'j' + JSON.stringify(v);
    case 'boolean':
      return v ? 'T' : 'F';
    case 'undefined':
      return 'N';
    case 'bigint':
      return 'B' + v.toString();
    default:
  }
  if (v === null) return 'N';
  if (v instanceof Keyword) return ':' + v.fqn;
  if (v instanceof Date) return 'D' + v.getTime();
  if (v instanceof Uuid) return 'U' + v.value;
  if (v instanceof Sym) return "'" + v.fqn;
  if (Array.isArray(v)) return 'A' + v.map((x) => String(valueKey(x))).join('\u0002');
  try {
    return 'E' + printEdn(v as never);
  } catch {
    return 'E' + String(v);
  }
}

/** The key of a tuple's first `n` columns (all columns when `n` is omitted). */
export function tupleKey(t: readonly unknown[], n: number = t.length): Key {
  if (n === 1) return valueKey(t[0]);
  let s = '';
  for (let i = 0; i < n; i++) {
    if (i > 0) s += '\u0001';
    s += valueKey(t[i]);
  }
  return s;
}

/** The key of the columns of `t` selected by `cols` (in that order). */
export function colsKey(t: readonly unknown[], cols: readonly number[]): Key {
  if (cols.length === 1) return valueKey(t[cols[0]!]);
  let s = '';
  for (let i = 0; i < cols.length; i++) {
    if (i > 0) s += '\u0001';
    s += valueKey(t[cols[i]!]);
  }
  return s;
}

/** The key of a list of values (same encoding as {@link tupleKey}). */
export function valuesKey(vs: readonly unknown[]): Key {
  return tupleKey(vs, vs.length);
}

/** DataScript `=` on two values, via their keys (fast path for identical primitives). */
export function valueEq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ta = typeof a;
  if (ta !== 'object' || typeof b !== 'object') {
    return ta === 'number' || ta === 'string' || ta === 'boolean' ? false : valueKey(a) === valueKey(b);
  }
  return valueKey(a) === valueKey(b);
}
