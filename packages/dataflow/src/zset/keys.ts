/**
 * Hash keys for values and tuples. Every relation in the engine is keyed by these, so two values
 * get the same key exactly when DataScript's `=` holds for them (numbers by value, strings by
 * content, keywords/symbols by name, dates by time, uuids by text, tuples element-wise).
 *
 * Invariant: a single value's key is a `number` (for numbers: the number itself, so entity ids
 * key `Map`s without allocation) or a `string` starting with a type tag that no other type uses.
 * Tuple keys join element keys with U+0001; strings that contain U+0001 are JSON-escaped so the
 * join is unambiguous. Pairs of small non-negative integers pack into one number ({@link pairKey}).
 * Every producer of multi-column keys goes through {@link tupleKey}/{@link colsKey}/{@link pairKey}
 * so the encodings agree.
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

const PAIR_LIMIT = 67108864; // 2^26: two such integers pack into one exact double

/**
 * The key of a pair of values. Two small non-negative integers (entity ids, the common case of
 * graph edges) pack into one number, `a·2^26 + b`, with no string allocated; anything else
 * joins the element keys. (Numbers never collide with strings in a `Map`.)
 */
export function pairKey(a: unknown, b: unknown): Key {
  if (typeof a === 'number' && typeof b === 'number' && a >= 0 && b >= 0 && a < PAIR_LIMIT && b < PAIR_LIMIT && Number.isInteger(a) && Number.isInteger(b)) {
    return a * PAIR_LIMIT + b;
  }
  return valueKey(a) + '\u0001' + valueKey(b);
}

/** The key of a tuple's first `n` columns (all columns when `n` is omitted). */
export function tupleKey(t: readonly unknown[], n: number = t.length): Key {
  if (n === 1) return valueKey(t[0]);
  if (n === 2) return pairKey(t[0], t[1]);
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
  if (cols.length === 2) return pairKey(t[cols[0]!], t[cols[1]!]);
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
