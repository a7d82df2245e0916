/**
 * Hash keys for query values. Two values get the same key exactly when DataScript's `=` holds for
 * them within the value domain of datoms and inputs: numbers by value, strings, booleans, nil,
 * keywords/symbols (interned), `Date` by time, `Uuid` by text, vectors/lists element-wise, maps and
 * sets by their printed form, anything else (functions, entities) by identity.
 *
 * Keys are primitives (numbers, strings, booleans, null, interned objects) so they work directly as
 * `Map` keys; composite keys are strings with length-prefixed parts, so they are unambiguous.
 */
import { Keyword, List, printEdn, Sym, Uuid } from '@dataloom/core';

const identityIds = new WeakMap<object, number>();
let nextIdentity = 1;

/** A `Map`-usable key for one value (SameValueZero on the result ⇔ DataScript `=`). */
export function keyOf(v: unknown): unknown {
  if (v === undefined) return null;
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Keyword || v instanceof Sym) return v;
  return OBJ + keyStr(v);
}

/** Prefix of object keys; strings starting with NUL could collide with them (accepted). */
const OBJ = '\u0000';

/** An unambiguous string for a value (used for composite keys). */
export function keyStr(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return 'n' + (v === 0 ? '0' : String(v));
    case 'string':
      return 's' + v.length + ':' + v;
    case 'boolean':
      return v ? 'T' : 'F';
    case 'undefined':
      return 'N';
    case 'bigint':
      return 'n' + String(v);
    default:
  }
  if (v === null) return 'N';
  if (v instanceof Keyword) return 'k' + v.fqn.length + ':' + v.fqn;
  if (v instanceof Sym) return 'y' + v.fqn.length + ':' + v.fqn;
  if (v instanceof Date) return 'd' + v.getTime();
  if (v instanceof Uuid) return 'u' + v.value;
  if (Array.isArray(v) || v instanceof List) {
    const xs = Array.isArray(v) ? v : v.items;
    let s = '[' + xs.length + ':';
    for (const x of xs) s += keyStr(x) + ',';
    return s + ']';
  }
  if (v instanceof Set || v instanceof Map) {
    const p = printEdn(v);
    return (v instanceof Set ? 'S' : 'M') + p.length + ':' + p;
  }
  const o = v as object;
  let id = identityIds.get(o);
  if (id === undefined) {
    id = nextIdentity++;
    identityIds.set(o, id);
  }
  return 'i' + id;
}

/**
 * Key of the values of `row` at `cols` (a single column's key is `keyOf` of it). Tuples of numbers
 * (the common case: entity ids) get a cheap `1|2` key; every other key ends with `|`, so the two
 * forms never collide.
 */
export function rowKey(row: readonly unknown[], cols: readonly number[]): unknown {
  if (cols.length === 1) return keyOf(row[cols[0]!]);
  let allNum = true;
  for (let i = 0; i < cols.length; i++) {
    if (typeof row[cols[i]!] !== 'number') {
      allNum = false;
      break;
    }
  }
  if (allNum) {
    let s = String(row[cols[0]!]);
    for (let i = 1; i < cols.length; i++) s += '|' + (row[cols[i]!] as number);
    return s;
  }
  let s = '';
  for (let i = 0; i < cols.length; i++) s += keyStr(row[cols[i]!]) + '|';
  return s;
}

/** Key of a whole tuple (same scheme as {@link rowKey}). */
export function tupleKey(row: readonly unknown[]): unknown {
  if (row.length === 1) return keyOf(row[0]);
  let allNum = true;
  for (let i = 0; i < row.length; i++) {
    if (typeof row[i] !== 'number') {
      allNum = false;
      break;
    }
  }
  if (allNum) {
    let s = row.length === 0 ? '' : String(row[0]);
    for (let i = 1; i < row.length; i++) s += '|' + (row[i] as number);
    return s;
  }
  let s = '';
  for (let i = 0; i < row.length; i++) s += keyStr(row[i]) + '|';
  return s;
}

/** DataScript `=` between two values. */
export function valueEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined) return b === null || b === undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || b === null) return false;
  return keyStr(a) === keyStr(b);
}
